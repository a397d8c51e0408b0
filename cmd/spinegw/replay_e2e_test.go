package main_test

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const corpusDir = "../../conformance/cases"

// serveSuite starts the real binary as conformance/suite.yaml says, with
// or without its admin listener, and returns the SOAP endpoint's URL and
// the admin listener's base URL ("" without one).
func serveSuite(t *testing.T, withAdmin bool) (target, admin string) {
	t.Helper()
	raw, err := os.ReadFile("../../conformance/suite.yaml")
	if err != nil {
		t.Fatal(err)
	}
	field := func(k string) string {
		m := regexp.MustCompile(`(?m)^` + k + `:\s*"?([^"\n]+)"?`).FindSubmatch(raw)
		if m == nil {
			t.Fatalf("suite.yaml has no %s", k)
		}
		return strings.TrimSpace(string(m[1]))
	}
	dir := t.TempDir()
	args := []string{"--db", filepath.Join(dir, "spinegw.db"), "--mailbox-dir", filepath.Join(dir, "mailbox"),
		"--world", filepath.Join("../../conformance", field("world")), "--clock", field("clock"), "--asid", field("gateway_asid")}
	adminAddr := "off"
	if withAdmin {
		adminAddr = freePort(t)
		admin = "http://" + adminAddr
	}
	addr, _, _ := startServeLogged(t, append(args, "--admin-listen", adminAddr)...)
	return "http://" + addr + "/sync-service", admin
}

type junitFile struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Time    string `xml:"time,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitFile {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var j junitFile
	if err := xml.Unmarshal(raw, &j); err != nil {
		t.Fatalf("the JUnit file does not parse: %v", err)
	}
	if len(j.Suites) != 1 {
		t.Fatalf("%d testsuites", len(j.Suites))
	}
	return j
}

func caseNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// The whole corpus replayed against the real gateway with its admin
// listener is green, and the reports say so.
func TestReplayCorpusGreen(t *testing.T) {
	target, admin := serveSuite(t, true)
	out := t.TempDir()
	junit, html := filepath.Join(out, "junit.xml"), filepath.Join(out, "report.html")
	text, code := spinegw(t, nil, "replay", corpusDir, "--target", target, "--admin", admin, "--junit", junit, "--html", html)
	if code != 0 {
		t.Fatalf("replay exited %d:\n%s", code, text)
	}
	names := caseNames(t, corpusDir)
	if len(names) < 40 {
		t.Fatalf("only %d cases in the corpus", len(names))
	}
	for _, n := range names {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(n) + `\s+pass\s`).MatchString(text) {
			t.Errorf("the table has no passing row for %s", n)
		}
	}
	if !strings.Contains(text, " passed, 0 failed, 0 not applicable to this target") {
		t.Errorf("summary:\n%s", text)
	}
	if strings.Contains(text, "\x1b[") {
		t.Error("a progress bar was drawn on output that is not a terminal")
	}
	j := readJUnit(t, junit)
	s := j.Suites[0]
	if j.Tests != len(names) || j.Failures != 0 || j.Skipped != 0 || s.Tests != len(names) || s.Failures != 0 || len(s.Cases) != len(names) {
		t.Errorf("JUnit counts: tests %d failures %d skipped %d, suite %d/%d/%d cases; want %d tests", j.Tests, j.Failures, j.Skipped,
			s.Tests, s.Failures, len(s.Cases), len(names))
	}
	// Replay order: the clock-moving notification case is the last.
	if last := s.Cases[len(s.Cases)-1].Name; last != "notification-access-to-service" {
		t.Errorf("last case %s", last)
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.Contains(string(page), ">"+n+"<") {
			t.Errorf("the HTML report does not name %s", n)
		}
	}
}

// A case whose expectation is wrong fails the replay (exit 1), and its
// reason is in the table, the JUnit file and the HTML report. A case of
// steps against a target without the admin listener is not applicable:
// counted and shown, not failed.
func TestReplayReportsAFailure(t *testing.T) {
	cases := t.TempDir()
	copyCase(t, "positive-cpp", filepath.Join(cases, "wrong-la"), func(expect string) string {
		return strings.Replace(expect, "equals: V145", "equals: V999", 1)
	})
	copyCase(t, "negative-no-record", filepath.Join(cases, "right"), nil)
	copyCase(t, "notification-inactive-superseded", filepath.Join(cases, "needs-admin"), nil)
	target, _ := serveSuite(t, false)
	out := t.TempDir()
	junit, html := filepath.Join(out, "junit.xml"), filepath.Join(out, "report.html")
	text, code := spinegw(t, nil, "replay", cases, "--target", target, "--junit", junit, "--html", html)
	if code != 1 {
		t.Fatalf("replay exited %d, want 1:\n%s", code, text)
	}
	reason := `"V145", want "V999"`
	for _, re := range []string{`(?m)^wrong-la\s+FAIL\s.*` + regexp.QuoteMeta(reason), `(?m)^right\s+pass\s`,
		`(?m)^needs-admin\s+n/a\s.*not applicable to this target`, `3 cases: 1 passed, 1 failed, 1 not applicable to this target`} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("the table does not match %s:\n%s", re, text)
		}
	}
	j := readJUnit(t, junit)
	if j.Tests != 3 || j.Failures != 1 || j.Skipped != 1 {
		t.Errorf("JUnit counts: %d tests, %d failures, %d skipped", j.Tests, j.Failures, j.Skipped)
	}
	for _, c := range j.Suites[0].Cases {
		switch c.Name {
		case "wrong-la":
			if c.Failure == nil || !strings.Contains(c.Failure.Message, reason) {
				t.Errorf("JUnit wrong-la: %+v", c)
			}
		case "needs-admin":
			if c.Skipped == nil || c.Failure != nil {
				t.Errorf("JUnit needs-admin: %+v", c)
			}
		case "right":
			if c.Failure != nil || c.Skipped != nil {
				t.Errorf("JUnit right: %+v", c)
			}
		}
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `&#34;V145&#34;, want &#34;V999&#34;`) {
		t.Errorf("the HTML report does not show the reason")
	}
	// --run selects cases: the right one alone passes.
	if text, code := spinegw(t, nil, "replay", cases, "--target", target, "--run", "^right$"); code != 0 || !strings.Contains(text, "1 cases: 1 passed") {
		t.Errorf("--run: exit %d:\n%s", code, text)
	}
}

// copyCase copies a corpus case to dir, editing its expect.yaml.
func copyCase(t *testing.T, name, dir string, edit func(string) string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"request.xml", "expect.yaml", "response.xml"} {
		raw, err := os.ReadFile(filepath.Join(corpusDir, name, f))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if f == "expect.yaml" && edit != nil {
			edited := edit(string(raw))
			if edited == string(raw) {
				t.Fatal("the edit changed nothing")
			}
			raw = []byte(edited)
		}
		if err := os.WriteFile(filepath.Join(dir, f), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// make conformance's script runs the whole corpus green on the binary
// given, and leaves its reports.
func TestConformanceScript(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command("../../scripts/conformance.sh")
	cmd.Env = append(os.Environ(), "BIN="+binary, "OUT="+out)
	text, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("conformance.sh: %v\n%s", err, text)
	}
	j := readJUnit(t, filepath.Join(out, "junit.xml"))
	if j.Tests < 40 || j.Failures != 0 || j.Skipped != 0 {
		t.Errorf("JUnit: %d tests, %d failures, %d skipped", j.Tests, j.Failures, j.Skipped)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Error(err)
	}
}
