package hl7_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"spinegw/cpis"
	"spinegw/hl7"
)

// personQuery is what testdata/query-person.xml says: a midwife's smartcard
// query, claims made both in the payload author and the control act.
var personQuery = hl7.Query{
	Wrapper: hl7.Wrapper{
		MessageID:     "6B1D4F0E-3C55-4F7B-9E38-2A1C5D7E9F10",
		CreationTime:  "20260301093015",
		InteractionID: "QUPC_IN000006GB01",
		VersionCode:   "V3NPfIT3.0",
		ReceiverASID:  "990000000001",
		SenderASID:    "200000000101",
	},
	QueryID:       "0D5A2C71-8E44-4B0A-A3F2-5C6B7D8E9F01",
	EffectiveTime: "20260301093014",
	NHSNumber:     "9990000026",
	Author: cpis.Author{
		UserID:         "100000000101",
		UserIDs:        []string{"100000000101", "100000000101"},
		RoleProfileIDs: []string{"100000000201", "100000000201"},
		JobRoles:       []string{"S0030:G0100:R0680", "R0680"},
		Name:           cpis.Name{Prefix: "Ms", Given: []string{"Amelia", "Rose"}, Family: "Okafor"},
		Org:            cpis.Org{ODS: "RX1", Name: "Example Hospitals NHS Trust"},
	},
	AuthorSystemASIDs: []string{"200000000101"},
}

// systemQuery is what testdata/query-system.xml says: an out-of-hours system
// querying for a GP it vouches for, with no control act author.
var systemQuery = hl7.Query{
	Wrapper: hl7.Wrapper{
		MessageID:     "A3C9E2F4-1B6D-4E8A-9C0B-7D2E4F6A8B13",
		CreationTime:  "20260302221500",
		InteractionID: "QUPC_IN000006GB01",
		VersionCode:   "V3NPfIT3.0",
		ReceiverASID:  "990000000001",
		SenderASID:    "200000000202",
	},
	QueryID:       "F1E2D3C4-B5A6-4978-8695-A4B3C2D1E0F9",
	EffectiveTime: "20260302221459",
	NHSNumber:     "9990000018",
	Author: cpis.Author{
		System:   true,
		ASID:     "200000000202",
		JobRoles: []string{"R0260"},
		Name:     cpis.Name{Given: []string{"Sam"}, Family: "Patel"},
		Org:      cpis.Org{ODS: "NX1", Name: "Example Out of Hours Service"},
	},
	AuthorSystemASIDs: []string{"200000000202"},
}

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		file string
		want hl7.Query
	}{
		{"query-person.xml", personQuery},
		{"query-system.xml", systemQuery},
		// The same person query inside SOAP envelopes: whatever prefixes
		// the sender writes, elements are matched by namespace URI.
		{"soap-env.xml", personQuery},     // SOAP-ENV: envelope, HL7 default namespace
		{"soapenv.xml", personQuery},      // soapenv: envelope, hl7: on every HL7 element
		{"soap-default.xml", personQuery}, // SOAP default namespace, HL7 default redeclared
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := hl7.ParseQuery(queryElement(t, readTestdata(t, tc.file)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseQuery:\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestQueryCore(t *testing.T) {
	got := personQuery.Core()
	want := cpis.Query{MessageID: personQuery.MessageID, NHSNumber: "9990000026", Author: personQuery.Author}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Core() = %#v, want %#v", got, want)
	}
}

// TestParseQuerySpineChecks: each Spine check refuses its violation with a
// KindInvalid error that says what is wrong and never carries patient data.
func TestParseQuerySpineChecks(t *testing.T) {
	person := string(readTestdata(t, "query-person.xml"))
	system := string(readTestdata(t, "query-system.xml"))
	cut := func(s, start, end string) string {
		i := strings.Index(s, start)
		j := strings.Index(s[i:], end)
		if i < 0 || j < 0 {
			t.Fatalf("test data lacks %q...%q", start, end)
		}
		return s[:i] + s[i+j+len(end):]
	}
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"interactionId names another interaction",
			strings.Replace(person, `extension="QUPC_IN000006GB01"`, `extension="QUPC_IN000007GB01"`, 1),
			"interactionId/@extension must be QUPC_IN000006GB01"},
		{"interactionId under another root",
			strings.Replace(person, `interactionId root="2.16.840.1.113883.2.1.3.2.4.12"`, `interactionId root="2.16.840.1.113883.2.1.3.2.4.99"`, 1),
			"interactionId/@root must be 2.16.840.1.113883.2.1.3.2.4.12"},
		{"no interactionId",
			cut(person, "<interactionId", "/>"),
			"no interactionId"},
		{"message id not a UUID",
			strings.Replace(person, `<id root="6B1D4F0E-3C55-4F7B-9E38-2A1C5D7E9F10"/>`, `<id root="2.16.840.1.113883.1"/>`, 1),
			"message id (id/@root) must be a UUID"},
		{"control act author without role profile id",
			strings.Replace(person, `<id root="1.2.826.0.1285.0.2.0.67" extension="100000000201"/>
				<agentPersonSDS`, `<id root="1.2.826.0.1285.0.2.0.67"/>
				<agentPersonSDS`, 1),
			"lacks the SDS role profile id"},
		{"control act author without SDS user id",
			strings.Replace(person, `<id root="1.2.826.0.1285.0.2.0.65" extension="100000000101"/>
				</agentPersonSDS>`, `<id nullFlavor="NI"/>
				</agentPersonSDS>`, 1),
			"lacks the SDS user id"},
		{"control act author without job role",
			strings.Replace(person, `<id root="1.2.826.0.1285.0.2.1.104" extension="R0680"/>`, `<id root="1.2.826.0.1285.0.2.1.104" extension=""/>`, 1),
			"lacks the job role"},
		{"person author announced as a system",
			strings.Replace(person, `extension="COCT_TP145102GB01#AssignedAuthor"`, `extension="COCT_TP145104GB01#System"`, 1),
			"contentId/@extension must be COCT_TP145102GB01#AssignedAuthor"},
		{"system author announced as a person",
			strings.Replace(system, `extension="COCT_TP145104GB01#System"`, `extension="COCT_TP145102GB01#AssignedAuthor"`, 1),
			"contentId/@extension must be COCT_TP145104GB01#System"},
		{"author without contentId",
			cut(person, "<npfitlc:contentId", "/>"),
			"has no npfitlc:contentId"},
		{"author neither person nor system",
			cut(person, "<COCT_TP145102GB01.AssignedAuthor>", "</COCT_TP145102GB01.AssignedAuthor>"),
			"must be a COCT_TP145102GB01.AssignedAuthor or a COCT_TP145104GB01.System"},
		{"no NHS number",
			strings.Replace(person, `<value extension="9990000026"/>`, `<value/>`, 1),
			"carries no NHS number"},
		{"no payload",
			cut(person, "<subject", "</subject>"),
			"no subject/CP-ISQueryStub/cP-ISNHSQuery"},
		{"no control act",
			cut(person, "<ControlActEvent", "</ControlActEvent>"),
			"no ControlActEvent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := hl7.ParseQuery(queryElement(t, []byte(tc.doc)))
			if err == nil {
				t.Fatalf("ParseQuery accepted it")
			}
			var e *cpis.Error
			if !errors.As(err, &e) || e.Kind != cpis.KindInvalid {
				t.Fatalf("error %v is not a KindInvalid *cpis.Error", err)
			}
			if !strings.Contains(e.Msg, tc.want) {
				t.Errorf("message %q does not say %q", e.Msg, tc.want)
			}
			for _, secret := range []string{"9990000026", "9990000018", "Okafor", "Patel"} {
				if strings.Contains(e.Msg, secret) {
					t.Errorf("message %q carries patient or user data", e.Msg)
				}
			}
			// The message is still identified, so the failure can refer to it.
			if q.MessageID == "" && !strings.Contains(tc.name, "UUID") {
				t.Errorf("the failed query lost its message id")
			}
		})
	}
}

