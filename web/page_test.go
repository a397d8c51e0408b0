package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/hl7/schema"
	"spinegw/internal/libxml2"
	"spinegw/soap"
	"spinegw/store"
	"spinegw/web"
	"spinegw/world"
)

var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

const gatewayASID = "990000000001"

// gateway serves the SOAP endpoint and the page over one store holding the
// conformance world, the page's traffic fed by the endpoint's observer.
func gateway(t *testing.T, w cpis.World) (*httptest.Server, *store.DB) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "page.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MergeWorld(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	v, err := hl7.NewValidator(schema.FS, schema.Entry)
	if err != nil {
		t.Fatal(err)
	}
	clock := cpis.ClockFunc(func() time.Time { return now })
	traffic := web.NewTraffic(50)
	mux := http.NewServeMux()
	mux.Handle("/sync-service", soap.NewServer(soap.Config{
		Service: &cpis.Service{Store: db, Clock: clock}, Validator: v, ASID: gatewayASID, Observe: traffic.Observe}))
	web.New(web.Config{Store: db, Clock: clock, GatewayASID: gatewayASID, Traffic: traffic}).Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, db
}

func conformanceWorld(t *testing.T) cpis.World {
	t.Helper()
	w, err := world.ReadFile("../conformance/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// section returns the HTML of the page's <section id="id">.
func section(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `<section id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no section %s", id)
	}
	j := strings.Index(page[i:], "</section>")
	return page[i : i+j]
}

// send posts an example to the gateway and returns the HTTP status.
func send(t *testing.T, base, name string) int {
	t.Helper()
	resp, body := get(t, base+"/examples/"+name+".xml")
	if resp.StatusCode != 200 {
		t.Fatalf("example %s: HTTP %d", name, resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/sync-service", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", resp.Header.Get("X-SOAPAction"))
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return r.StatusCode
}

// The page shows the endpoint at the host serving it, both operations with
// their SOAPActions, the links, the mailbox, the identities and what each
// NHS number returns to an ordinary user and to a midwife.
func TestPageShowsTheService(t *testing.T) {
	srv, _ := gateway(t, conformanceWorld(t))
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.Host = "gateway.test:8443"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"http://gateway.test:8443/sync-service",
		soap.ActionQuery, soap.ActionUpload, soap.ActionQueryResponse, soap.ActionQueryFailure, soap.ActionUploadResponse,
		`href="/sync-service?wsdl"`, `href="/schemas/"`, `href="/status.json"`,
		"/mailbox/V145/inbox", "X-ASID: 200000000303",
		// identities
		"200000000101", "Whittington Hospital PAS", "200009876207", "Ms Jo Marsh", "disabled", "100077650989",
		"R0680", "The Whittington Hospital NHS Trust",
		// examples
		`href="/examples/positive-cpp.xml"`, `href="/examples/la-upload.xml"`, `href="/examples/disabled-user.xml"`,
		"curl -s http://gateway.test:8443/examples/positive-cpp.xml | curl",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	// What each number returns now: the mother's unborn plan only to a
	// midwife; two LAs; nothing for a number PDS knows without records.
	ids := section(t, page, "identities")
	for _, row := range []struct{ nhs, ordinary, midwife string }{
		{"9990001146", "NHS Number Not Found (nothing visible)", "UCP (V145)"},
		{"9990001219", "CPP (V145), LAC (V150)", "CPP (V145), LAC (V150)"},
		{"9990001847", "NHS Number Not Found (no record)", "NHS Number Not Found (no record)"},
	} {
		re := regexp.MustCompile(`<code>` + row.nhs + `</code>.*?</tr>`)
		tr := re.FindString(strings.ReplaceAll(ids, "\n", " "))
		if tr == "" || !strings.Contains(tr, "<td>"+row.ordinary+"</td><td>"+row.midwife+"</td>") {
			t.Errorf("%s: row %q, want ordinary %q, midwife %q", row.nhs, tr, row.ordinary, row.midwife)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if regexp.MustCompile(`(?i)(src|href)="https?://`).MatchString(page) {
		t.Errorf("the page loads or links something from elsewhere")
	}
}

var nhsShape = regexp.MustCompile(`(^|[^0-9])[0-9]{10}([^0-9]|$)`)

// The traffic shows each exchange (time, operation, sender, outcome,
// latency) and never an NHS number; the counts follow.
func TestTrafficWithoutPatientData(t *testing.T) {
	srv, _ := gateway(t, conformanceWorld(t))
	_, page := get(t, srv.URL+"/")
	if !strings.Contains(section(t, page, "traffic"), "Nothing yet.") {
		t.Errorf("traffic before any exchange")
	}
	for _, c := range []struct {
		name   string
		status int
	}{{"positive-cpp", 200}, {"no-record", 200}, {"no-b0107", 200}, {"unknown-endpoint", 500}} {
		if got := send(t, srv.URL, c.name); got != c.status {
			t.Fatalf("%s: HTTP %d, want %d", c.name, got, c.status)
		}
	}
	_, page = get(t, srv.URL+"/")
	traffic := section(t, page, "traffic")
	for _, want := range []string{"CP-IS NHS Query", "<code>200000000101</code> Whittington Hospital PAS", "<code>999999999999</code>",
		"positive: plans shown", "NHS Number Not Found", "refused: SMSP-0005 not authorised", "SOAP fault 200", " ms</td>"} {
		if !strings.Contains(traffic, want) {
			t.Errorf("the traffic does not show %q:\n%s", want, traffic)
		}
	}
	if n := strings.Count(traffic, "<tr>") - 1; n != 4 {
		t.Errorf("%d traffic rows, want 4", n)
	}
	if m := nhsShape.FindString(traffic); m != "" {
		t.Errorf("the traffic section shows an NHS number: %q", m)
	}
	if !nhsShape.MatchString(section(t, page, "identities")) {
		t.Errorf("the identities show no NHS number: the check above proves nothing")
	}
	counts := section(t, page, "counts")
	for _, want := range []string{
		"<dt>Queries answered</dt><dd>3</dd>", `<dt>with plans shown</dt><dd class="ok">1</dd>`,
		`<dt>NHS Number Not Found</dt><dd class="neutral">1</dd>`, `<dd class="bad">1</dd>`,
		"<dt>Access events recorded</dt><dd>1</dd>",
	} {
		if !strings.Contains(counts, want) {
			t.Errorf("the counts do not show %q:\n%s", want, counts)
		}
	}

	// The same as JSON.
	resp, body := get(t, srv.URL+"/status.json")
	var st struct {
		Traffic web.TrafficCounts
		Store   struct{ AccessEvents, Records int }
		Recent  []struct{ Interaction, Sender, Outcome string }
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status.json: %v %s", err, body)
	}
	if st.Traffic != (web.TrafficCounts{Queries: 3, Positive: 1, NotFound: 1, Refused: 1, Faults: 1}) || len(st.Recent) != 4 ||
		st.Recent[0].Outcome != "fault 200" || st.Store.AccessEvents != 1 || st.Store.Records == 0 {
		t.Errorf("status.json: %+v", st)
	}
	if m := nhsShape.FindString(body); m != "" {
		t.Errorf("status.json shows an NHS number: %q", m)
	}
}

// Each example downloads as an attachment that is a valid request; names
// not among the examples are 404, and so is every path but / itself.
func TestExampleDownloads(t *testing.T) {
	srv, _ := gateway(t, conformanceWorld(t))
	v, err := hl7.NewValidator(schema.FS, schema.Entry)
	if err != nil {
		t.Fatal(err)
	}
	_, page := get(t, srv.URL+"/")
	links := regexp.MustCompile(`href="/examples/([a-z0-9-]+)\.xml"`).FindAllStringSubmatch(page, -1)
	if len(links) < 10 {
		t.Fatalf("%d example links", len(links))
	}
	for _, l := range links {
		resp, body := get(t, srv.URL+"/examples/"+l[1]+".xml")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Disposition") != fmt.Sprintf(`attachment; filename="%s.xml"`, l[1]) ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
			t.Errorf("%s: HTTP %d, %v", l[1], resp.StatusCode, resp.Header)
			continue
		}
		doc, err := libxml2.Parse([]byte(body), libxml2.ParseOptions{})
		if err != nil {
			t.Errorf("%s: %v", l[1], err)
			continue
		}
		env, err := soap.ReadEnvelope(doc.Root())
		if err != nil {
			t.Errorf("%s: %v", l[1], err)
		} else if issues := v.Validate(env.Body); len(issues) > 0 {
			t.Errorf("%s: %v", l[1], issues)
		} else if env.Action != resp.Header.Get("X-SOAPAction") || !strings.Contains(page, "<code>"+env.Action+"</code>") {
			t.Errorf("%s: wsa:Action %s not the SOAPAction shown", l[1], env.Action)
		}
		doc.Free()
	}
	for path, status := range map[string]int{
		"/examples/nope.xml": 404, "/examples/positive-cpp": 404, "/nope": 404, "/index.html": 404,
	} {
		if resp, _ := get(t, srv.URL+path); resp.StatusCode != status {
			t.Errorf("GET %s: HTTP %d, want %d", path, resp.StatusCode, status)
		}
	}
	resp, err := http.Post(srv.URL+"/", "text/plain", bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: HTTP %d", resp.StatusCode)
	}
}

