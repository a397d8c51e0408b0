package store_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/daily"
	"spinegw/hl7/schema"
	"spinegw/internal/libxml2"
	"spinegw/store"
	pipeline "spinegw/upload"
	"spinegw/world"
)

var updateGolden = flag.Bool("update", false, "rewrite the report golden files")

// The report fixture, built through the real write paths at injected
// times: testdata/report/world.yaml merged, NHS Queries answered by
// cpis.Service, one LA upload through the upload pipeline, one daily run
// (notifications and purge), one PDS supersession. Every figure the tests
// below assert is counted by hand from this story.
//
//	P1 9990001006  V145 CPP 2026-01-10, open (sent again by the upload)
//	P2 9990001073  V150 LAC 2025-06-01 .. 2026-10-10; superseded by 9990001359 on 25 October
//	P3 9990001146  V145 UCP 2026-06-01, due 2027-06-01 (the mother)
//	P4 9990001219  V145 CPP 2024-03-01, open (stale since 2026-03-01); V150 LAC from 2026-11-05
//	P5 9990001847  V150 CPP 2025-01-01, delete 2026-10-15: purged by the run of 20 October
//	P6 9990003009  V145 CPP 2026-10-01, stored by the upload of 12 October
//
// Queries (Q5 negative, so never stored):
//
//	Q7 2026-09-30T22:30Z (23:30 BST, September) Khan    RKE  P2
//	Q8 2026-09-30T23:30Z (00:30 BST, 1 October) Palmer  RKE  P2
//	Q1 2026-10-05T10:00Z                        Khan    RKE  P1
//	Q2 2026-10-05T11:00Z (repeat, not shown)    Khan    RKE  P1
//	Q3 2026-10-19T14:00Z                        Palmer  RKE  P3 (midwife: the UCP)
//	Q4 2026-10-19T15:00Z system author via RRU           P4 (V145 and V150)
//	Q5 2026-10-19T16:00Z                        Khan    RKE  9434765919: not found
//	Q6 2026-11-02T10:00Z (November)             Khan    RKE  P1
//
// Upload 2026-10-12T09:00Z by V145, file V145-20261012-0001: P1 and P6
// accepted, 9990001286 refused (PDS does not know it).
// Daily run of 2026-10-20 at 02:00 London: notifies the period
// [19 Oct 02:00, 20 Oct 02:00) BST, which holds Q3 and Q4, to both LAs
// holding records, then purges P5.
type reportFixture struct {
	db  *store.DB
	now time.Time // the reports are read at: 2026-11-22 10:00 UTC
}

const (
	p1, p2, p3, p4, p5, p6 = "9990001006", "9990001073", "9990001146", "9990001219", "9990001847", "9990003009"
	p2New                  = "9990001359"
)

