package hl7

import (
	"crypto/sha1"
	"slices"
	"strconv"
	"strings"
	"time"

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
	w := getWriter()
	w.markup(`<` + InteractionQueryResponse + ` xmlns="` + NS + `" xmlns:npfitlc="` + NSLocalisation + `">`)
	wrapperHead(w, InteractionQueryResponse, r)
	wrapperAddresses(w, r)
	openControlAct(w, r)
	w.markup(`<subject typeCode="SUBJ">`)
	queryResponse(w, r, q, a)
	w.markup(`</subject>`)
	closeControlAct(w, ResponseOK)
	w.markup(`</` + InteractionQueryResponse + `>`)
	return w.bytes(), nil
}

// queryResponse writes the payload, CP-ISNHSQueryResponse: when, which query
// it answers, how many accesses and records follow, then the access history
// and each local authority's records.
func queryResponse(w *xmlWriter, r Reply, q Query, a cpis.Answer) {
	at := a.At
	if at.IsZero() {
		at = r.CreationTime
	}
	w.markup(`<CP-ISNHSQueryResponse><effectiveTime value="`)
	instant(w, at)
	w.markup(`"/><id root="`)
	w.attrValue(responseID(r, q))
	w.markup(`"/>`)

	records := 0
	for _, h := range a.Holdings {
		records += (len(h.Plans) + maxPlansPerRecord - 1) / maxPlansPerRecord
	}
	w.markup(`<pertinentInformation11><pertinentTotalReturnedAccessRecords><value value="`)
	w.markup(strconv.Itoa(len(a.History)))
	w.markup(`"/></pertinentTotalReturnedAccessRecords></pertinentInformation11>`)
	w.markup(`<pertinentInformation12><pertinentTotalReturnedChildRecords><value value="`)
	w.markup(strconv.Itoa(records))
	w.markup(`"/></pertinentTotalReturnedChildRecords></pertinentInformation12>`)

	nhs := string(a.NHSNumber)
	if nhs == "" {
		nhs = q.NHSNumber
	}
	for _, ev := range a.History {
		w.markup(`<pertinentInformation13>`)
		accessEvent(w, ev, nhs)
		w.markup(`</pertinentInformation13>`)
	}
	subj := subjectOf(a, nhs)
	for _, h := range a.Holdings {
		w.markup(`<pertinentInformation14>`)
		holding(w, h, subj)
		w.markup(`</pertinentInformation14>`)
	}
	w.markup(`</CP-ISNHSQueryResponse>`)
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
// id is turned into a UUID derived from it, the same every time: the
// name-based UUID (version 5, SHA-1, RFC 4122 section 4.3) of the id in the
// OID namespace.
//
// It is made in place, without the strings that strings.ToUpper and
// uuid.NewSHA1 allocate: a response holds up to 25 of them.
func eventID(id string) (u [36]byte) {
	if isUUID(id) {
		for i := range u {
			c := id[i]
			if 'a' <= c && c <= 'f' {
				c -= 'a' - 'A'
			}
			u[i] = c
		}
		return u
	}
	var buf [64]byte
	sum := sha1.Sum(append(append(buf[:0], uuid.NameSpaceOID[:]...), id...))
	sum[6] = sum[6]&0x0f | 0x50 // version 5
	sum[8] = sum[8]&0x3f | 0x80 // the RFC 4122 variant
	const hexDigits = "0123456789ABCDEF"
	j := 0
	for i, c := range sum[:16] {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			u[j] = '-'
			j++
		}
		u[j], u[j+1] = hexDigits[c>>4], hexDigits[c&0x0f]
		j += 2
	}
	return u
}

