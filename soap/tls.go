package soap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"

	"spinegw/cpis"
)

// Endpoint security (CP-NHS018, CP-SC025): with TLS on, every caller shows
// a client certificate signed by the client CA (the handshake refuses any
// other), and the certificate must identify the endpoint whose ASID the
// message claims: the sender ASID of the SOAP header (equal to the HL7
// wrapper's, checkAddressing), or the X-ASID header of the HTTP mailbox.
// Which certificate identifies which endpoint is cpis.Endpoint's rule
// (AcceptsCertificate): its FQDN as CN or DNS name, or the ASID as CN for
// an endpoint without FQDN.

// TLSConfig is the server side of mutual TLS: the gateway's certificate and
// key, and the CA bundle that signs the endpoints' client certificates. It
// takes TLS 1.2 and later, and requires a verified client certificate.
func TLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" || clientCAFile == "" {
		return nil, errors.New("TLS needs --tls-cert, --tls-key and --tls-client-ca together")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	pem, err := os.ReadFile(clientCAFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-client-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--tls-client-ca %s: no PEM certificate in the file", clientCAFile)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, nil
}

// PeerCheck ties a request's verified client certificate to the endpoint
// whose ASID it claims. A nil *PeerCheck checks nothing: the gateway runs
// without TLS and trusts the ASIDs the messages give.
type PeerCheck struct {
	endpoints map[string]cpis.Endpoint
}

// NewPeerCheck builds the check from the world's endpoints (their FQDNs).
// An ASID not among them (an endpoint merged into the store earlier) takes
// the rule of an endpoint without FQDN: the certificate's CN is the ASID.
func NewPeerCheck(endpoints []cpis.Endpoint) *PeerCheck {
	p := &PeerCheck{endpoints: make(map[string]cpis.Endpoint, len(endpoints))}
	for _, e := range endpoints {
		p.endpoints[e.ASID] = e
	}
	return p
}

// Check returns nil when r came with a verified client certificate that
// identifies the endpoint asid, or else an error of KindAddressing (a SOAP
// fault on the SOAP endpoint). It never trusts an unverified certificate: a
// request that did not come over mutual TLS is refused.
func (p *PeerCheck) Check(r *http.Request, asid string) error {
	if p == nil {
		return nil
	}
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return cpis.Errorf(cpis.KindAddressing, "tls", "no verified client certificate: the endpoint is not authenticated")
	}
	leaf := r.TLS.VerifiedChains[0][0]
	ep, ok := p.endpoints[asid]
	if !ok {
		ep = cpis.Endpoint{ASID: asid}
	}
	if !ep.AcceptsCertificate(leaf.Subject.CommonName, leaf.DNSNames) {
		return cpis.Errorf(cpis.KindAddressing, "tls", "the client certificate does not identify the sending endpoint (ASID %s)", asid)
	}
	return nil
}
