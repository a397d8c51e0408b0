package conformance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"spinegw/cpis"
)

// Example is a ready-to-send request built from a world's identities, with
// the outcome a gateway serving that world gives it: what the service page
// offers for download.
type Example struct {
	Name    string // a file name stem: positive-cpp, no-b0107 ...
	Title   string // what the example shows, naming its identities
	Outcome string // the answer it gets, for people
	Action  string // the SOAPAction to send it with
	Body    []byte // the whole SOAP envelope
	Expect  Expect // the answer it gets, to check with Check
}

// Plan information elements of the NHS Query Response, by plan type.
var planElements = map[cpis.PlanType]string{
	cpis.CPP: "COCT_TP146105GB01.CPPInformation",
	cpis.LAC: "COCT_TP146103GB01.LACInformation",
	cpis.UCP: "COCT_TP146104GB01.UCPInformation",
}

// ViewerOrdinary and ViewerMidwife are the viewers the examples are written for: a job
// role that does not see unborn plans, and one that does (CP-IS041).
var (
	ViewerOrdinary = cpis.Viewer{JobRole: "R8000"}
	ViewerMidwife  = cpis.Viewer{JobRole: "R0680"}
)

// Examples builds, from world w at now, an example of every scenario the
// world has the identities for, for a gateway with ASID gatewayASID: a
// positive answer per plan type visible (CPP and LAC to a user who is not a
// midwife, UCP to a midwife), an unborn plan hidden from a user who is not
// a midwife, an NHS number with nothing visible, an invalid NHS number, a
// role profile without B0107, a disabled user, a role profile and a job role
// the user does not hold, an unknown sending endpoint, and an LA Upload
// file. A scenario the world has no identities for is left out.
//
// The world's records must carry their local authority's details (as
// store.WorldView gives them) for the upload example. Queries are sent from
// the world's first endpoint that is not a local authority's, else its
// first.
func Examples(w cpis.World, gatewayASID string, now time.Time) []Example {
	b := exampleBuilder{w: w, gateway: gatewayASID, now: now, today: cpis.Today(now)}
	return b.build()
}

type exampleBuilder struct {
	w        cpis.World
	gateway  string
	now      time.Time
	today    time.Time
	sender   cpis.Endpoint
	births   map[cpis.NHSNumber]time.Time
	patients map[cpis.NHSNumber]cpis.Patient
	records  map[cpis.NHSNumber][]cpis.Record
	numbers  []cpis.NHSNumber // every number of the world, patients' and records', in order
	out      []Example
}

// profileUser is a user with one of its role profiles.
type profileUser struct {
	u  cpis.User
	rp cpis.RoleProfile
	ok bool
}

