package libxml2_test

import (
	"strings"
	"testing"

	"spinegw/internal/libxml2"
)

// A message inside a SOAP Body comes out as a document of its own, with the
// namespaces it took from the envelope declared on it.
func TestOuterXML(t *testing.T) {
	src := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:h="urn:hl7-org:v3" xmlns:x="urn:other">` +
		`<s:Body><h:File><h:id extension="F1"/><x:note>a &amp; b</x:note></h:File></s:Body></s:Envelope>`
	doc, err := libxml2.Parse([]byte(src), libxml2.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Free()
	file := doc.Root().Child("http://schemas.xmlsoap.org/soap/envelope/", "Body").Child("urn:hl7-org:v3", "File")
	out, err := file.OuterXML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := libxml2.Parse(out, libxml2.ParseOptions{})
	if err != nil {
		t.Fatalf("output is not a document: %v\n%s", err, out)
	}
	defer again.Free()
	root := again.Root()
	if root.LocalName() != "File" || root.NamespaceURI() != "urn:hl7-org:v3" {
		t.Fatalf("root is {%s}%s", root.NamespaceURI(), root.LocalName())
	}
	if n := root.Child("urn:other", "note"); n == nil || n.Text() != "a & b" {
		t.Fatalf("content lost: %s", out)
	}
	if strings.Contains(string(out), "Envelope") {
		t.Fatalf("the envelope came along: %s", out)
	}
}
