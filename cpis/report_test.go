package cpis_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
)

// The period rule of the reports (docs/reports.md): both ends given are
// included; the default is the last full calendar month in England.
func TestParsePeriod(t *testing.T) {
	now := at("2026-11-22T03:00:00Z")
	cases := []struct {
		from, to           string
		wantFrom, wantLast string
	}{
		{"", "", "2026-10-01", "2026-10-31"},
		{"2026-11-01", "", "2026-11-01", "2026-11-22"},
		{"", "2026-09-15", "2026-09-01", "2026-09-15"},
		{"2026-01-01", "2026-01-01", "2026-01-01", "2026-01-01"},
	}
	for _, c := range cases {
		p, err := cpis.ParsePeriod(c.from, c.to, now)
		if err != nil {
			t.Fatalf("%q..%q: %v", c.from, c.to, err)
		}
		if got := cpis.FormatDay(p.From); got != c.wantFrom {
			t.Errorf("%q..%q: from %s, want %s", c.from, c.to, got, c.wantFrom)
		}
		if got := cpis.FormatDay(p.Last()); got != c.wantLast {
			t.Errorf("%q..%q: last day %s, want %s", c.from, c.to, got, c.wantLast)
		}
	}
	for _, bad := range [][2]string{{"2026-02-02", "2026-02-01"}, {"2026-13-01", ""}, {"", "yesterday"}, {"1600-01-01", ""}, {"", "2300-01-01"}} {
		if _, err := cpis.ParsePeriod(bad[0], bad[1], now); cpis.KindOf(err) != cpis.KindInvalid {
			t.Errorf("%q..%q: err %v, want KindInvalid", bad[0], bad[1], err)
		}
	}
	// January in England on 1 February, 00:30 local (BST not in force): the
	// month just ended. In summer the instants are BST midnights.
	p := cpis.LastFullMonth(at("2026-02-01T00:30:00Z"))
	if cpis.FormatDay(p.From) != "2026-01-01" || cpis.FormatDay(p.Last()) != "2026-01-31" {
		t.Errorf("last full month on 1 February: %v", p)
	}
	p, _ = cpis.ParsePeriod("2026-07-01", "2026-07-31", now)
	if !p.Start().Equal(at("2026-06-30T23:00:00Z")) || !p.End().Equal(at("2026-07-31T23:00:00Z")) {
		t.Errorf("July's instants: %v..%v, want BST midnights", p.Start(), p.End())
	}
}

// CP-IS077 "current": in force on the day, not merely still shown.
func TestPlanCurrent(t *testing.T) {
	today := day("2026-11-22")
	child := day("2015-05-05")
	cases := []struct {
		name  string
		p     cpis.Plan
		birth time.Time
		want  bool
	}{
		{"open CPP", cpp(start("2026-01-01")), child, true},
		{"CPP starting tomorrow", cpp(start("2026-11-23")), child, false},
		{"CPP ending today", cpp(start("2026-01-01"), end("2026-11-22")), child, true},
		{"CPP ended yesterday, still shown (CP-IS010)", cpp(start("2026-01-01"), end("2026-11-21")), child, false},
		{"CPP with a delete date today (CP-IS009)", cpp(start("2026-01-01"), del("2026-11-22")), child, false},
		{"CPP with a delete date tomorrow", cpp(start("2026-01-01"), del("2026-11-23")), child, true},
		{"LAC of an 18 year old, end-dated at 18 (CP-IS030)", lac(start("2020-01-01")), day("2008-11-01"), false},
		{"LAC of a child turning 18 tomorrow", lac(start("2020-01-01")), day("2008-11-23"), true},
		{"UCP before its due date", ucp(start("2026-06-01"), due("2026-12-01")), time.Time{}, true},
		{"UCP past its due date, within 28 days (CP-IS011)", ucp(start("2026-06-01"), due("2026-11-01")), time.Time{}, true},
		{"UCP at due date + 28 days", ucp(start("2026-06-01"), due("2026-10-25")), time.Time{}, false},
	}
	for _, c := range cases {
		if got := cpis.PlanCurrent(c.p, c.birth, today); got != c.want {
			t.Errorf("%s: current %v, want %v", c.name, got, c.want)
		}
	}
}

// CP-IS077 "within a definable period": in force on at least one day of it.
func TestPlanInPeriod(t *testing.T) {
	oct, _ := cpis.ParsePeriod("2026-10-01", "2026-10-31", at("2026-11-22T03:00:00Z"))
	cases := []struct {
		name string
		p    cpis.Plan
		want bool
	}{
		{"started before, open", cpp(start("2025-01-01")), true},
		{"started on the last day", cpp(start("2026-10-31")), true},
		{"started the day after", cpp(start("2026-11-01")), false},
		{"ended on the first day", cpp(start("2025-01-01"), end("2026-10-01")), true},
		{"ended the day before", cpp(start("2025-01-01"), end("2026-09-30")), false},
		{"deleted on the first day", cpp(start("2025-01-01"), del("2026-10-01")), false},
		{"deleted on the second day", cpp(start("2025-01-01"), del("2026-10-02")), true},
		{"UCP due 28 days before the first day", ucp(start("2026-01-01"), due("2026-09-03")), false},
		{"UCP due 27 days before the first day", ucp(start("2026-01-01"), due("2026-09-04")), true},
	}
	for _, c := range cases {
		if got := cpis.PlanInPeriod(c.p, time.Time{}, oct); got != c.want {
			t.Errorf("%s: in period %v, want %v", c.name, got, c.want)
		}
	}
}