func (b *exampleBuilder) build() []Example {
	if len(b.w.Endpoints) == 0 {
		return nil
	}
	laCodes := map[string]bool{}
	for _, la := range b.w.LocalAuthorities {
		laCodes[la.ODS] = true
	}
	b.sender = b.w.Endpoints[0]
	for _, ep := range b.w.Endpoints {
		if !laCodes[ep.ODS] {
			b.sender = ep
			break
		}
	}
	b.births = map[cpis.NHSNumber]time.Time{}
	b.patients = map[cpis.NHSNumber]cpis.Patient{}
	b.records = map[cpis.NHSNumber][]cpis.Record{}
	for _, p := range b.w.Patients {
		b.births[p.NHSNumber] = p.BirthDate
		b.patients[p.NHSNumber] = p
		b.numbers = append(b.numbers, p.NHSNumber)
	}
	las := map[string]cpis.LocalAuthority{}
	for _, la := range b.w.LocalAuthorities {
		las[la.ODS] = la
	}
	for _, r := range b.w.Records {
		if r.LA.Name == "" {
			if la, ok := las[r.LA.ODS]; ok {
				r.LA = la // a world read from a file names the LA only
			}
		}
		if _, ok := b.records[r.NHSNumber]; !ok {
			if _, known := b.patients[r.NHSNumber]; !known {
				b.numbers = append(b.numbers, r.NHSNumber)
			}
		}
		b.records[r.NHSNumber] = append(b.records[r.NHSNumber], r)
	}
	slices.Sort(b.numbers)

	ordinary := b.findUser(func(u cpis.User, rp cpis.RoleProfile) bool {
		return u.Enabled && rp.Has(cpis.ActivityViewCPIS) && !cpis.IsMidwife(rp.JobRole.Code)
	})
	midwife := b.findUser(func(u cpis.User, rp cpis.RoleProfile) bool {
		return u.Enabled && rp.Has(cpis.ActivityViewCPIS) && cpis.IsMidwife(rp.JobRole.Code)
	})
	asker := ordinary
	if !asker.ok {
		asker = midwife
	}
	if !asker.ok {
		return nil // nobody can ask: no example gets an answer worth showing
	}

	// A positive answer per plan type.
	var anyNumber cpis.NHSNumber
	for _, t := range []cpis.PlanType{cpis.CPP, cpis.LAC, cpis.UCP} {
		who := asker
		if t == cpis.UCP {
			who = midwife
		}
		if !who.ok {
			continue
		}
		nhs, holdings, ok := b.findNumber(func(h, _, _ []cpis.Holding) bool { return countPlans(h, t) > 0 }, who.rp)
		if !ok {
			continue
		}
		if anyNumber == "" {
			anyNumber = nhs
		}
		q := b.query(who, nhs)
		b.add(q, "positive-"+strings.ToLower(string(t)),
			fmt.Sprintf("%s: NHS number %s asked by %s", planTitle(t), nhs, describe(who)),
			positiveOutcome(holdings), positiveExpect(holdings))
	}
	if anyNumber == "" {
		anyNumber = b.someNumber()
	}

	// An unborn plan a midwife sees and an ordinary user does not.
	if ordinary.ok && midwife.ok {
		nhs, _, ok := b.findNumber(func(_, forOrdinary, forMidwife []cpis.Holding) bool {
			return len(forOrdinary) == 0 && countPlans(forMidwife, cpis.UCP) > 0
		}, ordinary.rp)
		if ok {
			b.add(b.query(ordinary, nhs), "ucp-hidden-from-non-midwife",
				fmt.Sprintf("An unborn child protection plan is not shown to a job role that is not a midwife's: NHS number %s asked by %s", nhs, describe(ordinary)),
				notFoundOutcome, notFoundExpect())
		}
	}

	// Nothing visible: a PDS patient without records first, then one whose
	// records show nothing to anyone now.
	if nhs, ok := b.nothingVisible(); ok {
		title := "No CP-IS record is held"
		if len(b.records[nhs]) > 0 {
			title = "Records are held but none is visible now (ended, deleted or too old)"
		}
		b.add(b.query(asker, nhs), "no-record", fmt.Sprintf("%s: NHS number %s asked by %s", title, nhs, describe(asker)),
			notFoundOutcome, notFoundExpect())
	}

	if anyNumber != "" {
		bad := invalidNumber(anyNumber)
		b.add(b.query(asker, bad), "invalid-nhs-number",
			fmt.Sprintf("An NHS number failing its Modulus 11 check digit (%s) asked by %s", bad, describe(asker)),
			"query failure SMSP-0001 (input validation)", failureExpect("SMSP-0001", smspSystem))
	}
	if anyNumber == "" {
		anyNumber = "9990001006" // refusals are decided before the number is looked up
	}

	if p := b.findUser(func(u cpis.User, rp cpis.RoleProfile) bool { return u.Enabled && !rp.Has(cpis.ActivityViewCPIS) }); p.ok {
		b.add(b.query(p, anyNumber), "no-b0107",
			fmt.Sprintf("A role profile without activity B0107: %s asks for NHS number %s", describe(p), anyNumber),
			unauthorizedOutcome, failureExpect("SMSP-0005", smspSystem))
	}
	if p := b.findUser(func(u cpis.User, rp cpis.RoleProfile) bool { return !u.Enabled }); p.ok {
		b.add(b.query(p, anyNumber), "disabled-user",
			fmt.Sprintf("A disabled user: %s asks for NHS number %s", describe(p), anyNumber),
			unauthorizedOutcome, failureExpect("SMSP-0005", smspSystem))
	}
	if other := b.findUser(func(u cpis.User, _ cpis.RoleProfile) bool { return u.ID != asker.u.ID }); other.ok {
		q := b.query(asker, anyNumber)
		q.RoleProfileID = other.rp.ID
		b.add(q, "role-profile-not-held",
			fmt.Sprintf("A role profile the user does not hold: %s names role profile %s, which is %s's", describe(asker), other.rp.ID, other.u.Name),
			unauthorizedOutcome, failureExpect("SMSP-0005", smspSystem))
	}
	{
		q := b.query(asker, anyNumber)
		q.JobRoleCode, q.JobRoleName = "R0680", "Midwife"
		if cpis.RCode(asker.rp.JobRole.Code) == "R0680" {
			q.JobRoleCode, q.JobRoleName = "R8000", "Clinical Practitioner Access Role"
		}
		b.add(q, "job-role-not-held",
			fmt.Sprintf("A job role the role profile does not have: %s claims to be %s (%s)", describe(asker), q.JobRoleName, q.JobRoleCode),
			unauthorizedOutcome, failureExpect("SMSP-0005", smspSystem))
	}
	if asid := b.unknownASID(); asid != "" {
		q := b.query(asker, anyNumber)
		q.HeaderSnd, q.WrapperSnd = asid, asid
		b.add(q, "unknown-endpoint",
			fmt.Sprintf("A sending ASID (%s) that is not an accredited endpoint", asid),
			"SOAP fault 200 (HTTP 500)", faultExpect("200"))
	}
	b.upload()
	return b.out
}

