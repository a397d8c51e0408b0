package soap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// DevCA is a throwaway certificate authority for local testing of mutual
// TLS (`spinegw certs dev`): it issues the gateway's server certificate and
// the endpoints' client certificates. Keys are ECDSA P-256. Nothing it
// issues belongs anywhere but a test machine.
type DevCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// CertPEM and KeyPEM are the CA's certificate and private key.
	CertPEM, KeyPEM []byte
	now             time.Time
}

// devValidity is how long what a DevCA issues is valid.
const devValidity = 365 * 24 * time.Hour

// NewDevCA makes a CA valid from an hour before now for a year.
func NewDevCA(name string, now time.Time) (*DevCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"spinegw development"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(devValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := keyToPEM(key)
	if err != nil {
		return nil, err
	}
	return &DevCA{cert: cert, key: key, CertPEM: certToPEM(der), KeyPEM: keyPEM, now: now}, nil
}

// Server issues a server certificate for the host names and IP addresses
// given (the first name, or address, is the common name).
func (ca *DevCA) Server(hosts ...string) (certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, fmt.Errorf("a server certificate needs a host name")
	}
	tmpl := ca.template(hosts[0], x509.ExtKeyUsageServerAuth)
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return ca.issue(tmpl)
}

// Client issues a client certificate with the common name cn and, when
// given, the DNS names (an endpoint's FQDN).
func (ca *DevCA) Client(cn string, dnsNames ...string) (certPEM, keyPEM []byte, err error) {
	tmpl := ca.template(cn, x509.ExtKeyUsageClientAuth)
	tmpl.DNSNames = dnsNames
	return ca.issue(tmpl)
}

func (ca *DevCA) template(cn string, usage x509.ExtKeyUsage) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"spinegw development"}},
		NotBefore:    ca.now.Add(-time.Hour),
		NotAfter:     ca.now.Add(devValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
}

func (ca *DevCA) issue(tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	if keyPEM, err = keyToPEM(key); err != nil {
		return nil, nil, err
	}
	return certToPEM(der), keyPEM, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

func certToPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func keyToPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
