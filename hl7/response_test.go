package hl7_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/internal/libxml2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixedReply is the gateway's reply to testdata/query-person.xml, with fixed
// id and time so that the bytes are reproducible.
var fixedReply = hl7.Reply{
	MessageID:    "C0FFEE00-1111-4222-8333-444455556666",
	CreationTime: time.Date(2026, 3, 1, 9, 30, 16, 0, time.UTC),
	RequestID:    "6B1D4F0E-3C55-4F7B-9E38-2A1C5D7E9F10",
	GatewayASID:  "990000000001",
	ToASID:       "200000000101",
}

var (
	exampleshire = cpis.LocalAuthority{ODS: "E10000001", Name: "Exampleshire County Council", Emergency: "tel:01632960001", Office: "tel:01632960002"}
	sampleton    = cpis.LocalAuthority{ODS: "E06000002", Name: "Sampleton Borough Council", Emergency: "tel:+44 (0)1632 960 111"}

	midwife = cpis.Accessor{
		UserID: "100000000101", RoleProfileID: "100000000201",
		Name:    cpis.Name{Prefix: "Ms", Given: []string{"Amelia", "Rose"}, Family: "Okafor"},
		JobRole: cpis.JobRole{Code: "S0030:G0100:R0680", Name: "Midwife"},
		Org:     cpis.Org{ODS: "RX1", Name: "Example Hospitals NHS Trust"},
		ASID:    "200000000101",
	}
	paediatrician = cpis.Accessor{
		UserID: "100000000303", RoleProfileID: "100000000404",
		Name:    cpis.Name{Prefix: "Dr", Given: []string{"Tom"}, Family: "Nguyen"},
		JobRole: cpis.JobRole{Code: "R0050", Name: "Consultant"},
		Org:     cpis.Org{ODS: "RY2", Name: "Sampleton Children's Hospital NHS Foundation Trust"},
		ASID:    "200000000303",
	}
	outOfHours = cpis.Accessor{
		System: true, ASID: "200000000202",
		Name:    cpis.Name{Given: []string{"Sam"}, Family: "Patel"},
		JobRole: cpis.JobRole{Code: "R0260"},
		Org:     cpis.Org{ODS: "NX1", Name: "Example Out of Hours Service"},
	}
)

// fullAnswer: a 16-year-old looked-after mother-to-be. Exampleshire holds an
// ended CPP and an open LAC for her; Sampleton an unborn child protection
// plan and a CPP. Three earlier accesses, newest first, one in summer time.
func fullAnswer() cpis.Answer {
	nhs := cpis.NHSNumber("9990000026")
	at := time.Date(2026, 3, 1, 9, 30, 16, 0, time.UTC)
	return cpis.Answer{
		NHSNumber: nhs,
		Patient: cpis.Patient{
			NHSNumber: nhs,
			Name:      cpis.Name{Prefix: "Miss", Given: []string{"Jade", "Louise"}, Family: "Example"},
			BirthDate: cpis.Date(2009, time.May, 14),
		},
		Holdings: []cpis.Holding{
			{LA: exampleshire, Plans: []cpis.Plan{
				{Type: cpis.CPP, Start: cpis.Date(2023, time.January, 9), End: cpis.Date(2025, time.June, 30), Delete: cpis.Date(2031, time.December, 24)},
				{Type: cpis.LAC, Start: cpis.Date(2025, time.July, 1)},
			}},
			{LA: sampleton, Plans: []cpis.Plan{
				{Type: cpis.UCP, Start: cpis.Date(2026, time.January, 20), End: cpis.Date(2026, time.June, 2)},
				{Type: cpis.CPP, Start: cpis.Date(2026, time.February, 2)},
			}},
		},
		History: []cpis.AccessEvent{
			{ID: "7A8B9C0D-1E2F-4A3B-8C4D-5E6F7A8B9C0D", NHSNumber: nhs, At: time.Date(2026, 2, 27, 23, 5, 0, 0, time.UTC), Accessor: outOfHours, Shown: true},
			{ID: "1f2e3d4c-5b6a-4798-8877-665544332211", NHSNumber: nhs, At: time.Date(2026, 1, 21, 14, 12, 9, 0, time.UTC), Accessor: midwife, Shown: true},
			{ID: "legacy-event-17", NHSNumber: nhs, At: time.Date(2025, 8, 10, 7, 45, 30, 0, time.UTC), Accessor: paediatrician, Shown: true},
		},
		At: at,
	}
}

