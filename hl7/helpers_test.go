package hl7_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"spinegw/hl7"
	"spinegw/internal/libxml2"
)

// officialSchemas is the official CP-IS schema set, beside the repository
// (../shared from its root): every message the gateway emits must validate
// against it.
const officialSchemas = "../../shared/spine-schemas/CPIS"

// officialEntry maps a message root to its entry schema in the official set.
func officialEntry(root string) (string, bool) {
	switch root {
	case "File":
		return "Schemas/REPC_MT000002GB01.xsd", true
	case "FileResponse":
		return "Schemas/REPC_MT000003GB01.xsd", true
	case "CP-ISAccessToServiceNotification":
		return "Schemas/REPC_MT000004GB01.xsd", true
	case "CP-ISInactiveNHSNumberNotification":
		return "Schemas/REPC_MT000005GB01.xsd", true
	}
	return "Schemas/" + root + ".xsd", true
}

var (
	validatorOnce sync.Once
	validator     *hl7.Validator
	validatorErr  error
)

// officialValidator returns a Validator over the official schema set, every
// root compiled, made once per test binary.
func officialValidator(t testing.TB) *hl7.Validator {
	t.Helper()
	validatorOnce.Do(func() {
		validator, validatorErr = hl7.NewValidator(os.DirFS(officialSchemas), officialEntry)
	})
	if validatorErr != nil {
		t.Fatalf("official schemas: %v", validatorErr)
	}
	return validator
}

// parse parses data with the gateway's limits; the document is freed when
// the test ends.
func parse(t testing.TB, data []byte) *libxml2.Document {
	t.Helper()
	doc, err := libxml2.Parse(data, libxml2.ParseOptions{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	t.Cleanup(doc.Free)
	return doc
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// findElement returns the first element, depth first, with the namespace URI
// and local name: a QUPC_IN000006GB01 is found under any SOAP Body whatever
// prefixes the sender chose.
func findElement(n *libxml2.Node, ns, local string) *libxml2.Node {
	if n == nil {
		return nil
	}
	if n.NamespaceURI() == ns && n.LocalName() == local {
		return n
	}
	for c := n.FirstChildElement(); c != nil; c = c.NextSiblingElement() {
		if f := findElement(c, ns, local); f != nil {
			return f
		}
	}
	return nil
}

// queryElement parses data and returns its QUPC_IN000006GB01 element.
func queryElement(t testing.TB, data []byte) *libxml2.Node {
	t.Helper()
	q := findElement(parse(t, data).Root(), hl7.NS, hl7.InteractionQuery)
	if q == nil {
		t.Fatalf("no %s element", hl7.InteractionQuery)
	}
	return q
}

// mustValidate checks a built message against the official schemas.
func mustValidate(t *testing.T, out []byte) {
	t.Helper()
	doc := parse(t, out)
	if issues := officialValidator(t).Validate(doc.Root()); len(issues) > 0 {
		t.Errorf("built message does not validate against the official schemas:")
		for _, is := range issues {
			t.Errorf("  %s", is)
		}
		t.Logf("%s", out)
	}
}
