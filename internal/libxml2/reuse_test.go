package libxml2

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"

	hl7schema "spinegw/hl7/schema"
)

// Parser contexts and validation contexts are reused (see doc.go). These
// tests run documents that leave different state behind (an encoding
// switch, a halted parse, a large input, many names) one after the other, so
// that anything one left in a context would show in the next result.

// utf16Doc is doc encoded as UTF-16LE with a byte order mark.
func utf16Doc(doc string) []byte {
	out := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(doc)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

type reuseCase struct {
	name string
	data []byte
	kind ErrorKind // 0: parses
	text string    // Text() of the root when it parses
}

func reuseCases() []reuseCase {
	big := "<r>" + strings.Repeat("<x>y</x>", 4000) + "</r>"
	return []reuseCase{
		{"utf-8", []byte("<r>caf\u00e9 \u20ac</r>"), 0, "caf\u00e9 \u20ac"},
		{"latin-1", []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r>caf\xe9</r>"), 0, "caf\u00e9"},
		{"utf-16", utf16Doc("<?xml version=\"1.0\" encoding=\"UTF-16\"?><r>\u00e9t\u00e9</r>"), 0, "\u00e9t\u00e9"},
		{"doctype", []byte(billionLaughs()), DoctypeForbidden, ""},
		{"too deep", []byte(nested(300)), TooDeep, ""},
		{"bad utf-8", []byte("<r>\xff\xfe</r>"), InvalidEncoding, ""},
		{"unbound prefix", []byte("<p:r/>"), NotWellFormed, ""},
		{"truncated", []byte("<r><a>"), NotWellFormed, ""},
		{"large", []byte(big), 0, strings.Repeat("y", 4000)},
		{"short", []byte("<r>z</r>"), 0, "z"},
	}
}

func checkReuseCase(c reuseCase) error {
	d, err := Parse(c.data, ParseOptions{})
	if c.kind != 0 {
		var pe *ParseError
		if d != nil || !errors.As(err, &pe) || pe.Kind != c.kind {
			d.Free()
			return fmt.Errorf("%s: err = %v, want %v", c.name, err, c.kind)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %v", c.name, err)
	}
	defer d.Free()
	if got := d.Root().Text(); got != c.text {
		return fmt.Errorf("%s: text %q, want %q", c.name, got, c.text)
	}
	return nil
}

func TestParserReuseAcrossDocuments(t *testing.T) {
	cases := reuseCases()
	ref := readTestdata(t, "QUPC_IN000006GB01.xml")
	// Every ordered pair: each case right after every other one, then the
	// reference message after it.
	for _, a := range cases {
		for _, b := range cases {
			for _, c := range []reuseCase{a, b} {
				if err := checkReuseCase(c); err != nil {
					t.Fatalf("after %s: %v", a.name, err)
				}
			}
			d := mustParse(t, ref)
			v := d.Root().Child(hl7NS, "interactionId").Attr("extension")
			d.Free()
			if v != "QUPC_IN000006GB01" {
				t.Fatalf("after %s then %s: interactionId extension %q", a.name, b.name, v)
			}
		}
	}
}

// TestReusedBufferBeyondLookupLimit: libxml2 treats in-memory input
// specially beyond 10 MB (XML_MAX_LOOKUP_LIMIT); a document that large
// parses into a kept input buffer as it does into a new one.
func TestReusedBufferBeyondLookupLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("11 MB document")
	}
	doc := []byte("<r>" + strings.Repeat("<x>y</x>", 11<<20/8) + "</r>")
	for i := 0; i < 2; i++ {
		mustParse(t, []byte("<a/>")).Free()
		d, err := Parse(doc, ParseOptions{})
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		d.Free()
	}
}

// TestLiveDocumentsKeepTheirTrees holds documents while others are parsed
// and freed: each live one keeps its own parser state, so its names and text
// stay intact.
func TestLiveDocumentsKeepTheirTrees(t *testing.T) {
	var live []*Document
	for i := 0; i < 20; i++ {
		d := mustParse(t, fmt.Appendf(nil, `<r%d xmlns="urn:x%d"><c%d a%d="v%d">t%d</c%d></r%d>`, i, i, i, i, i, i, i, i))
		live = append(live, d)
		// Churn: parse and free other documents in between.
		for _, c := range reuseCases() {
			if err := checkReuseCase(c); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, d := range live {
		r := d.Root()
		c := r.Child(fmt.Sprintf("urn:x%d", i), fmt.Sprintf("c%d", i))
		if r.LocalName() != fmt.Sprintf("r%d", i) || c == nil || c.Attr(fmt.Sprintf("a%d", i)) != fmt.Sprintf("v%d", i) || c.Text() != fmt.Sprintf("t%d", i) {
			t.Errorf("document %d changed: root %s", i, r.LocalName())
		}
		d.Free()
	}
}

// TestDictionaryBounded: a document with many distinct names grows the
// dictionary of the parser state that parsed it; once it is freed, the
// next document parsed with that state does not inherit the big dictionary.
func TestDictionaryBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("<r>")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "<element-with-a-long-name-%d/>", i)
	}
	b.WriteString("</r>")
	d := mustParse(t, []byte(b.String()))
	if n := d.dictBytes(); n < 512<<10 {
		t.Fatalf("dictionary of the big document: %d bytes, expected more than 512 KiB", n)
	}
	d.Free()
	// The pool hands back the state just freed.
	d = mustParse(t, []byte("<r><a/></r>"))
	defer d.Free()
	if n := d.dictBytes(); n > 64<<10 {
		t.Errorf("dictionary after the big document: %d bytes", n)
	}
}

