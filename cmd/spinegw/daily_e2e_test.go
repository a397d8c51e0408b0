package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

const officialSchemas = "../../../shared/spine-schemas/CPIS"

// inFiles lists the notifications delivered to an LA's in/ folder.
func inFiles(t *testing.T, mailbox, la, kind string) []string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(mailbox, la, "in"))
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "cpis-") && strings.Contains(e.Name(), "-"+kind+"-") {
			out = append(out, filepath.Join(mailbox, la, "in", e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// validOfficial checks files with spinegw validate against the official
// CP-IS schema set.
func validOfficial(t *testing.T, files ...string) {
	t.Helper()
	if len(files) == 0 {
		return
	}
	out, code := spinegw(t, nil, append([]string{"validate", "--schemas", officialSchemas}, files...)...)
	if code != 0 {
		t.Errorf("invalid notifications:\n%s", out)
	}
}

// spinegw run-daily runs each day due once, and spinegw pds supersede
// notifies each LA holding records under the old number once; both deliver
// to the mailbox folders, every document valid against the official schema.
func TestRunDailyAndPDSSupersede(t *testing.T) {
	dir := t.TempDir()
	db, mailbox := filepath.Join(dir, "d.db"), filepath.Join(dir, "mailbox")
	if out, code := spinegw(t, nil, "world", "load", "../../demo/world.yaml", "--db", db); code != 0 {
		t.Fatal(out)
	}
	run := func(at string) string {
		t.Helper()
		out, code := spinegw(t, nil, "run-daily", "--db", db, "--mailbox-dir", mailbox, "--at", at)
		if code != 0 {
			t.Fatalf("run-daily --at %s: %s", at, out)
		}
		return out
	}
	if out := run("2026-11-22T02:00:00Z"); !strings.Contains(out, "day 2026-11-22: 2 access to service notifications") {
		t.Errorf("first run: %s", out)
	}
	if out := run("2026-11-22T12:00:00Z"); !strings.Contains(out, "no daily cycle due") {
		t.Errorf("run again the same day: %s", out)
	}
	out := run("2026-11-24T02:00:00Z")
	if !strings.Contains(out, "day 2026-11-23") || !strings.Contains(out, "day 2026-11-24") || strings.Count(out, "day ") != 2 {
		t.Errorf("catch-up: %s", out)
	}
	for _, la := range []string{"V145", "V150"} {
		files := inFiles(t, mailbox, la, "access")
		if len(files) != 3 {
			t.Errorf("%s: %d access notifications, want 3 (one per day)", la, len(files))
		}
		validOfficial(t, files...)
	}

	// 9990001219 is held by V145 and V150 (CP-IS023).
	out, code := spinegw(t, nil, "pds", "supersede", "9990001219", "9990001847", "--db", db, "--mailbox-dir", mailbox,
		"--clock", "2026-11-24T10:00:00Z")
	if code != 0 || !strings.Contains(out, "2 inactive NHS number notifications written, 2 delivered") {
		t.Fatalf("supersede: %s", out)
	}
	out, code = spinegw(t, nil, "pds", "supersede", "9990001219", "9990001847", "--db", db, "--mailbox-dir", mailbox)
	if code != 0 || !strings.Contains(out, "0 inactive NHS number notifications written") {
		t.Errorf("supersede again: %s", out)
	}
	for _, la := range []string{"V145", "V150"} {
		files := inFiles(t, mailbox, la, "inactive")
		if len(files) != 1 {
			t.Fatalf("%s: %d inactive notifications, want 1", la, len(files))
		}
		validOfficial(t, files...)
		doc, _ := os.ReadFile(files[0])
		if !strings.Contains(string(doc), `extension="9990001219"`) || !strings.Contains(string(doc), `<newVersion><id extension="9990001847"/>`) {
			t.Errorf("%s: %s", la, doc)
		}
	}
	if out, code := spinegw(t, nil, "pds", "supersede", "9990001219", "1234567890", "--db", db); code == 0 {
		t.Errorf("an invalid new number accepted: %s", out)
	}
}

// A serving gateway: an access by the demo query is notified to the LA on
// the next day's run; POST /admin/clock moves the clock forward and runs the
// days due before answering; the LA reads its notifications over the HTTP
// mailbox with its own endpoint's ASID, acknowledges one, and it leaves the
// inbox.
func TestServeDailyAdminClockAndHTTPMailbox(t *testing.T) {
	dir := t.TempDir()
	db, mailbox := filepath.Join(dir, "s.db"), filepath.Join(dir, "mailbox")
	laWorld := filepath.Join(dir, "la.yaml")
	os.WriteFile(laWorld, []byte(`endpoints:
  - {asid: "200000000145", ods: V145, name: Islington children's services case system}
`), 0o644)
	if out, code := spinegw(t, nil, "world", "load", "../../demo/world.yaml", "--db", db); code != 0 {
		t.Fatal(out)
	}
	if out, code := spinegw(t, nil, "world", "load", laWorld, "--db", db); code != 0 {
		t.Fatal(out)
	}
	admin := freePort(t)
	addr, curl, _ := startServeLogged(t, "--db", db, "--world", "../../demo/world.yaml", "--mailbox-dir", mailbox,
		"--clock", "2026-11-22T10:00:00Z", "--admin-listen", admin)
	// The scheduler runs the day due at start.
	waitFor(t, "the first day's notifications", 10*time.Second, func() bool {
		return len(inFiles(t, mailbox, "V145", "access")) == 1 && len(inFiles(t, mailbox, "V150", "access")) == 1
	})

	// The demo query: a positive answer, its access recorded.
	m := regexp.MustCompile(`-H 'SOAPAction: ([^']+)' --data-binary @(\S+) (\S+)$`).FindStringSubmatch(curl)
	if m == nil {
		t.Fatalf("unexpected curl line: %s", curl)
	}
	body, _ := os.ReadFile(m[2])
	req, _ := http.NewRequest(http.MethodPost, m[3], bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", m[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(answer), `code="OK"`) {
		t.Fatalf("the demo query: %s", answer)
	}

	resp, err = http.Post("http://"+admin+"/admin/clock", "application/json", strings.NewReader(`{"advance":"48h"}`))
	if err != nil {
		t.Fatal(err)
	}
	var moved struct {
		Now     string
		DaysRun []struct {
			Day           string
			Notifications int
			Accesses      int
		} `json:"days_run"`
	}
	json.NewDecoder(resp.Body).Decode(&moved)
	resp.Body.Close()
	if resp.StatusCode != 200 || moved.Now != "2026-11-24T10:00:00Z" || len(moved.DaysRun) != 2 ||
		moved.DaysRun[0].Day != "2026-11-23" || moved.DaysRun[0].Accesses == 0 || moved.DaysRun[1].Accesses != 0 {
		t.Fatalf("advance: %d %+v", resp.StatusCode, moved)
	}
	for _, la := range []string{"V145", "V150"} {
		files := inFiles(t, mailbox, la, "access")
		if len(files) != 3 {
			t.Errorf("%s: %d notifications, want 3", la, len(files))
		}
		validOfficial(t, files...)
	}

	get := func(method, path, asid string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, nil)
		if asid != "" {
			req.Header.Set("X-ASID", asid)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("GET", "/mailbox/V145/inbox", "200000000101"); code != http.StatusForbidden {
		t.Errorf("a hospital's endpoint reads V145's inbox: %d", code)
	}
	code, list := get("GET", "/mailbox/V145/inbox", "200000000145")
	var inbox struct{ Messages []string }
	json.Unmarshal([]byte(list), &inbox)
	if code != 200 || len(inbox.Messages) != 3 {
		t.Fatalf("inbox: %d %s", code, list)
	}
	code, doc := get("GET", "/mailbox/V145/inbox/"+inbox.Messages[1], "200000000145")
	if code != 200 || !strings.Contains(doc, "<CP-ISAccessToServiceNotification") || !strings.Contains(doc, inbox.Messages[1]) {
		t.Errorf("download: %d %s", code, doc)
	}
	if code, b := get("PUT", "/mailbox/V145/inbox/"+inbox.Messages[1]+"/status/acknowledged", "200000000145"); code != 200 {
		t.Errorf("acknowledge: %d %s", code, b)
	}
	if _, list := get("GET", "/mailbox/V145/inbox", "200000000145"); strings.Contains(list, inbox.Messages[1]) || !strings.Contains(list, inbox.Messages[0]) {
		t.Errorf("inbox after the acknowledgement: %s", list)
	}
}
