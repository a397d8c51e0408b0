package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/store"
	"spinegw/world"
)

// WorldView reads back what a merge stored: the directory in key order,
// every local authority, and the patients and records of the first NHS
// numbers only, saying whether there are more.
func TestWorldView(t *testing.T) {
	db, _ := open(t)
	w, err := world.ReadFile(filepath.Join("..", "conformance", "world.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MergeWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	v, err := db.WorldView(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Endpoints) != len(w.Endpoints) || len(v.Users) != len(w.Users) || len(v.LocalAuthorities) != len(w.LocalAuthorities) {
		t.Fatalf("directory: %d endpoints, %d users, %d LAs", len(v.Endpoints), len(v.Users), len(v.LocalAuthorities))
	}
	for i := 1; i < len(v.Users); i++ {
		if v.Users[i-1].ID >= v.Users[i].ID {
			t.Errorf("users not in id order: %s then %s", v.Users[i-1].ID, v.Users[i].ID)
		}
	}
	if len(v.Patients) != len(w.Patients) || len(v.Records) != len(w.Records) {
		t.Fatalf("%d patients, %d records; want %d, %d", len(v.Patients), len(v.Records), len(w.Patients), len(w.Records))
	}
	if v.More {
		t.Errorf("More with every number read")
	}
	var midwife cpis.User
	for _, u := range v.Users {
		if u.ID == "200009876204" {
			midwife = u
		}
	}
	if len(midwife.RoleProfiles) != 1 || !midwife.RoleProfiles[0].Has("B0107") || midwife.RoleProfiles[0].JobRole.Code != "R0680" {
		t.Errorf("midwife as read: %+v", midwife)
	}
	for _, r := range v.Records {
		if r.NHSNumber == "9990001146" {
			if r.LA.Name != "London Borough of Islington" || len(r.Plans) != 1 || r.Plans[0].Type != cpis.UCP ||
				!r.Plans[0].End.Equal(time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("UCP record as read: %+v", r)
			}
		}
	}

	// A limit keeps to the first numbers, patients and records alike.
	v, err = db.WorldView(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Patients) != 2 || v.Patients[0].NHSNumber != "9990001006" || v.Patients[1].NHSNumber != "9990001073" {
		t.Errorf("limited patients: %+v", v.Patients)
	}
	if len(v.Records) != 2 || !v.More {
		t.Errorf("limited: %d records, More %v", len(v.Records), v.More)
	}
	// Exactly as many numbers as the limit: no more.
	if v, err = db.WorldView(ctx, len(w.Patients)); err != nil || v.More || len(v.Patients) != len(w.Patients) {
		t.Errorf("limit = numbers: More %v, %d patients, %v", v.More, len(v.Patients), err)
	}
}

// Counts counts what the store holds: records, their plans, accesses.
func TestCounts(t *testing.T) {
	db, _ := open(t)
	c, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c != (store.Counts{}) {
		t.Errorf("empty store: %+v", c)
	}
	w := cpis.World{
		Patients:         []cpis.Patient{{NHSNumber: "9990001006"}, {NHSNumber: "9990001073"}},
		LocalAuthorities: []cpis.LocalAuthority{{ODS: "V145"}, {ODS: "V150"}},
		Records: []cpis.Record{
			{NHSNumber: "9990001006", LA: cpis.LocalAuthority{ODS: "V145"}, Plans: []cpis.Plan{
				{Type: cpis.CPP, Start: cpis.Date(2026, 1, 1)}, {Type: cpis.LAC, Start: cpis.Date(2026, 2, 1)}}},
			{NHSNumber: "9990001006", LA: cpis.LocalAuthority{ODS: "V150"}, Plans: []cpis.Plan{{Type: cpis.LAC, Start: cpis.Date(2026, 1, 1)}}},
			{NHSNumber: "9990001073", LA: cpis.LocalAuthority{ODS: "V150"}, Plans: []cpis.Plan{{Type: cpis.CPP, Start: cpis.Date(2026, 1, 1)}}},
		},
	}
	if err := db.MergeWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordAccess(ctx, cpis.AccessEvent{ID: "A", NHSNumber: "9990001006", At: time.Now(),
		Accessor: cpis.Accessor{UserID: "u"}, LAs: []string{"V145"}}); err != nil {
		t.Fatal(err)
	}
	if c, err = db.Counts(ctx); err != nil {
		t.Fatal(err)
	}
	want := store.Counts{Patients: 2, LocalAuthorities: 2, Records: 3, Plans: 4, AccessEvents: 1}
	if c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
}
