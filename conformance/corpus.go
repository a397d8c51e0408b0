package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"spinegw/cpis"
)

// Suite is suite.yaml: how the corpus is to be run.
type Suite struct {
	Clock       string `yaml:"clock"`
	GatewayASID string `yaml:"gateway_asid"`
	World       string `yaml:"world"`
}

// ReadSuite reads dir/suite.yaml.
func ReadSuite(dir string) (Suite, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "suite.yaml"))
	if err != nil {
		return Suite{}, err
	}
	var s Suite
	if err := yaml.Unmarshal(raw, &s); err != nil {
		return Suite{}, err
	}
	return s, nil
}

// Identities used by the corpus, all from world.yaml.
const (
	hospital   = "200000000101"
	ambulance  = "200000000202"
	unknownEP  = "200000000999"
	midwife    = "200009876204"
	doctor     = "200009876205"
	noB0107    = "200009876206"
	disabled   = "200009876207"
	cppChild   = "9990001006"
	lacChild   = "9990001073"
	mother     = "9990001146"
	twoLAs     = "9990001219"
	cppLastDay = "9990001286"
	lacPast    = "9990001359"
	deleted    = "9990001421"
	deleteLate = "9990001499"
	over18     = "9990001561"
	turned18   = "9990001634"
	ucpPast    = "9990001707"
	ucpLastDay = "9990001774"
	ucpOnDay28 = "9990001987"
	noRecord   = "9990001847"
)

func count(n int) *int { return &n }

func positive(las int, more ...Assert) Expect {
	return Expect{
		Status: 200, Root: "REPC_IN000007GB01",
		Action: "urn:nhs:names:services:cpisquery/REPC_IN000007GB01",
		Assert: append([]Assert{
			{XPath: "//hl7:queryAck/hl7:queryResponseCode", Attr: "code", Equals: "OK"},
			{XPath: "//hl7:pertinentInformation14", Count: count(las)},
			{XPath: "/soap:Envelope/soap:Header/wsa:RelatesTo", Count: count(1)},
		}, more...),
	}
}

func failure(code, system string) Expect {
	return Expect{
		Status: 200, Root: "QUQI_IN010000UK14",
		Assert: []Assert{
			{XPath: "//hl7:acknowledgement", Attr: "typeCode", Equals: "AE"},
			{XPath: "//hl7:justifyingDetectedIssueEvent/hl7:code", Attr: "code", Equals: code},
			{XPath: "//hl7:justifyingDetectedIssueEvent/hl7:code", Attr: "codeSystem", Equals: system},
		},
	}
}

var (
	notFound = func() Expect {
		e := failure("1", "2.16.840.1.113883.2.1.3.2.4.17.42")
		e.Assert = append(e.Assert, Assert{XPath: "//hl7:queryAck/hl7:queryResponseCode", Attr: "code", Equals: "ID"})
		return e
	}
	invalidInput = func() Expect { return failure("SMSP-0001", "2.16.840.1.113883.2.1.3.2.4.17.499") }
	unauthorized = func() Expect { return failure("SMSP-0005", "2.16.840.1.113883.2.1.3.2.4.17.499") }
	fault        = func(code string) Expect {
		return Expect{Status: 500, Root: "Fault", Assert: []Assert{
			{XPath: "//nasp:errorList/nasp:error/nasp:errorCode", Equals: code},
			{XPath: "//nasp:errorList/nasp:error/nasp:codeContext", Equals: "urn:nhs:names:error:tms"},
		}}
	}
)

// spec is one row of the corpus table.
type spec struct {
	name, title string
	reqs        []string
	user        string // SDS user asking; the first role profile is used
	nhs         string
	edit        func(*QueryParams)
	raw         func([]byte) []byte // last edit of the rendered bytes
	action      string              // HTTP SOAPAction when it differs from wsa:Action
	contentType string
	expect      Expect
}

func planCount(element string, n int) Assert {
	return Assert{XPath: "//hl7:" + element, Count: count(n)}
}

