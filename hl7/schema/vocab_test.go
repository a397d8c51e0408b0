package schema

import (
	"encoding/xml"
	"io/fs"
	"strings"
	"testing"
)

// enumerations reads every named simple type with enumeration facets from
// our schema tree.
func enumerations(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(FS, p)
		if err != nil {
			return err
		}
		dec := xml.NewDecoder(strings.NewReader(string(b)))
		current := ""
		for {
			tok, err := dec.Token()
			if err != nil {
				return nil
			}
			switch se := tok.(type) {
			case xml.StartElement:
				switch se.Name.Local {
				case "simpleType":
					current = attrOf(se, "name")
				case "enumeration":
					if current != "" {
						out[current] = append(out[current], attrOf(se, "value"))
					}
				}
			case xml.EndElement:
				if se.Name.Local == "simpleType" {
					current = ""
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func attrOf(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// TestVocabularies puts every value of every enumerated vocabulary of ours
// where the messages use it, plus one value just outside it, and requires
// the official set to agree: a value we forgot, or one we invented, shows
// up as a disagreement.
func TestVocabularies(t *testing.T) {
	needOfficial(t)
	enums := enumerations(t)
	bases := baseDocs(t)
	maximal := "QUPC_IN000006GB01_maximal.xml"
	uses := []struct {
		vocab, base, path, attr string
	}{
		{"VersionCode", qPerson, "versionCode", "code"},
		{"ProcessingIdCode", qPerson, "processingCode", "code"},
		{"ProcessingModeCode", qPerson, "processingModeCode", "code"},
		{"InteractionOid", qPerson, "interactionId", "root"},
		{"ParticipationTypeCode", qPerson, "author1", "typeCode"},
		{"EntityDeterminerCode", qPerson, "agentPersonSDS", "determinerCode"},
		{"NullFlavorClass", qPerson, "queryByParameter", "nullFlavor"},
		{"NullFlavorDT", qPerson, "COCT_TP145102GB01.AssignedAuthor/id", "nullFlavor"},
		{"UpdateMode", qPerson, "queryByParameter", "updateMode"},
		{"NameUse", qPerson, "assignedAuthorPerson/name", "use"},
		{"NamePartQualifier", qPerson, "given", "qualifier"},
		{"OdsOid", qPerson, "representedOrganization/id", "root"},
		{"AsidOid", qSystem, "COCT_TP145104GB01.System/id", "root"},
		{"TelecomUse", qResp, "organisation/telecom", "use"},
		{"PatientOid", qResp, "COCT_TP145101GB01.Child/id", "root"},
		{"FileOutcomeCode", laAck, "acknowledgementFileDetail/code", "code"},
		{"FileOutcomeName", laAck, "acknowledgementFileDetail/code", "displayName"},
		{"AddressUse", maximal, "addr", "use"},
		{"AddressPartType", maximal, "streetAddressLine", "partType"},
		{"BinaryEncoding", maximal, "AgentOrgSDS/code/originalText", "representation"},
		{"Compression", maximal, "AgentOrgSDS/code/originalText", "compression"},
		{"IntegrityAlgorithm", maximal, "AgentOrgSDS/code/originalText", "integrityCheckAlgorithm"},
		{"SetOperator", maximal, "telecom/useablePeriod", "operator"},
		{"NamePartType", maximal, "location/name/given", "partType"},
	}
	covered := map[string]bool{}
	checked := 0
	for _, u := range uses {
		values, ok := enums[u.vocab]
		if !ok {
			t.Fatalf("no enumeration %s in our schemas", u.vocab)
		}
		covered[u.vocab] = true
		base := bases[u.base]
		entry := entryOfDoc(t, base)
		ours, official := schemasFor(t, entry)
		try := append(append([]string(nil), values...), values[0]+"X", strings.ToLower(values[len(values)-1])+"x")
		for _, v := range try {
			doc, err := setAttr(u.path, 0, u.attr, escapeAttr(v))(append([]byte(nil), base...))
			if err != nil {
				t.Fatalf("%s: %v", u.vocab, err)
			}
			r := verdicts(t, doc, official, ours)
			checked++
			if (len(r[0]) == 0) != (len(r[1]) == 0) {
				t.Errorf("%s %s=%q: official %v, ours %v", u.vocab, u.attr, v, r[0], r[1])
			}
		}
	}
	// Every enumeration of ours must be exercised here, except those that
	// only exist to name a fixed value.
	for name := range enums {
		if !covered[name] && name != "TemplateSchemeOid" {
			t.Errorf("enumeration %s is not exercised by TestVocabularies", name)
		}
	}
	t.Logf("vocabularies: %d values checked against both sets", checked)
}

func entryOfDoc(t *testing.T, doc []byte) string {
	t.Helper()
	root, err := rootName(doc)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := Entry(root)
	if !ok {
		t.Fatalf("no entry for %s", root)
	}
	return e
}
