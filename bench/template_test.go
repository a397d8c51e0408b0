package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"text/template"
)

// wellFormed parses b to the end with encoding/xml.
func wellFormed(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b)
		}
	}
}

// query is the part of a filled query the tests look at, by namespace.
type query struct {
	MessageID string `xml:"Header>MessageID"`
	Action    string `xml:"Header>Action"`
	Body      struct {
		Msg struct {
			ID struct {
				Root string `xml:"root,attr"`
			} `xml:"urn:hl7-org:v3 id"`
			Snd struct {
				Root string `xml:"root,attr"`
				Ext  string `xml:"extension,attr"`
			} `xml:"urn:hl7-org:v3 communicationFunctionSnd>device>id"`
			Query struct {
				ID struct {
					Root string `xml:"root,attr"`
				} `xml:"urn:hl7-org:v3 id"`
				Family string `xml:"urn:hl7-org:v3 author>COCT_TP145102GB01.AssignedAuthor>assignedAuthorPerson>name>family"`
				NHS    struct {
					Ext string `xml:"extension,attr"`
				} `xml:"urn:hl7-org:v3 queryByParameter>person.NHSnumber>value"`
			} `xml:"urn:hl7-org:v3 ControlActEvent>subject>CP-ISQueryStub>cP-ISNHSQuery"`
		} `xml:"urn:hl7-org:v3 QUPC_IN000006GB01"`
	} `xml:"Body"`
}

func testMix(t *testing.T) (*Mix, *Synthetic) {
	t.Helper()
	syn := GenerateWorld(200, DefaultClock, 1)
	m, err := NewMix(syn, "http://127.0.0.1:1/sync-service", DefaultClock)
	if err != nil {
		t.Fatal(err)
	}
	return m, syn
}

func TestFilledQueriesAreWellFormed(t *testing.T) {
	t.Parallel()
	m, _ := testMix(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var buf []byte
	for i := range 60 {
		k := Kind(i % int(numKinds))
		buf = m.Append(buf[:0], rng, k)
		wellFormed(t, buf)
		var q query
		if err := xml.Unmarshal(buf, &q); err != nil {
			t.Fatal(err)
		}
		msg := q.Body.Msg
		switch {
		case q.Action != queryAction:
			t.Fatalf("wsa:Action %q", q.Action)
		case len(q.MessageID) != 41 || q.MessageID != "uuid:"+msg.ID.Root:
			t.Fatalf("header MessageID %q, wrapper id %q: want uuid: + the same upper-case UUID", q.MessageID, msg.ID.Root)
		case msg.ID.Root != strings.ToUpper(msg.ID.Root) || msg.Query.ID.Root == msg.ID.Root:
			t.Fatalf("ids %q, %q: want two distinct upper-case UUIDs", msg.ID.Root, msg.Query.ID.Root)
		case msg.Snd.Root != "1.2.826.0.1285.0.2.0.107" || len(msg.Snd.Ext) != 12:
			t.Fatalf("sender ASID %+v", msg.Snd)
		case len(msg.Query.NHS.Ext) != 10 || msg.Query.Family == "":
			t.Fatalf("query %+v", msg.Query)
		}
	}
}

func TestNamesAreEscaped(t *testing.T) {
	m, syn := testMix(t)
	var obrien []byte
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		b := m.Append(nil, rng, Positive)
		if bytes.Contains(b, []byte("O&#39;Brien")) {
			obrien = b
			break
		}
	}
	if obrien == nil {
		t.Fatalf("no query named a user O'Brien among %d users", len(syn.World.Users))
	}
	var q query
	if err := xml.Unmarshal(obrien, &q); err != nil {
		t.Fatal(err)
	}
	if got := q.Body.Msg.Query.Family; got != "O'Brien" {
		t.Errorf("family name reads back as %q", got)
	}
}

// The fast filler and text/template agree on the same template and values,
// so the template file stays an ordinary text/template.
func TestTemplateMatchesTextTemplate(t *testing.T) {
	var v Values
	byName := map[string]string{}
	for f, name := range fieldNames {
		v[f] = "value-of-" + name
		byName[name] = v[f]
	}
	want := new(bytes.Buffer)
	if err := template.Must(template.New("q").Parse(queryTemplate)).Execute(want, byName); err != nil {
		t.Fatal(err)
	}
	if got := QueryTemplate().Append(nil, &v); string(got) != want.String() {
		t.Errorf("filled template differs from text/template's:\n%s\nwant\n%s", got, want)
	}
	for f, name := range fieldNames {
		if !strings.Contains(queryTemplate, "{{."+name+"}}") {
			t.Errorf("placeholder %s (field %d) is not used by the template", name, f)
		}
	}
}

func TestParseTemplateRejectsUnknownPlaceholders(t *testing.T) {
	for _, src := range []string{"<a>{{.Nope}}</a>", "<a>{{if .To}}</a>", "<a>{{.To</a>"} {
		if _, err := ParseTemplate(src); err == nil {
			t.Errorf("ParseTemplate(%q) accepted it", src)
		}
	}
}

func TestUUIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	seen := map[string]bool{}
	for range 1000 {
		u := newUUID(rng)
		if len(u) != 36 || u[14] != '4' || !strings.ContainsRune("89AB", rune(u[19])) || u != strings.ToUpper(u) {
			t.Fatalf("%s is not an upper-case version 4 UUID", u)
		}
		if seen[u] {
			t.Fatalf("%s twice", u)
		}
		seen[u] = true
	}
}