func newReportFixture(t *testing.T) *reportFixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "report.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w, err := world.ReadFile("testdata/report/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MergeWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	var now time.Time
	clock := cpis.ClockFunc(func() time.Time { return now })
	svc := &cpis.Service{Store: db, Clock: clock}
	khan := cpis.Author{UserID: "200009876205", RoleProfileIDs: []string{"100077650988"}}
	palmer := cpis.Author{UserID: "200009876204", RoleProfileIDs: []string{"100077650987"}}
	ambulance := cpis.Author{System: true, Name: cpis.Name{Given: []string{"Sam"}, Family: "Crew"}}
	query := func(id, at, asid string, a cpis.Author, nhs string, positive bool) {
		t.Helper()
		now = instantAt(at)
		ep, err := svc.CheckSender(ctx, asid)
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.Answer(ctx, cpis.Query{MessageID: id, Sender: ep, NHSNumber: nhs, Author: a})
		if positive && err != nil {
			t.Fatalf("query %s: %v", id, err)
		}
		if !positive && cpis.KindOf(err) != cpis.KindNotFound {
			t.Fatalf("query %s: %v, want not found", id, err)
		}
	}
	query("Q7", "2026-09-30T22:30:00Z", "200000000101", khan, p2, true)
	query("Q8", "2026-09-30T23:30:00Z", "200000000101", palmer, p2, true)
	query("Q1", "2026-10-05T10:00:00Z", "200000000101", khan, p1, true)
	query("Q2", "2026-10-05T11:00:00Z", "200000000101", khan, p1, true)

	now = instantAt("2026-10-12T09:00:00Z")
	entry, _ := schema.Entry("File")
	sch, err := libxml2.CompileSchema(schema.FS, entry)
	if err != nil {
		t.Fatal(err)
	}
	up := &pipeline.Service{Store: db, Schema: sch, Clock: clock, Verification: cpis.VerifyCurrent}
	file, err := os.ReadFile("testdata/report/upload-v145.xml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := up.Process(ctx, pipeline.Source{Route: pipeline.RouteCLI}, bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if res.Succeeded != 2 || res.Failed != 1 {
		t.Fatalf("upload: %d accepted, %d refused (%s %s), want 2 and 1", res.Succeeded, res.Failed,
			res.Code, res.Detail)
	}

	query("Q3", "2026-10-19T14:00:00Z", "200000000101", palmer, p3, true)
	query("Q4", "2026-10-19T15:00:00Z", "200000000202", ambulance, p4, true)
	query("Q5", "2026-10-19T16:00:00Z", "200000000101", khan, "9434765919", false)

	now = instantAt("2026-10-20T01:30:00Z") // 02:30 BST
	runner := &daily.Runner{Store: db, Clock: clock, RunAt: daily.RunAt{Hour: 2}}
	day, err := runner.RunDay(ctx, civil("2026-10-20"))
	if err != nil {
		t.Fatal(err)
	}
	if day.Purge.Plans != 1 {
		t.Fatalf("the run of 20 October purged %d plans, want 1 (P5)", day.Purge.Plans)
	}

	now = instantAt("2026-10-25T12:00:00Z")
	if _, err := runner.Supersede(ctx, p2, p2New); err != nil {
		t.Fatal(err)
	}
	query("Q6", "2026-11-02T10:00:00Z", "200000000101", khan, p1, true)
	return &reportFixture{db: db, now: instantAt("2026-11-22T10:00:00Z")}
}

func october(t *testing.T, now time.Time) cpis.Period {
	t.Helper()
	// No --from or --to on 22 November: the last full month, October.
	p, err := cpis.ParsePeriod("", "", now)
	if err != nil {
		t.Fatal(err)
	}
	if cpis.FormatDay(p.From) != "2026-10-01" || cpis.FormatDay(p.Last()) != "2026-10-31" {
		t.Fatalf("default period %v, want October 2026", p)
	}
	return p
}

func figure(t *testing.T, s cpis.Statistics, id, la string) int {
	t.Helper()
	v, ok := s.Value(id, la)
	if !ok || v == nil {
		t.Fatalf("figure %s %s missing (%v)", id, la, v)
	}
	return *v
}

