package conformance_test

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"spinegw/conformance"
	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/hl7/schema"
	"spinegw/internal/gatewaytest"
	"spinegw/internal/libxml2"
	"spinegw/store"
	"spinegw/world"
)

var update = flag.Bool("update", false, "rewrite the corpus in cases/ from corpus.go")

// previousResponses are the response.xml files before -update.
var previousResponses = map[string][]byte{}

// officialSchemas is the NHS CP-IS schema set beside the project.
const officialSchemas = "../../shared/spine-schemas/CPIS"

func readWorld(t *testing.T) (cpis.World, conformance.Suite) {
	t.Helper()
	suite, err := conformance.ReadSuite(".")
	if err != nil {
		t.Fatal(err)
	}
	w, err := world.ReadFile(suite.World)
	if err != nil {
		t.Fatal(err)
	}
	return w, suite
}

// The corpus on disk is exactly what corpus.go generates.
func TestCorpusUpToDate(t *testing.T) {
	w, suite := readWorld(t)
	if *update {
		// Kept so that TestCorpus rewrites a response.xml only when the
		// reply differs in more than ids and timestamps.
		for _, name := range conformance.ResponseCases {
			if b, err := os.ReadFile(filepath.Join("cases", name, "response.xml")); err == nil {
				previousResponses[name] = b
			}
		}
		if err := os.RemoveAll("cases"); err != nil {
			t.Fatal(err)
		}
		if err := conformance.Generate(".", w, suite); err != nil {
			t.Fatal(err)
		}
	}
	tmp := t.TempDir()
	if err := conformance.Generate(tmp, w, suite); err != nil {
		t.Fatal(err)
	}
	fresh, err := conformance.Load(filepath.Join(tmp, "cases"))
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := conformance.Load("cases")
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh) != len(onDisk) {
		t.Fatalf("cases/ has %d cases, corpus.go %d: run go test ./conformance -update", len(onDisk), len(fresh))
	}
	for i := range fresh {
		if fresh[i].Name != onDisk[i].Name || !bytes.Equal(fresh[i].Request, onDisk[i].Request) {
			t.Errorf("case %s differs from corpus.go: run go test ./conformance -update", onDisk[i].Name)
			continue
		}
		a, _ := os.ReadFile(filepath.Join(fresh[i].Dir, "expect.yaml"))
		b, _ := os.ReadFile(filepath.Join(onDisk[i].Dir, "expect.yaml"))
		if !bytes.Equal(a, b) {
			t.Errorf("case %s: expect.yaml differs from corpus.go: run go test ./conformance -update", onDisk[i].Name)
		}
	}
	if *update {
		return // TestCorpus writes the response.xml files
	}
	for _, name := range conformance.ResponseCases {
		if _, err := os.Stat(filepath.Join("cases", name, "response.xml")); err != nil {
			t.Errorf("case %s has no response.xml: run go test ./conformance -update", name)
		}
	}
}

// startGateway serves the suite's world from a fresh store, clock frozen.
func startGateway(t *testing.T) (*httptest.Server, *store.DB) {
	t.Helper()
	suite, err := conformance.ReadSuite(".")
	if err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse(time.RFC3339, suite.Clock)
	if err != nil {
		t.Fatal(err)
	}
	return gatewaytest.Start(t, suite.World, now, suite.GatewayASID)
}

// Every case of the corpus gets its expected answer from the real server,
// and every HL7 message the gateway sends validates against the official
// NHS schema set.
func TestCorpus(t *testing.T) {
	srv, _ := startGateway(t)
	cases, err := conformance.Load("cases")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	official, err := hl7.NewValidator(os.DirFS(officialSchemas), schema.Entry)
	if err != nil {
		t.Fatalf("official schema set %s: %v", officialSchemas, err)
	}
	golden := map[string]bool{}
	for _, n := range conformance.ResponseCases {
		golden[n] = true
	}
	// The in-process gateway has no admin listener: cases of steps are run
	// by the replay end-to-end test against the real binary.
	r := &conformance.Replayer{Target: srv.URL + "/sync-service", Validator: official}
	conformance.Order(cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if *update && golden[c.Name] {
				c.Response = nil // being rewritten
			}
			res := r.Replay(context.Background(), c)
			if res.NotApplicable != "" {
				if len(c.Expect.Steps) == 0 {
					t.Errorf("a request/response case is not applicable: %s", res.NotApplicable)
				}
				t.Skip(res.NotApplicable)
			}
			for _, f := range res.Failures {
				t.Error(f)
			}
			if *update && golden[c.Name] && res.OK() {
				reply := res.Reply
				if prev, ok := previousResponses[c.Name]; ok && len(conformance.CompareXML(prev, reply)) == 0 {
					reply = prev
				}
				if err := os.WriteFile(filepath.Join(c.Dir, "response.xml"), reply, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if c.Expect.Root == "Fault" {
				return
			}
			doc, err := libxml2.Parse(res.Reply, libxml2.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer doc.Free()
			body, _ := doc.XPath("/soap:Envelope/soap:Body/*", conformance.Namespaces)
			if len(body) != 1 {
				t.Fatal("reply has no body element")
			}
			for _, is := range official.Validate(body[0]) {
				t.Errorf("reply fails the official schema: line %d: %s", is.Line, is.Msg)
			}
		})
	}
}

// CP-IS068: a positive answer's access event is in the store when the reply
// arrives; refused and negative queries record nothing.
func TestCorpusRecordsOnlyPositiveAccesses(t *testing.T) {
	srv, db := startGateway(t)
	cases, err := conformance.Load("cases")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if len(c.Expect.Steps) > 0 {
			continue
		}
		res := conformance.Run(context.Background(), http.DefaultClient, srv.URL+"/sync-service", c)
		if !res.OK() {
			continue // reported by TestCorpus
		}
		nhs := nhsOf(t, c.Request)
		if nhs == "" {
			continue
		}
		events, err := db.AccessEvents(context.Background(), cpis.NHSNumber(nhs))
		if err != nil {
			t.Fatal(err)
		}
		if c.Expect.Root == "REPC_IN000007GB01" && len(events) == 0 {
			t.Errorf("%s: positive answer without an access event", c.Name)
		}
	}
	for _, nhs := range []string{"9990001847", "9990001421", "9990001561"} {
		events, _ := db.AccessEvents(context.Background(), cpis.NHSNumber(nhs))
		if len(events) != 0 {
			t.Errorf("negative query for %s recorded %d access events", nhs, len(events))
		}
	}
}

func nhsOf(t *testing.T, req []byte) string {
	doc, err := libxml2.Parse(req, libxml2.ParseOptions{})
	if err != nil {
		return ""
	}
	defer doc.Free()
	n, _ := doc.XPath("//hl7:person.NHSnumber/hl7:value", conformance.Namespaces)
	if len(n) == 0 {
		return ""
	}
	return n[0].Attr("extension")
}
