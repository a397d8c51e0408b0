package hl7_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/hl7/schema"
	"spinegw/internal/libxml2"
)

var (
	embeddedOnce sync.Once
	embedded     *hl7.Validator
	embeddedErr  error
)

// embeddedValidator is a Validator over spinegw's own schemas.
func embeddedValidator(t testing.TB) *hl7.Validator {
	t.Helper()
	embeddedOnce.Do(func() { embedded, embeddedErr = hl7.NewValidator(schema.FS, schema.Entry) })
	if embeddedErr != nil {
		t.Fatal(embeddedErr)
	}
	return embedded
}

// bothValidators: every check is run against the embedded schemas and the
// official NHS set (as --schemas loads it).
func bothValidators(t *testing.T) map[string]*hl7.Validator {
	return map[string]*hl7.Validator{"embedded": embeddedValidator(t), "official": officialValidator(t)}
}

// messageOf returns the message of a document: the root, or the first
// element of a SOAP Body.
func messageOf(doc *libxml2.Document) *libxml2.Node {
	root := doc.Root()
	if root != nil && root.LocalName() == "Envelope" {
		if body := root.Child("http://schemas.xmlsoap.org/soap/envelope/", "Body"); body != nil {
			return body.FirstChildElement()
		}
	}
	return root
}

// knownWarnings are the warnings the gateway's own test data is allowed:
// FileResponse golden files written from hand-made results whose counts do
// not add up (TestFileResponseGolden), and the schema corpus's maximal
// query, which stretches the TS pattern to an offset in hours.
var knownWarnings = map[string]string{
	"testdata/upload/fileresponse-success.xml":      hl7.RuleCount,
	"testdata/upload/fileresponse-none.xml":         hl7.RuleCount,
	"testdata/upload/fileresponse-partial.xml":      hl7.RuleCount,
	"schema/testdata/QUPC_IN000006GB01_maximal.xml": hl7.RuleTimestamp,
}

// cleanFiles are the gateway's own messages and the test data that stand
// for each message type: its golden files (query response, failures,
// FileResponses, notifications), the realistic queries and uploads, and the
// schema package's corpus of valid instances.
func cleanFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, g := range []string{"testdata/*.xml", "testdata/golden/*.xml", "testdata/notification/*.xml",
		"testdata/upload/file-valid*.xml", "testdata/upload/fileresponse-*.xml", "testdata/validate/*.xml",
		"schema/testdata/*.xml"} {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 30 {
		t.Fatalf("only %d files", len(files))
	}
	return files
}

// Every golden and test message of every type passes every check: the
// validator holds no rule the gateway's own output breaks.
func TestCheckGatewayMessagesClean(t *testing.T) {
	roots := map[string]bool{}
	for name, v := range bothValidators(t) {
		for _, f := range cleanFiles(t) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			msg := messageOf(parse(t, data))
			roots[msg.LocalName()] = true
			for _, is := range v.Check(msg, nil) {
				if !is.IsError() && knownWarnings[f] == is.Rule {
					continue
				}
				t.Errorf("%s %s: %s [%s %s]", name, f, is, is.Severity, is.Rule)
			}
		}
	}
	for _, r := range hl7.Roots {
		if !roots[r] {
			t.Errorf("no clean %s among the test files", r)
		}
	}
}

// mutation breaks one rule in a valid message.
type mutation struct {
	name      string
	file      string // relative to hl7/
	old, new  string
	nth       int    // which occurrence of old (0: the first)
	rule      string // the rule that must report it
	line      int    // where; 0: the line old starts on
	warning   bool   // the issue is a warning
	alsoRules []string
}

