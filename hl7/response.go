package hl7

import (
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/google/uuid"

	"spinegw/cpis"
)

// maxPlansPerRecord is how many information items one CP-ISRecord may carry
// (pertinentInformation15 1..3: one CPP, one LAC, one UCP).
const maxPlansPerRecord = 3

// unknownBirthTime stands for the birth date of a subject PDS does not know.
// The schema demands a birthTime value and forbids a null flavour; a record
// reaches Spine only once PDS has verified its NHS number (CP-IS002), so only
// an emulated world lacks it. Month and day 00 are no date at all: no reader
// can mistake it for a real one.
const unknownBirthTime = "00000000"

// QueryResponse builds the REPC_IN000007GB01 carrying a positive answer
// (CP-IS015 positive trace) to query q:
//
//   - the access history, one pertinentInformation13 per event, newest first,
//     each naming who looked, from where and when in readable form (CP-IS008,
//     CP-IS026, CP-IS047, CP-IS048);
//   - one pertinentInformation14 per local authority holding visible
//     information (CP-IS021, CP-IS023, CP-IS046): the LA's ODS code, name and
//     telephone numbers, and its visible plans with their start and end dates;
//     never a delete date, nor the LA's own child identifier (CP-IS051);
//   - the subject of the plans: the child (CPP, LAC) and, for an unborn
//     child's plan, the mother (CP-IS033), with name and birth date from PDS.
//
// The REPC_IN000007GB01 schema has no acknowledgement element: r.RequestID is
// not used (the SOAP header's wsa:RelatesTo refers to the query).
//
// It fails, with a KindInternal error, only on an answer the schema cannot
// express: no local authority, or a plan without a start date, an unborn
// child's plan without its due date, or a date outside 1900-2099.
func QueryResponse(r Reply, q Query, a cpis.Answer) ([]byte, error) {
	if err := checkAnswer(a); err != nil {
		return nil, err
	}
	r.MessageID = messageID(r.MessageID)
	root := newMessage(InteractionQueryResponse, true)
	wrapperHead(root, InteractionQueryResponse, r)
	wrapperAddresses(root, r)
	cae := controlAct(root, r)

	resp := add(add(cae, "subject", "typeCode", "SUBJ"), "CP-ISNHSQueryResponse")
	at := a.At
	if at.IsZero() {
		at = r.CreationTime
	}
	add(resp, "effectiveTime", "value", timestamp(at))
	add(resp, "id", "root", responseID(r, q))

	records := 0
	for _, h := range a.Holdings {
		records += (len(h.Plans) + maxPlansPerRecord - 1) / maxPlansPerRecord
	}
	add(add(add(resp, "pertinentInformation11"), "pertinentTotalReturnedAccessRecords"), "value", "value", strconv.Itoa(len(a.History)))
	add(add(add(resp, "pertinentInformation12"), "pertinentTotalReturnedChildRecords"), "value", "value", strconv.Itoa(records))

	nhs := string(a.NHSNumber)
	if nhs == "" {
		nhs = q.NHSNumber
	}
	for _, ev := range a.History {
		accessEvent(add(resp, "pertinentInformation13"), ev, nhs)
	}
	subj := subjectOf(a, nhs)
	for _, h := range a.Holdings {
		holding(add(resp, "pertinentInformation14"), h, subj)
	}
	add(add(cae, "queryAck"), "queryResponseCode", "code", ResponseOK)
	return serialize(root, 4096+1024*len(a.History)+1024*records), nil
}

// checkAnswer refuses an answer the schema cannot carry, before any building.
func checkAnswer(a cpis.Answer) error {
	fail := func(msg string) error { return cpis.Errorf(cpis.KindInternal, "hl7", "%s", msg) }
	if len(a.Holdings) == 0 {
		return fail("a query response needs at least one local authority's record")
	}
	for _, h := range a.Holdings {
		if len(h.Plans) == 0 {
			return fail("a local authority's record needs at least one plan")
		}
		for _, p := range h.Plans {
			if !p.Type.Valid() {
				return fail("a plan has an unknown type")
			}
			if p.Start.IsZero() {
				return fail("a plan has no start date")
			}
			if p.Type == cpis.UCP && p.End.IsZero() {
				return fail("an unborn child protection plan has no due date")
			}
			if !planYear(p.Start) || !p.End.IsZero() && !planYear(p.End) {
				return fail("a plan date lies outside 1900-2099")
			}
		}
	}
	return nil
}

// planYear reports whether d fits TS.NHS.DateType1, whose years are 19xx and
// 20xx.
func planYear(d time.Time) bool {
	y := d.UTC().Year()
	return 1900 <= y && y <= 2099
}

// responseID is the payload's id: the query's own payload id, as Spine
// answers (SPINE_MTH REPC_IN000007GB01_sync_template1.xml), so the answer
// names the question; the reply's message id if the query had none.
func responseID(r Reply, q Query) string {
	if isUUID(q.QueryID) {
		return strings.ToUpper(q.QueryID)
	}
	return r.MessageID
}

