package libxml2

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const hl7NS = "urn:hl7-org:v3"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t testing.TB, data []byte) *Document {
	t.Helper()
	d, err := Parse(data, ParseOptions{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return d
}

func TestParseAndNavigate(t *testing.T) {
	d := mustParse(t, readTestdata(t, "QUPC_IN000006GB01.xml"))
	defer d.Free()

	root := d.Root()
	if root.LocalName() != "QUPC_IN000006GB01" || root.NamespaceURI() != hl7NS || root.Prefix() != "" {
		t.Fatalf("root = {%s}%s prefix %q", root.NamespaceURI(), root.LocalName(), root.Prefix())
	}
	if root.Line() != 2 {
		t.Errorf("root line = %d, want 2", root.Line())
	}
	if root.Parent() != nil {
		t.Error("root has a parent element")
	}
	first := root.FirstChildElement()
	if first.LocalName() != "id" || first.Attr("root") != "8F2C6B1E-4D7A-4C39-9E05-3B1A7D2F6C90" || first.Line() != 3 {
		t.Errorf("first child = %s root=%q line %d", first.LocalName(), first.Attr("root"), first.Line())
	}
	if got := first.NextSiblingElement().LocalName(); got != "creationTime" {
		t.Errorf("second child = %s", got)
	}
	var names []string
	for c := root.FirstChildElement(); c != nil; c = c.NextSiblingElement() {
		names = append(names, c.LocalName())
	}
	if got := strings.Join(names, ","); got != "id,creationTime,versionCode,interactionId,processingCode,processingModeCode,acceptAckCode,communicationFunctionRcv,communicationFunctionSnd,ControlActEvent" {
		t.Errorf("children = %s", got)
	}
	if root.Child("", "id") != nil {
		t.Error("Child matched an HL7 element with an empty namespace")
	}
	ia := root.Child(hl7NS, "interactionId")
	if ia.Attr("extension") != "QUPC_IN000006GB01" || ia.Attr("missing") != "" {
		t.Errorf("interactionId extension = %q", ia.Attr("extension"))
	}
	if _, ok := ia.LookupAttrNS("", "missing"); ok {
		t.Error("LookupAttrNS found a missing attribute")
	}

	query := root.Child(hl7NS, "ControlActEvent").Child(hl7NS, "subject").
		Child(hl7NS, "CP-ISQueryStub").Child(hl7NS, "cP-ISNHSQuery")
	nhs := query.Child(hl7NS, "queryByParameter").Child(hl7NS, "person.NHSnumber").Child(hl7NS, "value")
	if nhs.Attr("extension") != "9434765919" {
		t.Errorf("NHS number = %q", nhs.Attr("extension"))
	}
	author := query.Child(hl7NS, "author")
	cid := author.Child("NPFIT:HL7:Localisation", "contentId")
	if cid == nil || cid.Prefix() != "npfitlc" || cid.Attr("extension") != "COCT_TP145102GB01#AssignedAuthor" {
		t.Fatalf("contentId = %v", cid)
	}
	aa := author.Child(hl7NS, "COCT_TP145102GB01.AssignedAuthor")
	if ids := aa.Children(hl7NS, "id"); len(ids) != 2 {
		t.Errorf("%d ids", len(ids))
	}
	name := aa.Child(hl7NS, "assignedAuthorPerson").Child(hl7NS, "name")
	if got := name.Child(hl7NS, "family").Text(); got != "Jones" {
		t.Errorf("family = %q", got)
	}
	if got := strings.Join(strings.Fields(name.Text()), " "); got != "Dr Alice Jones" {
		t.Errorf("name text = %q", got)
	}
	if got := name.Child(hl7NS, "family").Parent().LocalName(); got != "name" {
		t.Errorf("parent = %s", got)
	}
}

func TestTextAndAttributes(t *testing.T) {
	d := mustParse(t, []byte(`<r xmlns:a="urn:a" a:x="ns" x="plain" e="&lt;&amp;&#65;">one<!-- c --><b>two<c>three</c></b><![CDATA[<four>]]><?pi five?>six</r>`))
	defer d.Free()
	r := d.Root()
	if got := r.Text(); got != "onetwothree<four>six" {
		t.Errorf("Text = %q", got)
	}
	if r.Attr("x") != "plain" || r.AttrNS("urn:a", "x") != "ns" || r.AttrNS("urn:b", "x") != "" {
		t.Errorf("attrs %q %q", r.Attr("x"), r.AttrNS("urn:a", "x"))
	}
	if got := r.Attr("e"); got != "<&A" {
		t.Errorf("predefined/char refs in attribute = %q", got)
	}
	if got := r.FirstChildElement().FirstChildElement().Text(); got != "three" {
		t.Errorf("c = %q", got)
	}
	if (&Node{p: r.FirstChildElement().FirstChildElement().p}).FirstChildElement() != nil {
		t.Error("leaf has a child element")
	}
}

func TestFreeIsIdempotent(t *testing.T) {
	d := mustParse(t, []byte("<a/>"))
	d.Free()
	d.Free()
	if d.Root() != nil {
		t.Error("Root after Free")
	}
	var nilDoc *Document
	nilDoc.Free()
}

// listener counts TCP connections to a local port; hostile inputs point
// at it to prove that nothing is fetched.
type listener struct {
	ln    net.Listener
	conns atomic.Int64
}

func newListener(t *testing.T) *listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &listener{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.conns.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return l
}

func (l *listener) url(path string) string { return "http://" + l.ln.Addr().String() + path }

func (l *listener) assertUntouched(t *testing.T) {
	t.Helper()
	time.Sleep(20 * time.Millisecond) // let a stray connection be accepted
	if n := l.conns.Load(); n != 0 {
		t.Errorf("%d network connection(s) made", n)
	}
}

func maxRSSKiB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss
}

func billionLaughs() string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol0 \"lol\">\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, " <!ENTITY lol%d \"%s\">\n", i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	b.WriteString("]>\n<lolz>&lol9;</lolz>\n")
	return b.String()
}

