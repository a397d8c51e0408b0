package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"spinegw/conformance"
	"spinegw/hl7"
	"spinegw/internal/gatewaytest"
)

const corpusDir = "../../conformance"

// officialCPIS is the official CP-IS schema set beside the repository, used
// read-only as an NHS DMS pack would be.
const officialCPIS = "../../../shared/spine-schemas/CPIS"

// corpusRules is, for each conformance case whose request breaks a rule the
// validator knows, the rule ids it must report; every other request of the
// corpus must validate clean. Conditions that depend on the world (an
// unknown endpoint, a disabled user, a receiver that is not the gateway)
// are no fault of the message and are not reported.
var corpusRules = map[string][]string{
	"asid-mismatch":                   {hl7.RuleSOAPASID},                  // wire reference §2 INCONSISTENT_COMM_FUNC_SND
	"doctype-refused":                 {hl7.RuleXML},                       // DOCTYPE refused by the parser
	"invalid-nhs-number":              {hl7.RuleNHSNumber},                 // CP-NHS001, Modulus 11
	"malformed-xml":                   {hl7.RuleXML},                       // TMS 201
	"missing-message-id":              {hl7.RuleSOAP},                      // wire reference §2
	"schema-invalid":                  {hl7.RuleXSD},                       // @root prohibited on the query's NHS number
	"upload-count-mismatch":           {hl7.RuleCount},                     // CP-IS018: transmissionQuantity
	"upload-partial-each-record-code": {hl7.RuleNHSNumber, hl7.RuleRecord}, // CPR04, CPR07 (the other codes need PDS)
	"upload-schema-invalid":           {hl7.RuleUpload, hl7.RuleXSD},       // no telephone number
	"upload-two-emergency-numbers":    {hl7.RuleUpload},                    // DUPLICATE_TELECOM_TYPE|EC
	"wrong-action":                    {hl7.RuleSOAPAction},                // wsa:Action names another interaction
}

// validateJSON runs spinegw validate --format json in process.
func validateJSON(t *testing.T, args ...string) ([]fileReport, int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"validate", "--format", "json"}, args...), &out, &errOut)
	var reports []fileReport
	if code != validateTrouble {
		if err := json.Unmarshal(out.Bytes(), &reports); err != nil {
			t.Fatalf("output is not JSON (%v): %s", err, out.String())
		}
	}
	return reports, code, errOut.String()
}

func rulesOf(r fileReport) []string {
	var rules []string
	for _, is := range r.Issues {
		if !slices.Contains(rules, is.Rule) {
			rules = append(rules, is.Rule)
		}
	}
	slices.Sort(rules)
	return rules
}

