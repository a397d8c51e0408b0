package synth_test

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/internal/libxml2"
	"spinegw/synth"
	"spinegw/world"
)

// officialSchemas is the official CP-IS schema set, beside the repository
// (../shared from its root).
const officialSchemas = "../../shared/spine-schemas/CPIS"

// everyFailure makes a 200-record file with a few records of every failure
// kind.
func everyFailure(seed int64) synth.Options {
	o := synth.DefaultOptions()
	o.Records, o.Seed = 200, seed
	o.Unknown, o.Sensitive, o.NotVerified, o.OldStyle, o.Superseded, o.MissingData = 0.05, 0.04, 0.05, 0.03, 0.04, 0.05
	return o
}

func write(t *testing.T, o synth.Options) ([]byte, cpis.World, []string) {
	t.Helper()
	var b bytes.Buffer
	w, codes, err := synth.WriteUpload(&b, o)
	if err != nil {
		t.Fatalf("WriteUpload: %v", err)
	}
	return b.Bytes(), w, codes
}

// The File is valid against the official schema set whatever the mix: every
// failure is one the schema admits and a record check refuses.
func TestValidAgainstOfficialSchema(t *testing.T) {
	s, err := libxml2.CompileSchema(os.DirFS(officialSchemas), "Schemas/REPC_MT000002GB01.xsd")
	if err != nil {
		t.Fatalf("official schema: %v", err)
	}
	defer s.Free()
	mixes := map[string]synth.Options{"every failure": everyFailure(7), "default": synth.DefaultOptions()}
	none := synth.DefaultOptions()
	none.Records, none.Unknown, none.Sensitive, none.NotVerified, none.OldStyle, none.Superseded, none.MissingData = 1, 0, 0, 0, 0, 0, 0
	mixes["one successful record"] = none
	all := everyFailure(3)
	all.Unknown, all.Sensitive, all.NotVerified, all.OldStyle, all.Superseded, all.MissingData = 0, 0, 0, 0.5, 0, 0.5
	mixes["nothing succeeds"] = all
	odd := everyFailure(5)
	odd.LAName, odd.FileID = `Barking & Dagenham "<Council>"`, "F&1"
	mixes["LA name and file id needing escapes"] = odd
	for name, o := range mixes {
		t.Run(name, func(t *testing.T) {
			data, _, _ := write(t, o)
			doc, err := libxml2.Parse(data, libxml2.ParseOptions{})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			defer doc.Free()
			if errs := s.ValidateDocument(doc); len(errs) > 0 {
				t.Fatalf("%d schema errors, first: %v", len(errs), errs[0])
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	a, wa, ca := write(t, everyFailure(11))
	b, wb, cb := write(t, everyFailure(11))
	if !bytes.Equal(a, b) || len(wa.Patients) != len(wb.Patients) || strings.Join(ca, ",") != strings.Join(cb, ",") {
		t.Fatal("the same options gave different files")
	}
	var ya, yb bytes.Buffer
	if err := synth.WriteWorld(&ya, wa); err != nil {
		t.Fatal(err)
	}
	if err := synth.WriteWorld(&yb, wb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ya.Bytes(), yb.Bytes()) {
		t.Fatal("the same options gave different worlds")
	}
	c, _, _ := write(t, everyFailure(12))
	if bytes.Equal(a, c) {
		t.Fatal("another seed gave the same file")
	}
	// The dates follow Today, not the calendar.
	o := everyFailure(11)
	o.Today = synth.DefaultToday.AddDate(0, 0, 1)
	d, _, _ := write(t, o)
	if bytes.Equal(a, d) {
		t.Fatal("another Today gave the same file")
	}
}

// collect generates o's records with their codes and the world.
func collect(t *testing.T, o synth.Options) ([]cpis.UploadRecord, []string, cpis.World) {
	t.Helper()
	var recs []cpis.UploadRecord
	var codes []string
	w, err := synth.Generate(o, func(r cpis.UploadRecord, code string) error {
		recs = append(recs, r)
		codes = append(codes, code)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs, codes, w
}

// Each failure share lands on its code, exactly as many records as the
// share says, and the world is set up so that cpis.CheckRecord gives every
// record its labelled code under both verification profiles.
func TestLabelledCodes(t *testing.T) {
	o := everyFailure(21)
	o.Records = 2000
	recs, codes, w := collect(t, o)
	_, _, wcodes := write(t, o)
	if strings.Join(codes, ",") != strings.Join(wcodes, ",") {
		t.Fatal("Generate and WriteUpload disagree on the codes")
	}
	pds := map[cpis.NHSNumber]cpis.Patient{}
	for _, p := range w.Patients {
		pds[p.NHSNumber] = p
	}
	lookup := func(n cpis.NHSNumber) (cpis.Patient, bool) { p, ok := pds[n]; return p, ok }
	count := map[string]int{}
	for i, r := range recs {
		if r.Position != i+1 {
			t.Fatalf("record %d has position %d", i+1, r.Position)
		}
		count[codes[i]]++
		for _, v := range []cpis.Verification{cpis.VerifyCurrent, cpis.VerifyCPIS2015} {
			if got := cpis.CheckRecord(r, lookup, v); got.Code != codes[i] {
				t.Fatalf("record %d (%s): labelled %s, CheckRecord under %s says %s (%s)", i+1, r.NHSNumber, codes[i], v, got.Code, got.Detail)
			}
		}
	}
	share := func(s float64) int { return int(s*float64(o.Records) + 0.5) }
	want := map[string]int{
		cpis.CPR01: share(o.Unknown), cpis.CPR02: share(o.Sensitive), cpis.CPR03: share(o.NotVerified),
		cpis.CPR04: share(o.OldStyle), cpis.CPR05: share(o.Superseded), cpis.CPR07: share(o.MissingData),
	}
	failed := 0
	for code, n := range want {
		if count[code] != n {
			t.Errorf("%s: %d records, want %d", code, count[code], n)
		}
		failed += n
	}
	if count[cpis.CPR06] != o.Records-failed {
		t.Errorf("CPR06: %d records, want %d", count[cpis.CPR06], o.Records-failed)
	}
}

// NHS numbers: in the 999 range, valid, unique across the file and its
// world (a superseded record's new number included).
func TestNHSNumbers(t *testing.T) {
	o := synth.DefaultOptions()
	o.Records, o.Superseded, o.OldStyle = 20_000, 0.02, 0.01
	recs, codes, w := collect(t, o)
	seen := map[string]bool{}
	for i, r := range recs {
		if codes[i] == cpis.CPR04 {
			if cpis.ValidNHSNumber(r.NHSNumber) || len(r.NHSNumber) == 10 {
				t.Fatalf("old-style number %q looks new-style", r.NHSNumber)
			}
			continue
		}
		if !strings.HasPrefix(r.NHSNumber, "999") || !cpis.ValidNHSNumber(r.NHSNumber) {
			t.Fatalf("record %d: %q is not a valid 999-range NHS number", i+1, r.NHSNumber)
		}
		if seen[r.NHSNumber] {
			t.Fatalf("record %d: %s is used twice", i+1, r.NHSNumber)
		}
		seen[r.NHSNumber] = true
	}
	patients := map[cpis.NHSNumber]bool{}
	for _, p := range w.Patients {
		if patients[p.NHSNumber] {
			t.Fatalf("patient %s is in the world twice", p.NHSNumber)
		}
		patients[p.NHSNumber] = true
		if p.SupersededBy != "" && seen[string(p.SupersededBy)] {
			t.Fatalf("the new number %s of a superseded record is also a record's", p.SupersededBy)
		}
	}
}

// The records mirror the England cohort (CP-IS083) and its ages.
func TestCohortMix(t *testing.T) {
	o := synth.DefaultOptions()
	o.Records = 23_000
	o.Unknown, o.Sensitive, o.NotVerified, o.OldStyle, o.Superseded, o.MissingData = 0, 0, 0, 0, 0, 0
	recs, _, _ := collect(t, o)
	today := synth.DefaultToday
	var lac, cpp, ucp, endedOnly, both, deletes int
	for _, r := range recs {
		var open, hasLAC, hasCPP bool
		for _, p := range r.Plans {
			if p.End.IsZero() || p.End.After(today) {
				open = true
			}
			switch p.Type {
			case cpis.LAC:
				hasLAC = true
			case cpis.CPP:
				hasCPP = true
			}
			if !p.Delete.IsZero() {
				deletes++
			}
			if p.Start.After(today) || (!p.End.IsZero() && p.End.Before(p.Start)) || p.Start.Before(r.BirthDate) && !r.Unborn {
				t.Fatalf("record %d: implausible plan %+v for birth %s", r.Position, p, r.BirthDate.Format(time.DateOnly))
			}
		}
		age := today.Year() - r.BirthDate.Year()
		if today.YearDay() < r.BirthDate.YearDay() {
			age--
		}
		switch {
		case r.Unborn:
			ucp++
			if age < 16 || age > 45 {
				t.Fatalf("record %d: a mother aged %d", r.Position, age)
			}
			if r.Plans[0].Type != cpis.UCP || !r.Plans[0].End.After(today) {
				t.Fatalf("record %d: an unborn plan without a due date ahead: %+v", r.Position, r.Plans)
			}
			continue
		case age < 0 || age > 17:
			t.Fatalf("record %d: a child aged %d", r.Position, age)
		case !open:
			endedOnly++
			// Ended within the last twelve months: still shown (CP-IS010).
			for _, p := range r.Plans {
				if p.End.Before(today.AddDate(0, 0, -365)) {
					t.Fatalf("record %d: a plan that ended more than a year ago: %+v", r.Position, p)
				}
			}
		case hasLAC:
			lac++
		default:
			cpp++
		}
		if hasLAC && hasCPP {
			both++
		}
	}
	n := float64(len(recs))
	// Within 15%, or four standard deviations of a binomial count for a
	// share as small as the unborn plans'.
	near := func(what string, got int, want float64) {
		tol := max(0.15*want, 4*math.Sqrt(want*(1-want)/n))
		if f := float64(got) / n; math.Abs(f-want) > tol {
			t.Errorf("%s: %.4f of the records, want %.4f ± %.4f", what, f, want, tol)
		}
	}
	near("looked after", lac, 84.0/230)
	near("on a protection plan", cpp, 50.0/230)
	near("unborn", ucp, 1.0/230)
	near("ended in the last year", endedOnly, 95.0/230)
	if both == 0 || deletes == 0 {
		t.Errorf("%d records with both a CPP and a LAC, %d delete dates: want some of each", both, deletes)
	}
}

// WriteWorld writes what world.Parse reads back as the same world.
func TestWorldRoundTrip(t *testing.T) {
	_, w, _ := write(t, everyFailure(31))
	// Every section and optional key, not only what uploads need.
	w.Endpoints = []cpis.Endpoint{{ASID: "200000000101", ODS: "RKE", Name: `Whittington "PAS"`}}
	w.Users = []cpis.User{{ID: "200009876204", Name: cpis.Name{Prefix: "Mrs", Given: []string{"Paula", "Jane"}, Family: "Palmer"}, Enabled: false,
		RoleProfiles: []cpis.RoleProfile{{ID: "100077650987", JobRole: cpis.JobRole{Code: "R0680", Name: "Midwife"},
			Org: cpis.Org{ODS: "RKE", Name: "The Whittington: NHS Trust"}, Activities: []string{"B0107", "B0264"}}}}}
	w.Patients[0].DateOfDeath = cpis.Date(2026, 1, 2)
	w.Patients[0].Name.Prefix = "Ms"
	w.Records = []cpis.Record{{NHSNumber: w.Patients[0].NHSNumber, LA: cpis.LocalAuthority{ODS: w.LocalAuthorities[0].ODS}, LocalID: "L#1: x",
		Plans: []cpis.Plan{{Type: cpis.UCP, Start: cpis.Date(2026, 5, 1), End: cpis.Date(2027, 1, 10), Delete: cpis.Date(2027, 2, 1)}}}}
	var b bytes.Buffer
	if err := synth.WriteWorld(&b, w); err != nil {
		t.Fatal(err)
	}
	got, err := world.Parse(b.Bytes())
	if err != nil {
		t.Fatalf("world.Parse: %v\n%s", err, b.Bytes())
	}
	var again bytes.Buffer
	if err := synth.WriteWorld(&again, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Fatalf("the world read back differs:\n%s\n---\n%s", b.Bytes(), again.Bytes())
	}
	if len(got.Patients) != len(w.Patients) || got.Patients[0].DateOfDeath != w.Patients[0].DateOfDeath ||
		len(got.Users) != 1 || got.Users[0].Enabled || got.Records[0].Plans[0].Delete != w.Records[0].Plans[0].Delete {
		t.Fatal("the world read back lost data")
	}
	sens, sup := 0, 0
	for _, p := range got.Patients {
		if p.Sensitive {
			sens++
		}
		if p.SupersededBy != "" {
			sup++
		}
	}
	if sens == 0 || sup == 0 {
		t.Fatalf("sensitive %d, superseded %d: the flags did not survive", sens, sup)
	}
}

func TestOptionsRefused(t *testing.T) {
	for name, f := range map[string]func(*synth.Options){
		"no records":        func(o *synth.Options) { o.Records = 0 },
		"no LA":             func(o *synth.Options) { o.LA = "" },
		"LA code with dash": func(o *synth.Options) { o.LA = "V-1" },
		"no LA name":        func(o *synth.Options) { o.LAName = "" },
		"negative share":    func(o *synth.Options) { o.Unknown = -0.1 },
		"shares over 1":     func(o *synth.Options) { o.Unknown, o.Sensitive = 0.6, 0.5 },
		"too many records":  func(o *synth.Options) { o.Records = 10_000_000 },
	} {
		o := synth.DefaultOptions()
		f(&o)
		if _, _, err := synth.WriteUpload(&bytes.Buffer{}, o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
