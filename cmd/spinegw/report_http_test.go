package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/store"
	"spinegw/world"
)

// GET /admin/reports/NAME serves the reports of `spinegw report` with the
// same parameters, JSON by default.
func TestReportsHandler(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w, err := world.ReadFile("../../store/testdata/report/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MergeWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	// One positive query, by Dr Khan on 5 October, of P1.
	at := time.Date(2026, 10, 5, 10, 0, 0, 0, time.UTC)
	svc := &cpis.Service{Store: db, Clock: cpis.ClockFunc(func() time.Time { return at })}
	ep, err := svc.CheckSender(ctx, "200000000101")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Answer(ctx, cpis.Query{MessageID: "Q1", Sender: ep, NHSNumber: "9990001006",
		Author: cpis.Author{UserID: "200009876205", RoleProfileIDs: []string{"100077650988"}}}); err != nil {
		t.Fatal(err)
	}
	now := cpis.ClockFunc(func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) })
	srv := httptest.NewServer(reportsHandler(db, now))
	t.Cleanup(srv.Close)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := get("/admin/reports/statistics?from=2026-10-01&to=2026-10-31")
	var doc struct {
		Report string
		Meta   map[string]string
		Rows   []map[string]any
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" ||
		resp.Header.Get("Cache-Control") != "no-store" || json.Unmarshal([]byte(body), &doc) != nil {
		t.Fatalf("statistics: %d %v: %s", resp.StatusCode, resp.Header, body)
	}
	fig := map[string]any{}
	for _, r := range doc.Rows {
		if r["la"] == "" {
			fig[r["figure"].(string)] = r["value"]
		}
	}
	// The query of 5 October is the one positive answer; RKE the one
	// organisation. P1, P4's CPPs are current (P5's was deleted).
	for id, want := range map[string]any{"period_queries_answered_positive": 1.0, "period_query_organisations": 1.0,
		"current_cpps": 2.0, "period_queries_received": nil} {
		if v, ok := fig[id]; !ok || v != want {
			t.Errorf("statistics %s = %v, want %v", id, v, want)
		}
	}

	// The subject report of P1 as csv: its PDS entry, its CPP, the access.
	resp, body = get("/admin/reports/subject?nhs=9990001006&format=csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || err != nil {
		t.Fatalf("subject: %d %v %v: %s", resp.StatusCode, resp.Header, err, body)
	}
	var sections []string
	for _, r := range rows[1:] {
		sections = append(sections, r[0])
	}
	if strings.Join(sections, " ") != "patient record access" {
		t.Errorf("subject sections %q, want patient record access:\n%s", sections, body)
	}

	// The access report, as a table, names who looked, from where, when.
	resp, body = get("/admin/reports/access?format=table&la=v145")
	if resp.StatusCode != 200 || !strings.Contains(body, "2026-10-05T10:00:00Z  view") || !strings.Contains(body, "Dr Ahmed Khan") {
		t.Errorf("access: %d:\n%s", resp.StatusCode, body)
	}

	for _, c := range []struct {
		path   string
		status int
	}{
		{"/admin/reports/subject", 400},                    // no NHS number
		{"/admin/reports/statistics?from=2026-13-01", 400}, // not a date
		{"/admin/reports/access?format=pdf", 400},
		{"/admin/reports/everything", 404},
	} {
		if resp, body := get(c.path); resp.StatusCode != c.status {
			t.Errorf("GET %s: %d, want %d: %s", c.path, resp.StatusCode, c.status, body)
		}
	}
	resp, err = http.Post(srv.URL+"/admin/reports/statistics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}
