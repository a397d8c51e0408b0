package conformance_test

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"spinegw/conformance"
	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/hl7/schema"
	"spinegw/internal/gatewaytest"
	"spinegw/internal/libxml2"
)

// checkExamples builds the examples of the world a gateway serves, as the
// store holds it, and proves each: its body validates against the embedded
// and the official schemas, and the gateway gives it the outcome its title
// promises.
func checkExamples(t *testing.T, worldFile string, now time.Time, want []string) []conformance.Example {
	t.Helper()
	const gatewayASID = "990000000001"
	srv, db := gatewaytest.Start(t, worldFile, now, gatewayASID)
	view, err := db.WorldView(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	examples := conformance.Examples(view.World, gatewayASID, now)
	var names []string
	for _, ex := range examples {
		names = append(names, ex.Name)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("examples %v, want %v", names, want)
	}
	embedded, err := hl7.NewValidator(schema.FS, schema.Entry)
	if err != nil {
		t.Fatal(err)
	}
	official, err := hl7.NewValidator(os.DirFS(officialSchemas), schema.Entry)
	if err != nil {
		t.Fatalf("official schema set %s: %v", officialSchemas, err)
	}
	for _, ex := range examples {
		t.Run(ex.Name, func(t *testing.T) {
			if ex.Title == "" || ex.Outcome == "" || ex.Action != ex.Expect.SOAPAction {
				t.Errorf("title %q, outcome %q, action %q, expect action %q", ex.Title, ex.Outcome, ex.Action, ex.Expect.SOAPAction)
			}
			doc, err := libxml2.Parse(ex.Body, libxml2.ParseOptions{})
			if err != nil {
				t.Fatalf("not well-formed: %v", err)
			}
			defer doc.Free()
			body, err := doc.XPath("/soap:Envelope/soap:Body/*", conformance.Namespaces)
			if err != nil || len(body) != 1 {
				t.Fatalf("no SOAP Body element: %v", err)
			}
			for name, v := range map[string]*hl7.Validator{"embedded": embedded, "official": official} {
				if issues := v.Validate(body[0]); len(issues) > 0 {
					t.Errorf("the body fails the %s schemas: %v", name, issues)
				}
			}
			acts, _ := doc.XPath("/soap:Envelope/soap:Header/wsa:Action", conformance.Namespaces)
			if len(acts) != 1 || strings.TrimSpace(acts[0].Text()) != ex.Action {
				t.Errorf("wsa:Action is not the SOAPAction shown, %s", ex.Action)
			}
			res := conformance.Run(context.Background(), http.DefaultClient, srv.URL+"/sync-service",
				conformance.Case{Name: ex.Name, Request: ex.Body, Expect: ex.Expect})
			if !res.OK() {
				t.Errorf("%s: %v\nreply: %s", ex.Title, res.Failures, res.Reply)
			}
		})
	}
	return examples
}

// The conformance world has the identities for every scenario.
func TestExamplesConformanceWorld(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	examples := checkExamples(t, "world.yaml", now, []string{
		"positive-cpp", "positive-lac", "positive-ucp", "ucp-hidden-from-non-midwife", "no-record",
		"invalid-nhs-number", "no-b0107", "disabled-user", "role-profile-not-held", "job-role-not-held",
		"unknown-endpoint", "la-upload",
	})
	byName := map[string]conformance.Example{}
	for _, ex := range examples {
		byName[ex.Name] = ex
	}
	// The identities chosen are the ones the scenarios need.
	for name, want := range map[string][]string{
		"positive-cpp":                {"9990001006", "Ahmed Khan"},
		"positive-ucp":                {"9990001146", "Paula Palmer", "Midwife"},
		"ucp-hidden-from-non-midwife": {"9990001146", "Ahmed Khan"},
		"no-record":                   {"9990001847", "No CP-IS record is held"},
		"no-b0107":                    {"Tom Reed"},
		"disabled-user":               {"Jo Marsh", "disabled"},
		"unknown-endpoint":            {"999999999999"},
		"la-upload":                   {"200000000303", "London Borough of Islington"},
	} {
		for _, w := range want {
			if !strings.Contains(byName[name].Title, w) {
				t.Errorf("%s: title %q does not name %q", name, byName[name].Title, w)
			}
		}
	}
	// A world without endpoints has nobody to send from.
	again := conformance.Examples(cpis.World{}, "990000000001", now)
	if again != nil {
		t.Errorf("a world without endpoints has examples: %v", again)
	}
}

// The demo world: no disabled user, so no example of that; its LAs have
// endpoints, so it has an upload example.
func TestExamplesDemoWorld(t *testing.T) {
	checkExamples(t, "../demo/world.yaml", time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), []string{
		"positive-cpp", "positive-lac", "positive-ucp", "ucp-hidden-from-non-midwife", "no-record",
		"invalid-nhs-number", "no-b0107", "role-profile-not-held", "job-role-not-held", "unknown-endpoint",
		"la-upload",
	})
}

// Examples built from a world file (records naming their LA only) are the
// same scenarios as from the store.
func TestExamplesFromWorldFile(t *testing.T) {
	w, suite := readWorld(t)
	now, _ := time.Parse(time.RFC3339, suite.Clock)
	var names []string
	for _, ex := range conformance.Examples(w, suite.GatewayASID, now) {
		names = append(names, ex.Name)
	}
	if !slices.Contains(names, "la-upload") || !slices.Contains(names, "positive-ucp") {
		t.Errorf("examples from the world file: %v", names)
	}
}
