package daily_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"spinegw/cpis"
	"spinegw/world"
)

// The daily corpus: testdata/cases/<name>/case.yaml, each a small story
// told through the injected clock, on top of testdata/world.yaml (SDS, the
// LAs). A case gives its children (PDS) and what the LAs hold, then steps at
// instants: a query through the query service (cpis.Service, the clock at
// the step's instant), a scheduler tick (the days due, the inactive
// notifications owed, delivery), a PDS supersession. It expects the outbox,
// every notification validated against the official schema and read back
// as "DAY access LA: NHS(accessor family names) ..." or
// "- inactive LA: OLD>NEW", and what each LA holds afterwards.
type corpusCase struct {
	Title        string   `yaml:"title"`
	Requirements []string `yaml:"requirements"`
	Children     []struct {
		NHS   string `yaml:"nhs"`
		Birth string `yaml:"birth"`
		Death string `yaml:"death"`
	} `yaml:"children"`
	Records []struct {
		NHS     string `yaml:"nhs"`
		LA      string `yaml:"la"`
		LocalID string `yaml:"local_id"`
		FileID  string `yaml:"file_id"`
		Plans   []struct {
			Type   string `yaml:"type"`
			Start  string `yaml:"start"`
			End    string `yaml:"end"`
			Delete string `yaml:"delete"`
		} `yaml:"plans"`
	} `yaml:"records"`
	Steps []struct {
		At    string `yaml:"at"`
		Query *struct {
			NHS     string `yaml:"nhs"`
			User    string `yaml:"user"`
			Refused bool   `yaml:"refused"` // the record is not visible: a negative answer, no access recorded
		} `yaml:"query"`
		Tick      bool `yaml:"tick"`
		Supersede *struct {
			Old string `yaml:"old"`
			New string `yaml:"new"`
		} `yaml:"supersede"`
	} `yaml:"steps"`
	Expect struct {
		Outbox []string `yaml:"outbox"`
		Holds  []string `yaml:"holds"` // "LA NHS: plans" as env.plans gives them, or "none"
	} `yaml:"expect"`
}

// profiles are the role profiles of the corpus world's users.
var profiles = map[string]string{"200009876204": "100077650987", "200009876212": "100077650995"}

func optDay(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	return day(s)
}

func TestDailyCorpus(t *testing.T) {
	base, err := world.ReadFile(filepath.Join("testdata", "world.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := filepath.Glob(filepath.Join("testdata", "cases", "*", "case.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, path := range dirs {
		name := filepath.Base(filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var c corpusCase
			dec := yaml.NewDecoder(bytes.NewReader(data))
			dec.KnownFields(true)
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if c.Title == "" || len(c.Requirements) == 0 {
				t.Fatalf("%s: a case needs a title and the requirements it proves", path)
			}
			runCase(t, base, c)
		})
	}
}

func runCase(t *testing.T, base cpis.World, c corpusCase) {
	e := newEnv(t)
	if err := e.db.MergeWorld(ctx, base); err != nil {
		t.Fatal(err)
	}
	var w cpis.World
	for _, ch := range c.Children {
		w.Patients = append(w.Patients, cpis.Patient{NHSNumber: cpis.NHSNumber(ch.NHS), Name: cpis.Name{Given: []string{"Child"}, Family: "Case"},
			BirthDate: optDay(ch.Birth), DateOfDeath: optDay(ch.Death), Gender: "unknown"})
	}
	for _, r := range c.Records {
		rec := cpis.Record{NHSNumber: cpis.NHSNumber(r.NHS), LA: cpis.LocalAuthority{ODS: r.LA}, LocalID: r.LocalID, FileID: r.FileID}
		for _, p := range r.Plans {
			rec.Plans = append(rec.Plans, cpis.Plan{Type: cpis.PlanType(p.Type), Start: day(p.Start), End: optDay(p.End), Delete: optDay(p.Delete)})
		}
		w.Records = append(w.Records, rec)
	}
	if err := e.db.MergeWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	svc := &cpis.Service{Store: e.db, Clock: cpis.ClockFunc(func() time.Time { return e.now })}
	hospital, err := svc.CheckSender(ctx, "200000000101")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range c.Steps {
		e.now = at(s.At)
		switch {
		case s.Query != nil:
			q := cpis.Query{MessageID: fmt.Sprintf("5D4C3B2A-1908-4776-8554-%012d", i+1), Sender: hospital, NHSNumber: s.Query.NHS,
				Author: cpis.Author{UserID: s.Query.User, RoleProfileIDs: []string{profiles[s.Query.User]}}}
			_, err := svc.Answer(ctx, q)
			switch {
			case s.Query.Refused && cpis.KindOf(err) != cpis.KindNotFound:
				t.Fatalf("step %d: query answered %v, want NHS Number Not Found", i+1, err)
			case !s.Query.Refused && err != nil:
				t.Fatalf("step %d: query: %v", i+1, err)
			}
		case s.Tick:
			if _, err := e.r.Tick(ctx, e.now); err != nil {
				t.Fatalf("step %d: tick: %v", i+1, err)
			}
		case s.Supersede != nil:
			if _, err := e.r.Supersede(ctx, cpis.NHSNumber(s.Supersede.Old), cpis.NHSNumber(s.Supersede.New)); err != nil {
				t.Fatalf("step %d: supersede: %v", i+1, err)
			}
		default:
			t.Fatalf("step %d: nothing to do", i+1)
		}
	}
	got := e.outbox()
	want := append([]string(nil), c.Expect.Outbox...)
	sort.Strings(want)
	expect(t, "outbox", got, want...)
	// Every message in the outbox was delivered, once, to its LA's folder.
	if d := e.delivered(); len(d) != len(got) {
		t.Errorf("%d files delivered for %d messages", len(d), len(got))
	}
	for _, h := range c.Expect.Holds {
		key, plans, _ := strings.Cut(h, ": ")
		la, n, _ := strings.Cut(key, " ")
		if got := e.plans(la, cpis.NHSNumber(n)); got != plans {
			t.Errorf("%s %s holds %q, want %q", la, n, got, plans)
		}
	}
}