const (
	smspSystem          = "2.16.840.1.113883.2.1.3.2.4.17.499"
	notFoundOutcome     = "query failure: NHS Number Not Found (code 1, queryResponseCode ID)"
	unauthorizedOutcome = "query failure SMSP-0005 (not authorised)"
)

func (b *exampleBuilder) add(q QueryParams, name, title, outcome string, ex Expect) {
	ex.Title = title
	ex.SOAPAction = q.Action
	ex.ContentType = "text/xml; charset=UTF-8"
	b.out = append(b.out, Example{Name: name, Title: title, Outcome: outcome, Action: q.Action, Body: q.Render(), Expect: ex})
}

func (b *exampleBuilder) query(p profileUser, nhs cpis.NHSNumber) QueryParams {
	return NewQuery(b.gateway, b.sender, p.u, p.rp, string(nhs), b.now)
}

// findUser returns the first user and role profile, in world order, that
// match.
func (b *exampleBuilder) findUser(match func(cpis.User, cpis.RoleProfile) bool) profileUser {
	for _, u := range b.w.Users {
		for _, rp := range u.RoleProfiles {
			if match(u, rp) {
				return profileUser{u: u, rp: rp, ok: true}
			}
		}
	}
	return profileUser{}
}

// Visible returns what a viewer is shown of nhs now in world w: the
// holdings a CP-IS NHS Query answers with.
func (b *exampleBuilder) visible(nhs cpis.NHSNumber, v cpis.Viewer) []cpis.Holding {
	return cpis.VisibleHoldings(b.records[nhs], b.births[nhs], b.today, v)
}

// findNumber returns the first NHS number, in number order, that match
// accepts, given what the role profile rp, an ordinary viewer and a midwife
// see of it, with what rp sees.
func (b *exampleBuilder) findNumber(match func(forRP, forOrdinary, forMidwife []cpis.Holding) bool, rp cpis.RoleProfile) (cpis.NHSNumber, []cpis.Holding, bool) {
	for _, nhs := range b.numbers {
		forRP := b.visible(nhs, cpis.Viewer{JobRole: rp.JobRole.Code})
		if match(forRP, b.visible(nhs, ViewerOrdinary), b.visible(nhs, ViewerMidwife)) {
			return nhs, forRP, true
		}
	}
	return "", nil, false
}

func (b *exampleBuilder) nothingVisible() (cpis.NHSNumber, bool) {
	var held cpis.NHSNumber
	for _, nhs := range b.numbers {
		if len(b.visible(nhs, ViewerOrdinary)) > 0 || len(b.visible(nhs, ViewerMidwife)) > 0 {
			continue
		}
		if len(b.records[nhs]) == 0 {
			return nhs, true
		}
		if held == "" {
			held = nhs
		}
	}
	return held, held != ""
}