// golden compares out with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, out []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\n got %s\nwant %s", name, out, want)
	}
}

func queryResponse(t *testing.T, a cpis.Answer) []byte {
	t.Helper()
	out, err := hl7.QueryResponse(fixedReply, personQuery, a)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestQueryResponseGolden(t *testing.T) {
	out := queryResponse(t, fullAnswer())
	golden(t, "query-response.xml", out)
	mustValidate(t, out)
}

func TestQueryFailureGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    hl7.Failure
	}{
		{"not-found.xml", hl7.NotFound()},
		{"smsp-0001.xml", hl7.SMSP("SMSP-0001", "line 12: Element '{urn:hl7-org:v3}processingCode', attribute 'code': [facet 'enumeration'] The value 'X' is not an element of the set {'D', 'P', 'T'}.")},
		{"smsp-0005.xml", hl7.SMSP("SMSP-0005", "the role profile does not hold activity B0107 View Child Protection Plan information")},
		{"smsp-0002.xml", hl7.SMSP("SMSP-0002", "the response built for the query did not validate")},
		{"smsp-0004.xml", hl7.SMSP("SMSP-0004", "the CP-IS service could not be reached")},
		{"smsp-9999.xml", hl7.SMSP("SMSP-9999", "the gateway failed to process the query")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := hl7.QueryFailure(fixedReply, personQuery, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, out)
			mustValidate(t, out)
		})
	}
}

// NotFound is Spine's own negative answer (wire reference §5): detected issue
// 1 "NHS Number Not Found" qualified ER, response code ID, acknowledgement AE
// referring to the query.
func TestNotFoundIsSpinesAnswer(t *testing.T) {
	out, err := hl7.QueryFailure(fixedReply, personQuery, hl7.NotFound())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<acknowledgement typeCode="AE"><messageRef><id root="6B1D4F0E-3C55-4F7B-9E38-2A1C5D7E9F10"/></messageRef></acknowledgement>`,
		`<code code="1" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.42" displayName="NHS Number Not Found"><qualifier code="ER"/></code>`,
		`<queryAck><queryResponseCode code="ID"/></queryAck>`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
}

// SMSP failures carry the vocabulary's display name and the human-readable
// reason, as the detected issue's originalText.
func TestSMSP(t *testing.T) {
	for _, tc := range []struct {
		code, name, rc string
	}{
		{"SMSP-0001", "Input message validation error", "QE"},
		{"SMSP-0005", "Author credentials error", "AE"},
		{"SMSP-9999", "Provider software failure", "AE"},
		{"CPIS-9999", "CP-IS Spine service error", "AE"},
		{"XYZ-1", "XYZ-1", "AE"},
	} {
		f := hl7.SMSP(tc.code, "why <it> failed & more")
		want := hl7.Failure{Code: tc.code, CodeSystem: hl7.CodeSystemSMSP, DisplayName: tc.name, Text: "why <it> failed & more", ResponseCode: tc.rc}
		if f != want {
			t.Errorf("SMSP(%s) = %#v, want %#v", tc.code, f, want)
		}
		out, err := hl7.QueryFailure(fixedReply, personQuery, f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "<originalText>why &lt;it&gt; failed &amp; more</originalText>") {
			t.Errorf("%s: the reason is not in originalText:\n%s", tc.code, out)
		}
	}
}

