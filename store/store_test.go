package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/store"
	"spinegw/world"
)

var ctx = context.Background()

// open opens a store in a fresh file, closed when the test ends.
func open(t testing.TB) (*store.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spinegw.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db, path
}

func sample(t testing.TB) cpis.World {
	t.Helper()
	w, err := world.ReadFile(filepath.Join("..", "world", "testdata", "sample.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// pragma reads a pragma through a connection of the test's own.
func pragma(t *testing.T, path, name string) string {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var v string
	if err := raw.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenIsWAL(t *testing.T) {
	_, path := open(t)
	if mode := pragma(t, path, "journal_mode"); mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spinegw.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MergeWorld(ctx, sample(t)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The last connection out checkpoints the WAL into the database.
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Errorf("the WAL outlives Close: %v", err)
	}
	version := pragma(t, path, "user_version")
	if version == "0" {
		t.Fatal("user_version is 0 after the migrations")
	}

	// Re-applying the first migration would fail: its CREATE TABLEs have no
	// IF NOT EXISTS.
	db, err = store.Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if _, err := db.Endpoint(ctx, "200000000101"); err != nil {
		t.Errorf("endpoint lost on reopen: %v", err)
	}
	if got := pragma(t, path, "user_version"); got != version {
		t.Errorf("user_version %s after reopen, was %s", got, version)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spinegw.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if db, err := store.Open(path); err == nil {
		db.Close()
		t.Fatal("opened a database of a newer schema")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("err = %v", err)
	}
}

// Two processes (here: two DBs) opening a new file at once apply the
// migrations once between them.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spinegw.db")
	errs := make(chan error, 4)
	dbs := make(chan *store.DB, 4)
	for i := 0; i < 4; i++ {
		go func() {
			db, err := store.Open(path)
			errs <- err
			dbs <- db
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
		if db := <-dbs; db != nil {
			defer db.Close()
		}
	}
}

// The path goes into a file: URI; characters with a meaning there are
// escaped.
func TestOpenOddPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd ?name#1%20&x=y.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MergeWorld(ctx, sample(t)); err != nil {
		t.Error(err)
	}
	if err := db.Close(); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path given: %v", err)
	}
}

func TestMergeWorldRoundTrip(t *testing.T) {
	db, _ := open(t)
	w := sample(t)
	if err := db.MergeWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	for _, want := range w.Endpoints {
		got, err := db.Endpoint(ctx, want.ASID)
		if err != nil || got != want {
			t.Errorf("Endpoint(%s) = %+v, %v; want %+v", want.ASID, got, err, want)
		}
	}
	for _, want := range w.Users {
		got, err := db.User(ctx, want.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("User(%s) = %+v, %v\nwant %+v", want.ID, got, err, want)
		}
	}
	for _, want := range w.Patients {
		got, err := db.Patient(ctx, want.NHSNumber)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Patient(%s) = %+v, %v\nwant %+v", want.NHSNumber, got, err, want)
		}
	}
	las := map[string]cpis.LocalAuthority{}
	for _, want := range w.LocalAuthorities {
		las[want.ODS] = want
		got, err := db.LocalAuthority(ctx, want.ODS)
		if err != nil || got != want {
			t.Errorf("LocalAuthority(%s) = %+v, %v; want %+v", want.ODS, got, err, want)
		}
	}

	// Records come back per number, in LA order, with the LA's details and
	// plans in type order (CPP, LAC, UCP), then start.
	want := map[cpis.NHSNumber][]cpis.Record{}
	for _, r := range w.Records {
		r.LA = las[r.LA.ODS]
		r.Plans = append([]cpis.Plan(nil), r.Plans...)
		sort.SliceStable(r.Plans, func(i, j int) bool {
			if r.Plans[i].Type != r.Plans[j].Type {
				return typeRank(r.Plans[i].Type) < typeRank(r.Plans[j].Type)
			}
			return r.Plans[i].Start.Before(r.Plans[j].Start)
		})
		want[r.NHSNumber] = append(want[r.NHSNumber], r)
	}
	for nhs, records := range want {
		sort.SliceStable(records, func(i, j int) bool { return records[i].LA.ODS < records[j].LA.ODS })
		s, err := db.Subject(ctx, nhs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s.Records, records) {
			t.Errorf("Subject(%s).Records =\n %+v\nwant\n %+v", nhs, s.Records, records)
		}
		if !s.HasPatient || s.Patient.NHSNumber != nhs {
			t.Errorf("Subject(%s) patient = %v %+v", nhs, s.HasPatient, s.Patient)
		}
	}
	// The sample's child with an LAC then a CPP shows the CPP first.
	s, _ := db.Subject(ctx, "9995260107")
	if got := s.Records[0].Plans[0].Type; got != cpis.CPP {
		t.Errorf("first plan is %s, want CPP", got)
	}
}

func typeRank(t cpis.PlanType) int {
	return map[cpis.PlanType]int{cpis.CPP: 0, cpis.LAC: 1, cpis.UCP: 2}[t]
}

func TestMergeIsIdempotent(t *testing.T) {
	db, _ := open(t)
	w := sample(t)
	for i := 0; i < 2; i++ {
		if err := db.MergeWorld(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	s, err := db.Subject(ctx, "9995260107")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Records) != 2 || len(s.Records[0].Plans) != 2 || len(s.Records[1].Plans) != 1 {
		t.Errorf("after merging twice: %+v", s.Records)
	}
}

// CP-IS020, CP-IS034: a later world replaces what one LA holds for the
// number and leaves the other LA's record alone.
func TestMergeReplacesOneLAsRecord(t *testing.T) {
	db, _ := open(t)
	if err := db.MergeWorld(ctx, sample(t)); err != nil {
		t.Fatal(err)
	}
	before, _ := db.Subject(ctx, "9995260107")
	// V145 is not in this world: it is already in the store.
	later := cpis.World{Records: []cpis.Record{{
		NHSNumber: "9995260107",
		LA:        cpis.LocalAuthority{ODS: "V145"},
		LocalID:   "LA-1002b",
		FileID:    "FILE-7",
		Plans:     []cpis.Plan{{Type: cpis.LAC, Start: cpis.Date(2025, time.March, 3), End: cpis.Date(2026, time.March, 3)}},
	}}}
	if err := db.MergeWorld(ctx, later); err != nil {
		t.Fatal(err)
	}
	after, err := db.Subject(ctx, "9995260107")
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Records) != 2 {
		t.Fatalf("records = %+v", after.Records)
	}
	islington := after.Records[0]
	if islington.LA.ODS != "V145" || islington.LocalID != "LA-1002b" || islington.FileID != "FILE-7" ||
		!reflect.DeepEqual(islington.Plans, later.Records[0].Plans) {
		t.Errorf("Islington's record = %+v, want the later one", islington)
	}
	if islington.LA.Name != "London Borough of Islington" {
		t.Errorf("LA details = %+v", islington.LA)
	}
	if !reflect.DeepEqual(after.Records[1], before.Records[1]) {
		t.Errorf("Camden's record changed:\n %+v\nwas\n %+v", after.Records[1], before.Records[1])
	}
}

func TestMergeRefusesUnknownLAWholly(t *testing.T) {
	db, _ := open(t)
	w := cpis.World{
		Endpoints: []cpis.Endpoint{{ASID: "200000000999", ODS: "X1", Name: "Never merged"}},
		Records: []cpis.Record{{
			NHSNumber: "9995260182",
			LA:        cpis.LocalAuthority{ODS: "V999"},
			Plans:     []cpis.Plan{{Type: cpis.CPP, Start: cpis.Date(2026, time.January, 1)}},
		}},
	}
	err := db.MergeWorld(ctx, w)
	if cpis.KindOf(err) != cpis.KindInvalid || !strings.Contains(cpis.MessageOf(err), "V999") {
		t.Fatalf("err = %v, want invalid naming V999", err)
	}
	if _, err := db.Endpoint(ctx, "200000000999"); cpis.KindOf(err) != cpis.KindNotFound {
		t.Errorf("a refused world was partly merged: Endpoint err = %v", err)
	}
}

func TestMergeRefusesInvalid(t *testing.T) {
	db, _ := open(t)
	for _, tc := range []struct {
		why string
		w   cpis.World
	}{
		{"a record NHS number failing its check digit", cpis.World{Records: []cpis.Record{{NHSNumber: "9995260183", LA: cpis.LocalAuthority{ODS: "V145"}}}}},
		{"a patient NHS number failing its check digit", cpis.World{Patients: []cpis.Patient{{NHSNumber: "123"}}}},
		{"a plan type that is not CPP, LAC or UCP", cpis.World{Records: []cpis.Record{{NHSNumber: "9995260182", LA: cpis.LocalAuthority{ODS: "V145"},
			Plans: []cpis.Plan{{Type: "CIN", Start: cpis.Date(2026, 1, 1)}}}}}},
		{"an endpoint without ASID", cpis.World{Endpoints: []cpis.Endpoint{{ODS: "RKE"}}}},
	} {
		if err := db.MergeWorld(ctx, tc.w); cpis.KindOf(err) != cpis.KindInvalid {
			t.Errorf("%s: err = %v, want invalid", tc.why, err)
		} else if strings.Contains(err.Error(), "999526018") {
			t.Errorf("%s: NHS number in the message %q", tc.why, err)
		}
	}
}

func TestMergeReplacesRoleProfiles(t *testing.T) {
	db, _ := open(t)
	w := sample(t)
	if err := db.MergeWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	sam := w.Users[1]
	sam.Enabled = false
	sam.RoleProfiles = []cpis.RoleProfile{{
		ID: "100077651002", JobRole: cpis.JobRole{Code: "R0260", Name: "Specialty Registrar"},
		Org: cpis.Org{ODS: "RKE", Name: "Whittington"}, Activities: []string{"B0107", "B0264"},
	}}
	if err := db.MergeWorld(ctx, cpis.World{Users: []cpis.User{sam}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.User(ctx, sam.ID)
	if err != nil || !reflect.DeepEqual(got, sam) {
		t.Errorf("User = %+v, %v\nwant %+v", got, err, sam)
	}
	// A role profile named again under another user moves to that user.
	paula := w.Users[0]
	paula.RoleProfiles = append(paula.RoleProfiles, sam.RoleProfiles[0])
	if err := db.MergeWorld(ctx, cpis.World{Users: []cpis.User{paula}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.User(ctx, sam.ID); len(got.RoleProfiles) != 0 {
		t.Errorf("Sam still holds %+v", got.RoleProfiles)
	}
	if got, _ := db.User(ctx, paula.ID); !reflect.DeepEqual(got, paula) {
		t.Errorf("Paula = %+v", got)
	}
}

func TestNotFound(t *testing.T) {
	db, _ := open(t)
	if err := db.MergeWorld(ctx, sample(t)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		err  error
	}{
		{"endpoint", second(db.Endpoint(ctx, "200000000999"))},
		{"user", second(db.User(ctx, "999999999999"))},
		{"local authority", second(db.LocalAuthority(ctx, "V999"))},
		{"patient", second(db.Patient(ctx, "9995260190"))},
	} {
		if k := cpis.KindOf(tc.err); k != cpis.KindNotFound {
			t.Errorf("unknown %s: kind %v (%v), want not-found", tc.what, k, tc.err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// An NHS number the store knows nothing of is an empty subject, not an
// error: the core decides the negative trace (CP-IS015).
func TestSubjectUnknown(t *testing.T) {
	db, _ := open(t)
	s, err := db.Subject(ctx, "9995260190")
	if err != nil || s.HasPatient || s.Records != nil || s.History != nil {
		t.Errorf("Subject = %+v, %v", s, err)
	}
}

// A user without role profiles reads back with none.
func TestUserWithoutProfiles(t *testing.T) {
	db, _ := open(t)
	u := cpis.User{ID: "200009876999", Name: cpis.Name{Family: "Solo"}, Enabled: true}
	if err := db.MergeWorld(ctx, cpis.World{Users: []cpis.User{u}}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.User(ctx, u.ID); err != nil || !reflect.DeepEqual(got, u) {
		t.Errorf("User = %+v, %v; want %+v", got, err, u)
	}
}
