package main_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"spinegw/conformance"
	"spinegw/cpis"
	"spinegw/soap"
	"spinegw/synth"
)

// crashUpload is one LA Upload file the crash test sends over SOAP: each
// from its own local authority, so that no later file replaces its records.
type crashUpload struct {
	la, asid, fileID string
	records          int // records in the file, all made to succeed
}

// crashOptions describes the file of LA la: every file has the same
// patients (the same synth seed), so one world serves them all.
func crashOptions(la string) synth.Options {
	return synth.Options{Records: 1000, LA: la, LAName: "Crash Test Council " + la, Seed: 7, FileID: la + "-CRASH-1"}
}

// crashFile writes la's file and returns its world and its File element.
func crashFile(t *testing.T, la string) (cpis.World, []byte) {
	var b bytes.Buffer
	w, codes, err := synth.WriteUpload(&b, crashOptions(la))
	if err != nil {
		t.Error(err)
		return w, nil
	}
	for _, c := range codes {
		if c != cpis.CPR06 {
			t.Errorf("synthetic record made to fail: %s", c)
		}
	}
	return w, b.Bytes()[bytes.Index(b.Bytes(), []byte("<File")):]
}

// crashLog is what the clients saw, shared by the workers of all rounds.
type crashLog struct {
	mu       sync.Mutex
	answered []string        // HL7 message ids of queries answered with a REPC reply
	acked    map[string]bool // LA of uploads answered with a FileResponse
	sent     map[string]bool // LA of uploads sent, answered or not
}