// Failures answer queries too broken to identify themselves: every one still
// validates.
func TestQueryFailureEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    hl7.Reply
		q    hl7.Query
	}{
		{"request id from the query", hl7.Reply{MessageID: fixedReply.MessageID, CreationTime: fixedReply.CreationTime, GatewayASID: "990000000001", ToASID: "200000000101"}, personQuery},
		{"no request id at all", hl7.Reply{CreationTime: fixedReply.CreationTime, GatewayASID: "990000000001"}, hl7.Query{}},
		{"request id not a UUID", hl7.Reply{CreationTime: fixedReply.CreationTime, RequestID: "not a uuid", GatewayASID: "990000000001"}, hl7.Query{}},
		{"lower-case request id", hl7.Reply{CreationTime: fixedReply.CreationTime, RequestID: strings.ToLower(fixedReply.RequestID)}, hl7.Query{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := hl7.QueryFailure(tc.r, tc.q, hl7.SMSP("SMSP-0001", "the message id (id/@root) must be a UUID"))
			if err != nil {
				t.Fatal(err)
			}
			mustValidate(t, out)
		})
	}
	if _, err := hl7.QueryFailure(fixedReply, personQuery, hl7.Failure{}); cpis.KindOf(err) != cpis.KindInternal {
		t.Errorf("an empty failure was built: %v", err)
	}
}

// Every query response the gateway can build validates against the official
// schemas, however little the world knows.
func TestQueryResponseValidates(t *testing.T) {
	nhs := cpis.NHSNumber("9990000018")
	base := func() cpis.Answer {
		a := fullAnswer()
		a.NHSNumber = nhs
		a.Patient.NHSNumber = nhs
		return a
	}
	many := func(n int) []cpis.AccessEvent {
		evs := make([]cpis.AccessEvent, n)
		for i := range evs {
			acc := midwife
			if i%3 == 1 {
				acc = outOfHours
			}
			evs[i] = cpis.AccessEvent{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), NHSNumber: nhs, At: fixedReply.CreationTime.Add(-time.Duration(i+1) * 36 * time.Hour), Accessor: acc, Shown: true}
		}
		return evs
	}
	for _, tc := range []struct {
		name   string
		answer func() cpis.Answer
	}{
		{"no history", func() cpis.Answer { a := base(); a.History = nil; return a }},
		{"25 history entries", func() cpis.Answer { a := base(); a.History = many(25); return a }},
		{"UCP-only mother", func() cpis.Answer {
			a := base()
			a.Holdings = []cpis.Holding{{LA: sampleton, Plans: []cpis.Plan{{Type: cpis.UCP, Start: cpis.Date(2026, 1, 20), End: cpis.Date(2026, 6, 2)}}}}
			return a
		}},
		{"child unknown to PDS", func() cpis.Answer { a := base(); a.Patient = cpis.Patient{}; return a }},
		{"PDS knows no birth date nor given name", func() cpis.Answer {
			a := base()
			a.Patient.BirthDate = time.Time{}
			a.Patient.Name = cpis.Name{Family: "Example"}
			return a
		}},
		{"more plans than one record holds", func() cpis.Answer {
			a := base()
			p := cpis.Plan{Type: cpis.CPP, Start: cpis.Date(2020, 1, 1), End: cpis.Date(2021, 1, 1)}
			a.Holdings = []cpis.Holding{{LA: exampleshire, Plans: []cpis.Plan{p, p, p, p}}}
			return a
		}},
		{"LA without usable telephone numbers", func() cpis.Answer {
			a := base()
			a.Holdings[0].LA.Emergency = ""
			a.Holdings[0].LA.Office = "ext. 4"
			a.Holdings[1].LA.Emergency = "0800 CALL US"
			a.Holdings[1].LA.Office = "01632 960 222"
			return a
		}},
		{"accessors the directory knows little of", func() cpis.Answer {
			a := base()
			a.History = []cpis.AccessEvent{
				{ID: "", At: fixedReply.CreationTime.Add(-time.Hour), Accessor: cpis.Accessor{UserID: "100000000909"}},
				{ID: "x", At: fixedReply.CreationTime.Add(-2 * time.Hour), Accessor: cpis.Accessor{System: true, ASID: "200000000202", Org: cpis.Org{ODS: "NX1"}}},
				{ID: "y", At: fixedReply.CreationTime.Add(-3 * time.Hour), Accessor: cpis.Accessor{System: true, ASID: "not-an-asid"}},
			}
			return a
		}},
		{"no answer time", func() cpis.Answer { a := base(); a.At = time.Time{}; return a }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustValidate(t, queryResponse(t, tc.answer()))
		})
	}
}