// eventID is an access event's id as the schema wants it, an upper-case
// UUID. Events are recorded under their query's message id, a UUID; any other
// id is turned into a UUID derived from it, the same every time.
func eventID(id string) string {
	if isUUID(id) {
		return strings.ToUpper(id)
	}
	return strings.ToUpper(uuid.NewSHA1(uuid.NameSpaceOID, []byte(id)).String())
}

// accessEvent writes one access history entry, pertinentCP-ISNHSQuery: the
// query as it was made (CP-IS026).
func accessEvent(pi *etree.Element, ev cpis.AccessEvent, nhs string) {
	pq := add(pi, "pertinentCP-ISNHSQuery")
	add(pq, "effectiveTime", "value", timestamp(ev.At))
	add(pq, "id", "root", eventID(ev.ID))
	accessor(add(pq, "author"), ev.Accessor)
	if ev.NHSNumber != "" {
		nhs = string(ev.NHSNumber)
	}
	add(add(add(pq, "queryByParameter"), "person.NHSnumber"), "value", "extension", orUnknown(nhs))
}

// accessor writes who made an access in readable form (CP-IS008): a person
// as an AssignedAuthor (job role, SDS ids, name, organisation); a system
// author as a System (ASID, the person it acted for, its organisation).
func accessor(author *etree.Element, acc cpis.Accessor) {
	if acc.System && isASID(acc.ASID) {
		add(author, "npfitlc:contentId", "root", oidContentID, "extension", contentSystem)
		s := add(author, "COCT_TP145104GB01.System")
		add(s, "id", "root", oidASID, "extension", acc.ASID)
		if !acc.Name.IsZero() || acc.JobRole.Code != "" {
			e := add(add(s, "indirectAuthority"), "superiorAssignedEntity")
			if acc.JobRole.Code != "" {
				jobRole(e, acc.JobRole)
			} else {
				add(e, "code", "nullFlavor", "UNK")
			}
			personName(add(add(e, "assignedPerson"), "name"), acc.Name)
		}
		organisation(add(s, "maintainingOrganization"), acc.Org)
		return
	}
	add(author, "npfitlc:contentId", "root", oidContentID, "extension", contentAssignedAuthor)
	p := add(author, "COCT_TP145102GB01.AssignedAuthor")
	jobRole(p, acc.JobRole)
	if acc.UserID != "" {
		add(p, "id", "root", oidSDSUser, "extension", acc.UserID)
	} else {
		add(p, "id", "nullFlavor", "UNK")
	}
	if acc.RoleProfileID != "" {
		add(p, "id", "root", oidRoleProfile, "extension", acc.RoleProfileID)
	}
	personName(add(add(p, "assignedAuthorPerson"), "name"), acc.Name)
	organisation(add(p, "representedOrganization"), acc.Org)
}

// jobRole writes a job role code with its readable name (CP-IS008).
func jobRole(p *etree.Element, j cpis.JobRole) {
	code := orUnknown(j.Code)
	name := j.Name
	if name == "" {
		name = code
	}
	add(p, "code", "code", code, "codeSystem", oidJobRoleName, "displayName", name)
}

// personName writes an SDS name (HL7 PN: prefix, given names, family name).
func personName(n *etree.Element, name cpis.Name) {
	if name.IsZero() {
		n.CreateAttr("nullFlavor", "UNK")
		return
	}
	if name.Prefix != "" {
		addText(n, "prefix", name.Prefix)
	}
	for _, g := range name.Given {
		if g != "" {
			addText(n, "given", g)
		}
	}
	if name.Family != "" {
		addText(n, "family", name.Family)
	}
}

// organisation writes an organisation's ODS code and readable name
// (CP-IS008).
func organisation(o *etree.Element, org cpis.Org) {
	add(o, "id", "root", oidODSOrg, "extension", orUnknown(org.ODS))
	addText(o, "name", org.Name)
}

// subject is the person an answer is about, as CP-IS records show them: the
// child, or the mother of an unborn child. Name and birth date come from PDS;
// a person PDS does not know has neither.
type subject struct {
	nhs   string
	birth string // HL7 date, or unknownBirthTime
	name  cpis.Name
}

func subjectOf(a cpis.Answer, nhs string) subject {
	s := subject{nhs: nhs, birth: unknownBirthTime}
	if a.Patient.NHSNumber != "" {
		s.name = a.Patient.Name
		if !a.Patient.BirthDate.IsZero() {
			s.birth = civilDate(a.Patient.BirthDate)
		}
	}
	return s
}

// holding writes what one local authority holds (pertinentCP-ISRecordControlAct):
// its plans in records of at most three, each with its sender and subjects.
func holding(pi *etree.Element, h cpis.Holding, s subject) {
	ca := add(pi, "pertinentCP-ISRecordControlAct")
	for start := 0; start < len(h.Plans); start += maxPlansPerRecord {
		plans := h.Plans[start:min(start+maxPlansPerRecord, len(h.Plans))]
		rec := add(ca, "record")
		localAuthority(add(add(rec, "communicationFunctionSnd"), "organisation"), h.LA)
		cr := add(rec, "CP-ISRecord")
		child, unborn := false, false
		for _, p := range plans {
			plan(add(cr, "pertinentInformation15"), p)
			if p.Type == cpis.UCP {
				unborn = true
			} else {
				child = true
			}
		}
		if child {
			childSubject(add(cr, "subject"), s)
		}
		if unborn {
			unbornSubject(add(cr, "subject"), s)
		}
	}
}

