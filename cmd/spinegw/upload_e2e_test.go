package main_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/store"
	"spinegw/synth"
)

// genUpload writes a synthetic upload and its world, plus an endpoint of the
// sending LA so the file can also come over SOAP.
func genUpload(t *testing.T, dir string, records int) (file, worldFile string, o synth.Options, codes []string) {
	t.Helper()
	o = synth.DefaultOptions()
	o.Records = records
	file, worldFile = filepath.Join(dir, "upload.xml"), filepath.Join(dir, "world.yaml")
	f, _ := os.Create(file)
	w, codes, err := synth.WriteUpload(f, o)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	w.Endpoints = append(w.Endpoints, cpis.Endpoint{ASID: "200000000999", ODS: o.LA, Name: "Synthetic LA case system"})
	wf, _ := os.Create(worldFile)
	if err := synth.WriteWorld(wf, w); err != nil {
		t.Fatal(err)
	}
	wf.Close()
	return file, worldFile, o, codes
}

// normalise drops what differs between two answers to the same file: the
// response's own id and its creation time.
func normalise(resp string) string {
	if i := strings.Index(resp, "<FileResponse"); i >= 0 {
		resp = resp[i:]
	}
	if i := strings.Index(resp, "</FileResponse>"); i >= 0 {
		resp = resp[:i]
	}
	resp = regexp.MustCompile(`<creationTime value="[^"]*"/>`).ReplaceAllString(resp, "")
	resp = regexp.MustCompile(`<id extension="[^"]*"/>`).ReplaceAllString(resp, "")
	return resp
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dropInMailbox writes a file into an LA's out/ folder the way an LA's
// system must: under a temporary name, then renamed.
func dropInMailbox(t *testing.T, mailbox, la, name string, data []byte) {
	t.Helper()
	out := filepath.Join(mailbox, la, "out")
	os.MkdirAll(out, 0o755)
	tmp := filepath.Join(out, name+".part")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(out, name)); err != nil {
		t.Fatal(err)
	}
}

// The same file gives the same FileResponse (apart from its id and time)
// whichever way it came: command line, mailbox or SOAP.
func TestUploadRoutesAgree(t *testing.T) {
	dir := t.TempDir()
	file, worldFile, o, _ := genUpload(t, dir, 150)
	data, _ := os.ReadFile(file)
	dbs := map[string]string{}
	for _, route := range []string{"cli", "mailbox", "soap"} {
		dbs[route] = filepath.Join(dir, route+".db")
		if out, code := spinegw(t, nil, "world", "load", worldFile, "--db", dbs[route]); code != 0 {
			t.Fatalf("world load: %s", out)
		}
	}
	const clock = "2026-11-22T10:00:00Z"
	cli, code := spinegw(t, nil, "upload", file, "--db", dbs["cli"], "--clock", clock)
	if code != 0 || !strings.Contains(cli, "FileResponse") {
		t.Fatalf("spinegw upload: exit %d: %.500s", code, cli)
	}

	mailbox := filepath.Join(dir, "mailbox")
	startServe(t, "--db", dbs["mailbox"], "--mailbox-dir", mailbox, "--clock", clock)
	dropInMailbox(t, mailbox, o.LA, "upload.xml", data)
	resp := filepath.Join(mailbox, o.LA, "in", "upload.response.xml")
	waitFor(t, "the mailbox FileResponse", 30*time.Second, func() bool { _, err := os.Stat(resp); return err == nil })
	viaMailbox, _ := os.ReadFile(resp)

	addr, _ := startServe(t, "--db", dbs["soap"], "--mailbox-dir", filepath.Join(dir, "unused"), "--clock", clock)
	env := `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:hl7="urn:hl7-org:v3">
<soap:Header><wsa:MessageID>uuid:0B1A2C3D-4E5F-4061-8273-9485A6B7C8D9</wsa:MessageID>
<wsa:Action>urn:GB-en-NHS:iops:interaction:CP-ISLocalAuthorityUpload-v1-0</wsa:Action><wsa:To>https://spine.emulator/sync-service</wsa:To>
<hl7:communicationFunctionRcv><hl7:device><hl7:id root="1.2.826.0.1285.0.2.0.107" extension="990000000001"/></hl7:device></hl7:communicationFunctionRcv>
<hl7:communicationFunctionSnd><hl7:device><hl7:id root="1.2.826.0.1285.0.2.0.107" extension="200000000999"/></hl7:device></hl7:communicationFunctionSnd>
</soap:Header><soap:Body>` + string(data[bytes.Index(data, []byte("<File")):]) + `</soap:Body></soap:Envelope>`
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/sync-service", strings.NewReader(env))
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", "urn:GB-en-NHS:iops:interaction:CP-ISLocalAuthorityUpload-v1-0")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var viaSOAP bytes.Buffer
	viaSOAP.ReadFrom(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Fatalf("SOAP upload: HTTP %d: %.500s", r.StatusCode, viaSOAP.String())
	}
	want := normalise(cli)
	if !strings.Contains(want, "CPF03") {
		t.Fatalf("the command line's answer is not a partial success: %.300s", want)
	}
	if got := normalise(string(viaMailbox)); got != want {
		t.Errorf("mailbox FileResponse differs from the command line's:\n%.400s\n---\n%.400s", got, want)
	}
	if got := normalise(viaSOAP.String()); got != want {
		t.Errorf("SOAP FileResponse differs from the command line's:\n%.400s\n---\n%.400s", got, want)
	}
}

