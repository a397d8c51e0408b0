package libxml2

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: whatever the input, Parse never crashes, classifies its errors,
// and never returns a tree that carries a DTD.
func FuzzParse(f *testing.F) {
	valid, err := os.ReadFile(filepath.Join("testdata", "QUPC_IN000006GB01.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(valid),
		"<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<r>&x;</r>",
		"<!DOCTYPE r [<!ENTITY x SYSTEM \"http://127.0.0.1:1/x\">]><r>&x;</r>",
		"<!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:1/p\"> %p;]><r/>",
		billionLaughs(),
		"<!DOCTYPE k [<!ENTITY a \"" + string(make([]byte, 64)) + "\">]><k>&a;&a;&a;&a;</k>",
		"<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><x/>",
		`<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd" parse="text"/></r>`,
		nested(300),
		"<a>caf\xe9</a>",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>caf\xe9</a>",
		"<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>",
		"\xfe\xff\x00<\x00a\x00/\x00>",
		"",
		"<a><b>",
		"<soap:Envelope/>",
		"<a/><!DOCTYPE a>",
		"<![CDATA[x]]>",
		"<a>&#0;</a>",
		"<a>&#x10FFFF;&#xD800;</a>",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data, ParseOptions{MaxBytes: 1 << 20, MaxDepth: 64})
		if err != nil {
			if d != nil {
				t.Fatal("document and error both returned")
			}
			pe, ok := err.(*ParseError)
			if !ok || pe.Kind < NotWellFormed || pe.Kind > InvalidEncoding || pe.Msg == "" {
				t.Fatalf("bad error %T %#v", err, err)
			}
			return
		}
		defer d.Free()
		if d.hasDTD() {
			t.Fatal("returned a document with a DOCTYPE")
		}
		root := d.Root()
		if root == nil {
			t.Fatal("document without root element")
		}
		// Touch the whole tree through the Go-side navigation.
		var walk func(n *Node, depth int)
		walk = func(n *Node, depth int) {
			if depth > 64 {
				t.Fatalf("depth %d beyond MaxDepth", depth)
			}
			_ = n.LocalName() + n.NamespaceURI() + n.Attr("a") + n.Text()
			_ = n.Line()
			for c := n.FirstChildElement(); c != nil; c = c.NextSiblingElement() {
				walk(c, depth+1)
			}
		}
		walk(root, 1)
		if _, err := d.XPath("//*", nil); err != nil {
			t.Fatal(err)
		}
	})
}
