package libxml2

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// The official schema set sits beside the repository (../shared from the
// repository root); it is reference data and is not copied into the tree.
const cpisDir = "../../../shared/spine-schemas/CPIS"

var cpisEntryPoints = []string{
	"Schemas/QUPC_IN000006GB01.xsd",
	"Schemas/REPC_IN000007GB01.xsd",
	"Schemas/QUQI_IN010000UK14.xsd",
	"Schemas/REPC_MT000002GB01.xsd",
	"Schemas/REPC_MT000003GB01.xsd",
	"Schemas/REPC_MT000004GB01.xsd",
	"Schemas/REPC_MT000005GB01.xsd",
	"Schemas/MCCI_IN010000UK13.xsd",
}

func cpisFS(t testing.TB) fs.FS {
	t.Helper()
	if _, err := os.Stat(cpisDir); err != nil {
		t.Skipf("official CP-IS schema set not found at %s (the shared folder beside the repository is absent): %v", cpisDir, err)
	}
	return os.DirFS(cpisDir)
}

var (
	qupcOnce   sync.Once
	qupcSchema *Schema
	qupcErr    error
)

// qupc compiles the QUPC_IN000006GB01 schema once for all tests.
func qupc(t testing.TB) *Schema {
	t.Helper()
	fsys := cpisFS(t)
	qupcOnce.Do(func() {
		qupcSchema, qupcErr = CompileSchema(fsys, "Schemas/QUPC_IN000006GB01.xsd")
	})
	if qupcErr != nil {
		t.Fatal(qupcErr)
	}
	return qupcSchema
}

func TestCompileOfficialEntryPoints(t *testing.T) {
	fsys := cpisFS(t)
	for _, entry := range cpisEntryPoints {
		t.Run(filepath.Base(entry), func(t *testing.T) {
			s, err := CompileSchema(fsys, entry)
			if err != nil {
				t.Fatal(err)
			}
			s.Free()
			s.Free()
		})
	}
}

