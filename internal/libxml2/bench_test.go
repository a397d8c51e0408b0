package libxml2

import "testing"

// BenchmarkParseValidate is the gateway's hot path: parse a message and
// validate the HL7 element against a compiled schema.
func BenchmarkParseValidate(b *testing.B) {
	s := qupc(b)
	data := readTestdata(b, "QUPC_IN000006GB01.xml")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := Parse(data, ParseOptions{MaxBytes: 1 << 20})
		if err != nil {
			b.Fatal(err)
		}
		if errs := s.ValidateElement(d.Root()); errs != nil {
			b.Fatal(errs)
		}
		d.Free()
	}
}

func BenchmarkParse(b *testing.B) {
	data := readTestdata(b, "QUPC_IN000006GB01.xml")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := Parse(data, ParseOptions{})
		if err != nil {
			b.Fatal(err)
		}
		d.Free()
	}
}

func BenchmarkXPath(b *testing.B) {
	d := mustParse(b, readTestdata(b, "QUPC_IN000006GB01.xml"))
	defer d.Free()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.XPathString("//hl7:person.NHSnumber/hl7:value/@extension", hl7Prefixes); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNavigate(b *testing.B) {
	d := mustParse(b, readTestdata(b, "QUPC_IN000006GB01.xml"))
	defer d.Free()
	b.ReportAllocs()
	for b.Loop() {
		v := d.Root().Child(hl7NS, "ControlActEvent").Child(hl7NS, "subject").
			Child(hl7NS, "CP-ISQueryStub").Child(hl7NS, "cP-ISNHSQuery").
			Child(hl7NS, "queryByParameter").Child(hl7NS, "person.NHSnumber").
			Child(hl7NS, "value").Attr("extension")
		if v != "9434765919" {
			b.Fatal(v)
		}
	}
}
