package daily_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/daily"
	"spinegw/hl7"
	"spinegw/hl7/schema"
	"spinegw/internal/libxml2"
	"spinegw/store"
)

var ctx = context.Background()

// officialSchemas is NHS Digital's CP-IS schema set, shared with the
// project as reference data: every notification is checked against it.
const officialSchemas = "../../shared/spine-schemas/CPIS"

// day parses a civil date.
func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return cpis.Date(t.Date())
}

// at parses an instant in RFC 3339.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// nhs returns the i-th valid NHS number of the never-issued 999 range.
func nhs(i int) cpis.NHSNumber {
	for n := 999000000 + i*7; ; n++ {
		s := fmt.Sprintf("%09d", n)
		for c := 0; c <= 9; c++ {
			if cand := s + fmt.Sprint(c); cpis.ValidNHSNumber(cand) {
				return cpis.NHSNumber(cand)
			}
		}
	}
}

// plan options, so that a plan reads as its dates.
type planOpt func(*cpis.Plan)

func start(s string) planOpt { return func(p *cpis.Plan) { p.Start = day(s) } }
func end(s string) planOpt   { return func(p *cpis.Plan) { p.End = day(s) } }
func due(s string) planOpt   { return end(s) }
func del(s string) planOpt   { return func(p *cpis.Plan) { p.Delete = day(s) } }

func mk(t cpis.PlanType, opts ...planOpt) cpis.Plan {
	p := cpis.Plan{Type: t}
	for _, o := range opts {
		o(&p)
	}
	if p.Start.IsZero() {
		p.Start = day("2020-01-01")
	}
	return p
}
func cpp(opts ...planOpt) cpis.Plan { return mk(cpis.CPP, opts...) }
func lac(opts ...planOpt) cpis.Plan { return mk(cpis.LAC, opts...) }
func ucp(opts ...planOpt) cpis.Plan { return mk(cpis.UCP, opts...) }

// env is a store in a fresh file, a runner at 02:00 London delivering to a
// mailbox folder, and a world being built.
type env struct {
	t       *testing.T
	path    string
	db      *store.DB
	r       *daily.Runner
	mailbox string
	now     time.Time // the runner's clock
	world   cpis.World
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, path: filepath.Join(dir, "spinegw.db"), mailbox: filepath.Join(dir, "mailbox")}
	e.open()
	e.world.LocalAuthorities = []cpis.LocalAuthority{
		{ODS: "V145", Name: "London Borough of Islington", Emergency: "tel:02075277777"},
		{ODS: "V230", Name: "London Borough of Camden", Emergency: "tel:02079741234"},
		{ODS: "E10", Name: "Exampleshire County Council", Emergency: "tel:01632960000"},
	}
	return e
}