func quadraticBlowup() string {
	big := strings.Repeat("A", 50000)
	return "<?xml version=\"1.0\"?>\n<!DOCTYPE kaboom [<!ENTITY a \"" + big + "\">]>\n<kaboom>" +
		strings.Repeat("&a;", 50000) + "</kaboom>"
}

func nested(depth int) string {
	return strings.Repeat("<a>", depth) + strings.Repeat("</a>", depth)
}

// TestHostileInput: each input is refused with the right kind, quickly,
// without reading a file or opening a connection.
func TestHostileInput(t *testing.T) {
	l := newListener(t)
	passwd, _ := os.ReadFile("/etc/passwd")
	invalidUTF8 := []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>caf\xe9 \xff\xfe</a>")

	cases := []struct {
		name string
		data string
		opt  ParseOptions
		kind ErrorKind
	}{
		{"XXE file", "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<r>&x;</r>", ParseOptions{}, DoctypeForbidden},
		{"XXE http", "<!DOCTYPE r [<!ENTITY x SYSTEM \"" + l.url("/x") + "\">]><r>&x;</r>", ParseOptions{}, DoctypeForbidden},
		{"XXE parameter entity", "<!DOCTYPE r [<!ENTITY % p SYSTEM \"" + l.url("/p") + "\"> %p;]><r/>", ParseOptions{}, DoctypeForbidden},
		{"XXE in attribute default", "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\"><!ATTLIST r a CDATA \"&x;\">]><r/>", ParseOptions{}, DoctypeForbidden},
		{"billion laughs", billionLaughs(), ParseOptions{}, DoctypeForbidden},
		{"quadratic blow-up", quadraticBlowup(), ParseOptions{}, DoctypeForbidden},
		{"external DTD file", "<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><x/>", ParseOptions{}, DoctypeForbidden},
		{"external DTD http", "<!DOCTYPE x PUBLIC \"-//X//EN\" \"" + l.url("/dtd") + "\"><x/>", ParseOptions{}, DoctypeForbidden},
		{"bare DOCTYPE", "<!DOCTYPE x><x/>", ParseOptions{}, DoctypeForbidden},
		{"10,000-deep nesting", nested(10000), ParseOptions{}, TooDeep},
		{"100,000-deep unclosed", strings.Repeat("<a>", 100000), ParseOptions{}, TooDeep},
		{"deeper than MaxDepth", nested(11), ParseOptions{MaxDepth: 10}, TooDeep},
		{"deeper than 256", nested(257), ParseOptions{MaxDepth: 100000}, TooDeep},
		{"oversize", "<a>" + strings.Repeat("x", 2000) + "</a>", ParseOptions{MaxBytes: 1024}, TooLarge},
		{"invalid UTF-8", string(invalidUTF8), ParseOptions{}, InvalidEncoding},
		{"invalid UTF-8 in a name", "<a\xc3\x28/>", ParseOptions{}, InvalidEncoding},
		{"unknown encoding", "<?xml version=\"1.0\" encoding=\"x-no-such-charset\"?><a/>", ParseOptions{}, InvalidEncoding},
		{"forbidden character", "<a>\x01</a>", ParseOptions{}, NotWellFormed},
		{"empty", "", ParseOptions{}, NotWellFormed},
		{"whitespace only", "  \n ", ParseOptions{}, NotWellFormed},
		{"prolog only", "<?xml version=\"1.0\"?>\n", ParseOptions{}, NotWellFormed},
		{"truncated", "<?xml version=\"1.0\"?>\n<a>\n  <b x=\"1\">text</b>\n  <c", ParseOptions{}, NotWellFormed},
		{"mismatched tags", "<a><b></a></b>", ParseOptions{}, NotWellFormed},
		{"undeclared prefix", "<soap:Envelope/>", ParseOptions{}, NotWellFormed},
		{"undeclared entity", "<a>&x;</a>", ParseOptions{}, NotWellFormed},
		{"two roots", "<a/><b/>", ParseOptions{}, NotWellFormed},
		{"DOCTYPE after root", "<a/><!DOCTYPE a>", ParseOptions{}, NotWellFormed},
		{"NUL byte", "<a>\x00</a>", ParseOptions{}, NotWellFormed},
	}
	rssBefore := maxRSSKiB()
	denials := loaderDenials()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			d, err := Parse([]byte(c.data), c.opt)
			elapsed := time.Since(start)
			if d != nil {
				d.Free()
				t.Fatal("hostile input parsed")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			if pe.Kind != c.kind {
				t.Errorf("kind = %v, want %v (%v)", pe.Kind, c.kind, pe)
			}
			if pe.Msg == "" || pe.Error() == "" {
				t.Error("empty message")
			}
			if elapsed > time.Second {
				t.Errorf("took %v", elapsed)
			}
			if len(passwd) > 0 && strings.Contains(pe.Msg, "root:") {
				t.Errorf("message leaks /etc/passwd: %s", pe.Msg)
			}
			t.Logf("%v in %v", pe, elapsed)
		})
	}
	// The DOCTYPE is refused before any entity is declared, so the loader
	// is not even asked.
	if n := loaderDenials() - denials; n != 0 {
		t.Errorf("entity loader was asked %d times", n)
	}
	if grew := maxRSSKiB() - rssBefore; grew > 64<<10 {
		t.Errorf("peak RSS grew by %d KiB", grew)
	}
	l.assertUntouched(t)
}

