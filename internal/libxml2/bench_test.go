package libxml2

import (
	"os"
	"sync"
	"testing"

	hl7schema "spinegw/hl7/schema"
)

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

// soapQuery is the conformance suite's CP-IS query as a client sends it: a
// SOAP envelope whose Body holds the QUPC_IN000006GB01 element.
const soapQueryPath = "../../conformance/cases/positive-cpp/request.xml"

var (
	ownQUPCOnce sync.Once
	ownQUPC     *Schema
	ownQUPCErr  error
)

// ownQUPCSchema compiles the gateway's embedded QUPC_IN000006GB01 schema
// once for all tests and benchmarks.
func ownQUPCSchema(t testing.TB) *Schema {
	t.Helper()
	ownQUPCOnce.Do(func() {
		ownQUPC, ownQUPCErr = CompileSchema(hl7schema.FS, "Schemas/QUPC_IN000006GB01.xsd")
	})
	if ownQUPCErr != nil {
		t.Fatal(ownQUPCErr)
	}
	return ownQUPC
}

// soapBodyChild returns the first element child of the envelope's Body.
func soapBodyChild(t testing.TB, d *Document) *Node {
	t.Helper()
	body := d.Root().Child("http://schemas.xmlsoap.org/soap/envelope/", "Body")
	if body == nil || body.FirstChildElement() == nil {
		t.Fatal("no SOAP Body child")
	}
	return body.FirstChildElement()
}

// BenchmarkParseValidateSOAPQuery is the gateway's per-query libxml2 cost:
// parse the whole envelope, then validate the HL7 element inside its Body
// against the embedded schema, as soap and hl7 do.
func BenchmarkParseValidateSOAPQuery(b *testing.B) {
	s := ownQUPCSchema(b)
	data, err := os.ReadFile(soapQueryPath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := Parse(data, ParseOptions{MaxBytes: 1 << 20})
		if err != nil {
			b.Fatal(err)
		}
		if errs := s.ValidateElement(soapBodyChild(b, d)); errs != nil {
			b.Fatal(errs)
		}
		d.Free()
	}
}

// BenchmarkParseSOAPQuery and BenchmarkValidateSOAPQuery split the above.
func BenchmarkParseSOAPQuery(b *testing.B) {
	data, err := os.ReadFile(soapQueryPath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := Parse(data, ParseOptions{MaxBytes: 1 << 20})
		if err != nil {
			b.Fatal(err)
		}
		d.Free()
	}
}

func BenchmarkValidateSOAPQuery(b *testing.B) {
	s := ownQUPCSchema(b)
	data, err := os.ReadFile(soapQueryPath)
	if err != nil {
		b.Fatal(err)
	}
	d := mustParse(b, data)
	defer d.Free()
	n := soapBodyChild(b, d)
	b.ReportAllocs()
	for b.Loop() {
		if errs := s.ValidateElement(n); errs != nil {
			b.Fatal(errs)
		}
	}
}

// BenchmarkValidateSOAPQueryOfficial validates the same element against the
// official schema set, to compare the two sets' content models.
func BenchmarkValidateSOAPQueryOfficial(b *testing.B) {
	s := qupc(b)
	data, err := os.ReadFile(soapQueryPath)
	if err != nil {
		b.Fatal(err)
	}
	d := mustParse(b, data)
	defer d.Free()
	n := soapBodyChild(b, d)
	b.ReportAllocs()
	for b.Loop() {
		if errs := s.ValidateElement(n); errs != nil {
			b.Fatal(errs)
		}
	}
}
