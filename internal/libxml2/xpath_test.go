package libxml2

import (
	"errors"
	"strings"
	"testing"
)

var hl7Prefixes = map[string]string{
	"hl7":     hl7NS,
	"npfitlc": "NPFIT:HL7:Localisation",
}

func TestXPath(t *testing.T) {
	d := mustParse(t, readTestdata(t, "QUPC_IN000006GB01.xml"))
	defer d.Free()

	nodes, err := d.XPath("/hl7:QUPC_IN000006GB01/hl7:communicationFunctionRcv/hl7:device/hl7:id", hl7Prefixes)
	if err != nil || len(nodes) != 1 || nodes[0].Attr("extension") != "928942012545" {
		t.Fatalf("Rcv ASID: %v %v", nodes, err)
	}
	// Prefixes are the caller's, not the sender's: the instance uses a
	// default namespace.
	nodes, err = d.XPath("//x:COCT_TP145102GB01.AssignedAuthor/x:id", map[string]string{"x": hl7NS})
	if err != nil || len(nodes) != 2 || nodes[1].Attr("root") != "1.2.826.0.1285.0.2.0.67" {
		t.Fatalf("author ids: %v %v", nodes, err)
	}
	nodes, err = d.XPath("//hl7:nothing", hl7Prefixes)
	if err != nil || nodes != nil {
		t.Errorf("no match: %v %v", nodes, err)
	}
	// An unprefixed step means "no namespace" in XPath 1.0, so it does not
	// match HL7 elements.
	if nodes, err := d.XPath("/QUPC_IN000006GB01", nil); err != nil || len(nodes) != 0 {
		t.Errorf("unprefixed step: %v %v", nodes, err)
	}

	s, err := d.XPathString("//hl7:person.NHSnumber/hl7:value/@extension", hl7Prefixes)
	if err != nil || s != "9434765919" {
		t.Errorf("NHS number: %q %v", s, err)
	}
	s, err = d.XPathString("count(//hl7:id)", hl7Prefixes)
	if err != nil || s != "8" {
		t.Errorf("count: %q %v", s, err)
	}
	s, err = d.XPathString("//npfitlc:contentId/@extension", hl7Prefixes)
	if err != nil || s != "COCT_TP145102GB01#AssignedAuthor" {
		t.Errorf("contentId: %q %v", s, err)
	}

	query, err := d.XPath("//hl7:cP-ISNHSQuery", hl7Prefixes)
	if err != nil || len(query) != 1 {
		t.Fatal(err)
	}
	rel, err := query[0].XPath("hl7:author/hl7:COCT_TP145102GB01.AssignedAuthor/hl7:representedOrganization/hl7:id", hl7Prefixes)
	if err != nil || len(rel) != 1 || rel[0].Attr("extension") != "RR8" {
		t.Errorf("relative: %v %v", rel, err)
	}
	s, err = query[0].XPathString("hl7:effectiveTime/@value", hl7Prefixes)
	if err != nil || s != "20240315093011" {
		t.Errorf("relative string: %q %v", s, err)
	}
}

func TestXPathErrors(t *testing.T) {
	d := mustParse(t, []byte(`<a xmlns="urn:a" x="1"><b>t</b></a>`))
	defer d.Free()
	ns := map[string]string{"a": "urn:a"}
	for _, c := range []struct {
		expr string
		ns   map[string]string
		want string
	}{
		{"//zz:b", ns, "Undefined namespace prefix"},
		{"//a:b[", ns, "Invalid"},
		{"/a:a/@x", ns, "non-element"},
		{"//a:b/text()", ns, "non-element"},
		{"count(//a:b)", ns, "not a node-set"},
		{"//a:b", map[string]string{"": "urn:a"}, "empty prefix"},
		{"//a:b\x00", ns, "NUL"},
	} {
		_, err := d.XPath(c.expr, c.ns)
		var xe *XPathError
		if !errors.As(err, &xe) || !strings.Contains(xe.Msg, c.want) {
			t.Errorf("%q: err = %v, want %q", c.expr, err, c.want)
		}
	}
	if _, err := d.XPathString("//zz:b", ns); err == nil {
		t.Error("XPathString with an unbound prefix")
	}
	d.Free()
	if _, err := d.XPath("/", nil); err == nil {
		t.Error("XPath on a freed document")
	}
}
