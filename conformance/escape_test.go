package conformance

import (
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/internal/libxml2"
)

// Names from a world file reach the request templates as text: a name with
// XML's special characters still gives a well-formed request that carries it.
func TestRequestEscapesWorldText(t *testing.T) {
	ep := cpis.Endpoint{ASID: "200000000101", ODS: "RKE", Name: `Smith & Sons <PAS> "A"`}
	u := cpis.User{ID: "200009876205", Name: cpis.Name{Given: []string{"Ann<e>"}, Family: "O'Brien & Co"}}
	rp := cpis.RoleProfile{ID: "100077650988", JobRole: cpis.JobRole{Code: "R8000", Name: "Clinical & Practitioner"},
		Org: cpis.Org{ODS: "RKE", Name: `Trust "A" & <B>`}}
	body := NewQuery("990000000001", ep, u, rp, "9990001006", time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)).Render()
	doc, err := libxml2.Parse(body, libxml2.ParseOptions{})
	if err != nil {
		t.Fatalf("not well-formed: %v", err)
	}
	defer doc.Free()
	if !strings.Contains(string(body), "O&apos;Brien &amp; Co") && !strings.Contains(string(body), "O&#39;Brien &amp; Co") {
		t.Errorf("family name not escaped as text:\n%s", body)
	}
}