// accessEvent writes one access history entry, pertinentCP-ISNHSQuery: the
// query as it was made (CP-IS026).
func accessEvent(w *xmlWriter, ev cpis.AccessEvent, nhs string) {
	w.markup(`<pertinentCP-ISNHSQuery><effectiveTime value="`)
	instant(w, ev.At)
	w.markup(`"/><id root="`)
	id := eventID(ev.ID)
	w.raw(id[:])
	w.markup(`"/><author>`)
	accessor(w, ev.Accessor)
	w.markup(`</author>`)
	if ev.NHSNumber != "" {
		nhs = string(ev.NHSNumber)
	}
	w.markup(`<queryByParameter><person.NHSnumber><value extension="`)
	w.attrValue(orUnknown(nhs))
	w.markup(`"/></person.NHSnumber></queryByParameter></pertinentCP-ISNHSQuery>`)
}

// accessor writes who made an access in readable form (CP-IS008): a person
// as an AssignedAuthor (job role, SDS ids, name, organisation); a system
// author as a System (ASID, the person it acted for, its organisation).
func accessor(w *xmlWriter, acc cpis.Accessor) {
	if acc.System && isASID(acc.ASID) {
		contentID(w, contentSystem)
		systemAccessor(w, acc)
		return
	}
	contentID(w, contentAssignedAuthor)
	personAccessor(w, acc)
}

// systemAccessor writes a system author (COCT_TP145104GB01.System): its ASID, the
// person it acted for when it names one, and its organisation.
func systemAccessor(w *xmlWriter, acc cpis.Accessor) {
	w.markup(`<COCT_TP145104GB01.System>`)
	instanceID(w, oidASID, acc.ASID)
	if !acc.Name.IsZero() || acc.JobRole.Code != "" {
		w.markup(`<indirectAuthority><superiorAssignedEntity>`)
		if acc.JobRole.Code != "" {
			jobRole(w, acc.JobRole)
		} else {
			w.markup(`<code nullFlavor="UNK"/>`)
		}
		w.markup(`<assignedPerson>`)
		personName(w, acc.Name)
		w.markup(`</assignedPerson></superiorAssignedEntity></indirectAuthority>`)
	}
	w.markup(`<maintainingOrganization>`)
	organisation(w, acc.Org)
	w.markup(`</maintainingOrganization></COCT_TP145104GB01.System>`)
}

// personAccessor writes a person author (COCT_TP145102GB01.AssignedAuthor):
// job role, SDS user and role profile ids, name and organisation.
func personAccessor(w *xmlWriter, acc cpis.Accessor) {
	w.markup(`<COCT_TP145102GB01.AssignedAuthor>`)
	jobRole(w, acc.JobRole)
	if acc.UserID != "" {
		instanceID(w, oidSDSUser, acc.UserID)
	} else {
		w.markup(`<id nullFlavor="UNK"/>`)
	}
	if acc.RoleProfileID != "" {
		instanceID(w, oidRoleProfile, acc.RoleProfileID)
	}
	w.markup(`<assignedAuthorPerson>`)
	personName(w, acc.Name)
	w.markup(`</assignedAuthorPerson><representedOrganization>`)
	organisation(w, acc.Org)
	w.markup(`</representedOrganization></COCT_TP145102GB01.AssignedAuthor>`)
}

// jobRole writes a job role code with its readable name (CP-IS008).
func jobRole(w *xmlWriter, j cpis.JobRole) {
	code := orUnknown(j.Code)
	name := j.Name
	if name == "" {
		name = code
	}
	w.markup(`<code code="`)
	w.attrValue(code)
	w.markup(`" codeSystem="` + oidJobRoleName + `" displayName="`)
	w.attrValue(name)
	w.markup(`"/>`)
}