func TestParseErrorLines(t *testing.T) {
	_, err := Parse([]byte("<?xml version=\"1.0\"?>\n<a>\n  <b>text</b>\n  <c>\n</a>\n"), ParseOptions{})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Kind != NotWellFormed {
		t.Fatalf("err = %v", err)
	}
	if pe.Line != 5 {
		t.Errorf("line = %d, want 5 (%v)", pe.Line, pe)
	}
	if !strings.Contains(pe.Error(), "line 5") {
		t.Errorf("Error() = %q", pe.Error())
	}

	_, err = Parse([]byte("<a>\n<b>\n<!DOCTYPE x>"), ParseOptions{})
	if !errors.As(err, &pe) || pe.Line != 3 {
		t.Errorf("err = %v", err)
	}
	_, err = Parse([]byte("\n\n<!DOCTYPE x [<!ENTITY a 'b'>]><x/>"), ParseOptions{})
	if !errors.As(err, &pe) || pe.Kind != DoctypeForbidden || pe.Line != 3 {
		t.Errorf("err = %v", err)
	}
	_, err = Parse([]byte("<a>\n<a>\n<a>\n<a/></a></a></a>"), ParseOptions{MaxDepth: 3})
	if !errors.As(err, &pe) || pe.Kind != TooDeep || pe.Line != 4 {
		t.Errorf("err = %v", err)
	}
}

