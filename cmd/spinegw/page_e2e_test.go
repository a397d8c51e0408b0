package main_test

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"spinegw/soap"
)

// chromium is Debian's Chromium, which scripts/deps-test.sh installs for
// this test: without it the test fails rather than skips, so that CI
// cannot pass without the browser test having run.
const chromium = "/usr/bin/chromium"

// browse runs headless Chromium on url with a fresh profile and returns
// what it printed: the DOM after scripts ran with --dump-dom, nothing with
// --screenshot=FILE.
func browse(t *testing.T, url string, mode ...string) string {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("the browser test needs %s (make deps-test installs it): %v", chromium, err)
	}
	profile, err := os.MkdirTemp("", "spinegw-chromium")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile, "--window-size=1280,4000"}, mode...)
	cmd := exec.CommandContext(ctx, chromium, append(args, url)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	return out.String()
}

// domSection returns the HTML of the dumped DOM's <section id="id">.
func domSection(t *testing.T, dom, id string) string {
	t.Helper()
	i := strings.Index(dom, `<section id="`+id+`"`)
	if i < 0 {
		t.Fatalf("the page has no section %s", id)
	}
	j := strings.Index(dom[i:], "</section>")
	if j < 0 {
		t.Fatalf("section %s does not end", id)
	}
	return dom[i : i+j]
}

// The service page in a real browser: a person sees the endpoint, both
// operations with their SOAPActions, the test identities, example requests
// whose download link works (the example gets what it promises), and,
// after a query, its row in the traffic with no NHS number there.
func TestServicePageInBrowser(t *testing.T) {
	dir := t.TempDir()
	addr, _ := startServe(t, "--db", filepath.Join(dir, "page.db"), "--world", "../../conformance/world.yaml",
		"--clock", "2026-11-22T10:00:00Z", "--mailbox-dir", filepath.Join(dir, "mailbox"), "--admin-listen", "off")
	base := "http://" + addr

	dom := browse(t, base+"/", "--dump-dom")
	for _, want := range []string{
		"spinegw: NHS Spine CP-IS emulator",
		base + "/sync-service",
		"CP-IS NHS Query", soap.ActionQuery,
		"LA Upload", soap.ActionUpload,
		`href="/sync-service?wsdl"`, `href="/schemas/"`, "/mailbox/V145/inbox",
		// identities
		"Whittington Hospital PAS", "200000000101", "Dr Ahmed Khan", "200009876205", "100077650988",
		"Mrs Paula Palmer", "R0680", "Ms Jo Marsh", "9990001006", "9990001146", "UCP (V145)",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if !strings.Contains(domSection(t, dom, "traffic"), "Nothing yet.") {
		t.Errorf("traffic shown before any exchange")
	}

	// The download link of the positive CPP example, as the page gives it.
	m := regexp.MustCompile(`href="(/examples/positive-cpp\.xml)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatal("no download link for the positive CPP example")
	}
	resp, err := http.Get(base + m[1])
	if err != nil {
		t.Fatal(err)
	}
	example, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: HTTP %d %v", resp.StatusCode, resp.Header)
	}
	mustValidate(t, string(example))
	status, reply := postQuery(t, addr, string(example))
	if status != 200 || !strings.Contains(reply, "REPC_IN000007GB01") || !strings.Contains(reply, "CPPInformation") {
		t.Fatalf("the example did not get the positive CPP answer it promises: HTTP %d %s", status, reply)
	}

	// The LA's system reads its inbox over the HTTP mailbox.
	req, _ := http.NewRequest(http.MethodGet, base+"/mailbox/V145/inbox", nil)
	req.Header.Set("X-ASID", "200000000303")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("mailbox: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}

	dom = browse(t, base+"/", "--dump-dom")
	traffic := domSection(t, dom, "traffic")
	if !regexp.MustCompile(`<td>Mailbox list</td><td><code>200000000303</code> Islington children's social care system</td>\s*<td class="ok">HTTP 200</td>`).MatchString(traffic) {
		t.Errorf("no traffic row for the mailbox request:\n%s", traffic)
	}
	row := regexp.MustCompile(`(?s)<tr><td class="nowrap">[^<]*</td><td>CP-IS NHS Query</td>.*?</tr>`).FindString(traffic)
	if row == "" || !strings.Contains(row, "200000000101") || !strings.Contains(row, "positive: plans shown") || !strings.Contains(row, " ms</td>") {
		t.Errorf("no traffic row for the query just sent:\n%s", traffic)
	}
	if m := regexp.MustCompile(`(^|[^0-9])[0-9]{10}([^0-9]|$)`).FindString(traffic); m != "" {
		t.Errorf("the traffic section shows an NHS number: %q", m)
	}
	if !strings.Contains(domSection(t, dom, "counts"), "Access events recorded</dt><dd>1</dd>") {
		t.Errorf("the counts do not show the access:\n%s", domSection(t, dom, "counts"))
	}

	// And it renders: a screenshot of the whole width.
	shot := filepath.Join(dir, "page.png")
	browse(t, base+"/", "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() < 1000 {
		t.Errorf("screenshot %v", b)
	}
	if keep := os.Getenv("SPINEGW_PAGE_SCREENSHOT"); keep != "" {
		raw, _ := os.ReadFile(shot)
		_ = os.WriteFile(keep, raw, 0o644)
	}
}

// The page's script refreshes the live counts and the traffic in place: a
// query sent after the page loaded shows without a reload. A proxy in front
// of the gateway sends the query just before it lets the page's first
// refresh through; Chromium's virtual time runs the page's timer.
func TestServicePageRefreshes(t *testing.T) {
	dir := t.TempDir()
	addr, _ := startServe(t, "--db", filepath.Join(dir, "page.db"), "--world", "../../demo/world.yaml",
		"--mailbox-dir", filepath.Join(dir, "mailbox"), "--admin-listen", "off")
	backend, _ := url.Parse("http://" + addr)
	proxy := httputil.NewSingleHostReverseProxy(backend)
	var mu sync.Mutex
	pages := 0
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			mu.Lock()
			pages++
			second := pages == 2
			mu.Unlock()
			if second {
				// Not t.Fatal here, off the test's goroutine: a failure
				// shows as the traffic not refreshed.
				if resp, err := http.Get("http://" + addr + "/examples/positive-lac.xml"); err == nil {
					req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/sync-service", resp.Body)
					req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
					req.Header.Set("SOAPAction", soap.ActionQuery)
					if reply, err := http.DefaultClient.Do(req); err == nil {
						io.Copy(io.Discard, reply.Body)
						reply.Body.Close()
					}
					resp.Body.Close()
				}
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	dom := browse(t, front.URL+"/", "--virtual-time-budget=12000", "--dump-dom")
	mu.Lock()
	n := pages
	mu.Unlock()
	if n < 2 {
		t.Fatalf("the page was fetched %d times: no refresh ran", n)
	}
	if !strings.Contains(dom, "<h1>spinegw: NHS Spine CP-IS emulator</h1>") {
		t.Fatalf("not the page:\n%s", dom)
	}
	traffic := domSection(t, dom, "traffic")
	if !strings.Contains(traffic, "positive: plans shown") || strings.Contains(traffic, "Nothing yet.") {
		t.Errorf("the traffic was not refreshed:\n%s", traffic)
	}
	if strings.Count(dom, `<div id="live">`) != 1 || strings.Count(dom, `<section id="traffic"`) != 1 {
		t.Errorf("the refresh nested or repeated the live part")
	}
}