// personName writes an SDS name (HL7 PN: prefix, given names, family name).
func personName(w *xmlWriter, name cpis.Name) {
	if name.IsZero() {
		w.markup(`<name nullFlavor="UNK"/>`)
		return
	}
	if name.Prefix == "" && name.Family == "" && !slices.ContainsFunc(name.Given, isNotEmpty) {
		w.markup(`<name/>`) // only blank parts: an empty name, as it has always been written
		return
	}
	w.markup(`<name>`)
	if name.Prefix != "" {
		w.textElement("prefix", name.Prefix)
	}
	for _, g := range name.Given {
		if g != "" {
			w.textElement("given", g)
		}
	}
	if name.Family != "" {
		w.textElement("family", name.Family)
	}
	w.markup(`</name>`)
}

// organisation writes an organisation's ODS code and readable name
// (CP-IS008).
func organisation(w *xmlWriter, org cpis.Org) {
	instanceID(w, oidODSOrg, orUnknown(org.ODS))
	w.textElement("name", org.Name)
}

// subject is the person an answer is about, as CP-IS records show them: the
// child, or the mother of an unborn child. Name and birth date come from PDS;
// a person PDS does not know has neither. The name is kept as pdsName writes
// it, made once for all the records that show it.
type subject struct {
	nhs    string
	birth  string // HL7 date, or unknownBirthTime
	given  string // the given names joined, or ""
	family string
}

func subjectOf(a cpis.Answer, nhs string) subject {
	s := subject{nhs: nhs, birth: unknownBirthTime}
	if a.Patient.NHSNumber != "" {
		s.given = strings.TrimSpace(strings.Join(a.Patient.Name.Given, " "))
		s.family = strings.TrimSpace(a.Patient.Name.Family)
		if !a.Patient.BirthDate.IsZero() {
			s.birth = civilDate(a.Patient.BirthDate)
		}
	}
	return s
}

// holding writes what one local authority holds (pertinentCP-ISRecordControlAct):
// its plans in records of at most three, each with its sender and subjects.
func holding(w *xmlWriter, h cpis.Holding, s subject) {
	w.markup(`<pertinentCP-ISRecordControlAct>`)
	for start := 0; start < len(h.Plans); start += maxPlansPerRecord {
		w.markup(`<record><communicationFunctionSnd>`)
		localAuthority(w, h.LA)
		w.markup(`</communicationFunctionSnd>`)
		record(w, h.Plans[start:min(start+maxPlansPerRecord, len(h.Plans))], s)
		w.markup(`</record>`)
	}
	w.markup(`</pertinentCP-ISRecordControlAct>`)
}

// record writes one CP-ISRecord: its plans, then the child they are about
// if any is a CPP or LAC, and the unborn child if any is a UCP.
func record(w *xmlWriter, plans []cpis.Plan, s subject) {
	w.markup(`<CP-ISRecord>`)
	child, unborn := false, false
	for _, p := range plans {
		w.markup(`<pertinentInformation15>`)
		plan(w, p)
		w.markup(`</pertinentInformation15>`)
		if p.Type == cpis.UCP {
			unborn = true
		} else {
			child = true
		}
	}
	if child {
		w.markup(`<subject>`)
		childSubject(w, s)
		w.markup(`</subject>`)
	}
	if unborn {
		w.markup(`<subject>`)
		unbornSubject(w, s)
		w.markup(`</subject>`)
	}
	w.markup(`</CP-ISRecord>`)
}

// localAuthority writes the LA responsible for a record: ODS code, readable
// name (CP-IS008) and its emergency duty (EC) and office hours (WP)
// telephone numbers.
func localAuthority(w *xmlWriter, la cpis.LocalAuthority) {
	w.markup(`<organisation>`)
	instanceID(w, oidODSOrg, orUnknown(la.ODS))
	w.textElement("name", la.Name)
	ec, ecOK := telephone(la.Emergency)
	wp, wpOK := telephone(la.Office)
	if ecOK || !wpOK {
		// The schema wants at least one number; an LA without any usable
		// one gets an empty emergency number rather than losing its record.
		w.markup(`<telecom value="`)
		w.attrValue(ec)
		w.markup(`" use="EC"/>`)
	}
	if wpOK {
		w.markup(`<telecom value="`)
		w.attrValue(wp)
		w.markup(`" use="WP"/>`)
	}
	w.markup(`</organisation>`)
}

