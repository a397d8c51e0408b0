package conformance_test

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"spinegw/conformance"
)

func sampleReport() conformance.Report {
	return conformance.Report{
		Target: "http://127.0.0.1:8080/sync-service", Started: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), Duration: 1500 * time.Millisecond,
		Results: []conformance.Result{
			{Case: "positive-cpp", Title: "A child on a CPP", Duration: 2 * time.Millisecond},
			{Case: "broken", Title: "A <b>bold</b> title", Failures: []string{`xpath //x: "<script>alert(1)</script>", want "y"`, "second"},
				Status: 200, Reply: []byte("<reply>&</reply>"), Duration: 3 * time.Millisecond},
			{Case: "notification-x", NotApplicable: "not applicable to this target: no admin"},
		},
	}
}

func TestReportCountsAndTable(t *testing.T) {
	r := sampleReport()
	if c := r.Counts(); c != (conformance.Counts{Total: 3, Passed: 1, Failed: 1, NotApplicable: 1}) {
		t.Errorf("counts %+v", c)
	}
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"CASE", "positive-cpp  ", "pass", "broken", "FAIL", `xpath //x:`, "n/a", "not applicable to this target",
		"3 cases: 1 passed, 1 failed, 1 not applicable to this target"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "second") {
		t.Errorf("the table shows more than the first failure:\n%s", out)
	}
}

// The JUnit file is what CI consumers parse: counts on testsuites and
// testsuite, a failure with message and text, a skipped n/a case.
func TestReportJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Tests    int     `xml:"tests,attr"`
			Failures int     `xml:"failures,attr"`
			Skipped  int     `xml:"skipped,attr"`
			Time     float64 `xml:"time,attr"`
			Cases    []struct {
				Name    string  `xml:"name,attr"`
				Time    float64 `xml:"time,attr"`
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
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 1 {
		t.Fatalf("testsuites: %+v", doc)
	}
	s := doc.Suites[0]
	if s.Tests != 3 || s.Failures != 1 || s.Skipped != 1 || s.Time != 1.5 || len(s.Cases) != 3 {
		t.Fatalf("testsuite: %+v", s)
	}
	if c := s.Cases[0]; c.Name != "positive-cpp" || c.Failure != nil || c.Skipped != nil || c.Time != 0.002 {
		t.Errorf("passed case: %+v", c)
	}
	if c := s.Cases[1]; c.Failure == nil || !strings.Contains(c.Failure.Message, "<script>") || !strings.Contains(c.Failure.Text, "second") {
		t.Errorf("failed case: %+v", c)
	}
	if c := s.Cases[2]; c.Skipped == nil || !strings.Contains(c.Skipped.Message, "not applicable") {
		t.Errorf("n/a case: %+v", c)
	}
}

// The HTML report names every case, shows every failure and escapes what
// it shows.
func TestReportHTML(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"<!DOCTYPE html>", "positive-cpp", "broken", "notification-x", "second",
		"&lt;script&gt;alert(1)&lt;/script&gt;", "A &lt;b&gt;bold&lt;/b&gt; title", "&lt;reply&gt;&amp;&lt;/reply&gt;",
		"1 passed", "1 failed", "1 not applicable"} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, "<b>bold") {
		t.Error("HTML is not escaped")
	}
	if strings.Contains(out, "http://") && !strings.Contains(out, "127.0.0.1:8080") || strings.Contains(out, "<link") || strings.Contains(out, "src=") {
		t.Error("the HTML report is not self-contained")
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := &conformance.Progress{W: &b, Total: 4}
	p.Start("first")
	p.Step(conformance.Result{Case: "first", Failures: []string{"x"}})
	p.Start("second")
	p.Done()
	out := b.String()
	for _, want := range []string{"[..............................] 0/4, 0 failed, running first",
		"[#######.......................] 1/4, 1 failed, running second", "\r\x1b[K"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q: %q", want, out)
		}
	}
}