// Every request of the conformance corpus is validated as the Workbench
// would: the broken ones report exactly the rules they break, the others
// nothing, against the embedded schemas and the official NHS set alike.
func TestValidateCorpusRequests(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(corpusDir, "cases", "*", "request.xml"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, schemas := range [][]string{nil, {"--schemas", officialCPIS}} {
		reports, code, stderr := validateJSON(t, append(slices.Clone(schemas), cases...)...)
		if code != validateInvalid || len(reports) != len(cases) {
			t.Fatalf("%v: exit %d with %d reports for %d files: %s", schemas, code, len(reports), len(cases), stderr)
		}
		seen := 0
		for i, r := range reports {
			name := filepath.Base(filepath.Dir(cases[i]))
			want := slices.Clone(corpusRules[name])
			slices.Sort(want)
			if _, listed := corpusRules[name]; listed {
				seen++
			}
			if got := rulesOf(r); !slices.Equal(got, want) {
				t.Errorf("%v %s: rules %v, want %v: %+v", schemas, name, got, want, r.Issues)
			}
			if r.Valid != (len(want) == 0) || r.Warnings != 0 {
				t.Errorf("%v %s: valid %v with %d warnings", schemas, name, r.Valid, r.Warnings)
			}
			if unparsed := name == "malformed-xml" || name == "doctype-refused"; r.SOAP == unparsed || (r.Message == "") != unparsed {
				t.Errorf("%s: message %q, SOAP %v", name, r.Message, r.SOAP)
			}
			for _, is := range r.Issues {
				if is.Line <= 0 {
					t.Errorf("%s: issue without a line: %+v", name, is)
				}
			}
		}
		if seen != len(corpusRules) {
			t.Errorf("%d of the %d cases expected to break a rule are in the corpus", seen, len(corpusRules))
		}
	}
}

// Every message the gateway sends in answer to the corpus (query
// responses, query failures, FileResponses) passes every check, with its
// SOAP header, against both schema sets: the validator holds the gateway to
// its own rules.
func TestValidateCorpusReplies(t *testing.T) {
	suite, err := conformance.ReadSuite(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse(time.RFC3339, suite.Clock)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := gatewaytest.Start(t, filepath.Join(corpusDir, suite.World), now, suite.GatewayASID)
	cases, err := conformance.Load(filepath.Join(corpusDir, "cases"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	roots := map[string]bool{}
	for _, c := range cases {
		if len(c.Expect.Steps) > 0 || c.Expect.Root == "Fault" {
			// Cases with steps need the admin listener (the replay e2e
			// tests validate their notifications); faults are not HL7.
			continue
		}
		res := conformance.Run(context.Background(), http.DefaultClient, srv.URL+"/sync-service", c)
		if !res.OK() {
			t.Errorf("%s: %s", c.Name, res.Outcome())
			continue
		}
		roots[c.Expect.Root] = true
		f := filepath.Join(dir, c.Name+".xml")
		if err := os.WriteFile(f, res.Reply, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	for _, root := range []string{hl7.InteractionQueryResponse, hl7.InteractionQueryFailure, "FileResponse"} {
		if !roots[root] {
			t.Errorf("the corpus gets no %s", root)
		}
	}
	for _, schemas := range [][]string{nil, {"--schemas", officialCPIS}} {
		reports, code, stderr := validateJSON(t, append(slices.Clone(schemas), files...)...)
		if code != 0 || len(reports) != len(files) {
			t.Errorf("%v: exit %d, %d reports for %d files: %s", schemas, code, len(reports), len(files), stderr)
		}
		for _, r := range reports {
			if len(r.Issues) > 0 || !r.SOAP {
				t.Errorf("%v reply %s (%s): %+v", schemas, filepath.Base(r.File), r.Message, r.Issues)
			}
		}
	}
}

// The text output reads as the Workbench's: a header naming the message
// type, file:line: SEVERITY [rule] message, then the verdict.
func TestValidateTextOutput(t *testing.T) {
	var out, errOut bytes.Buffer
	bad := filepath.Join(corpusDir, "cases", "invalid-nhs-number", "request.xml")
	good := filepath.Join(corpusDir, "cases", "positive-cpp", "request.xml")
	code := run(context.Background(), []string{"validate", good, bad}, &out, &errOut)
	if code != validateInvalid {
		t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"== " + good + ": QUPC_IN000006GB01 (NHS Query), SOAP-wrapped",
		good + ": valid",
		"== " + bad + ": QUPC_IN000006GB01 (NHS Query), SOAP-wrapped",
		bad + ":66: ERROR [SPINE-NHSNUMBER] queryByParameter/person.NHSnumber/value/@extension: the NHS number is not ten digits with a valid Modulus 11 check digit",
		bad + ": 1 error",
		"1 of 2 files invalid",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(out.String(), "9990001") {
		t.Error("the output quotes an NHS number")
	}
}

// Exit statuses: 0 valid (warnings allowed), 1 invalid, 2 usage or I/O.
func TestValidateExitStatus(t *testing.T) {
	good := filepath.Join(corpusDir, "cases", "positive-cpp", "request.xml")
	warned := filepath.Join("..", "..", "hl7", "schema", "testdata", "QUPC_IN000006GB01_maximal.xml")
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"validate", good}, 0},
		{[]string{"validate", warned}, 0},
		{[]string{"validate", filepath.Join(corpusDir, "cases", "wrong-action", "request.xml")}, validateInvalid},
		{[]string{"validate"}, validateTrouble},
		{[]string{"validate", "--format", "xml", good}, validateTrouble},
		{[]string{"validate", "--no-such-flag", good}, validateTrouble},
		{[]string{"validate", good, filepath.Join(t.TempDir(), "missing.xml")}, validateTrouble},
		{[]string{"validate", "--schemas", t.TempDir(), good}, validateTrouble},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), tc.args, &out, &errOut); code != tc.code {
			t.Errorf("%v: exit %d, want %d: %s%s", tc.args, code, tc.code, out.String(), errOut.String())
		}
	}
}

// FILE "-" reads standard input.
func TestValidateStdin(t *testing.T) {
	in, err := os.Open(filepath.Join(corpusDir, "cases", "upload-count-mismatch", "request.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	saved := os.Stdin
	os.Stdin = in
	defer func() { os.Stdin = saved }()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"validate", "-"}, &out, &errOut); code != validateInvalid {
		t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	if !regexp.MustCompile(`(?m)^== stdin: File \(LA Upload\), SOAP-wrapped$`).Match(out.Bytes()) ||
		!regexp.MustCompile(`(?m)^stdin:15: ERROR \[SPINE-COUNT\] transmissionQuantity is "2" but the message holds 1$`).Match(out.Bytes()) {
		t.Errorf("output:\n%s", out.String())
	}
}

// Every message type is recognised and named, bare: the gateway's own
// golden files and test data, each clean.
func TestValidateEveryMessageType(t *testing.T) {
	files := map[string]string{
		hl7.InteractionQuery:                 "../../hl7/testdata/query-person.xml",
		hl7.InteractionQueryResponse:         "../../hl7/testdata/golden/query-response.xml",
		hl7.InteractionQueryFailure:          "../../hl7/testdata/golden/not-found.xml",
		hl7.InteractionAck:                   "../../hl7/schema/testdata/MCCI_IN010000UK13.xml",
		"File":                               "../../hl7/testdata/upload/file-valid.xml",
		"FileResponse":                       "../../hl7/testdata/upload/fileresponse-file-error.xml",
		"CP-ISAccessToServiceNotification":   "../../hl7/testdata/notification/access-system.xml",
		"CP-ISInactiveNHSNumberNotification": "../../hl7/testdata/notification/inactive-superseded.xml",
	}
	for _, root := range hl7.Roots {
		f, ok := files[root]
		if !ok {
			t.Errorf("no test file for %s", root)
			continue
		}
		for _, schemas := range [][]string{nil, {"--schemas", officialCPIS}} {
			reports, code, stderr := validateJSON(t, append(slices.Clone(schemas), f)...)
			if code != 0 || len(reports) != 1 {
				t.Fatalf("%s: exit %d: %s %+v", f, code, stderr, reports)
			}
			r := reports[0]
			if r.Message != root || r.Name != hl7.MessageName(root) || r.Name == "" || r.SOAP || len(r.Issues) != 0 {
				t.Errorf("%v %s: %+v", schemas, f, r)
			}
		}
	}
}

// FuzzValidateData: any bytes, bare or in an envelope, get a report with a
// verdict that agrees with its issues, each with a rule, and never a panic.
func FuzzValidateData(f *testing.F) {
	for _, g := range []string{"cases/*/request.xml"} {
		files, _ := filepath.Glob(filepath.Join(corpusDir, g))
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><File xmlns="urn:hl7-org:v3"/></e:Body></e:Envelope>`))
	v, err := newValidator("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := validateData(v, "fuzz", data)
		errs := 0
		for _, is := range r.Issues {
			if is.Rule == "" {
				t.Fatalf("issue without a rule: %+v", is)
			}
			if is.Severity == string(hl7.SeverityError) {
				errs++
			}
		}
		if r.Errors != errs || r.Valid != (errs == 0) || r.Errors+r.Warnings != len(r.Issues) {
			t.Fatalf("report disagrees with its issues: %+v", r)
		}
		var b bytes.Buffer
		writeText(&b, []fileReport{r})
	})
}