// TestOversizedStatesNotKept: a document with a thousand attributes on one
// element, or a thousand namespaces in scope, grows arrays in its parser
// context that would stay allocated; that state is freed, not pooled.
func TestOversizedStatesNotKept(t *testing.T) {
	var attrs, nss strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&attrs, ` a%d="v"`, i)
		fmt.Fprintf(&nss, ` xmlns:p%d="urn:p%d"`, i, i)
	}
	for _, doc := range []string{"<r" + attrs.String() + "/>", "<r" + nss.String() + "/>", "<r" + attrs.String() + ">"} {
		st := getParser()
		putParser(st, true)
		d, err := Parse([]byte(doc), ParseOptions{})
		if err == nil {
			if d.st != st {
				t.Fatal("the pool did not hand back the last state")
			}
			d.Free()
		}
		parsers.mu.Lock()
		for _, idle := range parsers.idle {
			if idle == st {
				t.Errorf("state of %.20s... kept", doc)
			}
		}
		parsers.mu.Unlock()
	}
}

// TestValidatorReuse: a validation context used for an invalid message
// reports nothing of it in later validations, and a Schema frees the
// contexts it keeps.
func TestValidatorReuse(t *testing.T) {
	s, err := CompileSchema(hl7schema.FS, "Schemas/QUPC_IN000006GB01.xsd")
	if err != nil {
		t.Fatal(err)
	}
	valid := readTestdata(t, "QUPC_IN000006GB01.xml")
	invalid := []byte(strings.Replace(string(valid), `<processingCode code="P"/>`, `<processingCode code="X"/>`, 1))
	dv, di := mustParse(t, valid), mustParse(t, invalid)
	defer dv.Free()
	defer di.Free()
	for i := 0; i < 3; i++ {
		if errs := s.ValidateElement(dv.Root()); errs != nil {
			t.Fatalf("round %d, valid: %v", i, errs)
		}
		errs := s.ValidateElement(di.Root())
		if len(errs) != 1 || !strings.Contains(errs[0].Msg, "processingCode") {
			t.Fatalf("round %d, invalid: %v", i, errs)
		}
	}
	s.Free()
	s.Free()
	if errs := s.ValidateElement(dv.Root()); len(errs) != 1 || errs[0].Msg != "schema is freed" {
		t.Errorf("after Free: %v", errs)
	}
}
