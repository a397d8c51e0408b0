package world

import (
	"strings"
	"testing"
)

// An endpoint may name its FQDN, the name its TLS client certificate
// carries (CP-NHS018, CP-SC025); files without the key keep working.
func TestEndpointFQDN(t *testing.T) {
	w, err := Parse([]byte("endpoints:\n  - {asid: \"200000000101\", ods: RKE, fqdn: ed.whittington.nhs.uk}\n  - {asid: \"200000000102\", ods: RKE}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Endpoints[0].FQDN; got != "ed.whittington.nhs.uk" {
		t.Errorf("fqdn = %q", got)
	}
	if got := w.Endpoints[1].FQDN; got != "" {
		t.Errorf("an endpoint without fqdn has %q", got)
	}
	for _, bad := range []string{"ed whittington", "-ed.nhs.uk", "ed..nhs.uk", "ed_1.nhs.uk", "ed.nhs.uk/x", strings.Repeat("a", 64) + ".uk"} {
		_, err := Parse([]byte("endpoints:\n  - {asid: \"200000000101\", ods: RKE, fqdn: \"" + bad + "\"}\n"))
		if err == nil || !strings.Contains(err.Error(), "line 2: endpoints[0].fqdn: an FQDN is a DNS name") {
			t.Errorf("fqdn %q: %v", bad, err)
		}
	}
}