// A gateway killed (SIGKILL) while it processes a large mailbox file and then
// restarted processes the file exactly once: one FileResponse, the file in
// sent/, every accepted record stored once.
func TestUploadSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("large file; run without -short")
	}
	dir := t.TempDir()
	file, worldFile, o, codes := genUpload(t, dir, 40000)
	data, _ := os.ReadFile(file)
	db := filepath.Join(dir, "kill.db")
	if out, code := spinegw(t, nil, "world", "load", worldFile, "--db", db); code != 0 {
		t.Fatalf("world load: %s", out)
	}
	mailbox := filepath.Join(dir, "mailbox")
	resp := filepath.Join(mailbox, o.LA, "in", "upload.response.xml")
	sent := filepath.Join(mailbox, o.LA, "sent", "upload.xml")

	for _, delay := range []time.Duration{300 * time.Millisecond, 1200 * time.Millisecond} {
		cmd := exec.Command(binary, "serve", "--listen", freePort(t), "--db", db, "--mailbox-dir", mailbox)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if delay == 300*time.Millisecond {
			dropInMailbox(t, mailbox, o.LA, "upload.xml", data)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	addr, _ := startServe(t, "--db", db, "--mailbox-dir", mailbox)
	_ = addr
	waitFor(t, "the file to be answered after restarts", 2*time.Minute, func() bool {
		_, e1 := os.Stat(resp)
		_, e2 := os.Stat(sent)
		return e1 == nil && e2 == nil
	})
	if left, _ := os.ReadDir(filepath.Join(mailbox, o.LA, "out")); len(left) != 0 {
		t.Fatalf("files left in out/: %d", len(left))
	}
	answers, _ := os.ReadDir(filepath.Join(mailbox, o.LA, "in"))
	if len(answers) != 1 {
		t.Fatalf("%d files in in/, want exactly one FileResponse", len(answers))
	}
	// The server is stopped at cleanup; read the store with its own package
	// while it runs (WAL readers do not block).
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	up, found, err := st.PriorUpload(context.Background(), o.LA, o.ID())
	if err != nil || !found {
		t.Fatalf("the upload is not registered: %v", err)
	}
	want := 0
	for _, c := range codes {
		if c == cpis.CPR06 {
			want++
		}
	}
	if up.Succeeded != want {
		t.Fatalf("registered %d successes, want %d", up.Succeeded, want)
	}
	// Every accepted record is stored exactly once, with its plans once.
	i := 0
	_, err = synth.Generate(o, func(r cpis.UploadRecord, code string) error {
		i++
		if code != cpis.CPR06 || i%50 != 0 {
			return nil
		}
		subj, err := st.Subject(context.Background(), cpis.NHSNumber(r.NHSNumber))
		if err != nil {
			return err
		}
		n := 0
		plans := 0
		for _, rec := range subj.Records {
			if rec.LA.ODS == o.LA {
				n++
				plans += len(rec.Plans)
			}
		}
		if n != 1 || plans < len(r.Plans) {
			t.Errorf("record %d: %d records with %d plans for the LA, want 1 with at least %d", r.Position, n, plans, len(r.Plans))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