func envSeed(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

// TestCrashRecovery kills the gateway (SIGKILL) at random moments while
// clients send concurrent queries and LA uploads over SOAP, restarts it, and
// checks the store: every query answered with a REPC reply has its access
// event (CP-IS068: recorded before the answer goes out), every upload
// answered with a FileResponse is stored with all its records, no upload
// is half stored, and the audit chain verifies. The kill moments come from
// a seed that the test prints; SPINEGW_CRASH_SEED repeats a run and
// SPINEGW_CRASH_ROUNDS sets the number of rounds (default 4).
func TestCrashRecovery(t *testing.T) {
	seed := envSeed("SPINEGW_CRASH_SEED", time.Now().UnixNano())
	rounds := int(envSeed("SPINEGW_CRASH_ROUNDS", 4))
	t.Logf("crash test: seed %d, %d rounds (SPINEGW_CRASH_SEED=%d repeats it)", seed, rounds, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6372617368))
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "crash.db")

	// The uploads' world: one LA and endpoint per file, the same patients
	// for all (same synth seed), on top of the conformance world, whose
	// users and records the queries use.
	uploads := make([]crashUpload, 40*rounds)
	var w cpis.World
	for i := range uploads {
		la := fmt.Sprintf("K%03d", i+1)
		o := crashOptions(la)
		u := crashUpload{la: la, asid: fmt.Sprintf("20000001%04d", i+1), fileID: o.ID(), records: o.Records}
		if i == 0 {
			fw, _ := crashFile(t, la)
			w.Patients = fw.Patients
		}
		uploads[i] = u
		w.LocalAuthorities = append(w.LocalAuthorities, o.LocalAuthority())
		w.Endpoints = append(w.Endpoints, cpis.Endpoint{ASID: u.asid, ODS: la, Name: "Crash test LA system " + la})
	}
	worldFile := filepath.Join(dir, "crash-world.yaml")
	wf, err := os.Create(worldFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WriteWorld(wf, w); err != nil {
		t.Fatal(err)
	}
	wf.Close()
	for _, f := range []string{"../../conformance/world.yaml", worldFile} {
		if out, code := spinegw(t, nil, "world", "load", f, "--db", dbPath); code != 0 {
			t.Fatalf("world load %s: %s", f, out)
		}
	}
	c, err := conformance.LoadCase("../../conformance/cases/positive-cpp")
	if err != nil {
		t.Fatal(err)
	}
	const templateID = "5C0E1D2A-0000-4000-8000-000000000001"
	if !bytes.Contains(c.Request, []byte(templateID)) {
		t.Fatal("the positive-cpp request no longer carries its message id")
	}
	args := []string{"--db", dbPath, "--mailbox-dir", filepath.Join(dir, "mailbox"),
		"--clock", "2026-11-22T10:00:00Z", "--max-body", "8MiB"}

	log := &crashLog{acked: map[string]bool{}, sent: map[string]bool{}}
	var next atomic.Int64 // the next upload to send
	for round := 1; round <= rounds; round++ {
		p := startKillable(t, args...)
		client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{}}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var queries, acks atomic.Int64
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					id := strings.ToUpper(uuid.NewString())
					body := bytes.ReplaceAll(c.Request, []byte(templateID), []byte(id))
					status, reply, err := crashPost(client, p.url(), soap.ActionQuery, body)
					if err != nil {
						continue
					}
					if status == 200 && bytes.Contains(reply, []byte("REPC_IN000007GB01")) {
						log.mu.Lock()
						log.answered = append(log.answered, id)
						log.mu.Unlock()
						queries.Add(1)
					} else {
						t.Errorf("query answered HTTP %d: %.300s", status, reply)
						return
					}
				}
			}()
		}
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					i := next.Add(1) - 1
					if i >= int64(len(uploads)) {
						return
					}
					u := uploads[i]
					_, file := crashFile(t, u.la)
					log.mu.Lock()
					log.sent[u.la] = true
					log.mu.Unlock()
					status, reply, err := crashPost(client, p.url(), soap.ActionUpload, uploadEnvelope(u, file))
					if err != nil {
						return // killed: this upload may or may not be in
					}
					if status != 200 || !bytes.Contains(reply, []byte("FileResponse")) {
						t.Errorf("upload %s answered HTTP %d: %.300s", u.la, status, reply)
						return
					}
					log.mu.Lock()
					log.acked[u.la] = true
					log.mu.Unlock()
					acks.Add(1)
				}
			}()
		}
		delay := 100*time.Millisecond + time.Duration(rng.Int64N(int64(1400*time.Millisecond)))
		time.Sleep(delay)
		p.kill()
		close(stop)
		wg.Wait()
		t.Logf("round %d: SIGKILL after %v; %d queries answered, %d uploads acknowledged", round, delay, queries.Load(), acks.Load())
	}

	// Restart: the store opens after the kills, and is checked read-only
	// beside the running gateway.
	p := startKillable(t, args...)
	status, reply, err := crashPost(&http.Client{Timeout: 30 * time.Second}, p.url(), soap.ActionQuery, c.Request)
	if err != nil || status != 200 {
		t.Fatalf("the restarted gateway does not answer: %v HTTP %d %.300s\nits log: %s", err, status, reply, p.stderr.String())
	}
	db := openStoreReadOnly(t, dbPath)
	defer db.Close()
	if len(log.answered) == 0 || len(log.acked) == 0 {
		t.Fatalf("nothing to check: %d queries answered, %d uploads acknowledged", len(log.answered), len(log.acked))
	}
	missing := 0
	for _, id := range log.answered {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM access_events WHERE message_id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			missing++
			if missing <= 5 {
				t.Errorf("query %s was answered but has %d access events", id, n)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d answered queries have no access event", missing, len(log.answered))
	}
	inFlight := 0
	for _, u := range uploads {
		if !log.sent[u.la] {
			continue
		}
		var files, records int
		if err := db.QueryRow(`SELECT count(*) FROM uploads WHERE la_ods = ? AND file_id = ?`, u.la, u.fileID).Scan(&files); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT count(*) FROM records WHERE la_ods = ? AND file_id = ?`, u.la, u.fileID).Scan(&records); err != nil {
			t.Fatal(err)
		}
		whole := files == 1 && records == u.records
		none := files == 0 && records == 0
		switch {
		case log.acked[u.la] && !whole:
			t.Errorf("upload %s was acknowledged but the store holds %d upload rows and %d of its %d records", u.la, files, records, u.records)
		case !whole && !none:
			t.Errorf("upload %s is half stored: %d upload rows, %d of %d records", u.la, files, records, u.records)
		case !log.acked[u.la]:
			inFlight++
			t.Logf("upload %s, cut off by a kill, is stored %s", u.la, map[bool]string{true: "whole", false: "not at all"}[whole])
		}
	}
	t.Logf("checked %d answered queries, %d acknowledged uploads, %d uploads cut off", len(log.answered), len(log.acked), inFlight)
	checkAuditChain(t, dbPath)
}

// checkAuditChain runs `spinegw audit verify` on the store and requires it
// to pass. Until the command exists (it answers "not built yet"), the check
// is reported as skipped rather than passed.
func checkAuditChain(t *testing.T, dbPath string) {
	t.Helper()
	out, code := spinegw(t, nil, "audit", "verify", "--db", dbPath)
	if strings.Contains(out, "not built yet") || strings.Contains(out, "unknown command") {
		t.Logf("AUDIT CHAIN NOT CHECKED: spinegw audit verify is not available yet (%s)", strings.TrimSpace(out))
		return
	}
	if code != 0 {
		t.Errorf("spinegw audit verify after the kills: exit %d: %s", code, out)
		return
	}
	t.Logf("spinegw audit verify: %s", strings.TrimSpace(out))
}

func uploadEnvelope(u crashUpload, file []byte) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:hl7="urn:hl7-org:v3">
<soap:Header><wsa:MessageID>uuid:` + strings.ToUpper(uuid.NewString()) + `</wsa:MessageID>
<wsa:Action>` + soap.ActionUpload + `</wsa:Action><wsa:To>https://spine.emulator/sync-service</wsa:To>
<hl7:communicationFunctionRcv><hl7:device><hl7:id root="1.2.826.0.1285.0.2.0.107" extension="990000000001"/></hl7:device></hl7:communicationFunctionRcv>
<hl7:communicationFunctionSnd><hl7:device><hl7:id root="1.2.826.0.1285.0.2.0.107" extension="` + u.asid + `"/></hl7:device></hl7:communicationFunctionSnd>
</soap:Header><soap:Body>` + string(file) + `</soap:Body></soap:Envelope>`)
}

func crashPost(client *http.Client, base, action string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/sync-service", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", action)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(resp.Body)
	if err != nil {
		// The answer was cut short: the client never got it.
		return 0, nil, err
	}
	return resp.StatusCode, reply, nil
}
