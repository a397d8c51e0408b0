package conformance_test

import (
	"os"
	"strings"
	"testing"

	"spinegw/conformance"
)

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("cases/" + name + "/response.xml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// replace replaces exactly one occurrence, so that a test cannot pass
// because its edit did nothing.
func replace(t *testing.T, s, old, new string) string {
	t.Helper()
	if strings.Count(s, old) != 1 {
		t.Fatalf("%q occurs %d times", old, strings.Count(s, old))
	}
	return strings.Replace(s, old, new, 1)
}

// What a fresh answer legitimately varies is ignored: message ids,
// wsa:MessageID/RelatesTo, creation and effective times, and how the
// document is written (prefixes, attribute order, whitespace).
func TestCompareIgnoresIDsTimestampsAndSpelling(t *testing.T) {
	want := golden(t, "positive-cpp")
	got := want
	got = replace(t, got, "uuid:5C0E1D2A-0000-4000-8000-000000000001", "uuid:11111111-2222-4333-8444-555555555555")
	msgID := between(t, got, "<wsa:MessageID>", "</wsa:MessageID>")
	got = strings.ReplaceAll(got, strings.TrimPrefix(msgID, "uuid:"), "ABCDEF01-2345-4678-89AB-CDEF01234567")
	got = replace(t, got, `<creationTime value="20261122100000+0000"/>`, `<creationTime value="20270101093000+0000"/>`)
	got = replace(t, got, `<effectiveTime value="20261122100000+0000"/>`, `<effectiveTime value="20270101093001+0000"/>`)
	got = replace(t, got, `<id root="9A1B2C3D-0000-4000-8000-000000000001"/>`, `<id root="0F0F0F0F-0000-4000-8000-000000000009"/>`)
	// Another prefix for the envelope, attributes reordered, whitespace.
	got = strings.ReplaceAll(got, "SOAP-ENV:", "soapenv:")
	got = replace(t, got, "xmlns:SOAP-ENV=", "xmlns:soapenv=")
	got = replace(t, got, `<id root="2.16.840.1.113883.2.1.4.1" extension="9990001006"/>`, "\n  <id extension=\"9990001006\"\n root=\"2.16.840.1.113883.2.1.4.1\"/>\n")
	if got == want {
		t.Fatal("the edits did nothing")
	}
	if d := conformance.CompareXML([]byte(want), []byte(got)); len(d) != 0 {
		t.Errorf("differences reported:\n%s", strings.Join(d, "\n"))
	}
	// HL7 in the default namespace or under a prefix is the same document.
	fr := golden(t, "upload-success")
	if d := conformance.CompareXML([]byte(fr), []byte(fr)); len(d) != 0 {
		t.Errorf("a document differs from itself: %v", d)
	}
}

func between(t *testing.T, s, a, b string) string {
	t.Helper()
	i := strings.Index(s, a)
	j := strings.Index(s, b)
	if i < 0 || j < i {
		t.Fatalf("no %s...%s", a, b)
	}
	return s[i+len(a) : j]
}

// Every real difference is caught, and named by a readable path.
func TestCompareCatchesRealDifferences(t *testing.T) {
	want := golden(t, "positive-cpp")
	for _, c := range []struct {
		name, old, new, diff string
	}{
		{"NHS number", `extension="9990001006"`, `extension="9990001073"`,
			`COCT_TP145101GB01.Child/id/@extension: "9990001073", want "9990001006"`},
		{"birth date", `<birthTime value="20150314"/>`, `<birthTime value="20150315"/>`,
			`birthTime/@value: "20150315", want "20150314"`},
		{"plan date", `<value value="202601100000"/>`, `<value value="202601110000"/>`,
			`cPPStartDate/value/@value: "202601110000", want "202601100000"`},
		{"name text", `<given>Amelia</given>`, `<given>Amelie</given>`, `given: text "Amelie", want "Amelia"`},
		{"missing element", `<telecom value="tel:02075272000" use="WP"/>`, ``, `missing element telecom (child 4)`},
		{"extra element", `<queryAck>`, `<queryAck><extra/>`, `unexpected element extra`},
		{"extra attribute", `<queryResponseCode code="OK"/>`, `<queryResponseCode code="OK" nullFlavor="NI"/>`, `queryResponseCode/@nullFlavor: unexpected attribute "NI"`},
		{"missing attribute", `<telecom value="tel:02075277777" use="EC"/>`, `<telecom value="tel:02075277777"/>`, `telecom/@use: missing, want "EC"`},
		{"response code", `<queryResponseCode code="OK"/>`, `<queryResponseCode code="ID"/>`, `queryResponseCode/@code: "ID", want "OK"`},
		{"wsa:Action", `<wsa:Action>urn:nhs:names:services:cpisquery/REPC_IN000007GB01</wsa:Action>`,
			`<wsa:Action>urn:nhs:names:services:cpisquery/QUQI_IN010000UK14</wsa:Action>`, `wsa:Action: text`},
		{"a message id that is no longer a UUID", `<id root="9A1B2C3D-0000-4000-8000-000000000001"/>`, `<id root="2.16.840.1.113883.2.1.4.1"/>`,
			`CP-ISNHSQueryResponse/id/@root: "2.16.840.1.113883.2.1.4.1", want "9A1B2C3D-0000-4000-8000-000000000001"`},
		{"same prefix, other namespace", `<REPC_IN000007GB01 xmlns="urn:hl7-org:v3"`, `<REPC_IN000007GB01 xmlns="urn:hl7-org:v2"`,
			`unexpected element {urn:hl7-org:v2}REPC_IN000007GB01`},
		{"second of two repeated elements", `<telecom value="tel:02075272000" use="WP"/>`, `<telecom value="tel:02075272001" use="WP"/>`,
			`organisation/telecom[2]/@value`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := replace(t, want, c.old, c.new)
			d := conformance.CompareXML([]byte(want), []byte(got))
			if len(d) == 0 {
				t.Fatal("no difference reported")
			}
			if !strings.Contains(strings.Join(d, "\n"), c.diff) {
				t.Errorf("differences do not say %q:\n%s", c.diff, strings.Join(d, "\n"))
			}
		})
	}
}