// open opens (or reopens, after a simulated crash) the store and a new
// runner on it: a restart.
func (e *env) open() {
	e.t.Helper()
	db, err := store.Open(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.db = db
	e.t.Cleanup(func() { db.Close() })
	runAt, _ := daily.ParseRunAt(daily.DefaultRunAt)
	e.r = &daily.Runner{Store: db, Clock: cpis.ClockFunc(func() time.Time { return e.now }), RunAt: runAt, Mailbox: e.mailbox}
}

// restart closes the store without any further work, as a killed process
// would leave it, and opens it again with a new runner.
func (e *env) restart() {
	e.t.Helper()
	e.db.Close()
	e.open()
}

// child adds a patient to PDS.
func (e *env) child(n cpis.NHSNumber, birth string) {
	p := cpis.Patient{NHSNumber: n, Name: cpis.Name{Given: []string{"Child"}, Family: string(n)}, Gender: "female"}
	if birth != "" {
		p.BirthDate = day(birth)
	}
	e.world.Patients = append(e.world.Patients, p)
}

// holds adds what an LA holds for a number.
func (e *env) holds(la string, n cpis.NHSNumber, plans ...cpis.Plan) {
	e.world.Records = append(e.world.Records, cpis.Record{NHSNumber: n, LA: cpis.LocalAuthority{ODS: la},
		LocalID: la + "/" + string(n)[6:], FileID: la + "-FILE-1", Plans: plans})
}

// load merges the world built so far.
func (e *env) load() {
	e.t.Helper()
	if err := e.db.MergeWorld(ctx, e.world); err != nil {
		e.t.Fatal(err)
	}
	e.world.Patients, e.world.Records = nil, nil
}

var eventSeq int

// access records that user looked at the number at the instant, and which
// LAs' plans the query returned (CP-IS023).
func (e *env) access(n cpis.NHSNumber, user, when string, las ...string) {
	e.t.Helper()
	eventSeq++
	ev := cpis.AccessEvent{ID: fmt.Sprintf("5D4C3B2A-1908-4776-8554-%012d", eventSeq),
		NHSNumber: n, At: at(when), LAs: las,
		Accessor: cpis.Accessor{UserID: "1000000" + user, RoleProfileID: "2000000" + user,
			Name:    cpis.Name{Prefix: "Dr", Given: []string{"Sam"}, Family: user},
			JobRole: cpis.JobRole{Code: "R0260", Name: "Specialty Registrar"},
			Org:     cpis.Org{ODS: "RKE", Name: "The Whittington Hospital NHS Trust"}}}
	if _, err := e.db.RecordAccess(ctx, ev); err != nil {
		e.t.Fatal(err)
	}
}

// runDay runs the cycle of the day with the clock at its run time.
func (e *env) runDay(d string) daily.DayResult {
	e.t.Helper()
	e.now = e.r.RunTime(day(d))
	res, err := e.r.RunDay(ctx, day(d))
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// tick is the scheduler's turn with the clock at the instant.
func (e *env) tick(when string) []daily.DayResult {
	e.t.Helper()
	e.now = at(when)
	res, err := e.r.Tick(ctx, e.now)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// plans returns what the LA holds for the number now, as "TYPE start..end
// del" items, or "none".
func (e *env) plans(la string, n cpis.NHSNumber) string {
	e.t.Helper()
	s, err := e.db.Subject(ctx, n)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range s.Records {
		if r.LA.ODS == la {
			var out []string
			for _, p := range r.Plans {
				out = append(out, fmt.Sprintf("%s %s..%s", p.Type, civilString(p.Start), civilString(p.End)))
			}
			return strings.Join(out, ", ")
		}
	}
	return "none"
}

func civilString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// Notification summaries. A delivered notification is validated against
// the official schema, then read back as one line:
//
//	access V145 2026-11-22: 9990000018(U1,U2) 9990000026(U3)
//	access E10 2026-11-22: none
//	inactive V145: 9990000018>9990000026
type notification struct {
	kind, la, key, summary string
	doc                    []byte
}

var (
	schemasOnce sync.Once
	schemas     map[string]*libxml2.Schema
	schemasErr  error
)

func officialSchema(t *testing.T, root string) *libxml2.Schema {
	t.Helper()
	schemasOnce.Do(func() {
		schemas = map[string]*libxml2.Schema{}
		for _, r := range []string{"CP-ISAccessToServiceNotification", "CP-ISInactiveNHSNumberNotification"} {
			entry, _ := schema.Entry(r)
			s, err := libxml2.CompileSchema(os.DirFS(officialSchemas), entry)
			if err != nil {
				schemasErr = err
				return
			}
			schemas[r] = s
		}
	})
	if schemasErr != nil {
		t.Fatal(schemasErr)
	}
	s := schemas[root]
	if s == nil {
		t.Fatalf("no schema for %s", root)
	}
	return s
}

var ns = map[string]string{"h": hl7.NS}

// summarise validates a notification against the official schema
// (REPC_MT000004GB01 or REPC_MT000005GB01) and reads it back.
func summarise(t *testing.T, doc []byte) string {
	t.Helper()
	d, err := libxml2.Parse(doc, libxml2.ParseOptions{})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, doc)
	}
	defer d.Free()
	root := d.Root().LocalName()
	for _, e := range officialSchema(t, root).ValidateDocument(d) {
		t.Errorf("official schema: %s\n%s", e, doc)
	}
	str := func(n *libxml2.Node, expr string) string {
		s, err := n.XPathString(expr, ns)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	nodes := func(expr string) []*libxml2.Node {
		ns, err := d.XPath(expr, ns)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	top := d.Root()
	la := str(top, "h:primaryInformationRecipient//h:representedSourceOrganization/h:id/@extension")
	var items []string
	switch root {
	case "CP-ISAccessToServiceNotification":
		for _, rec := range nodes("/h:CP-ISAccessToServiceNotification/h:pertinentInformation1/h:pertinentCP-ISRecordAccess") {
			number := str(rec, "h:pertinentInformation2[1]//h:person.id/h:value[@root='2.16.840.1.113883.2.1.4.1']/@extension")
			var users []string
			for _, q := range rec.Children(hl7.NS, "pertinentInformation2") {
				users = append(users, str(q, ".//h:assignedAuthorPerson/h:name/h:family | .//h:assignedPerson/h:name/h:family"))
			}
			items = append(items, fmt.Sprintf("%s(%s)", number, strings.Join(users, ",")))
		}
		if n := str(top, "h:pertinentInformation/h:pertinentTotalReturnedRecords/h:value/@value"); n != fmt.Sprint(len(items)) {
			t.Errorf("total returned records %s, but %d records", n, len(items))
		}
		if len(items) == 0 {
			items = []string{"none"}
		}
		return "access " + la + ": " + strings.Join(items, " ")
	default:
		for _, s := range nodes("/h:CP-ISInactiveNHSNumberNotification/h:subject/h:pDSInactivePatient") {
			items = append(items, str(s, "h:id[@root='2.16.840.1.113883.2.1.4.1']/@extension")+">"+
				str(s, "h:replacedBy/h:newVersion/h:id/@extension"))
		}
		return "inactive " + la + ": " + strings.Join(items, " ")
	}
}

// delivered reads every notification in the mailbox folders, by LA then
// file name, validated and summarised with the day it covers:
// "2026-11-22 access V145: ...".
func (e *env) delivered() []string {
	e.t.Helper()
	var out []string
	las, _ := os.ReadDir(e.mailbox)
	for _, la := range las {
		files, _ := os.ReadDir(filepath.Join(e.mailbox, la.Name(), "in"))
		for _, f := range files {
			if strings.HasPrefix(f.Name(), ".") {
				e.t.Errorf("a temporary file is left in %s/in: %s", la.Name(), f.Name())
				continue
			}
			doc, err := os.ReadFile(filepath.Join(e.mailbox, la.Name(), "in", f.Name()))
			if err != nil {
				e.t.Fatal(err)
			}
			out = append(out, summarise(e.t, doc))
		}
	}
	return out
}

// outbox summarises the outbox, key first: "2026-11-22 access V145: ...".
func (e *env) outbox() []string {
	e.t.Helper()
	msgs, err := e.db.Outbox(ctx, "")
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		key := m.Key
		if m.Kind == store.KindInactive {
			key = "-"
		}
		out = append(out, key+" "+summarise(e.t, m.Document))
	}
	sort.Strings(out)
	return out
}

func lines(s []string) string { return strings.Join(s, "\n") }

func expect(t *testing.T, name string, got []string, want ...string) {
	t.Helper()
	if lines(got) != lines(want) {
		t.Errorf("%s:\n got:\n%s\nwant:\n%s", name, lines(got), lines(want))
	}
}
