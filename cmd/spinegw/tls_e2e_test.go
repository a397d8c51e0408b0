package main_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// launch runs `spinegw serve` with env added, capturing stdout and stderr
// whole, until it is ready.
func launch(t *testing.T, env []string, args ...string) (stdout, stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cancel(); <-exited })
	deadline := time.After(20 * time.Second)
	for !strings.Contains(stdout.String(), "LA uploads:") {
		select {
		case <-exited:
			t.Fatalf("spinegw serve exited: %s%s", stdout.String(), stderr.String())
		case <-deadline:
			t.Fatalf("spinegw serve did not get ready: %s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return stdout, stderr
}

// tlsClient trusts the CA file and shows the client certificate, if given.
func tlsClient(t *testing.T, caFile, certFile, keyFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", caFile)
	}
	cfg := &tls.Config{RootCAs: roots}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

func soapPost(c *http.Client, url string, body []byte) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", "urn:nhs:names:services:cpisquery/QUPC_IN000006GB01")
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String(), nil
}

// certs dev, then serve with mutual TLS (CP-NHS018, CP-SC025): the printed
// curl's certificate gets an answer; no certificate fails the handshake;
// another endpoint's certificate claiming the query's ASID gets a SOAP
// fault; the HTTP mailbox refuses a certificate that is not X-ASID's.
func TestTLSEndToEnd(t *testing.T) {
	dir := t.TempDir()
	certs := filepath.Join(dir, "certs")
	out, code := spinegw(t, nil, "certs", "dev", certs, "--world", "../../demo/world.yaml")
	if code != 0 || !strings.Contains(out, "--tls-client-ca "+filepath.Join(certs, "ca.pem")) || !strings.Contains(out, "curl -s --cacert") {
		t.Fatalf("certs dev: exit %d: %s", code, out)
	}
	for _, key := range []string{"ca-key.pem", "server-key.pem", "200000000101-key.pem", "200000000404-key.pem"} {
		st, err := os.Stat(filepath.Join(certs, key))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", key, st.Mode(), err)
		}
	}
	if out, code := spinegw(t, nil, "certs", "dev", certs, "--world", "../../demo/world.yaml"); code == 0 {
		t.Errorf("certs dev replaced an existing CA without --force: %s", out)
	}

	addr := freePort(t)
	stdout, _ := launch(t, nil, "--listen", addr, "--db", filepath.Join(dir, "tls.db"), "--world", "../../demo/world.yaml",
		"--mailbox-dir", filepath.Join(dir, "mailbox"), "--admin-listen", "off",
		"--tls-cert", filepath.Join(certs, "server.pem"), "--tls-key", filepath.Join(certs, "server-key.pem"),
		"--tls-client-ca", filepath.Join(certs, "ca.pem"))
	m := regexp.MustCompile(`curl -s --cacert (\S+) --cert (\S+) --key (\S+) .*--data-binary @(\S+) (https://\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no TLS curl line: %s", stdout.String())
	}
	caFile, certFile, keyFile, url := m[1], m[2], m[3], m[5]
	query, err := os.ReadFile(m[4])
	if err != nil {
		t.Fatal(err)
	}
	code, body, err := soapPost(tlsClient(t, caFile, certFile, keyFile), url, query)
	if err != nil || code != 200 || !strings.Contains(body, "REPC_IN000007GB01") {
		t.Fatalf("the endpoint's own certificate: %v %d %.300s", err, code, body)
	}
	if code, body, err := soapPost(tlsClient(t, caFile, "", ""), url, query); err == nil {
		t.Errorf("no client certificate: answered %d %.200s", code, body)
	}
	if resp, err := http.Post(strings.Replace(url, "https:", "http:", 1), "text/xml", bytes.NewReader(query)); err == nil {
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP to the TLS listener answered 200")
		}
		resp.Body.Close()
	}
	// The demo query names 200000000101; the ambulance service's
	// certificate claims it.
	other := tlsClient(t, caFile, filepath.Join(certs, "200000000202.pem"), filepath.Join(certs, "200000000202-key.pem"))
	code, body, err = soapPost(other, url, query)
	if err != nil || code != 500 || !strings.Contains(body, "Fault") || !strings.Contains(body, "the client certificate does not identify the sending endpoint") {
		t.Errorf("another endpoint's certificate: %v %d %.400s", err, code, body)
	}

	// The HTTP mailbox: V145's endpoint is 200000000303.
	inbox := func(certASID string) int {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/mailbox/V145/inbox", nil)
		req.Header.Set("X-ASID", "200000000303")
		c := tlsClient(t, caFile, filepath.Join(certs, certASID+".pem"), filepath.Join(certs, certASID+"-key.pem"))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := inbox("200000000303"); code != 200 {
		t.Errorf("V145's endpoint with its own certificate: %d", code)
	}
	if code := inbox("200000000404"); code != 403 {
		t.Errorf("Camden's certificate with V145's X-ASID: %d, want 403", code)
	}
}

// The admin listener: off loopback it needs a token to start; with one,
// requests need Authorization: Bearer <token>; on loopback without one it
// answers as before.
func TestAdminToken(t *testing.T) {
	dir := t.TempDir()
	_, port, _ := net.SplitHostPort(freePort(t))
	out, code := spinegw(t, nil, "serve", "--listen", freePort(t), "--db", filepath.Join(dir, "a.db"),
		"--mailbox-dir", filepath.Join(dir, "mailbox"), "--admin-listen", "0.0.0.0:"+port)
	if code == 0 || !strings.Contains(out, "not a loopback address") || !strings.Contains(out, "--admin-token") {
		t.Fatalf("a non-loopback admin listener without token: exit %d: %s", code, out)
	}

	launch(t, []string{"SPINEGW_ADMIN_TOKEN=s3cret-token"}, "--listen", freePort(t), "--db", filepath.Join(dir, "b.db"),
		"--mailbox-dir", filepath.Join(dir, "mailbox"), "--admin-listen", "0.0.0.0:"+port)
	get := func(addr, auth string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/admin/clock", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	admin := "127.0.0.1:" + port
	for auth, want := range map[string]int{
		"":                     401,
		"Bearer wrong":         401,
		"Bearer s3cret-toke":   401,
		"Basic s3cret-token":   401,
		"Bearer s3cret-token":  200,
		"Bearer s3cret-token ": 200,
	} {
		if got := get(admin, auth); got != want {
			t.Errorf("Authorization %q: %d, want %d", auth, got, want)
		}
	}

	loopback := freePort(t)
	launch(t, nil, "--listen", freePort(t), "--db", filepath.Join(dir, "c.db"),
		"--mailbox-dir", filepath.Join(dir, "mailbox"), "--admin-listen", loopback)
	if got := get(loopback, ""); got != 200 {
		t.Errorf("loopback admin without token: %d", got)
	}
}
