package bench

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spinegw/cpis"
	"spinegw/synth"
)

// fileResponse renders a FileResponse as the gateway would print it, with
// a record detail for each failed record.
func fileResponse(fileCode string, codes []string) string {
	var b strings.Builder
	ok := 0
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<FileResponse xmlns="urn:hl7-org:v3">`)
	fmt.Fprintf(&b, `<acknowledgementFile><acknowledgementFileDetail><code code="%s"/></acknowledgementFileDetail></acknowledgementFile>`, fileCode)
	// As the gateway writes it: the file id first, as a detail of its own.
	b.WriteString(`<acknowledgementRecord><acknowledgementRecordDetail><code code="LAUFI"/><location>V999-20261122-1</location></acknowledgementRecordDetail>`)
	for i, c := range codes {
		if c == cpis.CPR06 {
			ok++
			continue
		}
		fmt.Fprintf(&b, `<acknowledgementRecordDetail><code code="%s" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.473"/><location>record %d (local id V999-%07d), new NHS number 9991827900</location></acknowledgementRecordDetail>`, c, i+1, i+1)
	}
	b.WriteString(`</acknowledgementRecord>`)
	fmt.Fprintf(&b, `<failedReturnedCP-ISRecords><value value="%d"/></failedReturnedCP-ISRecords>`, len(codes)-ok)
	fmt.Fprintf(&b, `<successfulReturnedCP-ISRecords><value value="%d"/></successfulReturnedCP-ISRecords></FileResponse>`, ok)
	return b.String()
}

func TestFileResponseCheck(t *testing.T) {
	codes := []string{cpis.CPR06, cpis.CPR01, cpis.CPR06, cpis.CPR05}
	cases := []struct {
		name, doc, wrong string
	}{
		{"as labelled", fileResponse(cpis.CPF03, codes), ""},
		{"a code swapped", fileResponse(cpis.CPF03, []string{cpis.CPR06, cpis.CPR02, cpis.CPR06, cpis.CPR05}), "record 2 got CPR02, want CPR01"},
		{"too many successes", fileResponse(cpis.CPF03, []string{cpis.CPR06, cpis.CPR06, cpis.CPR06, cpis.CPR05}), "3 records succeeded, want 2"},
		{"wrong file code", fileResponse(cpis.CPF02, codes), "file code CPF02, want CPF03"},
	}
	for _, c := range cases {
		a, err := parseFileResponse(strings.NewReader(c.doc))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := a.check(codes)
		if (c.wrong == "") != (got == "") || !strings.Contains(got, c.wrong) {
			t.Errorf("%s: check says %q, want %q", c.name, got, c.wrong)
		}
	}
	for name, doc := range map[string]string{
		"another root": `<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"/>`,
		"cut short":    fileResponse(cpis.CPF03, codes)[:200],
		"not XML":      "spinegw: no such table",
		"empty":        "",
	} {
		if _, err := parseFileResponse(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: read as a FileResponse", name)
		}
	}
}

func TestRecordPosition(t *testing.T) {
	for loc, want := range map[string]int{
		"record 2": 2, "record 230000": 230000, "record 6 (local id V999-0000006), new NHS number 9991827900": 6,
		"record 14 (local id V999-0000014)": 14, "V999-20261122-1": 0, "record": 0, "record 0": 0, "record x1": 0,
	} {
		got, ok := recordPosition(loc)
		if got != want && ok || (want > 0) != ok {
			t.Errorf("%q: got %d %v, want %d", loc, got, ok, want)
		}
	}
}

func TestBareInsert(t *testing.T) {
	so := synth.DefaultOptions()
	so.Records = 500
	rows, fileID, err := bareRows(so)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 470 { // 500 less 1% (5) of each of six failure kinds
		t.Fatalf("%d rows, want 470", len(rows))
	}
	path := filepath.Join(t.TempDir(), "bare.db")
	if _, err := BareInsert(path, so.LA, fileID, rows); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var plans string
	if err := db.QueryRow(`SELECT count(*) FROM records WHERE la_ods = ? AND file_id = ?`, so.LA, fileID).Scan(&n); err != nil || n != len(rows) {
		t.Fatalf("%d rows stored (%v), want %d", n, err, len(rows))
	}
	if err := db.QueryRow(`SELECT plans FROM records WHERE nhs_number = ?`, rows[0].NHS).Scan(&plans); err != nil {
		t.Fatal(err)
	}
	if want := string(appendPlans(nil, rows[0].Plans)); plans != want || !strings.HasPrefix(plans, string(rows[0].Plans[0].Type)+" ") {
		t.Fatalf("plans %q, want %q", plans, want)
	}
}