// xpathCount counts what expr selects in a built message; h is bound to the
// HL7 namespace.
func xpathCount(t *testing.T, doc *libxml2.Document, expr string) int {
	t.Helper()
	nodes, err := doc.XPath(expr, map[string]string{"h": hl7.NS, "n": hl7.NSLocalisation})
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return len(nodes)
}

func xpathString(t *testing.T, doc *libxml2.Document, expr string) string {
	t.Helper()
	s, err := doc.XPathString(expr, map[string]string{"h": hl7.NS, "n": hl7.NSLocalisation})
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return s
}

// The content of a query response, read back as a receiving system would.
func TestQueryResponseContent(t *testing.T) {
	a := fullAnswer()
	out := queryResponse(t, a)
	doc := parse(t, out)
	const resp = "/h:REPC_IN000007GB01/h:ControlActEvent/h:subject/h:CP-ISNHSQueryResponse"
	for _, tc := range []struct {
		what, expr, want string
	}{
		{"addressed to the querying system", "/h:REPC_IN000007GB01/h:communicationFunctionRcv/h:device/h:id/@extension", "200000000101"},
		{"sent by the gateway", "/h:REPC_IN000007GB01/h:communicationFunctionSnd/h:device/h:id/@extension", "990000000001"},
		{"authored by the gateway", "/h:REPC_IN000007GB01/h:ControlActEvent/h:author1/h:AgentSystemSDS/h:agentSystemSDS/h:id/@extension", "990000000001"},
		{"the answer names the question", resp + "/h:id/@root", personQuery.QueryID},
		{"access records returned", resp + "/h:pertinentInformation11/h:pertinentTotalReturnedAccessRecords/h:value/@value", "3"},
		{"child records returned", resp + "/h:pertinentInformation12/h:pertinentTotalReturnedChildRecords/h:value/@value", "2"},
		{"CP-IS045: times carry their zone", resp + "/h:effectiveTime/@value", "20260301093016+0000"},
		{"CP-IS045: summer time is British Summer Time", resp + "/h:pertinentInformation13[3]/h:pertinentCP-ISNHSQuery/h:effectiveTime/@value", "20250810084530+0100"},
		{"CP-IS048: newest access first", resp + "/h:pertinentInformation13[1]/h:pertinentCP-ISNHSQuery/h:id/@root", "7A8B9C0D-1E2F-4A3B-8C4D-5E6F7A8B9C0D"},
		{"CP-IS026: who looked, readable", resp + "/h:pertinentInformation13[2]//h:assignedAuthorPerson/h:name", "MsAmeliaRoseOkafor"},
		{"CP-IS008: their job role, readable", resp + "/h:pertinentInformation13[2]//h:code/@displayName", "Midwife"},
		{"CP-IS008: their organisation, readable", resp + "/h:pertinentInformation13[2]//h:representedOrganization/h:name", "Example Hospitals NHS Trust"},
		{"a system's access names the person it vouched for", resp + "/h:pertinentInformation13[1]//h:superiorAssignedEntity/h:assignedPerson/h:name", "SamPatel"},
		{"a system's access names its organisation", resp + "/h:pertinentInformation13[1]//h:maintainingOrganization/h:name", "Example Out of Hours Service"},
		{"an event id that is no UUID becomes one", resp + "/h:pertinentInformation13[3]/h:pertinentCP-ISNHSQuery/h:id/@root", "83428D28-8A39-5BF7-B235-330D35BE5CC6"},
		{"CP-IS008: the LA by name", resp + "/h:pertinentInformation14[1]//h:organisation/h:name", "Exampleshire County Council"},
		{"the LA's emergency duty number", resp + "/h:pertinentInformation14[1]//h:organisation/h:telecom[@use='EC']/@value", "tel:01632960001"},
		{"the LA's office hours number", resp + "/h:pertinentInformation14[1]//h:organisation/h:telecom[@use='WP']/@value", "tel:01632960002"},
		{"telephone numbers as the schema writes them", resp + "/h:pertinentInformation14[2]//h:organisation/h:telecom[@use='EC']/@value", "tel:+441632960111"},
		{"plan dates in minutes", resp + "/h:pertinentInformation14[1]//h:COCT_TP146105GB01.CPPInformation/h:component/h:cPPStartDate/h:value/@value", "202301090000"},
		{"the child by NHS number", resp + "/h:pertinentInformation14[1]//h:COCT_TP145101GB01.Child/h:id/@extension", "9990000026"},
		{"the child's name from PDS", resp + "/h:pertinentInformation14[1]//h:childPerson/h:name", "Jade LouiseExample"},
		{"the child's birth date from PDS", resp + "/h:pertinentInformation14[1]//h:childPerson/h:birthTime/@value", "20090514"},
		{"CP-IS033: the unborn child through its mother", resp + "/h:pertinentInformation14[2]//h:COCT_TP145100GB01.UnbornChild/h:parentMotherPerson/h:playedMother/h:id/@extension", "9990000026"},
		{"CP-IS011: the unborn child's due date", resp + "/h:pertinentInformation14[2]//h:uCPEndDate/h:value/@value", "202606020000"},
		{"positive answer", "/h:REPC_IN000007GB01/h:ControlActEvent/h:queryAck/h:queryResponseCode/@code", "OK"},
	} {
		if got := xpathString(t, doc, tc.expr); got != tc.want {
			t.Errorf("%s: %s = %q, want %q", tc.what, tc.expr, got, tc.want)
		}
	}
	for _, tc := range []struct {
		what string
		expr string
		want int
	}{
		{"one pertinentInformation13 per access", resp + "/h:pertinentInformation13/h:pertinentCP-ISNHSQuery", 3},
		{"CP-IS046: one pertinentInformation14 per LA", resp + "/h:pertinentInformation14", 2},
		{"one information item per visible plan", resp + "//h:pertinentInformation15", 4},
		{"an open plan has no end date", resp + "//h:COCT_TP146103GB01.LACInformation/h:component1", 0},
		{"a CPP or LAC shows the child", resp + "/h:pertinentInformation14[1]//h:subject/h:COCT_TP145101GB01.Child", 1},
		{"an LA with only a child's plans shows no unborn child", resp + "/h:pertinentInformation14[1]//h:COCT_TP145100GB01.UnbornChild", 0},
		{"an LA with a CPP and a UCP shows both subjects", resp + "/h:pertinentInformation14[2]//h:CP-ISRecord/h:subject", 2},
		{"each item announced by its content id", resp + "//h:pertinentInformation15/n:contentId", 4},
		{"no acknowledgement: the schema has none", "/h:REPC_IN000007GB01/h:acknowledgement", 0},
	} {
		if got := xpathCount(t, doc, tc.expr); got != tc.want {
			t.Errorf("%s: count(%s) = %d, want %d", tc.what, tc.expr, got, tc.want)
		}
	}
	// CP-IS009, CP-IS051: neither the delete date nor anything the LA keeps
	// to itself reaches the NHS.
	if strings.Contains(string(out), "20311224") {
		t.Errorf("the delete date is in the response")
	}
}