func TestCompareRefusesWhatIsNotXML(t *testing.T) {
	want := golden(t, "positive-cpp")
	for _, got := range []string{
		want[:len(want)/2],
		strings.Replace(want, "?>", "?>\n<!DOCTYPE x [<!ENTITY a \"aa\">]>", 1),
		"",
	} {
		d := conformance.CompareXML([]byte(want), []byte(got))
		if len(d) != 1 || !strings.HasPrefix(d[0], "reply: ") {
			t.Errorf("%.40q: %v", got, d)
		}
	}
	if d := conformance.CompareXML([]byte("<a"), []byte(want)); len(d) != 1 || !strings.HasPrefix(d[0], "expected response: ") {
		t.Errorf("broken expected response: %v", d)
	}
}

// A long list of differences is cut, and says so.
func TestCompareBoundsTheDifferences(t *testing.T) {
	var w, g strings.Builder
	w.WriteString("<a>")
	g.WriteString("<a>")
	for i := 0; i < 3*conformance.MaxDiffs; i++ {
		w.WriteString("<b>1</b>")
		g.WriteString("<b>2</b>")
	}
	w.WriteString("</a>")
	g.WriteString("</a>")
	d := conformance.CompareXML([]byte(w.String()), []byte(g.String()))
	if len(d) != conformance.MaxDiffs || !strings.Contains(d[len(d)-1], "not shown") {
		t.Errorf("%d differences: %v", len(d), d)
	}
}

func TestIgnoredValue(t *testing.T) {
	const hl7, wsa = "urn:hl7-org:v3", "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	u1, u2 := "9A1B2C3D-0000-4000-8000-000000000001", "0F0F0F0F-0000-4000-8000-000000000009"
	for _, c := range []struct {
		ns, local, attr, want, got string
		ignored                    bool
	}{
		{wsa, "MessageID", "", "uuid:" + u1, "uuid:" + u2, true},
		{wsa, "RelatesTo", "", "uuid:" + u1, "x", true},
		{wsa, "Action", "", "a", "b", false},
		{hl7, "creationTime", "value", "1", "2", true},
		{hl7, "effectiveTime", "value", "1", "2", true},
		{hl7, "time", "value", "1", "2", true},
		{hl7, "birthTime", "value", "1", "2", false},
		{hl7, "id", "root", u1, u2, true},
		{hl7, "id", "extension", u1, u2, true},
		{hl7, "id", "root", u1, "2.16.840.1.113883.2.1.4.1", false},
		{hl7, "id", "extension", "9990001006", "9990001073", false},
		{"urn:other", "creationTime", "value", "1", "2", false},
		{hl7, "creationTime", "nullFlavor", "1", "2", false},
	} {
		if got := conformance.IgnoredValue(c.ns, c.local, c.attr, c.want, c.got); got != c.ignored {
			t.Errorf("%s %s @%s %q/%q: ignored %v, want %v", c.ns, c.local, c.attr, c.want, c.got, got, c.ignored)
		}
	}
}
