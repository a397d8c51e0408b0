package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spinegw/clock"
	"spinegw/cpis"
	"spinegw/store"
)

func adminFixture(t *testing.T) (*httptest.Server, *clock.Adjustable, *store.DB) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "spinegw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MergeWorld(context.Background(), cpis.World{
		LocalAuthorities: []cpis.LocalAuthority{{ODS: "V145", Name: "Islington", Emergency: "tel:02075277777"}},
		Patients: []cpis.Patient{{NHSNumber: "9990001006", BirthDate: cpis.Date(2015, 3, 14)},
			{NHSNumber: "9990004013", BirthDate: cpis.Date(2016, 1, 1)}},
		Records: []cpis.Record{{NHSNumber: "9990001006", LA: cpis.LocalAuthority{ODS: "V145"},
			Plans: []cpis.Plan{{Type: cpis.CPP, Start: cpis.Date(2026, 1, 10)}}}},
	}); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	c := clock.New(cpis.ClockFunc(func() time.Time { return base }))
	cfg := defaults
	cfg.MailboxDir = filepath.Join(dir, "mailbox")
	runner, err := newRunner(cfg, db, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(adminHandler(c, runner, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv, c, db
}

func postClock(t *testing.T, srv *httptest.Server, body string) (int, adminClockReply) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/admin/clock", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r adminClockReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, r
}

// Moving the clock forward runs every daily cycle that falls due, in order,
// before answering.
func TestAdminClockRunsTheDaysDue(t *testing.T) {
	srv, c, db := adminFixture(t)
	// A store that never ran a cycle starts with the day due (a serving
	// gateway's scheduler runs it at start).
	code, r := postClock(t, srv, `{"advance":"0s"}`)
	if code != 200 || len(r.DaysRun) != 1 || r.DaysRun[0].Day != "2026-11-22" {
		t.Fatalf("advance 0s: %d %+v", code, r)
	}
	code, r = postClock(t, srv, `{"advance":"3d"}`)
	if code != 200 || r.Now != "2026-11-25T10:00:00Z" || len(r.DaysRun) != 3 {
		t.Fatalf("advance: %d %+v", code, r)
	}
	for i, want := range []string{"2026-11-23", "2026-11-24", "2026-11-25"} {
		if r.DaysRun[i].Day != want || r.DaysRun[i].Notifications != 1 {
			t.Errorf("day %d: %+v", i, r.DaysRun[i])
		}
	}
	if !r.DaysRun[2].Purged || r.DaysRun[1].Purged {
		t.Errorf("only the last day is purged when catching up: %+v", r.DaysRun)
	}
	code, r = postClock(t, srv, `{"to":"2026-11-27T02:00:00Z"}`)
	if code != 200 || len(r.DaysRun) != 2 || r.DaysRun[1].Day != "2026-11-27" {
		t.Errorf("to: %d %+v", code, r)
	}
	if !c.Now().Equal(time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("clock %v", c.Now())
	}
	msgs, _ := db.Outbox(context.Background(), "V145")
	if len(msgs) != 6 {
		t.Errorf("%d notifications, want one per day", len(msgs))
	}
	for _, m := range msgs {
		if m.Delivered.IsZero() {
			t.Errorf("message %d not delivered", m.ID)
		}
	}
}

func TestAdminClockRefusals(t *testing.T) {
	srv, c, _ := adminFixture(t)
	for _, body := range []string{
		`{"advance":"-1h"}`,
		`{"to":"2026-01-01T00:00:00Z"}`,
		`{"advance":"1h","to":"2027-01-01T00:00:00Z"}`,
		`{}`,
		`{"advance":"soon"}`,
		`{"to":"tomorrow"}`,
		`{"forward":"1h"}`,
		`not json`,
	} {
		if code, r := postClock(t, srv, body); code != http.StatusBadRequest || r.Error == "" {
			t.Errorf("%s: %d %+v", body, code, r)
		}
	}
	if c.Offset() != 0 {
		t.Errorf("the clock moved: %v", c.Offset())
	}
	resp, err := http.Get(srv.URL + "/admin/clock")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r adminClockReply
	json.NewDecoder(resp.Body).Decode(&r)
	if resp.StatusCode != 200 || r.Now != "2026-11-22T10:00:00Z" {
		t.Errorf("GET: %d %+v", resp.StatusCode, r)
	}
}

func postPDS(t *testing.T, srv *httptest.Server, path, body string) (int, adminPDSReply) {
	t.Helper()
	resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r adminPDSReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, r
}

// CP-IS012, CP-IS023: a PDS change made through the admin listener notifies
// each LA holding records under the old number, once.
func TestAdminPDSChangesNotify(t *testing.T) {
	srv, _, db := adminFixture(t)
	code, r := postPDS(t, srv, "/admin/pds/supersede", `{"old":"9990001006","new":"9990004005"}`)
	if code != 200 || r.Notifications != 1 {
		t.Fatalf("supersede: %d %+v", code, r)
	}
	// The same change again owes nothing more.
	if code, r = postPDS(t, srv, "/admin/pds/supersede", `{"old":"9990001006","new":"9990004005"}`); code != 200 || r.Notifications != 0 {
		t.Errorf("supersede again: %d %+v", code, r)
	}
	msgs, err := db.Outbox(context.Background(), "V145")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Document), "9990004005") || msgs[0].Delivered.IsZero() {
		t.Fatalf("outbox: %+v", msgs)
	}
	// A number no LA holds owes no notification.
	if code, r = postPDS(t, srv, "/admin/pds/inactivate", `{"old":"9990004013"}`); code != 200 || r.Notifications != 0 {
		t.Errorf("inactivate: %d %+v", code, r)
	}
}