// TestOfficialSetRepair: the repair finds exactly the 102 places the
// published set is known to have, and leaves the files themselves alone.
func TestOfficialSetRepair(t *testing.T) {
	fsys := cpisFS(t)
	total := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".xsd" {
			return err
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		out, n, err := dropProhibitedAttrTypes(src)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		if n == 0 && !bytes.Equal(out, src) {
			t.Errorf("%s changed without a cut", p)
		}
		total += n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != 102 {
		t.Errorf("%d prohibited-attribute types removed, want 102", total)
	}
}

func TestDropProhibitedAttrTypes(t *testing.T) {
	src := `<?xml version="1.0"?>
<s:schema xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:o="urn:other">
  <s:attribute name="a" use="prohibited"><s:simpleType><s:restriction base="s:string"/></s:simpleType></s:attribute>
  <s:attribute name="b" use="optional"><s:simpleType><s:list itemType="s:string"/></s:simpleType></s:attribute>
  <s:attribute name="c" use="prohibited">
    <s:annotation><s:documentation>kept</s:documentation></s:annotation>
    <s:simpleType/>
  </s:attribute>
  <o:attribute use="prohibited"><s:simpleType/></o:attribute>
  <s:attribute name="d" use="prohibited"><o:simpleType/></s:attribute>
</s:schema>`
	want := `<?xml version="1.0"?>
<s:schema xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:o="urn:other">
  <s:attribute name="a" use="prohibited"></s:attribute>
  <s:attribute name="b" use="optional"><s:simpleType><s:list itemType="s:string"/></s:simpleType></s:attribute>
  <s:attribute name="c" use="prohibited">
    <s:annotation><s:documentation>kept</s:documentation></s:annotation>
    
  </s:attribute>
  <o:attribute use="prohibited"><s:simpleType/></o:attribute>
  <s:attribute name="d" use="prohibited"><o:simpleType/></s:attribute>
</s:schema>`
	out, n, err := dropProhibitedAttrTypes([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || string(out) != want {
		t.Errorf("n = %d, out =\n%s", n, out)
	}
	if _, _, err := dropProhibitedAttrTypes([]byte("<a><b></a>")); err == nil {
		t.Error("malformed input accepted")
	}
}

func TestValidateReferenceInstance(t *testing.T) {
	s := qupc(t)
	d := mustParse(t, readTestdata(t, "QUPC_IN000006GB01.xml"))
	defer d.Free()
	if errs := s.ValidateElement(d.Root()); errs != nil {
		t.Errorf("ValidateElement: %v", errs)
	}
	if errs := s.ValidateDocument(d); errs != nil {
		t.Errorf("ValidateDocument: %v", errs)
	}
}

// TestValidateInsideSOAPBody validates the HL7 message where the gateway
// finds it: as the child of a SOAP Body.
func TestValidateInsideSOAPBody(t *testing.T) {
	s := qupc(t)
	msg := readTestdata(t, "QUPC_IN000006GB01.xml")
	msg = msg[bytes.Index(msg, []byte("?>"))+2:]
	env := `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:hl7="urn:hl7-org:v3">
<SOAP-ENV:Header/>
<SOAP-ENV:Body>` + string(msg) + `</SOAP-ENV:Body>
</SOAP-ENV:Envelope>`
	d := mustParse(t, []byte(env))
	defer d.Free()
	const soapNS = "http://schemas.xmlsoap.org/soap/envelope/"
	body := d.Root().Child(soapNS, "Body")
	hl7 := body.FirstChildElement()
	if errs := s.ValidateElement(hl7); errs != nil {
		t.Errorf("ValidateElement: %v", errs)
	}
	// The envelope itself is not an HL7 message.
	errs := s.ValidateDocument(d)
	if len(errs) == 0 || errs[0].Line != 2 {
		t.Errorf("ValidateDocument of the envelope: %v", errs)
	}
}

func TestValidateMissingMandatory(t *testing.T) {
	s := qupc(t)
	valid := string(readTestdata(t, "QUPC_IN000006GB01.xml"))
	for _, c := range []struct {
		name, drop, want string
		line             int
	}{
		// Without interactionId the next element arrives where it was due.
		{"interactionId", `  <interactionId root="2.16.840.1.113883.2.1.3.2.4.12" extension="QUPC_IN000006GB01"/>` + "\n", "interactionId", 6},
		{"NHS number", `              <value extension="9434765919"/>` + "\n", "value", 53},
		{"ASID of the sending system", `          <id root="1.2.826.0.1285.0.2.0.107" extension="200000001179"/>` + "\n", "id", 23},
		{"NHS number attribute", ` extension="9434765919"`, "extension", 54},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(valid, c.drop) {
				t.Fatalf("reference instance lacks %q", c.drop)
			}
			d := mustParse(t, []byte(strings.Replace(valid, c.drop, "", 1)))
			defer d.Free()
			errs := s.ValidateElement(d.Root())
			if len(errs) == 0 {
				t.Fatal("invalid instance validates")
			}
			if errs[0].Line != c.line || !strings.Contains(errs[0].Msg, c.want) {
				t.Errorf("first error = %v, want line %d mentioning %q", errs[0], c.line, c.want)
			}
			for _, e := range errs {
				if e.Line <= 0 || e.Msg == "" || strings.HasSuffix(e.Msg, "\n") {
					t.Errorf("error without line or message: %+v", e)
				}
			}
			t.Logf("%v", errs)
		})
	}
}

func TestValidateWrongValues(t *testing.T) {
	s := qupc(t)
	valid := string(readTestdata(t, "QUPC_IN000006GB01.xml"))
	for _, c := range []struct{ name, from, to string }{
		{"prohibited root on NHS number", `<value extension="9434765919"/>`, `<value root="2.16.840.1.113883.2.1.4.1" extension="9434765919"/>`},
		{"processing code outside its vocabulary", `<processingCode code="P"/>`, `<processingCode code="X"/>`},
		{"lower-case UUID", `8F2C6B1E-4D7A-4C39-9E05-3B1A7D2F6C90`, `8f2c6b1e-4d7a-4c39-9e05-3b1a7d2f6c90`},
		{"unknown element", `<processingCode code="P"/>`, `<processingCode code="P"/><extra/>`},
	} {
		d := mustParse(t, []byte(strings.Replace(valid, c.from, c.to, 1)))
		if errs := s.ValidateElement(d.Root()); len(errs) == 0 {
			t.Errorf("%s: validates", c.name)
		}
		d.Free()
	}
}

func TestCompileSmallSet(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s, err := CompileSchema(os.DirFS("testdata/schemas"), "main.xsd")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Free()
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("private schema copy left behind: %v", left)
	}
	for _, c := range []struct {
		doc string
		ok  bool
	}{
		{`<order xmlns="urn:test" version="1"><id root="0000000A"/><qty>2</qty></order>`, true},
		{`<order xmlns="urn:test" version="1"><id root="0000000A" nullFlavor="NI"/><qty>2</qty></order>`, false},
		{`<order xmlns="urn:test" version="1"><id root="bad"/><qty>2</qty></order>`, false},
		{`<order xmlns="urn:test"><id root="0000000A"/><qty>2</qty></order>`, false},
		{`<order xmlns="urn:test" version="1"><id root="0000000A"/><qty>0</qty></order>`, false},
		{`<order version="1"><id root="0000000A"/><qty>2</qty></order>`, false},
	} {
		d := mustParse(t, []byte(c.doc))
		errs := s.ValidateDocument(d)
		if c.ok != (errs == nil) {
			t.Errorf("%s: %v", c.doc, errs)
		}
		d.Free()
	}
}