// CP-IS077: every figure, for October, as of 22 November.
func TestStatisticsReportMatchesHandCount(t *testing.T) {
	f := newReportFixture(t)
	ctx := context.Background()
	s, err := f.db.ReportStatistics(ctx, october(t, f.now), cpis.Today(f.now), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id, la string
		n      int
		why    string
	}{
		{cpis.FigProvidingLAs, "", 2, "V145 and V150 hold records"},
		{cpis.FigLAProvided, "V145", 1, "listed"},
		{cpis.FigLAProvided, "V150", 1, "listed"},
		{cpis.FigCurrentNHSNumbers, "", 4, "P1, P3, P4, P6; P2's LAC ended, P5 purged"},
		{cpis.FigCurrentLAs, "", 2, "V145 (P1, P3, P4, P6), V150 (P4's LAC)"},
		{cpis.FigCurrentCPPs, "", 3, "P1, P4, P6"},
		{cpis.FigCurrentUCPs, "", 1, "P3"},
		{cpis.FigCurrentLACs, "", 1, "P4's LAC started on 5 November; P2's ended"},
		{cpis.FigPeriodCPPs, "", 4, "P1, P4, P6 (from 1 Oct) and P5 (until its delete date, 15 Oct), from record_history"},
		{cpis.FigPeriodUCPs, "", 1, "P3"},
		{cpis.FigPeriodLACs, "", 1, "P2 (ended 10 Oct); P4's LAC starts in November"},
		{cpis.FigPeriodPositive, "", 5, "Q8 (1 Oct 00:30 BST), Q1, Q2 (a repeat is still an access), Q3, Q4; not Q7 (September), Q5 (negative), Q6 (November)"},
		{cpis.FigLACurrentCPPs, "V145", 3, "P1, P4, P6"},
		{cpis.FigLACurrentUCPs, "V145", 1, "P3"},
		{cpis.FigLACurrentLACs, "V145", 0, ""},
		{cpis.FigLACurrentCPPs, "V150", 0, "P5 purged"},
		{cpis.FigLACurrentUCPs, "V150", 0, ""},
		{cpis.FigLACurrentLACs, "V150", 1, "P4's LAC"},
		{cpis.FigLAPeriodCPPs, "V145", 3, "P1, P4, P6"},
		{cpis.FigLAPeriodUCPs, "V145", 1, "P3"},
		{cpis.FigLAPeriodLACs, "V145", 0, ""},
		{cpis.FigLAPeriodCPPs, "V150", 1, "P5, until 15 October"},
		{cpis.FigLAPeriodUCPs, "V150", 0, ""},
		{cpis.FigLAPeriodLACs, "V150", 1, "P2, until 10 October"},
		{cpis.FigPeriodQueryOrgs, "", 2, "RKE (Khan, Palmer) and RRU (the ambulance system)"},
		{cpis.FigPeriodUploads, "", 1, "the upload of 12 October"},
		{cpis.FigPeriodUploadAccepted, "", 2, "P1, P6"},
		{cpis.FigPeriodUploadRejected, "", 1, "9990001286"},
		{cpis.FigPeriodAccessNotes, "", 2, "the run of 20 October: one to each LA holding records"},
		{cpis.FigPeriodInactiveNotes, "", 1, "P2 superseded: V150 holds its record"},
	}
	for _, w := range want {
		if got := figure(t, s, w.id, w.la); got != w.n {
			t.Errorf("%s %s = %d, want %d: %s", w.id, w.la, got, w.n, w.why)
		}
	}
	if v, ok := s.Value(cpis.FigPeriodQueries, ""); !ok || v != nil {
		t.Errorf("queries received = %v: must be listed, and not derivable (negative queries are not stored)", v)
	}
	if len(s.Figures) != len(want)+1 {
		t.Errorf("%d figures, want %d: a figure not counted here", len(s.Figures), len(want)+1)
	}
	golden(t, "statistics", s.Report())
}

// CP-IS077 narrowed to one LA: its plans, the accesses that returned its
// plans, its uploads and notifications.
func TestStatisticsReportOfOneLA(t *testing.T) {
	f := newReportFixture(t)
	s, err := f.db.ReportStatistics(context.Background(), october(t, f.now), cpis.Today(f.now), "V150")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		cpis.FigProvidingLAs:        1,
		cpis.FigCurrentNHSNumbers:   1, // P4 (its LAC)
		cpis.FigCurrentCPPs:         0,
		cpis.FigCurrentLACs:         1,
		cpis.FigPeriodCPPs:          1, // P5, purged
		cpis.FigPeriodLACs:          1, // P2
		cpis.FigPeriodUCPs:          0,
		cpis.FigPeriodPositive:      2, // Q8 (P2) and Q4 (P4: V145 and V150); not Q1-Q3 (V145 only)
		cpis.FigPeriodQueryOrgs:     2, // RKE (Q8), RRU (Q4)
		cpis.FigPeriodUploads:       0,
		cpis.FigPeriodAccessNotes:   1,
		cpis.FigPeriodInactiveNotes: 1,
	}
	for id, n := range want {
		if got := figure(t, s, id, ""); got != n {
			t.Errorf("V150: %s = %d, want %d", id, got, n)
		}
	}
	if _, ok := s.Value(cpis.FigLACurrentCPPs, "V145"); ok {
		t.Error("V150's statistics list figures of V145")
	}
}