// The page shows the world as the store holds it now: a merge while
// serving shows at once.
func TestPageFollowsTheStore(t *testing.T) {
	srv, db := gateway(t, conformanceWorld(t))
	_, page := get(t, srv.URL+"/")
	if strings.Contains(page, "200000000555") {
		t.Fatal("endpoint before the merge")
	}
	err := db.MergeWorld(context.Background(), cpis.World{Endpoints: []cpis.Endpoint{{ASID: "200000000555", ODS: "RAL", Name: "Royal Free EPR"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, page = get(t, srv.URL+"/")
	if !strings.Contains(section(t, page, "identities"), "Royal Free EPR") {
		t.Error("the merged endpoint is not shown")
	}
}

// Everything from the store is escaped.
func TestPageEscapes(t *testing.T) {
	w := conformanceWorld(t)
	w.Endpoints[0].Name = `<script>alert("x")</script>`
	w.Users[1].Name.Family = `<b>Khan</b>`
	srv, _ := gateway(t, w)
	_, page := get(t, srv.URL+"/")
	if strings.Contains(page, `<script>alert`) || strings.Contains(page, "<b>Khan") {
		t.Error("markup from the store reached the page unescaped")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") || !strings.Contains(page, "&lt;b&gt;Khan&lt;/b&gt;") {
		t.Error("the escaped names are not shown")
	}
}

// An empty store still gives a page that says so.
func TestPageEmptyStore(t *testing.T) {
	srv, _ := gateway(t, cpis.World{})
	resp, page := get(t, srv.URL+"/")
	if resp.StatusCode != 200 || !strings.Contains(page, "No examples") || !strings.Contains(page, "No endpoints.") {
		t.Errorf("HTTP %d: %s", resp.StatusCode, page)
	}
}

// A store with more NHS numbers than the page lists says so.
func TestPageListsTheFirstNumbers(t *testing.T) {
	_, db := gateway(t, conformanceWorld(t))
	mux := http.NewServeMux()
	web.New(web.Config{Store: db, Clock: cpis.ClockFunc(func() time.Time { return now }), GatewayASID: gatewayASID, Numbers: 3}).Mount(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	ids := section(t, rec.Body.String(), "identities")
	if !strings.Contains(ids, "The first 3 NHS numbers the store knows are listed; it knows more") {
		t.Errorf("no note that more numbers exist")
	}
	if n := len(regexp.MustCompile(`<tr><td><code>999000\d{4}</code>`).FindAllString(ids, -1)); n != 3 {
		t.Errorf("%d NHS numbers listed, want 3", n)
	}
}