var mutations = []mutation{
	// NHS Query (query-person.xml), wire reference §3-4.
	{name: "interaction names another message", file: "testdata/query-person.xml", old: `extension="QUPC_IN000006GB01"`, new: `extension="REPC_IN000007GB01"`, rule: hl7.RuleInteraction},
	{name: "interaction OID", file: "testdata/query-person.xml", old: `root="2.16.840.1.113883.2.1.3.2.4.12"`, new: `root="2.16.840.1.113883.2.1.3.2.4.99"`, rule: hl7.RuleInteraction},
	{name: "message id lower case", file: "testdata/query-person.xml", old: `root="6B1D4F0E-3C55-4F7B-9E38-2A1C5D7E9F10"`, new: `root="6b1d4f0e-3c55-4f7b-9e38-2a1c5d7e9f10"`, rule: hl7.RuleMessageID},
	{name: "message id no UUID", file: "testdata/query-person.xml", old: `root="6B1D4F0E-3C55-4F7B-9E38-2A1C5D7E9F10"`, new: `root="6B1D4F0E3C554F7B9E382A1C5D7E9F10XXXX"`, rule: hl7.RuleMessageID},
	{name: "creationTime 30 February", file: "testdata/query-person.xml", old: `value="20260301093015"`, new: `value="20260230093015"`, rule: hl7.RuleTimestamp},
	{name: "creationTime to the minute", file: "testdata/query-person.xml", old: `value="20260301093015"`, new: `value="202603010930"`, rule: hl7.RuleTimestamp, warning: true},
	{name: "receiver ASID of 11 digits", file: "testdata/query-person.xml", old: `extension="990000000001"`, new: `extension="99000000001"`, rule: hl7.RuleASID},
	{name: "author1 ASID root", file: "testdata/query-person.xml", old: `<id root="1.2.826.0.1285.0.2.0.107" extension="200000000101"/>`, nth: 1, new: `<id root="1.2.826.0.1285.0.2.0.108" extension="200000000101"/>`, rule: hl7.RuleASID},
	{name: "control act author without role profile", file: "testdata/query-person.xml", old: `<id root="1.2.826.0.1285.0.2.0.67" extension="100000000201"/>`, new: ``, rule: hl7.RuleAuthor, line: 22},
	{name: "job role id root", file: "testdata/query-person.xml", old: `root="1.2.826.0.1285.0.2.1.104"`, new: `root="1.2.826.0.1285.0.2.1.105"`, rule: hl7.RuleAuthor},
	{name: "content id announces a system", file: "testdata/query-person.xml", old: `extension="COCT_TP145102GB01#AssignedAuthor"`, new: `extension="COCT_TP145104GB01#System"`, rule: hl7.RuleContentID},
	{name: "content id root", file: "testdata/query-person.xml", old: `<npfitlc:contentId root="2.16.840.1.113883.2.1.3.2.4.18.16"`, new: `<npfitlc:contentId root="2.16.840.1.113883.2.1.3.2.4.18.17"`, rule: hl7.RuleContentID},
	{name: "job role code system", file: "testdata/query-person.xml", old: `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.196"`, new: `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.999"`, rule: hl7.RuleCodeSystem},
	{name: "organisation not ODS", file: "testdata/query-person.xml", old: `<id root="2.16.840.1.113883.2.1.3.2.4.19.1" extension="RX1"/>`, new: `<id root="2.16.840.1.113883.2.1.3.2.4.19.9" extension="RX1"/>`, rule: hl7.RuleODS},
	{name: "NHS number fails Modulus 11", file: "testdata/query-person.xml", old: `<value extension="9990000026"/>`, new: `<value extension="9990000027"/>`, rule: hl7.RuleNHSNumber},
	{name: "query id lower case", file: "testdata/query-person.xml", old: `root="0D5A2C71-8E44-4B0A-A3F2-5C6B7D8E9F01"`, new: `root="0d5a2c71-8e44-4b0a-a3f2-5c6b7d8e9f01"`, rule: hl7.RuleMessageID},
	{name: "person author without SDS user id", file: "testdata/query-person.xml", old: `<id root="1.2.826.0.1285.0.2.0.65" extension="100000000101"/>`, nth: 1, new: ``, rule: hl7.RuleAuthor, line: 48},
	{name: "no NHS number", file: "testdata/query-person.xml", old: `<value extension="9990000026"/>`, new: ``, rule: hl7.RuleNHSNumber, line: 43},
	{name: "system author ASID", file: "testdata/query-system.xml", old: `<id root="1.2.826.0.1285.0.2.0.107" extension="200000000202"/>`, nth: 1, new: `<id root="1.2.826.0.1285.0.2.0.107" extension="2000000002"/>`, rule: hl7.RuleASID},

	// NHS Query Response (golden query-response.xml, one element a line), §5.
	{name: "access records miscounted", file: "testdata/validate/response.xml", old: `<value value="3"/>`, new: `<value value="4"/>`, rule: hl7.RuleCount},
	{name: "child records miscounted", file: "testdata/validate/response.xml", old: `<value value="2"/>`, new: `<value value="5"/>`, rule: hl7.RuleCount},
	{name: "CPP ends before it starts", file: "testdata/validate/response.xml", old: `<value value="202506300000"/>`, new: `<value value="202201010000"/>`, rule: hl7.RuleDateOrder},
	{name: "CPP end 30 February", file: "testdata/validate/response.xml", old: `<value value="202506300000"/>`, new: `<value value="202502300000"/>`, rule: hl7.RuleTimestamp},
	{name: "response not OK", file: "testdata/validate/response.xml", old: `<queryResponseCode code="OK"/>`, new: `<queryResponseCode code="NF"/>`, rule: hl7.RuleQueryAck},
	{name: "child's NHS number", file: "testdata/validate/response.xml", old: `<id root="2.16.840.1.113883.2.1.4.1" extension="9990000026"/>`, new: `<id root="2.16.840.1.113883.2.1.4.1" extension="9990000027"/>`, rule: hl7.RuleNHSNumber},
	{name: "mother's NHS number root", file: "testdata/validate/response.xml", old: `<id root="2.16.840.1.113883.2.1.4.1" extension="9990000026"/>`, nth: 2, new: `<id root="2.16.840.1.113883.2.1.3.2.4.3" extension="9990000026"/>`, rule: hl7.RuleNHSNumber, alsoRules: []string{hl7.RuleXSD}},
	{name: "access history job role code system", file: "testdata/validate/response.xml", old: `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.196" displayName="R0260"`, new: `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.1" displayName="R0260"`, rule: hl7.RuleCodeSystem},
	{name: "access history NHS number", file: "testdata/validate/response.xml", old: `<value extension="9990000026"/>`, nth: 1, new: `<value extension="9990000025"/>`, rule: hl7.RuleNHSNumber},
	{name: "birth date 32 May", file: "testdata/validate/response.xml", old: `<birthTime value="20090514"/>`, new: `<birthTime value="20090532"/>`, rule: hl7.RuleTimestamp},
	{name: "response wrapper sender ASID", file: "testdata/validate/response.xml", old: `extension="990000000001"`, new: `extension="99000000000A"`, rule: hl7.RuleASID},

	// Query failure (golden not-found.xml), §5.
	{name: "failure answers OK", file: "testdata/validate/failure.xml", old: `<queryResponseCode code="ID"/>`, new: `<queryResponseCode code="OK"/>`, rule: hl7.RuleQueryAck},
	{name: "detected issue code system", file: "testdata/validate/failure.xml", old: `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.42"`, new: `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.43"`, rule: hl7.RuleCodeSystem},
	{name: "failed query id lower case", file: "testdata/validate/failure.xml", old: `root="6B1D4F0E-3C55-4F7B-9E38-2A1C5D7E9F10"`, new: `root="6b1d4f0e-3c55-4f7b-9e38-2a1c5d7e9f10"`, rule: hl7.RuleMessageID},
	{name: "failure interaction", file: "testdata/validate/failure.xml", old: `extension="QUQI_IN010000UK14"`, new: `extension="QUQI_IN010000UK13"`, rule: hl7.RuleInteraction},

	// Application acknowledgement (schema corpus), §3.
	{name: "acknowledgement interaction", file: "schema/testdata/MCCI_IN010000UK13.xml", old: `extension="MCCI_IN010000UK13"`, new: `extension="QUQI_IN010000UK14"`, rule: hl7.RuleInteraction},

	// LA Upload (file-valid.xml), §6; CP-IS002, CP-IS018, CP-SC011.
	{name: "transmissionQuantity", file: "testdata/upload/file-valid.xml", old: `<transmissionQuantity value="6"/>`, new: `<transmissionQuantity value="7"/>`, rule: hl7.RuleCount},
	{name: "record NHS number", file: "testdata/upload/file-valid.xml", old: `extension="9990001006"`, new: `extension="9990001007"`, rule: hl7.RuleNHSNumber, line: 22},
	{name: "record LAC ends before it starts", file: "testdata/upload/file-valid.xml", old: `<lACEndDate><value value="202602271600"/>`, new: `<lACEndDate><value value="202201011600"/>`, rule: hl7.RuleRecord, line: 45},
	{name: "no emergency telephone", file: "testdata/upload/file-valid.xml", old: `<telecom value="tel:01632960001" use="EC"/>`, new: `<telecom value="tel:01632960001" use="WP"/>`, rule: hl7.RuleUpload, line: 14},
	{name: "upload plan date 31 November", file: "testdata/upload/file-valid.xml", old: `<value value="202511201030"/>`, new: `<value value="202511311030"/>`, rule: hl7.RuleTimestamp, alsoRules: []string{hl7.RuleRecord}},
	{name: "LA id not ODS", file: "testdata/upload/file-valid.xml", old: `<id root="2.16.840.1.113883.2.1.3.2.4.19.1" extension="E10000001"/>`, new: `<id root="2.16.840.1.113883.2.1.3.2.4.19.7" extension="E10000001"/>`, rule: hl7.RuleODS, alsoRules: []string{hl7.RuleXSD}},
	{name: "upload creationTime", file: "testdata/upload/file-valid.xml", old: `<creationTime value="20260301020000"/>`, new: `<creationTime value="20260301250000"/>`, rule: hl7.RuleTimestamp},

	// LA Acknowledgement Response (fileresponse-file-error.xml), §6; CP-IS018, CP-IS024.
	{name: "file code contradicts counts", file: "testdata/upload/fileresponse-file-error.xml", old: `<code code="CPF01" displayName="File Level Error"/>`, new: `<code code="CPF02" displayName="Successful File Upload"/>`, rule: hl7.RuleFileCode},
	{name: "LAUFI under the record code system", file: "testdata/upload/fileresponse-file-error.xml", old: `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.469"`, new: `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.473"`, rule: hl7.RuleCodeSystem},
	{name: "file-level error counts a failed record", file: "testdata/upload/fileresponse-file-error.xml", old: "<failedReturnedCP-ISRecords>\n    <value value=\"0\"/>", new: "<failedReturnedCP-ISRecords>\n    <value value=\"1\"/>", rule: hl7.RuleFileCode, line: 8, alsoRules: []string{hl7.RuleCount}},
	{name: "failed count without record codes", file: "testdata/upload/fileresponse-partial.xml", old: "<failedReturnedCP-ISRecords>\n    <value value=\"6\"/>", new: "<failedReturnedCP-ISRecords>\n    <value value=\"5\"/>", rule: hl7.RuleCount, line: 62, warning: true},

	// Access to Service Notification (access-system.xml), §7; CP-IS022, CP-IS025.
	{name: "notified records miscounted", file: "testdata/validate/access.xml", old: `<value value="1"/>`, new: `<value value="2"/>`, rule: hl7.RuleCount},
	{name: "accessed NHS number", file: "testdata/validate/access.xml", old: `extension="9990000093"`, new: `extension="9990000094"`, rule: hl7.RuleNHSNumber},
	{name: "notification effectiveTime month 13", file: "testdata/validate/access.xml", old: `<effectiveTime value="20260310011500+0000"/>`, new: `<effectiveTime value="20261310011500+0000"/>`, rule: hl7.RuleTimestamp, alsoRules: []string{hl7.RuleXSD}},
	{name: "recipient LA not ODS", file: "testdata/validate/access.xml", old: `<id root="2.16.840.1.113883.2.1.3.2.4.19.1" extension="E10000003"/>`, new: `<id root="2.16.840.1.113883.2.1.3.2.4.19.5" extension="E10000003"/>`, rule: hl7.RuleODS, alsoRules: []string{hl7.RuleXSD}},
	{name: "notification id lower case", file: "testdata/validate/access.xml", old: `root="D00DFEED-2222-4333-8444-555566667777"`, new: `root="d00dfeed-2222-4333-8444-555566667777"`, rule: hl7.RuleMessageID},

	// Inactive NHS Number Notification (inactive-superseded.xml), §7; CP-IS012.
	{name: "inactive NHS number", file: "testdata/validate/inactive.xml", old: `extension="9990000107"`, new: `extension="9990000108"`, rule: hl7.RuleNHSNumber},
	{name: "replacing NHS number", file: "testdata/validate/inactive.xml", old: `extension="9990000115"`, new: `extension="9990000116"`, rule: hl7.RuleNHSNumber},
}