// corpus is the table of cases. Names say what each proves.
func corpus() []spec {
	none := Assert{XPath: "//*[@extension='ISL-1001' or @extension='CAM-2004']", Count: count(0)}
	return []spec{
		{name: "positive-cpp", title: "A child on a child protection plan is returned with its LA and plan", reqs: []string{"CP-IS015", "CP-IS044", "CP-IS051"},
			user: doctor, nhs: cppChild, expect: positive(1, planCount("COCT_TP146105GB01.CPPInformation", 1), none,
				Assert{XPath: "//hl7:pertinentInformation14//hl7:organisation/hl7:id", Attr: "extension", Equals: "V145"},
				Assert{XPath: "//hl7:cPPStartDate/hl7:value", Attr: "value", Equals: "202601100000"})},
		{name: "positive-lac", title: "A looked-after child is returned", reqs: []string{"CP-IS015"},
			user: doctor, nhs: lacChild, expect: positive(1, planCount("COCT_TP146103GB01.LACInformation", 1))},
		{name: "positive-ucp-midwife", title: "A midwife sees the unborn child protection plan under the mother's NHS number", reqs: []string{"CP-IS041", "CP-IS087", "CP-IS033"},
			user: midwife, nhs: mother, expect: positive(1, planCount("COCT_TP146104GB01.UCPInformation", 1), planCount("COCT_TP145100GB01.UnbornChild", 1))},
		{name: "ucp-hidden-from-non-midwife", title: "An unborn plan is not shown to a non-midwife job role", reqs: []string{"CP-IS041", "CP-IS087"},
			user: doctor, nhs: mother, expect: notFound()},
		{name: "two-local-authorities", title: "A child held by two LAs is returned with both", reqs: []string{"CP-IS021", "CP-IS034", "CP-IS046"},
			user: doctor, nhs: twoLAs, expect: positive(2, planCount("COCT_TP146105GB01.CPPInformation", 1), planCount("COCT_TP146103GB01.LACInformation", 1))},
		{name: "cpp-end-plus-365-last-day", title: "A CPP is still shown on the 365th day after its end date", reqs: []string{"CP-IS010", "CP-IS032"},
			user: doctor, nhs: cppLastDay, expect: positive(1, Assert{XPath: "//hl7:cPPEndDate/hl7:value", Attr: "value", Equals: "202511220000"})},
		{name: "lac-past-end-plus-365", title: "A LAC 366 days past its end date is no longer shown", reqs: []string{"CP-IS010", "CP-IS032"},
			user: doctor, nhs: lacPast, expect: notFound()},
		{name: "deleted-plan", title: "A plan whose delete date has come is not shown", reqs: []string{"CP-IS009"},
			user: doctor, nhs: deleted, expect: notFound()},
		{name: "delete-date-to-come", title: "A plan whose delete date is still to come is shown, without the delete date", reqs: []string{"CP-IS009", "CP-IS051"},
			user: doctor, nhs: deleteLate, expect: positive(1, planCount("COCT_TP146105GB01.CPPInformation", 1))},
		{name: "over-18-and-365-days", title: "Nothing is shown for a person over 18 years and 365 days old", reqs: []string{"CP-IS007"},
			user: doctor, nhs: over18, expect: notFound()},
		{name: "eighteenth-birthday-end-date", title: "An open CPP of a child who has turned 18 is shown end-dated on the 18th birthday", reqs: []string{"CP-IS030"},
			user: doctor, nhs: turned18, expect: positive(1, none, Assert{XPath: "//hl7:cPPEndDate/hl7:value", Attr: "value", Equals: "202605100000"})},
		{name: "ucp-past-due-plus-28", title: "An unborn plan 29 days past the due date is not shown, even to a midwife", reqs: []string{"CP-IS011", "CP-IS033"},
			user: midwife, nhs: ucpPast, expect: notFound()},
		{name: "ucp-on-due-plus-28", title: "An unborn plan goes on reaching the due date + 28 days", reqs: []string{"CP-IS011", "CP-IS033"},
			user: midwife, nhs: ucpOnDay28, expect: notFound()},
		{name: "ucp-due-plus-27-last-day", title: "An unborn plan is shown to a midwife on the 27th day after the due date", reqs: []string{"CP-IS011", "CP-IS033"},
			user: midwife, nhs: ucpLastDay, expect: positive(1, planCount("COCT_TP146104GB01.UCPInformation", 1))},
		{name: "negative-no-record", title: "An NHS number with no CP-IS record gets NHS Number Not Found", reqs: []string{"CP-IS015"},
			user: doctor, nhs: noRecord, expect: notFound()},
		{name: "invalid-nhs-number", title: "An NHS number failing Modulus 11 is an input validation error", reqs: []string{"CP-IS006"},
			user: doctor, nhs: "9990001007", expect: invalidInput()},
		{name: "no-b0107", title: "A role profile without B0107 is refused", reqs: []string{"CP-IS042", "CP-IS054", "CP-IS056"},
			user: noB0107, nhs: cppChild, expect: unauthorized()},
		{name: "disabled-user", title: "A disabled user is refused", reqs: []string{"CP-IS059"},
			user: disabled, nhs: cppChild, expect: unauthorized()},
		{name: "job-role-claim-differs", title: "A message claiming a job role other than the role profile's is refused", reqs: []string{"CP-IS042"},
			user: doctor, nhs: mother, edit: func(p *QueryParams) { p.JobRoleCode, p.JobRoleName = "R0680", "Midwife" }, expect: unauthorized()},
		{name: "system-author", title: "A system author is answered on the endpoint's word", reqs: []string{"CP-NHS006", "CP-NHS019"},
			user: doctor, nhs: cppChild, edit: func(p *QueryParams) { p.System = true }, expect: positive(1)},
		{name: "unknown-endpoint", title: "A sender ASID that is not an accredited endpoint gets a SOAP fault", reqs: []string{"CP-NHS018"},
			user: doctor, nhs: cppChild, edit: func(p *QueryParams) { p.HeaderSnd, p.WrapperSnd = unknownEP, unknownEP }, expect: fault("200")},
		{name: "asid-mismatch", title: "Header and HL7 wrapper sender ASIDs that differ get a SOAP fault",
			user: doctor, nhs: cppChild, edit: func(p *QueryParams) { p.HeaderSnd = ambulance }, expect: fault("200")},
		{name: "receiver-not-gateway", title: "A receiver ASID other than the gateway's gets a SOAP fault",
			user: doctor, nhs: cppChild, edit: func(p *QueryParams) { p.HeaderRcv, p.WrapperRcv = "990000000002", "990000000002" }, expect: fault("200")},
		{name: "wrong-action", title: "A SOAPAction naming another interaction gets a SOAP fault",
			user: doctor, nhs: cppChild, edit: func(p *QueryParams) { p.Action = "urn:nhs:names:services:cpisquery/QUPC_IN000099GB01" }, expect: fault("200")},
		{name: "soapaction-differs", title: "An HTTP SOAPAction that differs from wsa:Action gets a SOAP fault",
			user: doctor, nhs: cppChild, action: "urn:nhs:names:services:pdsquery/QUPA_IN000008UK02", expect: fault("200")},
		{name: "malformed-xml", title: "A message that is not well-formed XML gets SOAP fault 201",
			user: doctor, nhs: cppChild, raw: func(b []byte) []byte { return b[:len(b)/2] }, expect: fault("201")},
		{name: "doctype-refused", title: "A message with a DOCTYPE (entity expansion) is refused with a SOAP fault",
			user: doctor, nhs: cppChild, raw: func(b []byte) []byte {
				return []byte(strings.Replace(string(b), "?>", "?>\n<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>", 1))
			}, expect: fault("201")},
		{name: "missing-message-id", title: "A header without wsa:MessageID gets a SOAP fault",
			user: doctor, nhs: cppChild, raw: func(b []byte) []byte {
				s := string(b)
				i, j := strings.Index(s, "<wsa:MessageID>"), strings.Index(s, "</wsa:MessageID>")
				return []byte(s[:i] + s[j+len("</wsa:MessageID>"):])
			}, expect: fault("200")},
		{name: "wrong-content-type", title: "A content type other than text/xml gets a SOAP fault",
			user: doctor, nhs: cppChild, contentType: "application/json", expect: fault("200")},
		{name: "schema-invalid", title: "A query that fails the schema is an input validation error", reqs: []string{"CP-IS014"},
			user: doctor, nhs: cppChild, raw: func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `<value extension="`, `<value root="2.16.840.1.113883.2.1.4.1" extension="`, 1))
			}, expect: invalidInput()},
		{name: "prefix-soapenv", title: "An envelope written with the soapenv prefix is the same envelope",
			user: doctor, nhs: cppChild, edit: func(p *QueryParams) { p.P, p.PX = "soapenv:", ":soapenv" }, expect: positive(1)},
		{name: "upload-success-then-query", title: "Records of an answered upload are queryable at once (runs after upload-success)", reqs: []string{"CP-IS065", "CP-IS020"},
			user: doctor, nhs: "9990003009", expect: positive(1, planCount("COCT_TP146105GB01.CPPInformation", 1),
				Assert{XPath: "//hl7:pertinentInformation14//hl7:organisation/hl7:id", Attr: "extension", Equals: "V145"})},
		{name: "prefix-default-namespace", title: "An envelope in the default namespace is the same envelope",
			user: doctor, nhs: cppChild, edit: func(p *QueryParams) { p.P, p.PX = "", "" }, expect: positive(1)},
	}
}

