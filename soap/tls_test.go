package soap_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/hl7/schema"
	"spinegw/soap"
	"spinegw/store"
	"spinegw/world"
)

// tlsFixture is a throwaway CA and the files of a server certificate.
type tlsFixture struct {
	ca                        *soap.DevCA
	certFile, keyFile, caFile string
}

func newTLSFixture(t *testing.T) tlsFixture {
	t.Helper()
	ca, err := soap.NewDevCA("test CA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.Server("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := tlsFixture{ca: ca, certFile: filepath.Join(dir, "server.pem"), keyFile: filepath.Join(dir, "server-key.pem"), caFile: filepath.Join(dir, "ca.pem")}
	for path, data := range map[string][]byte{f.certFile: cert, f.keyFile: key, f.caFile: ca.CertPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// client is an HTTPS client trusting the fixture's CA and showing the
// certificate issued to cn (with DNS names); an empty cn shows none.
func (f tlsFixture) client(t *testing.T, ca *soap.DevCA, cn string, dns ...string) *http.Client {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(f.ca.CertPEM)
	cfg := &tls.Config{RootCAs: roots}
	if cn != "" {
		certPEM, keyPEM, err := ca.Client(cn, dns...)
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

// tlsGateway serves the conformance world over mutual TLS; the hospital
// endpoint 200000000101 has the FQDN pas.whittington.nhs.uk, the others
// none.
func tlsGateway(t *testing.T, f tlsFixture) *httptest.Server {
	t.Helper()
	w, err := world.ReadFile("../conformance/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i := range w.Endpoints {
		if w.Endpoints[i].ASID == "200000000101" {
			w.Endpoints[i].FQDN = "pas.whittington.nhs.uk"
		}
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "gateway.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MergeWorld(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	v, err := hl7.NewValidator(schema.FS, schema.Entry)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	srv := httptest.NewUnstartedServer(soap.NewServer(soap.Config{
		Service:   &cpis.Service{Store: db, Clock: cpis.ClockFunc(func() time.Time { return now })},
		Validator: v,
		ASID:      "990000000001",
		Peers:     soap.NewPeerCheck(w.Endpoints),
	}))
	if srv.TLS, err = soap.TLSConfig(f.certFile, f.keyFile, f.caFile); err != nil {
		t.Fatal(err)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func postWith(c *http.Client, url string, body []byte) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, url+"/sync-service", bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", soap.ActionQuery)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// CP-NHS018, CP-SC025: with TLS on, the client certificate must identify
// the endpoint whose ASID the message claims (200000000101 here, whose
// certificate names its FQDN).
func TestTLSClientIdentity(t *testing.T) {
	f := newTLSFixture(t)
	srv := tlsGateway(t, f)
	q := validQuery(t)
	for _, tc := range []struct {
		why   string
		cn    string
		dns   []string
		fault bool
	}{
		{"the endpoint's FQDN as CN", "pas.whittington.nhs.uk", nil, false},
		{"the endpoint's FQDN as a DNS name", "Whittington PAS", []string{"pas.whittington.nhs.uk"}, false},
		{"the ASID as CN, but the endpoint has an FQDN", "200000000101", nil, true},
		{"another endpoint's certificate (its ASID)", "200000000202", nil, true},
		{"another host of the trust", "ed.whittington.nhs.uk", []string{"whittington.nhs.uk"}, true},
	} {
		code, body, err := postWith(f.client(t, f.ca, tc.cn, tc.dns...), srv.URL, q)
		if err != nil {
			t.Fatalf("%s: %v", tc.why, err)
		}
		if tc.fault {
			if code != 500 || !strings.Contains(body, "Fault") || !strings.Contains(body, "the client certificate does not identify the sending endpoint") {
				t.Errorf("%s: %d %s", tc.why, code, body)
			}
			continue
		}
		if code != 200 || !strings.Contains(body, "REPC_IN000007GB01") {
			t.Errorf("%s: %d %s", tc.why, code, body)
		}
	}
}

// Without a client certificate, or with one from another CA, the handshake
// fails: nothing reaches the gateway.
func TestTLSHandshakeRefused(t *testing.T) {
	f := newTLSFixture(t)
	srv := tlsGateway(t, f)
	other, err := soap.NewDevCA("another CA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for why, c := range map[string]*http.Client{
		"no client certificate":     f.client(t, f.ca, ""),
		"a certificate of other CA": f.client(t, other, "pas.whittington.nhs.uk"),
	} {
		if code, body, err := postWith(c, srv.URL, validQuery(t)); err == nil {
			t.Errorf("%s: answered %d %s", why, code, body)
		}
	}
}

// A PeerCheck refuses a request that did not come over mutual TLS, and a nil
// one (TLS off) checks nothing.
func TestPeerCheckWithoutTLS(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/sync-service", nil)
	err := soap.NewPeerCheck(nil).Check(r, "200000000101")
	if cpis.KindOf(err) != cpis.KindAddressing {
		t.Errorf("plain HTTP with a peer check: %v", err)
	}
	var off *soap.PeerCheck
	if err := off.Check(r, "200000000101"); err != nil {
		t.Errorf("no peer check: %v", err)
	}
	if fault, _ := soap.Answer(err); fault == nil {
		t.Errorf("an unauthenticated endpoint is not answered with a SOAP fault")
	}
}

// The HTTP mailbox over mutual TLS: the certificate must identify the
// endpoint X-ASID names (CP-SC025).
func TestMailboxTLSIdentity(t *testing.T) {
	f := newTLSFixture(t)
	db, err := store.Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	eps := []cpis.Endpoint{{ASID: "200000000145", ODS: "V145"}, {ASID: "200000000230", ODS: "V230"}}
	if err := db.MergeWorld(ctx, cpis.World{Endpoints: eps}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(soap.NewMailbox(soap.MailboxConfig{Store: db, Peers: soap.NewPeerCheck(eps)}))
	if srv.TLS, err = soap.TLSConfig(f.certFile, f.keyFile, f.caFile); err != nil {
		t.Fatal(err)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	get := func(cn, asid string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/mailbox/V145/inbox", nil)
		req.Header.Set(soap.HeaderASID, asid)
		resp, err := f.client(t, f.ca, cn).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("200000000145", "200000000145"); code != 200 {
		t.Errorf("V145's own certificate: %d", code)
	}
	if code := get("200000000230", "200000000145"); code != 403 {
		t.Errorf("V230's certificate claiming V145's ASID: %d", code)
	}
}
