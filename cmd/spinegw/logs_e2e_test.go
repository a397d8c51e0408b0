package main_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/world"
)

// No patient data in any log line: a query, a mailbox upload and a daily
// cycle through the real binary, then neither the logs (stderr) nor what
// serve and run-daily print (stdout) hold an NHS number or a patient's name
// from the worlds loaded. (The demo banner names the query file, not its
// content, and the SDS user who asks: staff, not a patient.)
func TestNoPatientDataInLogs(t *testing.T) {
	dir := t.TempDir()
	file, worldFile, o, _ := genUpload(t, dir, 60)
	db, mailbox := filepath.Join(dir, "logs.db"), filepath.Join(dir, "mailbox")
	if out, code := spinegw(t, nil, "world", "load", worldFile, "--db", db); code != 0 {
		t.Fatalf("world load: %s", out)
	}
	admin := freePort(t)
	stdout, stderr := launch(t, nil, "--listen", freePort(t), "--db", db, "--world", "../../demo/world.yaml",
		"--mailbox-dir", mailbox, "--admin-listen", admin)

	// A query, answered.
	m := regexp.MustCompile(`-H 'SOAPAction: ([^']+)' --data-binary @(\S+) (\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no curl line: %s", stdout.String())
	}
	query, _ := os.ReadFile(m[2])
	code, body, err := soapPost(http.DefaultClient, m[3], query)
	if err != nil || code != 200 || !strings.Contains(body, "REPC_IN000007GB01") {
		t.Fatalf("query: %v %d %.300s", err, code, body)
	}
	// An upload through the mailbox folders.
	data, _ := os.ReadFile(file)
	dropInMailbox(t, mailbox, o.LA, "upload.xml", data)
	waitFor(t, "the upload's log line", 30*time.Second, func() bool { return strings.Contains(stderr.String(), `"msg":"upload"`) })
	// A daily cycle with the query's access to notify.
	resp, err := http.Post("http://"+admin+"/admin/clock", "application/json", strings.NewReader(`{"advance":"1d"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("admin clock: %d", resp.StatusCode)
	}
	waitFor(t, "the daily cycle's log line", 10*time.Second, func() bool { return strings.Contains(stderr.String(), `"msg":"daily cycle"`) })
	daily, code := spinegw(t, nil, "run-daily", "--db", db, "--mailbox-dir", mailbox, "--clock", "offset:3d")
	if code != 0 {
		t.Fatalf("run-daily: %s", daily)
	}

	var patients []cpis.Patient
	var numbers []cpis.NHSNumber
	for _, f := range []string{"../../demo/world.yaml", worldFile} {
		w, err := world.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		patients = append(patients, w.Patients...)
		for _, r := range w.Records {
			numbers = append(numbers, r.NHSNumber)
		}
	}
	named := 0
	for _, p := range patients {
		if len(p.Name.Given) > 0 && p.Name.Family != "" {
			named++
		}
	}
	if len(patients) < 10 || named < 10 {
		t.Fatalf("only %d patients (%d named) to look for", len(patients), named)
	}
	logs := map[string]string{"serve stderr": stderr.String(), "serve stdout": stdout.String(), "run-daily": daily}
	for _, p := range patients {
		numbers = append(numbers, p.NHSNumber)
	}
	for what, text := range logs {
		if !strings.Contains(text, "{") && what == "serve stderr" {
			t.Fatalf("no structured log lines in %s: %s", what, text)
		}
		for _, n := range numbers {
			s := string(n)
			if strings.Contains(text, s) || strings.Contains(text, s[:3]+" "+s[3:6]+" "+s[6:]) {
				t.Errorf("%s holds NHS number %s", what, s)
			}
		}
		for _, p := range patients {
			full := strings.TrimSpace(strings.Join(p.Name.Given, " ") + " " + p.Name.Family)
			if len(p.Name.Given) > 0 && p.Name.Family != "" && strings.Contains(text, full) {
				t.Errorf("%s holds patient name %q", what, full)
			}
		}
	}
}