func (b *exampleBuilder) someNumber() cpis.NHSNumber {
	if len(b.numbers) > 0 {
		return b.numbers[0]
	}
	return ""
}

// unknownASID returns a 12-digit ASID no endpoint of the world has.
func (b *exampleBuilder) unknownASID() string {
	known := map[string]bool{}
	for _, ep := range b.w.Endpoints {
		known[ep.ASID] = true
	}
	for n := 999999999999; n > 999999999000; n-- {
		if s := fmt.Sprint(n); !known[s] && s != b.gateway {
			return s
		}
	}
	return ""
}

// invalidNumber changes the check digit of nhs so that it fails.
func invalidNumber(nhs cpis.NHSNumber) cpis.NHSNumber {
	s := string(nhs)
	for d := byte('0'); d <= '9'; d++ {
		c := s[:9] + string(rune(d))
		if c != s && !cpis.ValidNHSNumber(c) {
			return cpis.NHSNumber(c)
		}
	}
	return "9990001007"
}

func countPlans(hs []cpis.Holding, t cpis.PlanType) int {
	n := 0
	for _, h := range hs {
		for _, p := range h.Plans {
			if p.Type == t {
				n++
			}
		}
	}
	return n
}

func planTitle(t cpis.PlanType) string {
	switch t {
	case cpis.CPP:
		return "A child protection plan (CPP) is returned"
	case cpis.LAC:
		return "A looked-after child (LAC) is returned"
	default:
		return "A midwife sees an unborn child protection plan (UCP) under the mother's NHS number"
	}
}

// describe names a user and role profile for people.
func describe(p profileUser) string {
	s := fmt.Sprintf("%s (user %s, role profile %s, %s)", p.u.Name, p.u.ID, p.rp.ID, p.rp.JobRole.Name)
	if !p.u.Enabled {
		s += ", disabled"
	}
	return s
}

