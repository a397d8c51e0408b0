package store_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/store"
)

// A database of schema version 1 (access_event_las, a plans table) with
// data in it comes through the later migrations whole: LA lists moved onto
// their events, plans onto their records in display order, and the history
// summary built from the events (CP-IS047, CP-IS048).
func TestMigrateFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	init1, err := os.ReadFile(filepath.Join("migrations", "0001_init.sql"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	at := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }
	for _, stmt := range []string{
		string(init1),
		`PRAGMA user_version = 1`,
		`INSERT INTO endpoints VALUES ('200000000101', 'RKE', 'Whittington PAS')`,
		`INSERT INTO users VALUES ('200009876204', 'Mrs', '["Paula"]', 'Palmer', 1)`,
		`INSERT INTO role_profiles VALUES ('100077650987', '200009876204', 0, 'R0680', 'Midwife', 'RKE', 'Whittington')`,
		`INSERT INTO role_profile_activities VALUES ('100077650987', 0, 'B0107')`,
		`INSERT INTO local_authorities VALUES ('V145', 'Islington', 'tel:1', 'tel:2', 1), ('V230', 'Camden', 'tel:3', '', 0)`,
		`INSERT INTO patients VALUES ('9995260107', '', '["Mia","Rose"]', 'Doyle', '2015-03-14', 'female', '', 0, NULL)`,
		`INSERT INTO records VALUES (1, '9995260107', 'V230', 'CAM-77', 'F-9'), (2, '9995260107', 'V145', 'LA-1002', '')`,
		// Given in an order other than the display order: LAC first.
		`INSERT INTO plans VALUES (1, 2, 0, 'LAC', '2024-02-01', NULL, NULL), (2, 2, 1, 'CPP', '2023-06-12', '2024-01-31', NULL),
		 (3, 1, 0, 'CPP', '2025-09-01', NULL, '2026-12-31')`,
	} {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatalf("%.60s: %v", stmt, err)
		}
	}
	insertEvent := `INSERT INTO access_events (id, message_id, nhs_number, at, accessor_key, user_id, role_profile_id,
    name_prefix, name_given, name_family, job_role_code, job_role_name, org_ods, org_name, system, asid, shown)
VALUES (?, ?, ?, ?, ?, ?, ?, 'Mrs', ?, 'Palmer', 'R0680', 'Midwife', 'RKE', 'Whittington', 0, '200000000101', ?)`
	for _, e := range []struct {
		id       int
		msg, nhs string
		at       int64
		user     string
		given    string
		shown    int
		las      []string
	}{
		{1, "M1", "9995260107", at(0), "U1", `["Paula"]`, 1, []string{"V145", "V230"}},
		{2, "M2", "9995260107", at(1), "U1", `["Paula"]`, 0, []string{"V145"}},
		{3, "M3", "9995260107", at(2), "U2", `["Zo\u00eb","O\"Neil"]`, 1, nil},
		{4, "M4", "9995260115", at(3), "U1", `["Paula"]`, 1, []string{"V230"}},
	} {
		if _, err := raw.Exec(insertEvent, e.id, e.msg, e.nhs, e.at, "user:"+e.user, e.user, "P"+e.user, e.given, e.shown); err != nil {
			t.Fatal(err)
		}
		for i, la := range e.las {
			if _, err := raw.Exec(`INSERT INTO access_event_las VALUES (?, ?, ?)`, e.id, i, la); err != nil {
				t.Fatal(err)
			}
		}
	}
	raw.Close()

	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	events, err := db.AccessEvents(ctx, "9995260107")
	if err != nil {
		t.Fatal(err)
	}
	var las [][]string
	for _, e := range events {
		las = append(las, e.LAs)
	}
	if want := [][]string{{"V145", "V230"}, {"V145"}, nil}; !reflect.DeepEqual(las, want) {
		t.Errorf("LAs after migration %q, want %q", las, want)
	}

	s, err := db.Subject(ctx, "9995260107")
	if err != nil {
		t.Fatal(err)
	}
	var history []string
	for _, e := range s.History {
		history = append(history, e.ID)
	}
	if want := []string{"M3", "M1"}; !reflect.DeepEqual(history, want) {
		t.Fatalf("history after migration %q, want %q", history, want)
	}
	if got := s.History[0].Accessor.Name.Given; !reflect.DeepEqual(got, []string{"Zoë", `O"Neil`}) {
		t.Errorf("names through the backfill: %q", got)
	}
	if want := events[0]; !reflect.DeepEqual(s.History[1], want) {
		t.Errorf("history event\n %+v\nwant the recorded one\n %+v", s.History[1], want)
	}

	d := cpis.Date
	wantRecords := []cpis.Record{
		{NHSNumber: "9995260107", LA: cpis.LocalAuthority{ODS: "V145", Name: "Islington", Emergency: "tel:1", Office: "tel:2", UploadsEnabled: true},
			LocalID: "LA-1002", Plans: []cpis.Plan{
				{Type: cpis.CPP, Start: d(2023, 6, 12), End: d(2024, 1, 31)},
				{Type: cpis.LAC, Start: d(2024, 2, 1)}}},
		{NHSNumber: "9995260107", LA: cpis.LocalAuthority{ODS: "V230", Name: "Camden", Emergency: "tel:3"},
			LocalID: "CAM-77", FileID: "F-9", Plans: []cpis.Plan{{Type: cpis.CPP, Start: d(2025, 9, 1), Delete: d(2026, 12, 31)}}},
	}
	if !reflect.DeepEqual(s.Records, wantRecords) {
		t.Errorf("records after migration\n %+v\nwant\n %+v", s.Records, wantRecords)
	}
	if u, err := db.User(ctx, "200009876204"); err != nil || len(u.RoleProfiles) != 1 || u.RoleProfiles[0].Activities[0] != "B0107" {
		t.Errorf("user after migration: %+v, %v", u, err)
	}

	// The writer extends a summary SQLite wrote.
	ev := event("9995260107", person("U9"), t0.Add(3*time.Minute))
	if _, err := db.RecordAccess(ctx, ev); err != nil {
		t.Fatal(err)
	}
	s, err = db.Subject(ctx, "9995260107")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.History) != 3 || s.History[0].ID != ev.ID || s.History[1].ID != "M3" {
		t.Errorf("history after a new access: %+v", s.History)
	}
}