// CP-IS080: a CPP with neither end nor delete date two years after its
// start, as of a day.
func TestStaleCPPReport(t *testing.T) {
	f := newReportFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		asOf, la, nhs string
		want          int
		why           string
	}{
		{"2026-11-22", "", "", 1, "P4 only: P1 and P6 started in 2026"},
		{"2026-03-01", "", "", 1, "P4 is stale from its start + 2 years, 1 March 2026"},
		{"2026-02-28", "", "", 0, "the day before"},
		{"2026-11-22", "V150", "", 0, "P4's CPP is V145's"},
		{"2026-11-22", "", p1, 0, "P1's CPP started in January 2026"},
	} {
		r, err := f.db.ReportStaleCPPs(ctx, civil(c.asOf), c.la, c.nhs)
		if err != nil {
			t.Fatal(err)
		}
		if c.asOf == "2026-11-22" && c.la == "" && c.nhs == "" {
			golden(t, "stale-cpp", r.Report())
		}
		if len(r.Rows) != c.want {
			t.Errorf("as of %s la %q nhs %q: %d stale CPPs, want %d: %s", c.asOf, c.la, c.nhs, len(r.Rows), c.want, c.why)
		}
		if c.want == 1 && (r.Rows[0].NHSNumber != p4 || r.Rows[0].LA != "V145" || r.Rows[0].LocalID != "ISL-1003") {
			t.Errorf("stale CPP %+v, want P4's at V145", r.Rows[0])
		}
	}
}