// localAuthority writes the LA responsible for a record: ODS code, readable
// name (CP-IS008) and its emergency duty (EC) and office hours (WP)
// telephone numbers.
func localAuthority(o *etree.Element, la cpis.LocalAuthority) {
	add(o, "id", "root", oidODSOrg, "extension", orUnknown(la.ODS))
	addText(o, "name", la.Name)
	ec, ecOK := telephone(la.Emergency)
	wp, wpOK := telephone(la.Office)
	if ecOK || !wpOK {
		// The schema wants at least one number; an LA without any usable
		// one gets an empty emergency number rather than losing its record.
		add(o, "telecom", "value", ec, "use", "EC")
	}
	if wpOK {
		add(o, "telecom", "value", wp, "use", "WP")
	}
}

// telephone normalises a telephone number to the schema's tel: URL, digits
// only with an optional leading +, dropping the spaces, dashes, dots and
// brackets people write, and the "(0)" of an international UK number
// (+44 (0)1632 ... is dialled +441632 ...). It reports false, with "tel:",
// for a number that has no digits or holds anything else.
func telephone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 4 && strings.EqualFold(s[:4], "tel:") {
		s = s[4:]
	}
	if strings.HasPrefix(s, "+") {
		s = strings.Replace(s, "(0)", "", 1)
	}
	b := make([]byte, 0, 4+len(s))
	b = append(b, "tel:"...)
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			b = append(b, c)
			digits++
		case c == '+' && digits == 0 && len(b) == 4:
			b = append(b, c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "tel:", false
		}
	}
	if digits == 0 {
		return "tel:", false
	}
	return string(b), true
}

// plan writes one visible information item (CPP, LAC or UCP) with its start
// and, when it has one, its end date; never its delete date (CP-IS009,
// CP-IS051).
func plan(pi *etree.Element, p cpis.Plan) {
	var content, info, start, end string
	switch p.Type {
	case cpis.CPP:
		content, info, start, end = contentCPP, "COCT_TP146105GB01.CPPInformation", "cPPStartDate", "cPPEndDate"
	case cpis.LAC:
		content, info, start, end = contentLAC, "COCT_TP146103GB01.LACInformation", "lACStartDate", "lACEndDate"
	default: // cpis.UCP: the end date is the expected due date (CP-IS011, CP-IS033)
		content, info, start, end = contentUCP, "COCT_TP146104GB01.UCPInformation", "uCPStartDate", "uCPEndDate"
	}
	add(pi, "npfitlc:contentId", "root", oidContentID, "extension", content)
	e := add(pi, info)
	add(add(add(e, "component"), start), "value", "value", planDate(p.Start))
	if !p.End.IsZero() {
		add(add(add(e, "component1"), end), "value", "value", planDate(p.End))
	}
}

// childSubject writes the child a CPP or LAC is about (COCT_TP145101GB01).
func childSubject(sub *etree.Element, s subject) {
	add(sub, "npfitlc:contentId", "root", oidContentID, "extension", contentChild)
	c := add(sub, "COCT_TP145101GB01.Child")
	add(c, "id", "root", oidNHSNumber, "extension", orUnknown(s.nhs))
	p := add(c, "childPerson")
	add(p, "birthTime", "value", s.birth)
	pdsName(add(p, "name"), s.name)
}

// unbornSubject writes the unborn child of a UCP through its mother, whose
// NHS number the plan is held under (COCT_TP145100GB01, CP-IS033).
func unbornSubject(sub *etree.Element, s subject) {
	add(sub, "npfitlc:contentId", "root", oidContentID, "extension", contentUnbornChild)
	m := add(add(sub, "COCT_TP145100GB01.UnbornChild"), "parentMotherPerson")
	add(m, "birthTime", "value", s.birth)
	pdsName(add(m, "name"), s.name)
	add(add(m, "playedMother"), "id", "root", oidNHSNumber, "extension", orUnknown(s.nhs))
}

// pdsName writes a PDS name as PN.NHS.PersonNameType6 allows it: exactly one
// given (the given names joined) and one family name, no prefix. A part
// PDS does not have is null-flavoured UNK, which the type allows on the parts
// though not on the name.
func pdsName(n *etree.Element, name cpis.Name) {
	namePart(n, "given", strings.Join(name.Given, " "))
	namePart(n, "family", name.Family)
}

func namePart(n *etree.Element, tag, text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		add(n, tag, "nullFlavor", "UNK")
		return
	}
	addText(n, tag, text)
}

func orUnknown(s string) string {
	if s == "" {
		return unknown
	}
	return s
}

// isASID reports whether s is an ASID: twelve digits.
func isASID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
