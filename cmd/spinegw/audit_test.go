package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/store"
)

// Every admin action is audited: method, path, the status answered, the
// remote address, the time on the gateway's clock; the body is passed on
// untouched and never looked into; a report on one NHS number has it as
// the entry's subject.
func TestAuditAdminRecordsEveryAction(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "spinegw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var bodies []string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		if strings.HasPrefix(r.URL.Path, "/admin/reports/") {
			w.Write([]byte("{}")) // an implicit 200
			return
		}
		w.WriteHeader(http.StatusConflict)
	})
	srv := httptest.NewServer(auditAdmin(db, cpis.ClockFunc(func() time.Time { return now }), next))
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/admin/pds/supersede", "application/json",
		strings.NewReader(`{"old": "9990001006", "new": "9990004005"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(srv.URL + "/admin/reports/subject?nhs=9995260107&format=json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if len(bodies) != 2 || !strings.Contains(bodies[0], "9990001006") {
		t.Fatalf("the handler did not get the body whole: %q", bodies)
	}
	entries, err := db.AuditEntries(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d entries, want 2: %+v", len(entries), entries)
	}
	post, get := entries[0], entries[1]
	if post.Kind != cpis.AuditAdmin || post.Action != "POST /admin/pds/supersede" || post.Outcome != "409" ||
		!strings.HasPrefix(post.Remote, "127.0.0.1:") || !post.At.Equal(now) || post.NHSNumber != "" ||
		strings.Contains(string(post.Canonical()), "9990001006") {
		t.Errorf("POST entry %+v", post)
	}
	if get.Action != "GET /admin/reports/subject" || get.Outcome != "200" || get.NHSNumber != "9995260107" || get.Detail != "format=json" {
		t.Errorf("GET entry %+v", get)
	}
	if v, err := db.VerifyAudit(context.Background(), nil); err != nil || !v.Intact || v.Entries != 2 {
		t.Errorf("verify %+v %v", v, err)
	}
}