// Generate writes the corpus for world w into dir/cases, one folder a case.
func Generate(dir string, w cpis.World, suite Suite) error {
	now, err := time.Parse(time.RFC3339, suite.Clock)
	if err != nil {
		return err
	}
	users := map[string]cpis.User{}
	for _, u := range w.Users {
		users[u.ID] = u
	}
	var hospitalEP cpis.Endpoint
	for _, e := range w.Endpoints {
		if e.ASID == hospital {
			hospitalEP = e
		}
	}
	if err := generateUploads(dir, suite, now); err != nil {
		return err
	}
	if err := generateNotifications(dir, suite, now, users, hospitalEP); err != nil {
		return err
	}
	for i, s := range corpus() {
		u, ok := users[s.user]
		if !ok || len(u.RoleProfiles) == 0 {
			return fmt.Errorf("case %s: user %s not in the world", s.name, s.user)
		}
		p := NewQuery(suite.GatewayASID, hospitalEP, u, u.RoleProfiles[0], s.nhs, now)
		// Fixed ids keep the corpus stable from one generation to the next.
		p.MessageID = fmt.Sprintf("5C0E1D2A-0000-4000-8000-%012d", i+1)
		p.QueryID = fmt.Sprintf("9A1B2C3D-0000-4000-8000-%012d", i+1)
		if s.edit != nil {
			s.edit(&p)
		}
		body := p.Render()
		if s.raw != nil {
			body = s.raw(body)
		}
		ex := s.expect
		ex.Title, ex.Requirements = s.title, s.reqs
		ex.SOAPAction = p.Action
		if s.action != "" {
			ex.SOAPAction = s.action
		}
		ex.ContentType = "text/xml; charset=UTF-8"
		if s.contentType != "" {
			ex.ContentType = s.contentType
		}
		if err := writeCase(dir, s.name, body, ex); err != nil {
			return err
		}
	}
	return nil
}