// A child unknown to PDS keeps its NHS number; the name and birth date the
// schema demands are marked unknown rather than invented.
func TestQueryResponseUnknownSubject(t *testing.T) {
	a := fullAnswer()
	a.Patient = cpis.Patient{}
	doc := parse(t, queryResponse(t, a))
	const child = "//h:pertinentInformation14[1]//h:COCT_TP145101GB01.Child"
	if got := xpathString(t, doc, child+"/h:id/@extension"); got != "9990000026" {
		t.Errorf("NHS number %q", got)
	}
	if got := xpathString(t, doc, child+"/h:childPerson/h:birthTime/@value"); got != "00000000" {
		t.Errorf("birth time %q, want the no-date 00000000", got)
	}
	if got := xpathCount(t, doc, child+"/h:childPerson/h:name/*[@nullFlavor='UNK']"); got != 2 {
		t.Errorf("%d name parts marked unknown, want 2", got)
	}
}

// Answers the schema cannot carry are refused, not sent broken.
func TestQueryResponseRefusesInexpressibleAnswers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alter func(*cpis.Answer)
	}{
		{"no local authority", func(a *cpis.Answer) { a.Holdings = nil }},
		{"an LA with no plan", func(a *cpis.Answer) { a.Holdings[0].Plans = nil }},
		{"a plan without start date", func(a *cpis.Answer) { a.Holdings[0].Plans[0].Start = time.Time{} }},
		{"an unborn child's plan without due date", func(a *cpis.Answer) { a.Holdings[1].Plans[0].End = time.Time{} }},
		{"a date before 1900", func(a *cpis.Answer) { a.Holdings[0].Plans[0].Start = cpis.Date(1899, 12, 31) }},
		{"a plan of no known type", func(a *cpis.Answer) { a.Holdings[0].Plans[0].Type = "XYZ" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := fullAnswer()
			tc.alter(&a)
			if _, err := hl7.QueryResponse(fixedReply, personQuery, a); cpis.KindOf(err) != cpis.KindInternal {
				t.Errorf("err = %v, want KindInternal", err)
			}
		})
	}
}