// Each plan is counted once in a period figure, whether the live records,
// the purge's trace or both name it; current figures count live plans only.
func TestStatsTallyCountsEachPlanOnce(t *testing.T) {
	oct, _ := cpis.ParsePeriod("2026-10-01", "2026-10-31", at("2026-11-22T03:00:00Z"))
	tally := &cpis.StatsTally{Period: oct, AsOf: day("2026-11-22")}
	open := cpp(start("2026-01-01"))
	tally.Held("9434765919", "V145", open, time.Time{})
	tally.Purged("9434765919", "V145", open, time.Time{}) // same plan: once
	tally.Purged("9434765870", "V150", lac(start("2025-01-01"), end("2026-10-05")), time.Time{})
	tally.Held("9434765870", "V150", ucp(start("2026-11-20"), due("2027-03-01")), time.Time{}) // not in October
	s := tally.Statistics("", cpis.ServiceCounts{Positive: 7, ProvidingUploads: []string{"X26"}})
	want := map[string]int{
		cpis.FigPeriodCPPs: 1, cpis.FigPeriodLACs: 1, cpis.FigPeriodUCPs: 0,
		cpis.FigCurrentCPPs: 1, cpis.FigCurrentUCPs: 1, cpis.FigCurrentLACs: 0,
		cpis.FigCurrentNHSNumbers: 2, cpis.FigCurrentLAs: 2,
		cpis.FigProvidingLAs:   3, // V145, V150 hold records; X26's upload was accepted
		cpis.FigPeriodPositive: 7,
	}
	for id, n := range want {
		v, ok := s.Value(id, "")
		if !ok || v == nil || *v != n {
			t.Errorf("%s = %v, want %d", id, v, n)
		}
	}
	if v, ok := s.Value(cpis.FigPeriodQueries, ""); !ok || v != nil {
		t.Errorf("queries received: %v, want present and not derivable (nil)", v)
	}
}

// The three formats carry the same rows: csv is RFC 4180 with one header
// row, json keys rows by column name and writes a figure that cannot be
// derived as null, the table aligns columns.
func TestReportFormats(t *testing.T) {
	n := 3
	r := cpis.Report{Name: "x", Requirement: "CP-IS077", Title: "T", Meta: []cpis.Meta{{"from", "2026-10-01"}},
		Columns: []string{"figure", "value", "note"},
		Rows:    [][]any{{"a", &n, `has "quotes", commas`}, {"b", (*int)(nil), "line\nbreak"}}}
	var b bytes.Buffer
	if err := r.Render(&b, cpis.FormatCSV); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatalf("csv does not read back: %v\n%s", err, b.String())
	}
	if len(recs) != 3 || recs[1][2] != `has "quotes", commas` || recs[2][1] != "" || recs[2][2] != "line\nbreak" {
		t.Errorf("csv read back as %q", recs)
	}
	b.Reset()
	if err := r.Render(&b, cpis.FormatJSON); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Report string
		Meta   map[string]string
		Rows   []map[string]any
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, b.String())
	}
	if doc.Report != "x" || doc.Meta["from"] != "2026-10-01" || len(doc.Rows) != 2 || doc.Rows[0]["value"] != 3.0 ||
		doc.Rows[1]["value"] != nil {
		t.Errorf("json read back as %+v", doc)
	}
	b.Reset()
	if err := r.Render(&b, cpis.FormatTable); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	var header, row string
	for i, l := range lines {
		if strings.HasPrefix(l, "FIGURE") {
			header, row = l, lines[i+1]
		}
	}
	if strings.Index(header, "VALUE") != strings.Index(row, "3") || strings.Contains(b.String(), "line\nbreak") {
		t.Errorf("table not aligned or a value broke a line:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "n/a") {
		t.Errorf("table does not say n/a for a figure not derivable:\n%s", b.String())
	}
	if err := r.Render(&b, "xml"); cpis.KindOf(err) != cpis.KindInvalid {
		t.Errorf("unknown format: %v", err)
	}
}

// The period parser reads query strings from the admin listener: whatever
// it is given, it returns a period that starts before it ends and whose
// days read back as given, or an error of KindInvalid; it never panics.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"2026-10-01", "2026-10-31"}, {"2026-02-29", ""}, {"", "0000-01-01"},
		{"9999-12-31", ""}, {"2026-10-31", "2026-10-01"}, {"2026-1-1", "x"}} {
		f.Add(s[0], s[1])
	}
	now := at("2026-11-22T03:00:00Z")
	f.Fuzz(func(t *testing.T, from, to string) {
		p, err := cpis.ParsePeriod(from, to, now)
		if err != nil {
			if cpis.KindOf(err) != cpis.KindInvalid {
				t.Fatalf("%q..%q: error of kind %v", from, to, cpis.KindOf(err))
			}
			return
		}
		if !p.From.Before(p.To) || !p.Start().Before(p.End()) || p.Start().UnixNano() >= p.End().UnixNano() {
			t.Fatalf("%q..%q: period %v does not start before it ends, or not as stored instants", from, to, p)
		}
		if from != "" && cpis.FormatDay(p.From) != from {
			t.Fatalf("%q: from reads back as %s", from, cpis.FormatDay(p.From))
		}
		if to != "" && cpis.FormatDay(p.Last()) != to {
			t.Fatalf("%q: to reads back as %s", to, cpis.FormatDay(p.Last()))
		}
	})
}