// CP-IS081: who viewed which child's records from which organisation and
// when, and which LA updated which records when.
func TestAccessReportMatchesHandCount(t *testing.T) {
	f := newReportFixture(t)
	ctx := context.Background()
	oct := october(t, f.now)
	r, err := f.db.ReportAccess(ctx, oct, "", "")
	if err != nil {
		t.Fatal(err)
	}
	// In time order: Q8, Q1, Q2, the upload with its two records, Q3, Q4.
	want := []string{
		"view " + p2 + " RKE 200009876204",
		"view " + p1 + " RKE 200009876205",
		"view " + p1 + " RKE 200009876205",
		"upload  V145 ",
		"update " + p1 + " V145 ",
		"update " + p6 + " V145 ",
		"view " + p3 + " RKE 200009876204",
		"view " + p4 + " RRU ",
	}
	got := accessLines(r)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("access report rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(r.Rows) == len(want) {
		if !strings.Contains(r.Rows[2].Detail, "repeat within 24 hours") {
			t.Errorf("Q2 is not marked a repeat: %q", r.Rows[2].Detail)
		}
		if r.Rows[3].Detail != "file V145-20261012-0001 by cli; CPF03; 2 accepted, 1 refused" {
			t.Errorf("upload row detail %q", r.Rows[3].Detail)
		}
		if strings.Join(r.Rows[7].LAs, " ") != "V145 V150" || r.Rows[7].User != "Sam Crew" {
			t.Errorf("Q4: LAs %v, user %q; want V145 V150, Sam Crew", r.Rows[7].LAs, r.Rows[7].User)
		}
	}
	golden(t, "access", r.Report())

	// One child: its views and the update of its record.
	r, err = f.db.ReportAccess(ctx, oct, "", p1)
	if err != nil {
		t.Fatal(err)
	}
	if got := accessLines(r); strings.Join(got, "|") != strings.Join(want[1:3], "|")+"|"+want[4] {
		t.Errorf("P1's access rows: %q", got)
	}
	// One LA: the accesses that returned its plans (Q8: P2, Q4: P4); it
	// sent no upload.
	r, err = f.db.ReportAccess(ctx, oct, "V150", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := accessLines(r); strings.Join(got, "|") != want[0]+"|"+want[7] {
		t.Errorf("V150's access rows: %q", got)
	}
	// September holds Q7 alone: 22:30 UTC on 30 September is still
	// September in England.
	sep, _ := cpis.ParsePeriod("2026-09-01", "2026-09-30", f.now)
	r, err = f.db.ReportAccess(ctx, sep, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 1 || !strings.Contains(r.Rows[0].Detail, "Q7") {
		t.Errorf("September: %+v, want Q7 alone", r.Rows)
	}
}

func accessLines(r cpis.AccessReport) []string {
	var out []string
	for _, x := range r.Rows {
		out = append(out, x.Action+" "+string(x.NHSNumber)+" "+x.OrgODS+" "+x.UserID)
	}
	return out
}

// CP-IS079: everything held and ever held for one number.
func TestSubjectReport(t *testing.T) {
	f := newReportFixture(t)
	ctx := context.Background()
	today := cpis.Today(f.now)
	sections := func(nhs cpis.NHSNumber) (cpis.SubjectReport, map[string]int) {
		t.Helper()
		r, err := f.db.ReportSubject(ctx, nhs, today)
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, it := range r.Items {
			n[it.Section]++
		}
		return r, n
	}
	// P2: PDS entry, superseded, its LAC at V150, two accesses (Q7 and
	// Q8; no daily run covered them, so no access notification), and the
	// Inactive NHS Number Notification to V150.
	r, n := sections(p2)
	wantN := map[string]int{cpis.SecPatient: 1, cpis.SecSupersession: 1, cpis.SecRecord: 1, cpis.SecAccess: 2, cpis.SecNotification: 1}
	for sec, want := range wantN {
		if n[sec] != want {
			t.Errorf("P2: %d %s items, want %d", n[sec], sec, want)
		}
	}
	if len(r.Items) != 6 {
		t.Errorf("P2: %d items, want 6:\n%+v", len(r.Items), r.Items)
	}
	for _, it := range r.Items {
		if it.Section == cpis.SecSupersession && it.Detail != p2New {
			t.Errorf("P2 superseded by %q, want %s", it.Detail, p2New)
		}
		if it.Section == cpis.SecRecord && !strings.HasPrefix(it.Detail, "ended, still shown") {
			t.Errorf("P2's LAC: %q, want ended, still shown (CP-IS010)", it.Detail)
		}
	}
	// The replacing number names what it replaces.
	_, n = sections(p2New)
	if n[cpis.SecSupersession] != 1 || n[cpis.SecRecord] != 0 {
		t.Errorf("P2's new number: %v, want one supersession and no record", n)
	}
	// P5: purged, so nothing live, but the purge's trace (CP-IS075).
	r, n = sections(p5)
	if n[cpis.SecRecord] != 0 || n[cpis.SecHistory] != 1 {
		t.Errorf("P5: %v, want no record and one history row", n)
	}
	for _, it := range r.Items {
		if it.Section == cpis.SecHistory && (it.LA != "V150" || it.What != "CPP" || it.When != "2026-10-20" ||
			!strings.HasPrefix(it.Detail, "purged")) {
			t.Errorf("P5 history %+v", it)
		}
	}
	// P1: its record came by the upload; three accesses (Q1, Q2, Q6), no
	// notification (no run covered them).
	r, n = sections(p1)
	if n[cpis.SecUpload] != 1 || n[cpis.SecAccess] != 3 || n[cpis.SecNotification] != 0 {
		t.Errorf("P1: %v, want 1 upload, 3 accesses, 0 notifications", n)
	}
	golden(t, "subject-p1", r.Report())
	// P3: Q3 fell in the period of the run of 20 October, which notified
	// V145 of it.
	r, n = sections(p3)
	if n[cpis.SecAccess] != 1 || n[cpis.SecNotification] != 1 {
		t.Errorf("P3: %v, want 1 access and 1 notification", n)
	}
	for _, it := range r.Items {
		if it.Section == cpis.SecNotification && (it.LA != "V145" || it.What != "access to service") {
			t.Errorf("P3 notification %+v", it)
		}
	}
	// A number the service never heard of: PDS does not know it, nothing held.
	r, _ = sections("9434765919")
	if len(r.Items) != 1 || r.Items[0].Section != cpis.SecPatient {
		t.Errorf("unknown number: %+v", r.Items)
	}
}

// golden compares the csv, json and table renderings with
// testdata/report/NAME.csv, NAME.json and NAME.table (go test -update
// rewrites them).
func golden(t *testing.T, name string, r cpis.Report) {
	t.Helper()
	for _, format := range []string{cpis.FormatCSV, cpis.FormatJSON, cpis.FormatTable} {
		var b bytes.Buffer
		if err := r.Render(&b, format); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "report", name+"."+format)
		if *updateGolden {
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs from %s:\n%s", name, path, b.String())
		}
	}
}