// mutate applies m to its file and returns the text and the line m names.
func (m mutation) apply(t *testing.T) (string, int) {
	t.Helper()
	data, err := os.ReadFile(m.file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	at := -1
	for i, from := 0, 0; i <= m.nth; i++ {
		j := strings.Index(s[from:], m.old)
		if j < 0 {
			t.Fatalf("%s: occurrence %d of %q not found in %s", m.name, m.nth, m.old, m.file)
		}
		at = from + j
		from = at + len(m.old)
	}
	line := m.line
	if line == 0 {
		line = strings.Count(s[:at], "\n") + 1
	}
	return s[:at] + m.new + s[at+len(m.old):], line
}

// Each rule, broken on its own in a valid message, is reported under its id
// at the line of the element at fault, with its severity; nothing else is
// reported but what the mutation also breaks. Against both schema sets.
func TestCheckReportsEachRule(t *testing.T) {
	covered := map[string]bool{}
	for vname, v := range bothValidators(t) {
		for _, m := range mutations {
			t.Run(vname+"/"+m.name, func(t *testing.T) {
				text, line := m.apply(t)
				issues := v.Check(messageOf(parse(t, []byte(text))), nil)
				found := false
				for _, is := range issues {
					if is.Rule == m.rule && is.Line == line && is.IsError() != m.warning {
						found = true
						continue
					}
					if is.Rule != m.rule && is.Rule != hl7.RuleXSD && !slices.Contains(m.alsoRules, is.Rule) {
						t.Errorf("unexpected issue %s [%s]", is, is.Rule)
					}
				}
				if !found {
					t.Errorf("no %s issue at line %d: %v", m.rule, line, issues)
				}
				covered[m.rule] = true
			})
		}
	}
	for _, r := range []string{hl7.RuleInteraction, hl7.RuleMessageID, hl7.RuleTimestamp, hl7.RuleASID, hl7.RuleAuthor,
		hl7.RuleContentID, hl7.RuleNHSNumber, hl7.RuleCodeSystem, hl7.RuleODS, hl7.RuleCount, hl7.RuleDateOrder,
		hl7.RuleQueryAck, hl7.RuleFileCode, hl7.RuleUpload, hl7.RuleRecord} {
		if !covered[r] {
			t.Errorf("no mutation breaks %s", r)
		}
	}
}

// The SOAP header's action and ASIDs are held against the message it
// carries (wire reference §1-2: the action names the body's root;
// INCONSISTENT_COMM_FUNC_RCV / _SND).
func TestCheckTransport(t *testing.T) {
	v := embeddedValidator(t)
	query := messageOf(parse(t, readTestdata(t, "query-person.xml")))
	upload := messageOf(parse(t, readTestdata(t, "upload/file-valid.xml")))
	const queryAction = "urn:nhs:names:services:cpisquery/QUPC_IN000006GB01"
	for _, tc := range []struct {
		name  string
		msg   *libxml2.Node
		tr    hl7.Transport
		rules []string
	}{
		{"matching query", query, hl7.Transport{Action: queryAction, RcvASID: "990000000001", SndASID: "200000000101", Line: 3}, nil},
		{"action of another interaction", query, hl7.Transport{Action: "urn:nhs:names:services:cpisquery/REPC_IN000007GB01", RcvASID: "990000000001", SndASID: "200000000101", Line: 3}, []string{hl7.RuleSOAPAction}},
		{"receiver differs", query, hl7.Transport{Action: queryAction, RcvASID: "990000000002", SndASID: "200000000101", Line: 3}, []string{hl7.RuleSOAPASID}},
		{"both differ", query, hl7.Transport{Action: queryAction, RcvASID: "990000000002", SndASID: "200000000102", Line: 3}, []string{hl7.RuleSOAPASID, hl7.RuleSOAPASID}},
		{"upload action", upload, hl7.Transport{Action: "urn:GB-en-NHS:iops:interaction:CP-ISLocalAuthorityUpload-v1-0", Line: 3}, nil},
		{"upload under the query action", upload, hl7.Transport{Action: queryAction, Line: 3}, []string{hl7.RuleSOAPAction}},
	} {
		var rules []string
		for _, is := range v.Check(tc.msg, &tc.tr) {
			rules = append(rules, is.Rule)
			if is.Line != 3 {
				t.Errorf("%s: %s not at the header's line", tc.name, is)
			}
		}
		if !slices.Equal(rules, tc.rules) {
			t.Errorf("%s: rules %v, want %v", tc.name, rules, tc.rules)
		}
	}
}

// Every query ParseQuery (and so the SOAP endpoint) refuses, Check refuses
// too: its finer rules cover the query checks.
func TestCheckCoversParseQuery(t *testing.T) {
	v := officialValidator(t)
	refused := 0
	for _, m := range mutations {
		if m.file != "testdata/query-person.xml" {
			continue
		}
		text, _ := m.apply(t)
		msg := messageOf(parse(t, []byte(text)))
		if _, err := hl7.ParseQuery(msg); err == nil {
			continue
		}
		refused++
		if !slices.ContainsFunc(v.Check(msg, nil), hl7.Issue.IsError) {
			t.Errorf("%s: ParseQuery refuses it, Check does not", m.name)
		}
	}
	if refused < 4 {
		t.Errorf("only %d mutations refused by ParseQuery", refused)
	}
}

func TestCheckRefusesUnknownRoots(t *testing.T) {
	v := embeddedValidator(t)
	for _, doc := range []string{`<PRPA_IN000203UK03 xmlns="urn:hl7-org:v3"/>`, `<File xmlns="urn:example"/>`, `<File/>`} {
		issues := v.Check(parse(t, []byte(doc)).Root(), nil)
		if len(issues) != 1 || issues[0].Rule != hl7.RuleRoot || issues[0].Line != 1 || !issues[0].IsError() {
			t.Errorf("%s: %v", doc, issues)
		}
	}
	if issues := v.Check(nil, nil); len(issues) != 1 || issues[0].Rule != hl7.RuleRoot {
		t.Errorf("nil: %v", issues)
	}
}

// The message names of every root the validator knows.
func TestMessageName(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range hl7.Roots {
		n := hl7.MessageName(r)
		if n == "" || seen[n] {
			t.Errorf("%s: name %q", r, n)
		}
		seen[n] = true
	}
	if hl7.MessageName("Envelope") != "" {
		t.Error("an envelope has a message name")
	}
}

// Validate, the SOAP endpoint's check, is unchanged but for rule ids.
func TestValidateTagsRules(t *testing.T) {
	v := officialValidator(t)
	doc := strings.Replace(string(readTestdata(t, "query-person.xml")), `<processingCode code="P"/>`, `<processingCode code="X"/>`, 1)
	doc = strings.Replace(doc, `extension="COCT_TP145102GB01#AssignedAuthor"`, `extension="COCT_TP145104GB01#System"`, 1)
	var rules []string
	for _, is := range v.Validate(queryElement(t, []byte(doc))) {
		rules = append(rules, is.Rule)
	}
	if !slices.Equal(rules, []string{hl7.RuleXSD, hl7.RuleQuery}) {
		t.Errorf("rules %v", rules)
	}
}

var tenDigits = regexp.MustCompile(`(^|[^0-9])[0-9]{10}([^0-9]|$)`)

// FuzzCheck: any document, parsed as the validate command parses it, is
// checked without panicking, every issue with a rule, a severity and no
// NHS number.
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.xml")
	more, _ := filepath.Glob("testdata/*/*.xml")
	for _, p := range append(files, more...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`<File xmlns="urn:hl7-org:v3"><record><CP-ISRecord><subject/></CP-ISRecord></record></File>`))
	f.Add([]byte(`<REPC_IN000007GB01 xmlns="urn:hl7-org:v3"><ControlActEvent><subject><CP-ISNHSQueryResponse/></subject></ControlActEvent></REPC_IN000007GB01>`))
	v := embeddedValidator(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := libxml2.Parse(data, libxml2.ParseOptions{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		defer doc.Free()
		msg := messageOf(doc)
		for _, tr := range []*hl7.Transport{nil, {Action: "urn:x/y", RcvASID: "1", SndASID: "2", Line: 1}} {
			for _, is := range v.Check(msg, tr) {
				if is.Rule == "" || (is.Severity != hl7.SeverityError && is.Severity != hl7.SeverityWarning) {
					t.Fatalf("issue without rule or severity: %#v", is)
				}
				if tenDigits.MatchString(is.Msg) {
					t.Fatalf("issue quotes ten digits: %s", is.Msg)
				}
			}
		}
		_ = fmt.Sprint(hl7.SpineRules(msg, nil))
	})
}

