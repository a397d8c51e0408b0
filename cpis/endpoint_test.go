package cpis

import "testing"

// CP-NHS018, CP-SC025: which client certificates identify an endpoint.
func TestAcceptsCertificate(t *testing.T) {
	plain := Endpoint{ASID: "200000000101", ODS: "RKE"}
	named := Endpoint{ASID: "200000000102", ODS: "RKE", FQDN: "ed.whittington.nhs.uk"}
	for _, tc := range []struct {
		why  string
		ep   Endpoint
		cn   string
		dns  []string
		want bool
	}{
		{"no FQDN: the CN is the ASID", plain, "200000000101", nil, true},
		{"no FQDN: another ASID", plain, "200000000102", nil, false},
		{"no FQDN: a DNS name equal to the ASID is not enough", plain, "x", []string{"200000000101"}, false},
		{"FQDN in the CN", named, "ed.whittington.nhs.uk", nil, true},
		{"FQDN in the CN, other case, final dot", named, "ED.Whittington.NHS.uk.", nil, true},
		{"FQDN as a DNS SAN", named, "Whittington ED", []string{"other.nhs.uk", "ed.whittington.nhs.uk"}, true},
		{"with an FQDN, the ASID as CN is not enough", named, "200000000102", nil, false},
		{"another FQDN", named, "pas.whittington.nhs.uk", []string{"whittington.nhs.uk"}, false},
		{"an FQDN suffix is not the FQDN", named, "x.ed.whittington.nhs.uk", nil, false},
		{"no endpoint", Endpoint{}, "", nil, false},
	} {
		if got := tc.ep.AcceptsCertificate(tc.cn, tc.dns); got != tc.want {
			t.Errorf("%s: got %v", tc.why, got)
		}
	}
	if plain.CertificateName() != "200000000101" || named.CertificateName() != "ed.whittington.nhs.uk" {
		t.Errorf("certificate names %q %q", plain.CertificateName(), named.CertificateName())
	}
}