// HoldingsSummary says, for people, what holdings a query shows: "CPP (V145), LAC
// (V150)", or "" for none.
func HoldingsSummary(hs []cpis.Holding) string {
	var parts []string
	for _, h := range hs {
		var types []string
		for _, p := range h.Plans {
			types = append(types, string(p.Type))
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", strings.Join(types, "+"), h.LA.ODS))
	}
	return strings.Join(parts, ", ")
}

func positiveOutcome(hs []cpis.Holding) string {
	return fmt.Sprintf("positive response (REPC_IN000007GB01): %s", HoldingsSummary(hs))
}

func positiveExpect(hs []cpis.Holding) Expect {
	one := 1
	las := len(hs)
	ex := Expect{Status: 200, Root: "REPC_IN000007GB01", Action: "urn:nhs:names:services:cpisquery/REPC_IN000007GB01",
		Assert: []Assert{
			{XPath: "//hl7:queryAck/hl7:queryResponseCode", Attr: "code", Equals: "OK"},
			{XPath: "//hl7:pertinentInformation14", Count: &las},
			{XPath: "/soap:Envelope/soap:Header/wsa:RelatesTo", Count: &one},
		}}
	for _, t := range []cpis.PlanType{cpis.CPP, cpis.LAC, cpis.UCP} {
		n := countPlans(hs, t)
		ex.Assert = append(ex.Assert, Assert{XPath: "//hl7:" + planElements[t], Count: &n})
	}
	return ex
}

func failureExpect(code, system string) Expect {
	return Expect{Status: 200, Root: "QUQI_IN010000UK14", Assert: []Assert{
		{XPath: "//hl7:acknowledgement", Attr: "typeCode", Equals: "AE"},
		{XPath: "//hl7:justifyingDetectedIssueEvent/hl7:code", Attr: "code", Equals: code},
		{XPath: "//hl7:justifyingDetectedIssueEvent/hl7:code", Attr: "codeSystem", Equals: system},
	}}
}

func notFoundExpect() Expect {
	ex := failureExpect("1", "2.16.840.1.113883.2.1.3.2.4.17.42")
	ex.Assert = append(ex.Assert, Assert{XPath: "//hl7:queryAck/hl7:queryResponseCode", Attr: "code", Equals: "ID"})
	return ex
}

func faultExpect(code string) Expect {
	return Expect{Status: 500, Root: "Fault", Assert: []Assert{
		{XPath: "//nasp:errorList/nasp:error/nasp:errorCode", Equals: code},
		{XPath: "//nasp:errorList/nasp:error/nasp:codeContext", Equals: "urn:nhs:names:error:tms"},
	}}
}

// upload adds an LA Upload file sent by a local authority's own endpoint
// that uploads again one record the LA already holds, as it holds it: every
// record succeeds (CPF02) and what the LA holds is unchanged. The file id
// is the clock's instant, so a frozen clock gives the same file (answered
// again with the same FileResponse) and a running one a new file.
func (b *exampleBuilder) upload() {
	endpoints := map[string]cpis.Endpoint{}
	for _, ep := range b.w.Endpoints {
		if _, ok := endpoints[ep.ODS]; !ok {
			endpoints[ep.ODS] = ep
		}
	}
	for _, nhs := range b.numbers {
		p, known := b.patients[nhs]
		if !known || p.Sensitive || p.SupersededBy != "" || p.Inactive || p.BirthDate.IsZero() || len(p.Name.Given) == 0 || p.Name.Family == "" {
			continue
		}
		for _, r := range b.records[nhs] {
			ep, ok := endpoints[r.LA.ODS]
			if !ok || !r.LA.UploadsEnabled || r.LA.Name == "" || r.LA.Emergency == "" || r.LocalID == "" || len(r.Plans) == 0 {
				continue
			}
			rec := UploadRecord{NHS: string(nhs), LocalID: r.LocalID, Given: p.Name.Given[0], Family: p.Name.Family, Birth: p.BirthDate.Format("20060102")}
			usable := true
			for _, pl := range r.Plans {
				if pl.Type == cpis.UCP {
					usable = false
					break
				}
				up := UploadPlan{Type: string(pl.Type), Start: pl.Start.Format("200601021504")}
				if !pl.End.IsZero() {
					up.End = pl.End.Format("200601021504")
				}
				if !pl.Delete.IsZero() {
					up.Delete = pl.Delete.Format("200601021504")
				}
				rec.Plans = append(rec.Plans, up)
			}
			if !usable {
				continue
			}
			telecoms := []UploadTelecom{{"EC", r.LA.Emergency}}
			if r.LA.Office != "" {
				telecoms = append(telecoms, UploadTelecom{"WP", r.LA.Office})
			}
			params := UploadParams{
				MessageID:    strings.ToUpper(uuid.NewString()),
				Action:       ActionUpload,
				GatewayASID:  b.gateway,
				SenderASID:   ep.ASID,
				CreationTime: b.now.UTC().Format("20060102150405"),
				FileID:       "EXAMPLE-" + b.now.UTC().Format("20060102T150405"),
				Quantity:     1,
				LA:           r.LA.ODS,
				LAName:       r.LA.Name,
				Telecoms:     telecoms,
				Records:      []UploadRecord{rec},
			}
			one, zero := "1", "0"
			ex := Expect{Status: 200, Root: "FileResponse",
				Action: "urn:GB-en-NHS:iops:interaction:CP-ISLocalAuthorityAcknowledgementResponse-v1-0",
				Assert: []Assert{
					{XPath: "//hl7:acknowledgementFile/hl7:acknowledgementFileDetail/hl7:code", Attr: "code", Equals: cpis.CPF02},
					{XPath: "//hl7:successfulReturnedCP-ISRecords/hl7:value", Attr: "value", Equals: one},
					{XPath: "//hl7:failedReturnedCP-ISRecords/hl7:value", Attr: "value", Equals: zero},
				}}
			title := fmt.Sprintf("LA Upload: %s's endpoint (ASID %s) uploads again its record of NHS number %s, unchanged", r.LA.Name, ep.ASID, nhs)
			ex.Title, ex.SOAPAction, ex.ContentType = title, ActionUpload, "text/xml; charset=UTF-8"
			b.out = append(b.out, Example{Name: "la-upload", Title: title, Outcome: "FileResponse CPF02: 1 record succeeded",
				Action: ActionUpload, Body: params.Render(), Expect: ex})
			return
		}
	}
}
