package soap_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/hl7/schema"
	"spinegw/soap"
	"spinegw/store"
	"spinegw/world"
)

// The observer hears of each exchange once, with the transmission log's
// facts (CP-IS061) and nothing of the content: no NHS number anywhere.
func TestObserveEachExchange(t *testing.T) {
	w, err := world.ReadFile("../conformance/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.MergeWorld(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	v, err := hl7.NewValidator(schema.FS, schema.Entry)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var seen []soap.Exchange
	srv := soap.NewServer(soap.Config{
		Service:   &cpis.Service{Store: db, Clock: cpis.ClockFunc(func() time.Time { return now })},
		Validator: v,
		ASID:      "990000000001",
		Observe: func(e soap.Exchange) {
			mu.Lock()
			seen = append(seen, e)
			mu.Unlock()
		},
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	before := time.Now()
	if code, _ := post(t, ts.URL, validQuery(t)); code != 200 {
		t.Fatalf("HTTP %d", code)
	}
	negative := strings.Replace(string(validQuery(t)), "9990001006", "9990001847", 1)
	if code, _ := post(t, ts.URL, []byte(negative)); code != 200 {
		t.Fatalf("HTTP %d", code)
	}
	if code, _ := post(t, ts.URL, []byte("<not-xml")); code != 500 {
		t.Fatalf("HTTP %d", code)
	}
	mu.Lock()
	got := append([]soap.Exchange(nil), seen...)
	mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("%d exchanges observed, want 3: %+v", len(got), got)
	}
	want := []struct{ interaction, sender, outcome string }{
		{"QUPC_IN000006GB01", "200000000101", "positive"},
		{"QUPC_IN000006GB01", "200000000101", "not-found"},
		{"", "", "fault 201"},
	}
	for i, w := range want {
		e := got[i]
		if e.Interaction != w.interaction || e.Sender != w.sender || e.Outcome != w.outcome {
			t.Errorf("exchange %d: %+v, want %+v", i, e, w)
		}
		if e.At.Before(before) || e.Latency <= 0 {
			t.Errorf("exchange %d: time %v latency %v", i, e.At, e.Latency)
		}
		for _, nhs := range []string{"9990001006", "9990001847"} {
			if strings.Contains(strings.Join([]string{e.Interaction, e.Sender, e.Outcome}, " "), nhs) {
				t.Errorf("exchange %d carries an NHS number", i)
			}
		}
	}

	// Observe replaces the observer of a server already built.
	var later atomic.Int32
	srv.Observe(func(soap.Exchange) { later.Add(1) })
	post(t, ts.URL, validQuery(t))
	mu.Lock()
	n := len(seen)
	mu.Unlock()
	if later.Load() != 1 || n != 3 {
		t.Errorf("after Observe: new observer %d calls, old observer %d exchanges", later.Load(), n)
	}
}

// The HTTP mailbox tells its observer of each exchange: the operation, the
// calling ASID, the HTTP status and the latency; not the LA or message id.
func TestObserveMailbox(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.MergeWorld(context.Background(), cpis.World{Endpoints: []cpis.Endpoint{{ASID: "200000000145", ODS: "V145", Name: "Islington"}}}); err != nil {
		t.Fatal(err)
	}
	h := soap.NewMailbox(soap.MailboxConfig{Store: db})
	obs, ok := h.(interface{ Observe(func(soap.Exchange)) })
	if !ok {
		t.Fatal("the mailbox handler has no Observe")
	}
	var mu sync.Mutex
	var seen []soap.Exchange
	obs.Observe(func(e soap.Exchange) {
		mu.Lock()
		seen = append(seen, e)
		mu.Unlock()
	})
	ts := httptest.NewServer(h)
	defer ts.Close()
	for _, c := range []struct{ method, path, asid string }{
		{http.MethodGet, "/mailbox/V145/inbox", "200000000145"},
		{http.MethodGet, "/mailbox/V145/inbox", "200000000999"},
		{http.MethodGet, "/mailbox/V145/inbox/D00DFEED-0000-4000-8000-000000000001", "200000000145"},
		{http.MethodPut, "/mailbox/V145/inbox/D00DFEED-0000-4000-8000-000000000001/status/acknowledged", "200000000145"},
	} {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, nil)
		req.Header.Set(soap.HeaderASID, c.asid)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	want := []struct{ interaction, sender, outcome string }{
		{"Mailbox list", "200000000145", "HTTP 200"},
		{"Mailbox list", "200000000999", "HTTP 403"},
		{"Mailbox download", "200000000145", "HTTP 404"},
		{"Mailbox acknowledge", "200000000145", "HTTP 404"},
	}
	if len(seen) != len(want) {
		t.Fatalf("%d exchanges observed: %+v", len(seen), seen)
	}
	for i, w := range want {
		e := seen[i]
		if e.Interaction != w.interaction || e.Sender != w.sender || e.Outcome != w.outcome || e.Latency <= 0 || e.At.IsZero() {
			t.Errorf("exchange %d: %+v, want %+v", i, e, w)
		}
	}
}