func TestDepthLimits(t *testing.T) {
	for _, c := range []struct {
		depth, max int
		ok         bool
	}{
		{256, 0, true}, {257, 0, false},
		{10, 10, true}, {11, 10, false},
		{1, 1, true}, {2, 1, false},
		{256, 1000, true}, {257, 1000, false},
	} {
		d, err := Parse([]byte(nested(c.depth)), ParseOptions{MaxDepth: c.max})
		if c.ok != (err == nil) {
			t.Errorf("depth %d, MaxDepth %d: err = %v", c.depth, c.max, err)
		}
		d.Free()
	}
}

func TestMaxBytesBoundary(t *testing.T) {
	data := []byte("<a>12345</a>")
	d, err := Parse(data, ParseOptions{MaxBytes: len(data)})
	if err != nil {
		t.Fatal(err)
	}
	d.Free()
	if _, err := Parse(data, ParseOptions{MaxBytes: len(data) - 1}); err.(*ParseError).Kind != TooLarge {
		t.Errorf("err = %v", err)
	}
}

// TestXIncludeNotProcessed: an xi:include stays an element; its target is
// neither read nor merged.
func TestXIncludeNotProcessed(t *testing.T) {
	l := newListener(t)
	const xi = "http://www.w3.org/2001/XInclude"
	data := `<r xmlns:xi="` + xi + `"><xi:include href="file:///etc/passwd" parse="text"/>` +
		`<xi:include href="` + l.url("/inc") + `"/></r>`
	denials := loaderDenials()
	d := mustParse(t, []byte(data))
	defer d.Free()
	inc := d.Root().Child(xi, "include")
	if inc == nil || inc.Attr("href") != "file:///etc/passwd" || inc.Attr("parse") != "text" {
		t.Fatalf("xi:include not kept as is: %v", inc)
	}
	if n := len(d.Root().Children(xi, "include")); n != 2 {
		t.Errorf("%d xi:include elements", n)
	}
	if txt := d.Root().Text(); txt != "" {
		t.Errorf("included content: %q", txt)
	}
	if loaderDenials() != denials {
		t.Error("entity loader was asked")
	}
	l.assertUntouched(t)
}

// TestEntityLoader: the loader refuses everything outside schema
// compilation, and during it everything but the schema directory.
func TestEntityLoader(t *testing.T) {
	l := newListener(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	allowed := dir + string(filepath.Separator)
	inside := filepath.Join(dir, "a.xsd")
	if err := os.WriteFile(inside, []byte("<x/>"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "link.xsd")); err != nil {
		t.Fatal(err)
	}
	// A sibling whose name shares the prefix must not pass a prefix test.
	sibling := dir + "x"
	if err := os.WriteFile(sibling, []byte("<x/>"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(sibling) })

	for _, c := range []struct {
		url, dir string
		ok       bool
	}{
		{"/etc/passwd", "", false},
		{"file:///etc/passwd", "", false},
		{inside, "", false},
		{l.url("/x.xsd"), "", false},
		{"/etc/passwd", allowed, false},
		{"file:///etc/passwd", allowed, false},
		{"file://localhost/etc/passwd", allowed, false},
		{dir + "/../../../../etc/passwd", allowed, false},
		{filepath.Join(dir, "link.xsd"), allowed, false},
		{sibling, allowed, false},
		{l.url("/x.xsd"), allowed, false},
		{"ftp://127.0.0.1/x.xsd", allowed, false},
		{"a.xsd", allowed, false},
		{inside, allowed, true},
		{"file://" + inside, allowed, true},
		{"file://" + strings.ReplaceAll(inside, "a.xsd", "%61.xsd"), allowed, true},
	} {
		if got := probeEntityLoader(c.url, c.dir); got != c.ok {
			t.Errorf("load %q with dir %q = %v, want %v", c.url, c.dir, got, c.ok)
		}
	}
	l.assertUntouched(t)
}