// telephone normalises a telephone number to the schema's tel: URL, digits
// only with an optional leading +, dropping the spaces, dashes, dots and
// brackets people write, and the "(0)" of an international UK number
// (+44 (0)1632 ... is dialled +441632 ...). It reports false, with "tel:",
// for a number that has no digits or holds anything else.
func telephone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	given := s
	if len(s) >= 4 && strings.EqualFold(s[:4], "tel:") {
		s = s[4:]
	}
	if strings.HasPrefix(s, "+") {
		s = strings.Replace(s, "(0)", "", 1)
	}
	var buf [32]byte
	b := append(buf[:0], "tel:"...)
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
	if string(b) == given {
		// Stored as the schema writes it, as most numbers are: no copy.
		return given, true
	}
	return string(b), true
}

// plan writes one visible information item (CPP, LAC or UCP) with its start
// and, when it has one, its end date; never its delete date (CP-IS009,
// CP-IS051).
func plan(w *xmlWriter, p cpis.Plan) {
	var content, info, start, end string
	switch p.Type {
	case cpis.CPP:
		content, info, start, end = contentCPP, "COCT_TP146105GB01.CPPInformation", "cPPStartDate", "cPPEndDate"
	case cpis.LAC:
		content, info, start, end = contentLAC, "COCT_TP146103GB01.LACInformation", "lACStartDate", "lACEndDate"
	default: // cpis.UCP: the end date is the expected due date (CP-IS011, CP-IS033)
		content, info, start, end = contentUCP, "COCT_TP146104GB01.UCPInformation", "uCPStartDate", "uCPEndDate"
	}
	contentID(w, content)
	w.open(info)
	planDate(w, "component", start, p.Start)
	if !p.End.IsZero() {
		planDate(w, "component1", end, p.End)
	}
	w.close(info)
}

// childSubject writes the child a CPP or LAC is about (COCT_TP145101GB01).
func childSubject(w *xmlWriter, s subject) {
	contentID(w, contentChild)
	w.markup(`<COCT_TP145101GB01.Child>`)
	instanceID(w, oidNHSNumber, orUnknown(s.nhs))
	w.markup(`<childPerson><birthTime value="`)
	w.attrValue(s.birth)
	w.markup(`"/>`)
	pdsName(w, s)
	w.markup(`</childPerson></COCT_TP145101GB01.Child>`)
}

// unbornSubject writes the unborn child of a UCP through its mother, whose
// NHS number the plan is held under (COCT_TP145100GB01, CP-IS033).
func unbornSubject(w *xmlWriter, s subject) {
	contentID(w, contentUnbornChild)
	w.markup(`<COCT_TP145100GB01.UnbornChild><parentMotherPerson><birthTime value="`)
	w.attrValue(s.birth)
	w.markup(`"/>`)
	pdsName(w, s)
	w.markup(`<playedMother>`)
	instanceID(w, oidNHSNumber, orUnknown(s.nhs))
	w.markup(`</playedMother></parentMotherPerson></COCT_TP145100GB01.UnbornChild>`)
}

// pdsName writes a PDS name as PN.NHS.PersonNameType6 allows it: exactly one
// given (the given names joined) and one family name, no prefix. A part
// PDS does not have is null-flavoured UNK, which the type allows on the parts
// though not on the name.
func pdsName(w *xmlWriter, s subject) {
	w.markup(`<name>`)
	if s.given == "" {
		w.markup(`<given nullFlavor="UNK"/>`)
	} else {
		w.textElement("given", s.given)
	}
	if s.family == "" {
		w.markup(`<family nullFlavor="UNK"/>`)
	} else {
		w.textElement("family", s.family)
	}
	w.markup(`</name>`)
}

func isNotEmpty(s string) bool { return s != "" }

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