func TestCompileErrors(t *testing.T) {
	for _, entry := range []string{"missing.xsd", "../x.xsd", "/abs.xsd", ""} {
		if _, err := CompileSchema(os.DirFS("testdata/schemas"), entry); err == nil {
			t.Errorf("entry %q compiled", entry)
		}
	}
	_, err := CompileSchema(fstest.MapFS{"bad.xsd": {Data: []byte("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><xs:element name='a' type='xs:nope'/></xs:schema>")}}, "bad.xsd")
	var se *SchemaError
	if !errors.As(err, &se) || len(se.Errors) == 0 || !strings.HasPrefix(se.Errors[0].Msg, "bad.xsd: ") || se.Errors[0].Line != 1 {
		t.Fatalf("err = %#v", err)
	}
	if strings.Contains(err.Error(), os.TempDir()) {
		t.Errorf("error shows the private directory: %v", err)
	}
}

// TestSchemaOutsideLocationsRefused: imports and includes of anything outside
// the schema set are refused by the entity loader; nothing goes on the network.
func TestSchemaOutsideLocationsRefused(t *testing.T) {
	fsys := os.DirFS("testdata/schemas")
	for _, entry := range []string{"http-import.xsd", "include-passwd.xsd", "include-escape.xsd"} {
		before := loaderDenials()
		s, err := CompileSchema(fsys, entry)
		if err == nil {
			// Skipping an unloadable import is allowed; reading it is not.
			s.Free()
		}
		if loaderDenials() == before {
			t.Errorf("%s: the entity loader refused nothing", entry)
		}
		if err != nil && strings.Contains(err.Error(), "root:") {
			t.Errorf("%s: error leaks /etc/passwd: %v", entry, err)
		}
		t.Logf("%s: %v", entry, err)
	}

	l := newListener(t)
	live := fstest.MapFS{"live.xsd": {Data: []byte(`<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:a" xmlns:b="urn:b">
  <xs:import namespace="urn:b" schemaLocation="` + l.url("/b.xsd") + `"/>
  <xs:include schemaLocation="` + l.url("/a.xsd") + `"/>
  <xs:redefine schemaLocation="` + l.url("/r.xsd") + `"/>
  <xs:element name="r" type="xs:string"/>
</xs:schema>`)}}
	if s, err := CompileSchema(live, "live.xsd"); err == nil {
		s.Free()
	}
	l.assertUntouched(t)
}

// TestValidationIgnoresSchemaLocationHints: an instance cannot make the
// validator fetch a schema.
func TestValidationIgnoresSchemaLocationHints(t *testing.T) {
	l := newListener(t)
	s, err := CompileSchema(os.DirFS("testdata/schemas"), "main.xsd")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Free()
	d := mustParse(t, []byte(`<order xmlns="urn:test" version="1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="urn:test `+l.url("/t.xsd")+` urn:x `+l.url("/x.xsd")+`" xsi:noNamespaceSchemaLocation="file:///etc/passwd">
  <id root="0000000A"/><qty>2</qty><x:y xmlns:x="urn:x"/></order>`))
	defer d.Free()
	if errs := s.ValidateDocument(d); len(errs) == 0 {
		t.Error("validates with an undeclared element")
	}
	l.assertUntouched(t)
}

func TestValidateArguments(t *testing.T) {
	s, err := CompileSchema(os.DirFS("testdata/schemas"), "main.xsd")
	if err != nil {
		t.Fatal(err)
	}
	if errs := s.ValidateElement(nil); len(errs) != 1 {
		t.Errorf("nil node: %v", errs)
	}
	d := mustParse(t, []byte(`<a/>`))
	d.Free()
	if errs := s.ValidateDocument(d); len(errs) != 1 {
		t.Errorf("freed document: %v", errs)
	}
	s.Free()
	if errs := s.ValidateDocument(d); len(errs) != 1 {
		t.Errorf("freed schema: %v", errs)
	}
}