func generateUploads(dir string, suite Suite, now time.Time) error {
	for i, s := range uploadCorpus() {
		body, ex := uploadCase(i, s, suite.GatewayASID, now.Format("20060102150405"))
		if err := writeCase(dir, s.name, body, ex); err != nil {
			return err
		}
	}
	return nil
}

// ResponseCases are the cases whose whole expected reply is kept as
// response.xml (written by `go test ./conformance -update` from the
// gateway's reply) beside their XPath assertions: one of each reply shape.
var ResponseCases = []string{
	"positive-cpp", "positive-ucp-midwife", "two-local-authorities", "negative-no-record",
	"invalid-nhs-number", "no-b0107", "upload-success", "upload-partial-each-record-code",
}

// writeCase writes a case folder; a reply other than a fault must be valid
// against its own schema. A case of steps may have no request.
func writeCase(dir, name string, body []byte, ex Expect) error {
	cd := filepath.Join(dir, "cases", name)
	if err := os.MkdirAll(cd, 0o755); err != nil {
		return err
	}
	if ex.Root != "Fault" {
		ex.Valid = ex.Root
	}
	if body != nil {
		if err := os.WriteFile(filepath.Join(cd, "request.xml"), body, 0o644); err != nil {
			return err
		}
	}
	raw, err := yaml.Marshal(ex)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(cd, "expect.yaml"), raw, 0o644)
}
