package soap_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/soap"
	"spinegw/store"
)

// mailboxFixture: V145's endpoint 200000000145, V230's 200000000230, a
// hospital's 200000000101; one notification waiting for each LA.
func mailboxFixture(t *testing.T) (*httptest.Server, map[string]string) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "spinegw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := db.MergeWorld(ctx, cpis.World{Endpoints: []cpis.Endpoint{
		{ASID: "200000000145", ODS: "V145", Name: "Islington children's services"},
		{ASID: "200000000230", ODS: "V230", Name: "Camden children's services"},
		{ASID: "200000000101", ODS: "RKE", Name: "Whittington Hospital PAS"},
	}}); err != nil {
		t.Fatal(err)
	}
	to := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	ids := map[string]string{"V145": "D00DFEED-2222-4333-8444-000000000145", "V230": "D00DFEED-2222-4333-8444-000000000230"}
	var msgs []store.Message
	for la, id := range ids {
		msgs = append(msgs, store.Message{Kind: store.KindAccess, LA: la, Key: "2026-11-22", MessageID: id,
			Document: []byte("<CP-ISAccessToServiceNotification for=\"" + la + "\"/>"), Created: to})
	}
	if _, err := db.CommitDay(ctx, store.DailyRun{Day: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), From: to.Add(-24 * time.Hour), To: to, NotifiedAt: to}, msgs); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(soap.NewMailbox(soap.MailboxConfig{Store: db, Clock: cpis.ClockFunc(func() time.Time { return to })}))
	t.Cleanup(srv.Close)
	return srv, ids
}

func call(t *testing.T, srv *httptest.Server, method, path, asid string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if asid != "" {
		req.Header.Set(soap.HeaderASID, asid)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// An LA lists its inbox, downloads a message, acknowledges it, and then it
// has left the inbox (MESH inbox semantics).
func TestMailboxListDownloadAcknowledge(t *testing.T) {
	srv, ids := mailboxFixture(t)
	code, _, body := call(t, srv, "GET", "/mailbox/V145/inbox", "200000000145")
	var list struct{ Messages []string }
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Messages) != 1 || list.Messages[0] != ids["V145"] {
		t.Fatalf("list: %d %s", code, body)
	}
	code, h, body := call(t, srv, "GET", "/mailbox/V145/inbox/"+ids["V145"], "200000000145")
	if code != 200 || h.Get("Content-Type") != "text/xml; charset=UTF-8" || body != `<CP-ISAccessToServiceNotification for="V145"/>` ||
		h.Get("Mex-MessageID") != ids["V145"] || h.Get("Mex-WorkflowID") != "CPIS_ACCESS_TO_SERVICE_NOTIFICATION" {
		t.Fatalf("download: %d %v %s", code, h, body)
	}
	if code, _, body := call(t, srv, "PUT", "/mailbox/V145/inbox/"+ids["V145"]+"/status/acknowledged", "200000000145"); code != 200 {
		t.Fatalf("acknowledge: %d %s", code, body)
	}
	if code, _, body := call(t, srv, "PUT", "/mailbox/V145/inbox/"+ids["V145"]+"/status/acknowledged", "200000000145"); code != 200 {
		t.Errorf("acknowledge again: %d %s", code, body)
	}
	if code, _, body := call(t, srv, "GET", "/mailbox/V145/inbox", "200000000145"); code != 200 || body != "{\"messages\":[]}\n" {
		t.Errorf("list after the acknowledgement: %d %s", code, body)
	}
	if code, _, _ := call(t, srv, "GET", "/mailbox/V145/inbox/"+ids["V145"], "200000000145"); code != http.StatusGone {
		t.Errorf("download after the acknowledgement: %d, want 410", code)
	}
	// V230's inbox is untouched.
	if code, _, body := call(t, srv, "GET", "/mailbox/V230/inbox", "200000000230"); code != 200 || body != `{"messages":["`+ids["V230"]+`"]}`+"\n" {
		t.Errorf("V230's list: %d %s", code, body)
	}
}

// Only the LA's own endpoint may read its inbox.
func TestMailboxOnlyTheLAsEndpoint(t *testing.T) {
	srv, ids := mailboxFixture(t)
	for _, c := range []struct {
		name, method, path, asid string
		want                     int
	}{
		{"no X-ASID", "GET", "/mailbox/V145/inbox", "", 403},
		{"an unknown ASID", "GET", "/mailbox/V145/inbox", "999999999999", 403},
		{"a hospital's endpoint", "GET", "/mailbox/V145/inbox", "200000000101", 403},
		{"another LA's endpoint lists", "GET", "/mailbox/V145/inbox", "200000000230", 403},
		{"another LA's endpoint downloads", "GET", "/mailbox/V145/inbox/" + ids["V145"], "200000000230", 403},
		{"another LA's endpoint acknowledges", "PUT", "/mailbox/V145/inbox/" + ids["V145"] + "/status/acknowledged", "200000000230", 403},
		{"its own endpoint, another LA's message id", "GET", "/mailbox/V230/inbox/" + ids["V145"], "200000000230", 404},
		{"acknowledging another LA's message id in its own inbox", "PUT", "/mailbox/V230/inbox/" + ids["V145"] + "/status/acknowledged", "200000000230", 404},
		{"an unknown message", "GET", "/mailbox/V145/inbox/D00DFEED-2222-4333-8444-999999999999", "200000000145", 404},
		{"a method the inbox does not take", "POST", "/mailbox/V145/inbox", "200000000145", 405},
	} {
		if code, _, body := call(t, srv, c.method, c.path, c.asid); code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
		}
	}
	// Nothing above acknowledged V145's message.
	if code, _, _ := call(t, srv, "GET", "/mailbox/V145/inbox/"+ids["V145"], "200000000145"); code != 200 {
		t.Errorf("V145's message: %d", code)
	}
}
