package main_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var binary string

// TestMain builds the real spinegw binary once; the tests below run it as a
// user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spinegw-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "spinegw")
	build := exec.Command("go", "build", "-tags", "libsqlite3", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("build spinegw: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func spinegw(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe runs `spinegw serve` until it is ready and returns its address
// and the curl command it printed, if any.
func startServe(t *testing.T, args ...string) (addr, curl string) {
	addr, curl, _ = startServeLogged(t, args...)
	return addr, curl
}

// startServeLogged is startServe that also gives access to the log.
func startServeLogged(t *testing.T, args ...string) (addr, curl string, logs func() string) {
	t.Helper()
	addr = freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary, append([]string{"serve", "--listen", addr}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		// Patient data never appears in logs.
		for _, nhs := range []string{"9990001006", "9990001073", "9990001146"} {
			if strings.Contains(stderr.String(), nhs) {
				t.Errorf("the log contains NHS number %s", nhs)
			}
		}
	})
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("spinegw serve exited: %s", stderr.String())
			}
			if strings.Contains(l, "curl ") {
				curl = strings.TrimSpace(l)
			}
			if strings.HasPrefix(l, "LA uploads:") {
				return addr, curl, stderr.String
			}
		case <-deadline:
			t.Fatalf("spinegw serve did not get ready; stderr: %s", stderr.String())
		}
	}
}

// The curl command that `spinegw serve --world` prints returns a positive
// CP-IS response, and the access is recorded (a second query shows it in the
// access history).
func TestServePrintsWorkingCurl(t *testing.T) {
	dir := t.TempDir()
	_, curl, logs := startServeLogged(t, "--db", filepath.Join(dir, "e2e.db"), "--world", "../../demo/world.yaml", "--mailbox-dir", filepath.Join(dir, "mailbox"))
	m := regexp.MustCompile(`-H 'SOAPAction: ([^']+)' --data-binary @(\S+) (\S+)$`).FindStringSubmatch(curl)
	if m == nil {
		t.Fatalf("unexpected curl line: %s", curl)
	}
	body, err := os.ReadFile(m[2])
	if err != nil {
		t.Fatal(err)
	}
	post := func() string {
		req, _ := http.NewRequest(http.MethodPost, m[3], bytes.NewReader(body))
		req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
		req.Header.Set("SOAPAction", m[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d: %s", resp.StatusCode, b.String())
		}
		return b.String()
	}
	first := post()
	if !strings.Contains(first, "REPC_IN000007GB01") || !strings.Contains(first, `code="OK"`) {
		t.Fatalf("not a positive response: %s", first)
	}
	second := post()
	if !strings.Contains(second, "pertinentInformation13") {
		t.Errorf("the second response shows no access history: %s", second)
	}
	// CP-IS061: a transmission log line per exchange (time, origin,
	// destination, interaction, outcome), never content.
	waitFor(t, "the transmission log line", 5*time.Second, func() bool {
		return strings.Contains(logs(), `"msg":"transmission","interaction":"QUPC_IN000006GB01","from":"200000000101","to":"990000000001","outcome":"positive"`)
	})
}

// world load merges a world file; a bad one is refused with its line.
func TestWorldLoad(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	out, code := spinegw(t, nil, "world", "load", "../../conformance/world.yaml", "--db", db)
	if code != 0 || !strings.Contains(out, "loaded") {
		t.Fatalf("exit %d: %s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("endpoints:\n  - {asid: \"200000000101\", ods: RKE, nmae: typo}\n"), 0o644)
	out, code = spinegw(t, nil, "world", "load", bad, "--db", db)
	if code == 0 || !strings.Contains(out, "2") {
		t.Fatalf("a typo in the world file was accepted (exit %d): %s", code, out)
	}
}

// validate: exit 0 for valid messages, 1 with line-numbered errors otherwise.
func TestValidate(t *testing.T) {
	out, code := spinegw(t, nil, "validate", "../../conformance/cases/positive-cpp/request.xml")
	if code != 0 {
		t.Fatalf("valid query refused (exit %d): %s", code, out)
	}
	out, code = spinegw(t, nil, "validate", "../../conformance/cases/schema-invalid/request.xml")
	if code != 1 || !regexp.MustCompile(`request.xml:\d+: `).MatchString(out) {
		t.Fatalf("invalid query: exit %d, output %s", code, out)
	}
}

// Configuration precedence: flag > environment > file > default; unknown
// keys in the file are an error.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "spinegw.yaml")
	os.WriteFile(cfg, []byte("db: "+filepath.Join(dir, "file.db")+"\n"), 0o644)
	out, code := spinegw(t, nil, "world", "load", "../../demo/world.yaml", "--config", cfg)
	if code != 0 || !strings.Contains(out, "file.db") {
		t.Fatalf("file setting not used: %s", out)
	}
	out, _ = spinegw(t, []string{"SPINEGW_DB=" + filepath.Join(dir, "env.db")}, "world", "load", "../../demo/world.yaml", "--config", cfg)
	if !strings.Contains(out, "env.db") {
		t.Fatalf("environment does not beat the file: %s", out)
	}
	out, _ = spinegw(t, []string{"SPINEGW_DB=" + filepath.Join(dir, "env.db")}, "world", "load", "../../demo/world.yaml", "--config", cfg, "--db", filepath.Join(dir, "flag.db"))
	if !strings.Contains(out, "flag.db") {
		t.Fatalf("flag does not beat the environment: %s", out)
	}
	os.WriteFile(cfg, []byte("dbb: x.db\n"), 0o644)
	out, code = spinegw(t, nil, "world", "load", "../../demo/world.yaml", "--config", cfg)
	if code == 0 {
		t.Fatalf("unknown key accepted: %s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the test's
// reads at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