func TestAppendPlans(t *testing.T) {
	got := string(appendPlans(nil, []cpis.Plan{
		{Type: cpis.LAC, Start: cpis.Date(2026, 1, 2)},
		{Type: cpis.CPP, Start: cpis.Date(2025, 3, 4), End: cpis.Date(2025, 12, 31), Delete: cpis.Date(2027, 1, 1)},
	}))
	if want := "LAC 2026-01-02 - -;CPP 2025-03-04 2025-12-31 2027-01-01"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// fakeGateway writes a shell script standing in for spinegw: `world load`
// creates the store file, `upload FILE` prints the response prepared for a
// file of that many records (or fails when none was).
func fakeGateway(t *testing.T, dir string, responses map[int]string) string {
	t.Helper()
	for n, doc := range responses {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("response-%d.xml", n)), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `#!/bin/sh
set -e
case "$1" in
world) : > "$5" ;;
upload)
	n=$(grep -o 'transmissionQuantity value="[0-9]*"' "$2" | tr -dc 0-9)
	cat "` + dir + `/response-$n.xml" ;;
*) exit 2 ;;
esac
`
	path := filepath.Join(dir, "spinegw")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func expectedCodes(t *testing.T, records int) []string {
	t.Helper()
	so := synth.DefaultOptions()
	so.Records = records
	var codes []string
	if _, err := synth.Generate(so, func(_ cpis.UploadRecord, c string) error { codes = append(codes, c); return nil }); err != nil {
		t.Fatal(err)
	}
	return codes
}

// The benchmark's plumbing end to end against a stand-in gateway: both
// files measured over every round, the answers checked, the report
// written, and nothing left behind in the temporary directory.
func TestRunUploadPlumbing(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	right := fakeGateway(t, dir, map[int]string{
		100: fileResponse(cpis.CPF03, expectedCodes(t, 100)),
		300: fileResponse(cpis.CPF03, expectedCodes(t, 300)),
	})
	var out, log bytes.Buffer
	o := UploadOptions{Spinegw: right, Records: 300, Small: 100, Repeat: 2, Seed: 1, Log: &log, Out: &out}
	if err := RunUpload(context.Background(), o); err != nil {
		t.Fatalf("RunUpload: %v\n%s", err, log.String())
	}
	report := out.String()
	for _, want := range []string{"| Average LA file | 1 |", "| Average LA file | 2 |", "| England cohort file | 2 |", "n/a (target is for 230000 records)", "as expected"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("left behind in the temporary directory: %v", left)
	}

	// A gateway answering wrongly is reported, and the run fails.
	codes := expectedCodes(t, 100)
	codes[0], codes[1] = cpis.CPR01, cpis.CPR01
	wrongDir := t.TempDir()
	wrong := fakeGateway(t, wrongDir, map[int]string{100: fileResponse(cpis.CPF03, codes), 300: fileResponse(cpis.CPF03, expectedCodes(t, 300))})
	out.Reset()
	o.Spinegw, o.Repeat = wrong, 1
	if err := RunUpload(context.Background(), o); err == nil || !strings.Contains(err.Error(), "wrongly") {
		t.Fatalf("a wrong answer: err %v", err)
	}
	if !strings.Contains(out.String(), "FAIL (wrong answer)") {
		t.Errorf("the report does not say the answer was wrong:\n%s", out.String())
	}

	// A gateway that fails stops the run with its error.
	o.Spinegw = fakeGateway(t, t.TempDir(), nil)
	if err := RunUpload(context.Background(), o); err == nil || !strings.Contains(err.Error(), "spinegw upload") {
		t.Fatalf("a failing gateway: err %v", err)
	}
}

func TestUploadVerdicts(t *testing.T) {
	c := &uploadCase{Records: averageLARecords, TargetRecords: averageLARecords, Target: targetAverageTime,
		Rounds: []uploadRound{{MaxRSSKiB: 100 << 10}, {MaxRSSKiB: 300 << 10}}}
	if v := c.timeVerdict(0.15); v != "PASS" {
		t.Errorf("0.15 s: %s", v)
	}
	if v := c.timeVerdict(0.25); v != "MISS" {
		t.Errorf("0.25 s: %s", v)
	}
	if v := c.rssVerdict(); v != "MISS" {
		t.Errorf("a 300 MB round: %s", v)
	}
	c.Rounds[1].MaxRSSKiB = 200 << 10
	if v := c.rssVerdict(); v != "PASS" {
		t.Errorf("200 MB at worst: %s", v)
	}
	c.Records = 1000
	if v := c.timeVerdict(0.1); !strings.HasPrefix(v, "n/a") {
		t.Errorf("another size: %s", v)
	}
	c.Rounds[0].Wrong = "x"
	if v := c.rssVerdict(); !strings.HasPrefix(v, "FAIL") {
		t.Errorf("a wrong answer: %s", v)
	}
}