// A nil control act author (xsi:nil, which the schema allows) is no author:
// the three-ids check does not apply.
func TestParseQueryNilControlActAuthor(t *testing.T) {
	doc := strings.Replace(string(readTestdata(t, "query-system.xml")), "<ControlActEvent>",
		`<ControlActEvent><author xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>`, 1)
	if _, err := hl7.ParseQuery(queryElement(t, []byte(doc))); err != nil {
		t.Fatal(err)
	}
}

func TestParseQueryRefusesOtherMessages(t *testing.T) {
	doc := parse(t, []byte(`<REPC_IN000007GB01 xmlns="urn:hl7-org:v3"/>`))
	if _, err := hl7.ParseQuery(doc.Root()); cpis.KindOf(err) != cpis.KindInvalid {
		t.Errorf("a query response was read as a query: %v", err)
	}
	doc = parse(t, []byte(`<QUPC_IN000006GB01 xmlns="urn:example"/>`))
	if _, err := hl7.ParseQuery(doc.Root()); cpis.KindOf(err) != cpis.KindInvalid {
		t.Errorf("a QUPC_IN000006GB01 outside the HL7 namespace was read as a query: %v", err)
	}
	if _, err := hl7.ParseQuery(nil); cpis.KindOf(err) != cpis.KindInvalid {
		t.Errorf("no element was read as a query: %v", err)
	}
}

// ParseWrapper reads a message's id and ASIDs without judging it, for
// answering messages that fail validation.
func TestParseWrapper(t *testing.T) {
	doc := strings.Replace(string(readTestdata(t, "query-person.xml")), `extension="QUPC_IN000006GB01"`, `extension="bogus"`, 1)
	got := hl7.ParseWrapper(queryElement(t, []byte(doc)))
	want := personQuery.Wrapper
	want.InteractionID = "bogus"
	if got != want {
		t.Errorf("ParseWrapper = %#v, want %#v", got, want)
	}
}