// The indented copies in testdata/validate are the golden messages they
// were made from, but for white space between elements.
func TestValidateTestdataIsGolden(t *testing.T) {
	squash := regexp.MustCompile(`>\s+<`)
	norm := func(b []byte) string {
		s := strings.TrimSpace(string(b))
		if strings.HasPrefix(s, "<?xml") {
			s = s[strings.Index(s, "?>")+2:]
		}
		return squash.ReplaceAllString(strings.TrimSpace(s), "><")
	}
	for copy, golden := range map[string]string{
		"validate/response.xml": "golden/query-response.xml",
		"validate/failure.xml":  "golden/not-found.xml",
		"validate/access.xml":   "notification/access-system.xml",
		"validate/inactive.xml": "notification/inactive-superseded.xml",
	} {
		if norm(readTestdata(t, copy)) != norm(readTestdata(t, golden)) {
			t.Errorf("testdata/%s is not testdata/%s: regenerate it with xmllint --format", copy, golden)
		}
	}
}

// What the gateway writes for what it does not know (an accessor without
// SDS user id, job role or ODS code; a system acting for nobody named; a
// subject PDS does not know) passes every check: the writers' null flavours
// and UNK codes are Spine's way of saying so. The emulator's birth date
// 00000000 for a person PDS does not know is a warning: real Spine always
// knows it.
func TestCheckWriterUnknowns(t *testing.T) {
	nhs := cpis.NHSNumber("9990000026")
	at := time.Date(2026, 3, 1, 9, 30, 16, 0, time.UTC)
	anonymous := cpis.Accessor{Name: cpis.Name{Family: "Locum"}}
	bareSystem := cpis.Accessor{System: true, ASID: "200000000202"}
	history := []cpis.AccessEvent{
		{ID: "7A8B9C0D-1E2F-4A3B-8C4D-5E6F7A8B9C0D", NHSNumber: nhs, At: at.Add(-time.Hour), Accessor: anonymous, Shown: true},
		{ID: "7A8B9C0D-1E2F-4A3B-8C4D-5E6F7A8B9C0E", NHSNumber: nhs, At: at.Add(-2 * time.Hour), Accessor: bareSystem, Shown: true},
	}
	answer := cpis.Answer{
		NHSNumber: nhs,
		Holdings:  []cpis.Holding{{LA: exampleshire, Plans: []cpis.Plan{{Type: cpis.CPP, Start: cpis.Date(2023, time.January, 9)}}}},
		History:   history,
		At:        at,
	}
	resp, err := hl7.QueryResponse(fixedReply, hl7.Query{NHSNumber: string(nhs)}, answer)
	if err != nil {
		t.Fatal(err)
	}
	var notif bytes.Buffer
	err = hl7.WriteAccessNotification(&notif, notifReply, cpis.AccessNotification{LA: notifLA, From: at.Add(-24 * time.Hour), To: at,
		Records: []cpis.NotifiedRecord{{NHSNumber: nhs, FileID: "E10000003-20260301-0001", Accesses: history}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range bothValidators(t) {
		for what, out := range map[string][]byte{"response": resp, "notification": notif.Bytes()} {
			for _, is := range v.Check(parse(t, out).Root(), nil) {
				if what == "response" && is.Rule == hl7.RuleTimestamp && !is.IsError() && strings.Contains(is.Msg, "00000000") {
					continue
				}
				t.Errorf("%s %s: %s [%s %s]", name, what, is, is.Severity, is.Rule)
			}
		}
	}
	if !strings.Contains(string(resp), `<birthTime value="00000000"/>`) || !strings.Contains(string(resp), `<id nullFlavor="UNK"/>`) {
		t.Errorf("the response no longer has the unknowns this test is about:\n%s", resp)
	}
}
