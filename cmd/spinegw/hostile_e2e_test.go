package main_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"spinegw/conformance"
	"spinegw/internal/gatewaytest"
	"spinegw/soap"
)

// serveProc is a `spinegw serve` the test can kill.
type serveProc struct {
	addr   string
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
}

// startKillable runs `spinegw serve --listen ADDR args...` until it is ready. The
// process is killed when the test ends if it still runs.
func startKillable(t *testing.T, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{addr: freePort(t), stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(binary, append([]string{"serve", "--listen", p.addr}, args...)...)
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.HasPrefix(sc.Text(), "LA uploads:") {
				ready <- true
				signalled = true
			}
		}
		if !signalled {
			ready <- false
		}
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("spinegw serve exited: %s", p.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("spinegw serve did not get ready: %s", p.stderr.String())
	}
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *serveProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

func (p *serveProc) url() string { return "http://" + p.addr }

// storeTableCounts counts the rows of every table of the store at path, opened
// read-only beside the running gateway.
func storeTableCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	db := openStoreReadOnly(t, path)
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	counts := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := db.QueryRow(`SELECT count(*) FROM "` + n + `"`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		counts[n] = c
	}
	if len(counts) < 5 {
		t.Fatalf("the store has only %d tables", len(counts))
	}
	return counts
}

// settledCounts waits for the gateway's start-up work (the daily cycle's
// catch-up run) to finish writing: the counts of three reads 300 ms apart
// agree.
func settledCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	prev, same := storeTableCounts(t, path), 0
	for same < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the store did not settle")
		}
		time.Sleep(300 * time.Millisecond)
		cur := storeTableCounts(t, path)
		if maps.Equal(cur, prev) {
			same++
		} else {
			same = 0
		}
		prev = cur
	}
	return prev
}

func openStoreReadOnly(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// The hostile-input suite against the real binary: each request is refused
// with a SOAP fault within a second, the server's memory stays bounded, no
// table of the store changes, no file content comes back and no connection
// is made (docs/robustness.md).
func TestHostileBinary(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "hostile.db")
	p := startKillable(t, "--db", dbPath, "--world", "../../conformance/world.yaml",
		"--mailbox-dir", filepath.Join(dir, "mailbox"), "--clock", "2026-11-22T10:00:00Z")
	c, err := conformance.LoadCase("../../conformance/cases/positive-cpp")
	if err != nil {
		t.Fatal(err)
	}
	q := c.Request
	sink := gatewaytest.NewSink(t)
	secret, include := gatewaytest.SecretFiles(t, dir, q)
	before := settledCounts(t, dbPath)
	_, hwmBefore, procOK := gatewaytest.ProcStatus(p.cmd.Process.Pid)

	check := func(t *testing.T, status int, reply []byte, want string) {
		t.Helper()
		if bytes.Contains(reply, []byte(gatewaytest.Marker)) {
			t.Fatalf("the reply holds content read from a file: %.300s", reply)
		}
		code, err := gatewaytest.FaultCode(status, reply)
		if err != nil {
			t.Fatalf("%v: %.300s", err, reply)
		}
		if code != want {
			t.Errorf("nasp:errorCode %s, want %s", code, want)
		}
	}
	for _, h := range gatewaytest.HostileBodies(q, secret, include, sink) {
		t.Run(h.Name, func(t *testing.T) {
			status, reply, took, err := gatewaytest.Post(p.url(), bytes.NewReader(h.Body), int64(len(h.Body)))
			if err != nil {
				t.Fatal(err)
			}
			check(t, status, reply, h.Code)
			if took > time.Second {
				t.Errorf("answered in %v", took)
			}
		})
	}
	head := string(q[:bytes.Index(q, []byte("<queryByParameter>"))])
	for _, declared := range []bool{true, false} {
		t.Run("100 MB body", func(t *testing.T) {
			body := gatewaytest.NewEndless(100<<20, head+"<!--", "x")
			length := int64(-1)
			if declared {
				length = body.N
			}
			status, reply, took, err := gatewaytest.Post(p.url(), body, length)
			if err != nil {
				t.Fatal(err)
			}
			check(t, status, reply, soap.TMSNotWellFormed)
			if took > time.Second || body.Sent() > 16<<20 {
				t.Errorf("answered in %v after %d MiB sent", took, body.Sent()>>20)
			}
			t.Logf("declared %v: answered in %v, %d KiB sent", declared, took, body.Sent()>>10)
		})
	}
	t.Run("slow-drip body", func(t *testing.T) {
		limits := soap.DefaultBodyLimits(1 << 20)
		res, err := gatewaytest.Drip(p.addr, "/sync-service", q, 16, 100*time.Millisecond, 0, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		check(t, res.Status, res.Reply, soap.TMSNotWellFormed)
		decidable := res.First.Add(limits.Grace + time.Duration(float64(res.Sent)/float64(limits.MinRate)*float64(time.Second)))
		if late := res.Answer.Sub(decidable); late > time.Second || res.Sent >= len(q) {
			t.Errorf("answered %v after the body fell under the minimum rate, %d of %d bytes sent", late, res.Sent, len(q))
		}
		t.Logf("answered %v after the first byte, %d bytes sent", res.Elapsed, res.Sent)
	})
	t.Run("mailbox body", func(t *testing.T) {
		status, reply, _, err := putMailbox(p.url()+"/mailbox/RKE/inbox/x/status/acknowledged", bytes.NewReader(make([]byte, 64<<10)))
		if err != nil {
			t.Fatal(err)
		}
		check(t, status, reply, soap.TMSNotWellFormed)
	})

	if n := sink.Connections(); n != 0 {
		t.Errorf("the gateway made %d network connections", n)
	}
	if _, hwm, ok := gatewaytest.ProcStatus(p.cmd.Process.Pid); ok && procOK {
		if grew := hwm - hwmBefore; grew > 64<<10 {
			t.Errorf("the gateway's peak RSS grew by %d MiB", grew>>10)
		}
		t.Logf("gateway peak RSS %d MiB (grew %d MiB)", hwm>>10, (hwm-hwmBefore)>>10)
	}
	after := storeTableCounts(t, dbPath)
	for name, n := range after {
		if before[name] != n {
			t.Errorf("table %s: %d rows, %d before the hostile requests", name, n, before[name])
		}
	}
	status, reply, _, err := gatewaytest.Post(p.url(), bytes.NewReader(q), int64(len(q)))
	if err != nil || status != 200 || !bytes.Contains(reply, []byte("REPC_IN000007GB01")) {
		t.Fatalf("the gateway no longer answers: HTTP %d %v %.300s", status, err, reply)
	}
	if strings.Contains(p.stderr.String(), gatewaytest.Marker) {
		t.Error("the log holds content read from a file")
	}
	_ = os.Remove(secret)
}

// putMailbox PUTs body to url, as the mailbox's acknowledgement is sent.
func putMailbox(url string, body *bytes.Reader) (int, []byte, time.Duration, error) {
	req, err := http.NewRequest(http.MethodPut, url, body)
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("X-ASID", "200000000101")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(resp.Body)
	return resp.StatusCode, reply, time.Since(start), err
}
