package hl7

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"spinegw/cpis"
	"spinegw/internal/libxml2"
)

// isXMLChar is XML 1.0's Char production (section 2.2).
func isXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		0x20 <= r && r <= 0xD7FF ||
		0xE000 <= r && r <= 0xFFFD ||
		0x10000 <= r && r <= 0x10FFFF
}

// sanitized is what a parser must read back for s: s with every character
// XML cannot carry, and every byte that is not UTF-8, replaced by U+FFFD.
// Ranging over a string yields U+FFFD for a byte that is not UTF-8, so both
// cases come out the same.
func sanitized(s string) string {
	var b strings.Builder
	for _, r := range s {
		if !isXMLChar(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// written is one attribute value and one run of character data, escaped,
// in a small document with an element of each kind the builders write.
func written(s string) []byte {
	w := getWriter()
	w.markup(`<doc><e a="`)
	w.attrValue(s)
	w.markup(`" b="x">`)
	w.charData(s)
	w.markup(`<empty/></e>`)
	w.textElement("t", s)
	w.markup(`</doc>`)
	return w.bytes()
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct {
		in, attr, text string
	}{
		{"plain text", "plain text", "plain text"},
		{"", "", ""},
		{`a & b < c > d`, `a &amp; b &lt; c &gt; d`, `a &amp; b &lt; c &gt; d`},
		{`"quoted" 'single'`, `&quot;quoted&quot; 'single'`, `"quoted" 'single'`},
		{"]]>", "]]&gt;", "]]&gt;"},
		{"&amp;", "&amp;amp;", "&amp;amp;"},
		{"tab\tline\ncr\r", "tab&#x9;line&#xA;cr&#xD;", "tab\tline\ncr&#xD;"},
		{"crlf\r\n", "crlf&#xD;&#xA;", "crlf&#xD;\n"},
		// Characters XML 1.0 cannot carry are replaced, one U+FFFD each.
		{"nul\x00", "nul\uFFFD", "nul\uFFFD"},
		{"\x01\x08\x0b\x0c\x1f", strings.Repeat("\uFFFD", 5), strings.Repeat("\uFFFD", 5)},
		{"\uFFFE\uFFFF", "\uFFFD\uFFFD", "\uFFFD\uFFFD"},
		// Bytes that are not UTF-8: a lone byte, a cut sequence, an encoded
		// surrogate, an overlong encoding, one U+FFFD per byte.
		{"caf\xe9", "caf\uFFFD", "caf\uFFFD"},
		{"\xe2\x82", "\uFFFD\uFFFD", "\uFFFD\uFFFD"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD", "\uFFFD\uFFFD\uFFFD"},
		{"\xc0\xaf", "\uFFFD\uFFFD", "\uFFFD\uFFFD"},
		// What XML allows is kept, U+FFFD itself and DEL and C1 controls
		// included.
		{"Zoë Ørsted 王 😀 \uFFFD \x7f \u0085", "Zoë Ørsted 王 😀 \uFFFD \x7f \u0085", "Zoë Ørsted 王 😀 \uFFFD \x7f \u0085"},
	} {
		w := getWriter()
		w.attrValue(tc.in)
		if got := string(w.bytes()); got != tc.attr {
			t.Errorf("attrValue(%q) = %q, want %q", tc.in, got, tc.attr)
		}
		w = getWriter()
		w.charData(tc.in)
		if got := string(w.bytes()); got != tc.text {
			t.Errorf("charData(%q) = %q, want %q", tc.in, got, tc.text)
		}
	}
}

// An empty text element is written empty, as the builders always have.
func TestTextElement(t *testing.T) {
	w := getWriter()
	w.textElement("name", "")
	w.textElement("name", "A & B")
	if got, want := string(w.bytes()), `<name/><name>A &amp; B</name>`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// A name is written as it always has been: unknown when it has no parts,
// empty when its parts are all blank.
func TestPersonNameBlankParts(t *testing.T) {
	for _, tc := range []struct {
		name cpis.Name
		want string
	}{
		{cpis.Name{}, `<name nullFlavor="UNK"/>`},
		{cpis.Name{Given: []string{"", ""}}, `<name/>`},
		{cpis.Name{Given: []string{"", "Ann"}}, `<name><given>Ann</given></name>`},
	} {
		w := getWriter()
		personName(w, tc.name)
		if got := string(w.bytes()); got != tc.want {
			t.Errorf("personName(%#v) = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// The writer grows past its pooled buffer, and a buffer that grew too large
// is not kept.
func TestWriterGrows(t *testing.T) {
	long := strings.Repeat("<&>", maxPooled/2)
	w := getWriter()
	w.markup("<a>")
	w.charData(long)
	w.markup("</a>")
	out := w.bytes()
	if want := "<a>" + strings.Repeat("&lt;&amp;&gt;", maxPooled/2) + "</a>"; string(out) != want {
		t.Fatalf("a long text came out wrong (%d bytes, want %d)", len(out), len(want))
	}
	w = getWriter()
	if cap(w.b) > maxPooled {
		t.Errorf("a %d-byte buffer was pooled", cap(w.b))
	}
}

// The bytes returned are the caller's: building another message does not
// change them.
func TestWriterOutputNotShared(t *testing.T) {
	w := getWriter()
	w.markup("<first/>")
	first := w.bytes()
	for range 10 {
		w := getWriter()
		w.markup("<other/>")
		w.bytes()
	}
	if string(first) != "<first/>" {
		t.Errorf("first message now reads %q", first)
	}
}

// checkRoundTrip parses what written(s) wrote with both encoding/xml and
// libxml2, and checks that each reads back sanitized(s) as the attribute,
// the character data and the text element.
func checkRoundTrip(t *testing.T, s string) {
	t.Helper()
	out := written(s)
	want := sanitized(s)

	// encoding/xml, strict: refuses characters outside XML's Char and bytes
	// that are not UTF-8.
	var doc struct {
		E struct {
			A    string `xml:"a,attr"`
			Text string `xml:",chardata"`
		} `xml:"e"`
		T string `xml:"t"`
	}
	d := xml.NewDecoder(bytes.NewReader(out))
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("encoding/xml: %v\n%q", err, out)
	}
	if _, err := d.Token(); err != io.EOF {
		t.Fatalf("encoding/xml: more after the document (%v)\n%q", err, out)
	}
	if doc.E.A != want || doc.E.Text != want || doc.T != want {
		t.Errorf("encoding/xml read back attr %q, text %q, element %q; want %q\n%q", doc.E.A, doc.E.Text, doc.T, want, out)
	}

	// libxml2, as the gateway and most receivers parse: it also normalises
	// attribute values, which the references for tab, line feed and
	// carriage return must survive.
	ld, err := libxml2.Parse(out, libxml2.ParseOptions{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatalf("libxml2: %v\n%q", err, out)
	}
	defer ld.Free()
	e := ld.Root().FirstChildElement()
	tt := e.NextSiblingElement()
	if a, text, el := e.Attr("a"), e.Text(), tt.Text(); a != want || text != want || el != want {
		t.Errorf("libxml2 read back attr %q, text %q, element %q; want %q\n%q", a, text, el, want, out)
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{
		"", "plain", `<a href="x">&amp;</a>`, "]]>", "\t\n\r \r\n\n\r", "  leading and trailing  ",
		"nul\x00 and \x1b[31m", "\uFFFE\uFFFF\uFFFD", "caf\xe9 \xe2\x82 \xed\xa0\x80",
		"Zoë Ørsted 王 😀", "O'Brien & Sons <Ltd>",
	} {
		checkRoundTrip(t, s)
	}
}

// FuzzEscape: whatever the string, what the writer makes of it is
// well-formed XML that reads back as the string, save what XML cannot carry.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "a&b<c>d\"e'f", "]]>", "\t\n\r", "\x00\x1f\x7f", "caf\xe9", "\uFFFE", "😀"} {
		f.Add(s)
	}
	f.Fuzz(checkRoundTrip)
}

// FuzzQueryResponseText: whatever the names the directory and the LAs hold,
// a query response stays well-formed and shows them as they are, save what
// XML cannot carry.
func FuzzQueryResponseText(f *testing.F) {
	for _, s := range []string{"Example Hospitals NHS Trust", "", "A & B <C>", "\"q\" 'a'", "tab\tnl\ncr\r", "\x00\uFFFF\xff"} {
		f.Add(s)
	}
	ns := map[string]string{"h": NS}
	f.Fuzz(func(t *testing.T, s string) {
		nhs := cpis.NHSNumber("9990000026")
		a := cpis.Answer{
			NHSNumber: nhs,
			Holdings: []cpis.Holding{{
				LA:    cpis.LocalAuthority{ODS: "E10000001", Name: s, Emergency: "01632960001"},
				Plans: []cpis.Plan{{Type: cpis.CPP, Start: cpis.Date(2023, time.January, 9)}},
			}},
			History: []cpis.AccessEvent{{
				ID: s, NHSNumber: nhs, At: time.Date(2026, 2, 27, 23, 5, 0, 0, time.UTC),
				Accessor: cpis.Accessor{
					UserID:  "100000000101",
					Name:    cpis.Name{Given: []string{"Ann"}, Family: s},
					JobRole: cpis.JobRole{Code: "R0050", Name: s},
					Org:     cpis.Org{ODS: "RX1", Name: s},
				},
			}},
		}
		r := Reply{MessageID: "C0FFEE00-1111-4222-8333-444455556666", CreationTime: time.Date(2026, 3, 1, 9, 30, 16, 0, time.UTC)}
		out, err := QueryResponse(r, Query{NHSNumber: string(nhs)}, a)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := libxml2.Parse(out, libxml2.ParseOptions{MaxBytes: 1 << 20})
		if err != nil {
			t.Fatalf("not well-formed: %v\n%q", err, out)
		}
		defer doc.Free()
		want := sanitized(s)
		displayName := want
		if s == "" {
			displayName = "R0050" // a job role without a name shows its code
		}
		for expr, want := range map[string]string{
			"//h:pertinentInformation14//h:organisation/h:name":                 want,
			"//h:representedOrganization/h:name":                                want,
			"//h:COCT_TP145102GB01.AssignedAuthor/h:code/@displayName":          displayName,
			"//h:assignedAuthorPerson/h:name/h:family":                          want,
			"//h:assignedAuthorPerson/h:name/h:given":                           "Ann",
			"//h:pertinentCP-ISNHSQuery/h:queryByParameter//h:value/@extension": "9990000026",
		} {
			got, err := doc.XPathString(expr, ns)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s = %q, want %q", expr, got, want)
			}
		}
	})
}

// FuzzQueryFailureText: whatever the reason, a query failure stays
// well-formed and carries the reason as it is, save what XML cannot carry.
func FuzzQueryFailureText(f *testing.F) {
	for _, s := range []string{"the gateway failed", "why <it> failed & more", "line 1\r\nline 2", "\x00"} {
		f.Add("SMSP-9999", s)
	}
	ns := map[string]string{"h": NS}
	f.Fuzz(func(t *testing.T, code, text string) {
		if code == "" {
			return // refused: a failure needs a code
		}
		fl := SMSP(code, text)
		out, err := QueryFailure(Reply{CreationTime: time.Date(2026, 3, 1, 9, 30, 16, 0, time.UTC)}, Query{}, fl)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := libxml2.Parse(out, libxml2.ParseOptions{MaxBytes: 1 << 20})
		if err != nil {
			t.Fatalf("not well-formed: %v\n%q", err, out)
		}
		defer doc.Free()
		const issue = "//h:justifyingDetectedIssueEvent/h:code"
		wantText := ""
		if text != fl.DisplayName {
			wantText = sanitized(text)
		}
		for expr, want := range map[string]string{
			issue + "/@code":          sanitized(code),
			issue + "/@displayName":   sanitized(fl.DisplayName),
			issue + "/h:originalText": wantText,
		} {
			got, err := doc.XPathString(expr, ns)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s = %q, want %q", expr, got, want)
			}
		}
	})
}

// Timestamps formatted by hand are what the layouts make of them, across
// summer time changes and the years at the edges of four digits.
func TestTimestampsMatchLayouts(t *testing.T) {
	var times []time.Time
	for _, base := range []time.Time{
		time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC),  // BST begins at 01:00 UTC
		time.Date(2025, 10, 26, 0, 0, 0, 0, time.UTC), // and ends at 01:00 UTC
		time.Date(1968, 10, 27, 0, 0, 0, 0, time.UTC), // British Standard Time, +0100 all year
		time.Date(1847, 12, 1, 0, 0, 0, 0, time.UTC),  // London's local mean time, -00:01:15, until here
		time.Date(9999, 12, 31, 22, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 6, 1, 0, 0, 0, 0, time.UTC),
		{},
	} {
		for h := -3 * time.Hour; h <= 3*time.Hour; h += 17 * time.Minute {
			times = append(times, base.Add(h+59*time.Second+999*time.Millisecond))
		}
	}
	times = append(times, time.Date(2026, 7, 1, 12, 0, 0, 0, time.FixedZone("elsewhere", -5*3600)))
	for _, tm := range times {
		w := getWriter()
		instant(w, tm)
		if got, want := string(w.bytes()), tm.In(cpis.London).Format("20060102150405-0700"); got != want {
			t.Errorf("instant(%v) = %s, want %s", tm, got, want)
		}
		w = getWriter()
		planDate(w, "c", "d", tm)
		if got, want := string(w.bytes()), `<c><d><value value="`+tm.UTC().Format("200601021504")+`"/></d></c>`; got != want {
			t.Errorf("planDate(%v) = %s, want %s", tm, got, want)
		}
	}
}

// eventID is the upper-case UUID of a UUID, and the name-based UUID of any
// other id, as the uuid package makes it.
func TestEventID(t *testing.T) {
	for _, id := range []string{
		"1f2e3d4c-5b6a-4798-8877-665544332211", "7A8B9C0D-1E2F-4A3B-8C4D-5E6F7A8B9C0D",
		"legacy-event-17", "", "x", "1f2e3d4c-5b6a-4798-8877-66554433221", // one digit short
		strings.Repeat("a long id that does not fit the buffer ", 4),
	} {
		want := strings.ToUpper(id)
		if !isUUID(id) {
			want = strings.ToUpper(uuid.NewSHA1(uuid.NameSpaceOID, []byte(id)).String())
		}
		if got := eventID(id); string(got[:]) != want {
			t.Errorf("eventID(%q) = %s, want %s", id, got[:], want)
		}
	}
}

// The constants written as markup are markup: nothing in them needs
// escaping.
func TestMarkupConstants(t *testing.T) {
	for _, c := range []string{
		NS, NSLocalisation, InteractionQueryResponse, InteractionQueryFailure,
		versionCode, processingCode, processingModeCode, acceptAckCode,
		oidInteraction, oidASID, oidSDSUser, oidRoleProfile, oidNHSNumber, oidContentID, oidODSOrg, oidJobRoleName,
		contentAssignedAuthor, contentSystem, contentChild, contentUnbornChild, contentCPP, contentLAC, contentUCP,
	} {
		w := getWriter()
		w.attrValue(c)
		if got := string(w.bytes()); got != c {
			t.Errorf("%q needs escaping: %q", c, got)
		}
	}
}