func TestAdminPDSRefusals(t *testing.T) {
	srv, _, db := adminFixture(t)
	for _, c := range []struct{ path, body string }{
		{"/admin/pds/supersede", `{"old":"9990001006"}`},
		{"/admin/pds/supersede", `{"old":"9990001007","new":"9990004005"}`},
		{"/admin/pds/supersede", `{"old":"9990001006","new":"12345"}`},
		{"/admin/pds/inactivate", `{"old":"9990001006","new":"9990004005"}`},
		{"/admin/pds/inactivate", `{"nhs":"9990001006"}`},
		{"/admin/pds/inactivate", `not json`},
	} {
		if code, r := postPDS(t, srv, c.path, c.body); code != http.StatusBadRequest || r.Error == "" {
			t.Errorf("%s %s: %d %+v", c.path, c.body, code, r)
		}
	}
	if msgs, _ := db.Outbox(context.Background(), "V145"); len(msgs) != 0 {
		t.Errorf("a refused change wrote %d notifications", len(msgs))
	}
}

// POST /admin/daily runs what is due at the clock's now, once, without
// moving it.
func TestAdminDailyRunsWhatIsDue(t *testing.T) {
	srv, c, db := adminFixture(t)
	post := func() adminClockReply {
		t.Helper()
		resp, err := http.Post(srv.URL+"/admin/daily", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r adminClockReply
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
		return r
	}
	if r := post(); len(r.DaysRun) != 1 || r.DaysRun[0].Day != "2026-11-22" || r.DaysRun[0].Notifications != 1 || r.Now != "2026-11-22T10:00:00Z" {
		t.Errorf("first: %+v", r)
	}
	if r := post(); len(r.DaysRun) != 0 {
		t.Errorf("second: %+v", r)
	}
	if c.Offset() != 0 {
		t.Errorf("the clock moved: %v", c.Offset())
	}
	if msgs, _ := db.Outbox(context.Background(), "V145"); len(msgs) != 1 || msgs[0].Delivered.IsZero() {
		t.Errorf("outbox: %+v", msgs)
	}
}