// The validation these tests rely on does catch a broken response.
func TestOfficialSchemasCatchBrokenResponses(t *testing.T) {
	out := string(queryResponse(t, fullAnswer()))
	for _, broken := range []string{
		strings.Replace(out, `<queryAck><queryResponseCode code="OK"/></queryAck>`, "", 1),
		strings.Replace(out, `<value value="202301090000"/>`, `<value value="20230109"/>`, 1),
		strings.Replace(out, `<telecom value="tel:01632960001" use="EC"/>`, `<telecom value="tel:01632 960001" use="EC"/>`, 1),
	} {
		if broken == out {
			t.Fatal("the test did not break the response")
		}
		if issues := officialValidator(t).Validate(parse(t, []byte(broken)).Root()); len(issues) == 0 {
			t.Errorf("a broken response validated:\n%s", broken)
		}
	}
}

// A reply without a message id gets a fresh upper-case UUID.
func TestReplyMessageIDMade(t *testing.T) {
	r := fixedReply
	r.MessageID = ""
	out, err := hl7.QueryResponse(r, personQuery, fullAnswer())
	if err != nil {
		t.Fatal(err)
	}
	doc := parse(t, out)
	id := xpathString(t, doc, "/h:REPC_IN000007GB01/h:id/@root")
	if len(id) != 36 || id != strings.ToUpper(id) {
		t.Errorf("message id %q", id)
	}
	mustValidate(t, out)
}

// The LA's numbers as the schema writes them: tel: and digits. A number that
// cannot be written so is left out; an LA with no usable number at all still
// shows its record, with the empty emergency number the schema demands.
func TestQueryResponseTelephones(t *testing.T) {
	a := fullAnswer()
	a.Holdings[0].LA.Emergency = "0800 CALL US"
	a.Holdings[0].LA.Office = "01632-960.222"
	a.Holdings[1].LA.Emergency = ""
	a.Holdings[1].LA.Office = ""
	doc := parse(t, queryResponse(t, a))
	for expr, want := range map[string]string{
		"//h:pertinentInformation14[1]//h:telecom[@use='WP']/@value": "tel:01632960222",
		"//h:pertinentInformation14[2]//h:telecom[@use='EC']/@value": "tel:",
	} {
		if got := xpathString(t, doc, expr); got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
	if n := xpathCount(t, doc, "//h:pertinentInformation14[1]//h:telecom"); n != 1 {
		t.Errorf("an LA with one usable number has %d telecoms, want 1", n)
	}
	if n := xpathCount(t, doc, "//h:pertinentInformation14[2]//h:telecom"); n != 1 {
		t.Errorf("an LA without numbers has %d telecoms, want the one the schema demands", n)
	}
}
