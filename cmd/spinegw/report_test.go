package main_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// spinegw report, run as a user would: the report fixture's world
// (store/testdata/report/world.yaml) loaded with world load, the reports
// read on 22 November 2026 (--clock). Nothing was queried, uploaded or run:
// every figure comes from the world file alone.
func TestReportCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.db")
	if out, code := spinegw(t, nil, "world", "load", "../../store/testdata/report/world.yaml", "--db", db); code != 0 {
		t.Fatalf("world load: exit %d: %s", code, out)
	}
	run := func(args ...string) (string, int) {
		t.Helper()
		return spinegw(t, nil, append([]string{"report"}, append(args, "--db", db, "--clock", "2026-11-22T10:00:00Z")...)...)
	}

	// statistics, csv, the default period (October 2026).
	out, code := run("statistics", "--format", "csv")
	if code != 0 {
		t.Fatalf("statistics: exit %d: %s", code, out)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("statistics csv: %v\n%s", err, out)
	}
	if strings.Join(rows[0], ",") != "figure,requirement,la,value,source" {
		t.Errorf("csv header %q", rows[0])
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[0]+"/"+r[2]] = r[3]
	}
	for k, want := range map[string]string{
		"current_cpps/":                     "2", // P1, P4; P5 deleted on 15 October
		"current_unborn_cpps/":              "1", // P3
		"current_lacs/":                     "1", // P4's, from 5 November; P2's ended
		"current_nhs_numbers/":              "3", // P1, P3, P4
		"current_las/":                      "2",
		"period_cpps/":                      "3", // P1, P4, and P5 until 15 October
		"period_lacs/":                      "1", // P2, ended 10 October
		"la_current_cpps/V145":              "2",
		"la_current_lacs/V150":              "1",
		"period_queries_received/":          "", // not derivable
		"period_queries_answered_positive/": "0",
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("statistics %s = %q (present %v), want %q", k, v, ok, want)
		}
	}

	// stale-cpp as of --to: P4's CPP, open since 1 March 2024.
	out, code = run("stale-cpp", "--to", "2026-11-22", "--format", "json")
	var doc struct {
		Meta map[string]string
		Rows []map[string]any
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("stale-cpp: exit %d: %s", code, out)
	}
	if len(doc.Rows) != 1 || doc.Rows[0]["nhs_number"] != "9990001219" || doc.Rows[0]["stale_since"] != "2026-03-01" ||
		doc.Meta["as_of"] != "2026-11-22" {
		t.Errorf("stale-cpp: %+v", doc)
	}

	// subject, table: P4's two records, side by side.
	out, code = run("subject", "--nhs", "9990001219")
	if code != 0 || !strings.Contains(out, "CP-IS data protection report (CP-IS079)") ||
		!strings.Contains(out, "name Oscar Hale") || strings.Count(out, "\nrecord ") != 2 {
		t.Errorf("subject: exit %d:\n%s", code, out)
	}

	// access over a period with nothing in it.
	out, code = run("access", "--from", "2026-10-01", "--to", "2026-10-31")
	if code != 0 || !strings.Contains(out, "(no rows)") || !strings.Contains(out, "to: 2026-10-31") {
		t.Errorf("access: exit %d:\n%s", code, out)
	}

	// A report does not make an empty store where there is none.
	missing := filepath.Join(t.TempDir(), "none.db")
	if out, code := spinegw(t, nil, "report", "statistics", "--db", missing); code != 1 || !strings.Contains(out, "no store") {
		t.Errorf("report on a missing store: exit %d: %s", code, out)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("report created a store")
	}

	// Mistakes are refused with a reason and exit 1.
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"subject"}, "needs an NHS number"},
		{[]string{"subject", "--nhs", "9990001218"}, "not a valid NHS number"},
		{[]string{"statistics", "--from", "2026-10-31", "--to", "2026-10-01"}, "before it starts"},
		{[]string{"statistics", "--format", "xml"}, "unknown format"},
		{[]string{"everything"}, "unknown report"},
	} {
		out, code := run(c.args...)
		if code != 1 || !strings.Contains(out, c.says) {
			t.Errorf("report %v: exit %d, want 1 saying %q: %s", c.args, code, c.says, out)
		}
	}
}

// A serving gateway's admin listener serves the reports from the live
// store: the demo query answered a moment ago is in the access report and
// in its child's subject report, and nothing of it reaches the log
// (startServeLogged checks the log for the demo NHS numbers).
func TestReportsOnTheAdminListener(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	admin := freePort(t)
	_, curl, _ := startServeLogged(t, "--db", db, "--world", "../../demo/world.yaml", "--mailbox-dir",
		filepath.Join(dir, "mailbox"), "--clock", "2026-11-22T10:00:00Z", "--admin-listen", admin)
	m := regexp.MustCompile(`-H 'SOAPAction: ([^']+)' --data-binary @(\S+) (\S+)$`).FindStringSubmatch(curl)
	if m == nil {
		t.Fatalf("unexpected curl line: %s", curl)
	}
	body, _ := os.ReadFile(m[2])
	nhs := regexp.MustCompile(`extension="(999\d{7})"`).FindSubmatch(body)
	if nhs == nil {
		t.Fatalf("no NHS number in the demo query:\n%s", body)
	}
	req, _ := http.NewRequest(http.MethodPost, m[3], bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", m[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(answer), `code="OK"`) {
		t.Fatalf("the demo query: %s", answer)
	}

	get := func(path string) string {
		t.Helper()
		resp, err := http.Get("http://" + admin + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	rows, err := csv.NewReader(strings.NewReader(get("/admin/reports/access?from=2026-11-22&format=csv"))).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][1] != "view" || rows[1][2] != string(nhs[1]) {
		t.Errorf("access report of today: %v %q, want the one view of %s", err, rows, nhs[1])
	}
	subject := get("/admin/reports/subject?format=table&nhs=" + string(nhs[1]))
	if !strings.Contains(subject, "\naccess ") {
		t.Errorf("the subject report does not list the access:\n%s", subject)
	}
}
