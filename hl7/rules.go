package hl7

import (
	"fmt"
	"strconv"
	"strings"

	"spinegw/cpis"
	"spinegw/internal/libxml2"
)

// Severity says whether an issue makes a message invalid (SeverityError)
// or only departs from what Spine itself sends (SeverityWarning). The zero
// value counts as an error.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Rule ids of Check's issues: stable names a tester can grep for and a test
// can assert on, as the NHS Toolkit Workbench names its checks. Each is
// described, with its source, in docs/validate.md.
const (
	RuleXML         = "XML"               // the document is not well-formed (set by the caller that parses)
	RuleSOAP        = "SOAP"              // the SOAP envelope is not one Spine accepts (set by the caller that unwraps)
	RuleRoot        = "ROOT"              // the root is not a CP-IS message this validator knows
	RuleXSD         = "XSD"               // the message fails its schema
	RuleSOAPAction  = "SOAP-ACTION"       // wsa:Action does not name the body's message
	RuleSOAPASID    = "SOAP-ASID"         // the header's ASIDs differ from the transmission wrapper's
	RuleInteraction = "SPINE-INTERACTION" // interactionId does not name the message, or not under the NHS OID
	RuleMessageID   = "SPINE-MESSAGEID"   // a message or act id is not an upper-case UUID
	RuleTimestamp   = "SPINE-TIMESTAMP"   // a time stamp or date is not a real HL7 TS of the precision required
	RuleASID        = "SPINE-ASID"        // a device or system id is not a 12-digit ASID under the ASID OID
	RuleAuthor      = "SPINE-AUTHOR"      // a person author lacks an SDS id or carries one under a wrong OID
	RuleContentID   = "SPINE-CONTENTID"   // an npfitlc:contentId does not announce the template that follows
	RuleNHSNumber   = "SPINE-NHSNUMBER"   // an NHS number is missing, under a wrong OID, or fails Modulus 11
	RuleCodeSystem  = "SPINE-CODESYSTEM"  // a code under a code system other than its vocabulary's
	RuleODS         = "SPINE-ODS"         // an organisation id is not an ODS code under the ODS OIDs
	RuleCount       = "SPINE-COUNT"       // a count the message declares differs from what it holds
	RuleDateOrder   = "SPINE-DATEORDER"   // a plan ends before it starts
	RuleQueryAck    = "SPINE-QUERYACK"    // the query response code contradicts the interaction
	RuleFileCode    = "SPINE-FILECODE"    // a FileResponse's file code contradicts its record counts
	RuleUpload      = "SPINE-UPLOAD"      // an LA Upload's header fails the core's file-level checks
	RuleRecord      = "SPINE-RECORD"      // an LA Upload record the gateway would answer CPR07

	// RuleQuery marks, in Validate's issues only, a query ParseQuery
	// refuses; Check reports the same faults under the finer rules above.
	RuleQuery = "SPINE-QUERY"
)

// Transport is what a SOAP envelope said about the message it carried, for
// the checks that compare the two. Line is the line of the SOAP Header.
type Transport struct {
	Action  string // wsa:Action
	RcvASID string // the header's hl7:communicationFunctionRcv ASID
	SndASID string // the header's hl7:communicationFunctionSnd ASID
	Line    int
}

// Actions of the file-based CP-IS messages when they travel over SOAP (the
// DMS interaction names); an HL7 interaction's action ends in
// "/<interaction>" instead (wire reference §1).
const (
	actionUpload         = "urn:GB-en-NHS:iops:interaction:CP-ISLocalAuthorityUpload-v1-0"
	actionUploadResponse = "urn:GB-en-NHS:iops:interaction:CP-ISLocalAuthorityAcknowledgementResponse-v1-0"
)

// More OIDs the rules check (wire reference §3-6).
const (
	oidODSSite          = "2.16.840.1.113883.2.1.3.2.4.19.2"
	oidJobRoleNameDMS   = "2.16.840.1.113883.2.1.3.2.4.17.124"
	oidAckObservation   = "2.16.840.1.113883.2.1.3.2.4.17.469"
	oidDetectedIssueSMS = CodeSystemSMSP
)

// MessageName is the CP-IS communication a root element carries (wire
// reference §1), "" for a root that is none.
func MessageName(root string) string {
	switch root {
	case InteractionQuery:
		return "NHS Query"
	case InteractionQueryResponse:
		return "NHS Query Response"
	case InteractionQueryFailure:
		return "NHS Query failure (Query Act Failed)"
	case InteractionAck:
		return "Application acknowledgement"
	case "File":
		return "LA Upload"
	case "FileResponse":
		return "LA Acknowledgement Response"
	case "CP-ISAccessToServiceNotification":
		return "Access to Service Notification"
	case "CP-ISInactiveNHSNumberNotification":
		return "Inactive NHS Number Notification"
	}
	return ""
}

// Check validates the message element n (which need not be its document's
// root) as the Toolkit Workbench validator does: against the schema of its
// root, then against Spine's rules for its message type, which no schema
// can express (cross-field consistency, check digits, code systems, counts,
// date order). t, when not nil, is what the SOAP envelope that carried the
// message said; its ASIDs and action are checked against the message.
//
// Every issue has a line, a rule id (Rule* constants) and a severity; the
// rules run even when the schema fails, so that one run reports all it
// can. No issue quotes an NHS number. A message whose root the validator
// has no schema for gets one issue, RuleRoot. Check does not change what
// Validate reports; it is safe for concurrent use.
func (v *Validator) Check(n *libxml2.Node, t *Transport) []Issue {
	if n == nil {
		return []Issue{{Msg: "there is no message", Rule: RuleRoot, Severity: SeverityError}}
	}
	name := n.LocalName()
	s := v.schemas[name]
	if n.NamespaceURI() != NS || s == nil {
		return []Issue{{Line: n.Line(), Rule: RuleRoot, Severity: SeverityError,
			Msg: redactNHSNumbers(fmt.Sprintf("%s in namespace %q is not a message this validator knows", name, n.NamespaceURI()))}}
	}
	var issues []Issue
	for _, e := range s.ValidateElement(n) {
		issues = append(issues, Issue{Line: e.Line, Msg: redactNHSNumbers(e.Msg), Rule: RuleXSD, Severity: SeverityError})
	}
	return append(issues, SpineRules(n, t)...)
}

// SpineRules applies Spine's checks for n's message type, without the
// schema: see Check. A root that is no CP-IS message gets no issue here.
func SpineRules(n *libxml2.Node, t *Transport) []Issue {
	if n == nil || n.NamespaceURI() != NS {
		return nil
	}
	c := &checker{}
	root := n.LocalName()
	switch root {
	case InteractionQuery, InteractionQueryResponse, InteractionQueryFailure, InteractionAck:
		c.wrapper(n, root, t)
	case "File", "FileResponse":
		c.fileAction(root, t)
	}
	switch root {
	case InteractionQuery:
		c.query(n)
	case InteractionQueryResponse:
		c.queryResponse(n)
	case InteractionQueryFailure:
		c.queryFailure(n)
	case InteractionAck:
		// The transmission wrapper is all Spine checks of it.
	case "File":
		c.upload(n)
	case "FileResponse":
		c.fileResponse(n)
	case "CP-ISAccessToServiceNotification":
		c.accessNotification(n)
	case "CP-ISInactiveNHSNumberNotification":
		c.inactiveNotification(n)
	default:
		return nil
	}
	c.contentIDs(n)
	return c.issues
}

// checker collects the issues of one message.
type checker struct {
	issues []Issue
}

func (c *checker) add(n *libxml2.Node, rule string, sev Severity, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line()
	}
	c.issues = append(c.issues, Issue{Line: line, Rule: rule, Severity: sev, Msg: redactNHSNumbers(fmt.Sprintf(format, args...))})
}

func (c *checker) fail(n *libxml2.Node, rule, format string, args ...any) {
	c.add(n, rule, SeverityError, format, args...)
}

func (c *checker) warn(n *libxml2.Node, rule, format string, args ...any) {
	c.add(n, rule, SeverityWarning, format, args...)
}

// nullFlavoured reports whether n stands for an unknown value: such an
// element carries nothing for a rule to check.
func nullFlavoured(n *libxml2.Node) bool {
	return n != nil && n.Attr("nullFlavor") != ""
}

// path follows HL7 children by local name; nil when any step is missing.
func path(n *libxml2.Node, names ...string) *libxml2.Node {
	for _, name := range names {
		n = child(n, name)
	}
	return n
}

// --- Transmission wrapper (MCCI_MT010101UK12), wire reference §2-3 ---

// wrapper checks the transmission wrapper every HL7 interaction shares.
func (c *checker) wrapper(msg *libxml2.Node, root string, t *Transport) {
	// Spine: the interaction id names the message actually sent, under the
	// NHS interaction OID (wire reference §3).
	ia := child(msg, "interactionId")
	switch {
	case ia == nil:
		c.fail(msg, RuleInteraction, "the message has no interactionId")
	case ia.Attr("extension") != root:
		c.fail(ia, RuleInteraction, "interactionId/@extension is %q: it must be %s, the name of the root element", ia.Attr("extension"), root)
	case ia.Attr("root") != oidInteraction:
		c.fail(ia, RuleInteraction, "interactionId/@root must be %s", oidInteraction)
	}
	// CP-IS019: every message is uniquely identifiable, by an upper-case
	// UUID as Spine writes them (wire reference §3).
	c.uuid(child(msg, "id"), "the message id (id/@root)")
	c.timestamp(child(msg, "creationTime"), "creationTime", true)
	rcv := c.deviceASID(child(msg, "communicationFunctionRcv"))
	snd := c.deviceASID(child(msg, "communicationFunctionSnd"))
	for _, a := range children(child(msg, "ControlActEvent"), "author1") {
		c.asid(path(a, "AgentSystemSDS", "agentSystemSDS", "id"), "the control act's system author (author1)")
	}
	if t == nil {
		return
	}
	// Spine: interactionId = the text after the last "/" of wsa:Action =
	// the body root's name (wire reference §1).
	if i := strings.LastIndexByte(t.Action, '/'); t.Action == "" || t.Action[i+1:] != root {
		c.failAt(t.Line, RuleSOAPAction, "wsa:Action %q does not name %s, the message in the SOAP Body", t.Action, root)
	}
	// Spine: INCONSISTENT_COMM_FUNC_RCV / _SND (wire reference §2).
	if rcv != "" && t.RcvASID != rcv {
		c.failAt(t.Line, RuleSOAPASID, "the SOAP header's receiver ASID %s differs from the transmission wrapper's %s (INCONSISTENT_COMM_FUNC_RCV)", t.RcvASID, rcv)
	}
	if snd != "" && t.SndASID != snd {
		c.failAt(t.Line, RuleSOAPASID, "the SOAP header's sender ASID %s differs from the transmission wrapper's %s (INCONSISTENT_COMM_FUNC_SND)", t.SndASID, snd)
	}
}

func (c *checker) failAt(line int, rule, format string, args ...any) {
	c.issues = append(c.issues, Issue{Line: line, Rule: rule, Severity: SeverityError, Msg: redactNHSNumbers(fmt.Sprintf(format, args...))})
}

// fileAction checks the action of an LA Upload or its acknowledgement sent
// over SOAP: the DMS interaction name of the message in the body.
func (c *checker) fileAction(root string, t *Transport) {
	if t == nil {
		return
	}
	want := actionUpload
	if root == "FileResponse" {
		want = actionUploadResponse
	}
	if t.Action != want {
		c.failAt(t.Line, RuleSOAPAction, "wsa:Action %q does not name %s: a %s travels as %s", t.Action, root, MessageName(root), want)
	}
}

// deviceASID checks communicationFunction*/device/id and returns the ASID
// it carries ("" when none: the schema or a null flavour says why).
func (c *checker) deviceASID(cf *libxml2.Node) string {
	if cf == nil {
		return ""
	}
	id := path(cf, "device", "id")
	if !c.asid(id, cf.LocalName()+"/device/id") {
		return ""
	}
	return id.Attr("extension")
}

// asid checks that id is an ASID: root 1.2.826.0.1285.0.2.0.107 and twelve
// digits (wire reference §2). A missing or null-flavoured id (the gateway's
// answer to a message too broken to name its sender) is not checked.
func (c *checker) asid(id *libxml2.Node, what string) bool {
	if id == nil || nullFlavoured(id) {
		return false
	}
	ok := true
	if id.Attr("root") != oidASID {
		c.fail(id, RuleASID, "%s must have root %s, the ASID OID", what, oidASID)
		ok = false
	}
	if !isDigits(id.Attr("extension"), 12) {
		c.fail(id, RuleASID, "%s must carry a 12-digit ASID", what)
		ok = false
	}
	return ok
}

func isDigits(s string, n int) bool { return len(s) == n && allDigits(s) }

// uuid checks that id/@root is an upper-case UUID (Spine's own ids are).
// A missing id is the schema's business; a null-flavoured one carries none.
func (c *checker) uuid(id *libxml2.Node, what string) {
	if id == nil || nullFlavoured(id) {
		return
	}
	v := id.Attr("root")
	switch {
	case !isUUID(v):
		c.fail(id, RuleMessageID, "%s must be a UUID", what)
	case v != strings.ToUpper(v):
		c.fail(id, RuleMessageID, "%s must be an upper-case UUID", what)
	}
}

// timestamp checks that n/@value is an HL7 TS naming a real instant; with
// full, to the second, as Spine writes a creationTime (wire reference §3).
// The schemas' patterns let through dates that do not exist (30 February)
// and hours past 23.
func (c *checker) timestamp(n *libxml2.Node, what string, full bool) {
	if n == nil || nullFlavoured(n) {
		return
	}
	v := strings.TrimSpace(n.Attr("value"))
	if i := strings.LastIndexAny(v, "+-"); i >= 0 && len(v)-i == 3 && !parseTS(v+"00").IsZero() {
		// An offset in hours alone: the schemas' pattern admits it, HL7's
		// TS literal has +hhmm.
		c.warn(n, RuleTimestamp, "%s %q gives its offset in hours alone: HL7 writes +hhmm", what, v)
		return
	}
	if parseTS(v).IsZero() {
		c.fail(n, RuleTimestamp, "%s %q is not a valid HL7 time stamp (yyyyMMdd[HH[mm[ss]]][+hhmm]) naming a real date and time", what, v)
		return
	}
	if full && len(tsDigits(v)) < 14 {
		c.warn(n, RuleTimestamp, "%s %q is given to less than the second: Spine writes yyyyMMddHHmmss", what, v)
	}
}

// tsDigits is the date and time part of a TS, without fraction or offset.
func tsDigits(v string) string {
	if i := strings.IndexAny(v, ".+-"); i >= 0 {
		return v[:i]
	}
	return v
}

// planDate checks a plan date (TS.NHS.DateType1, yyyyMMddHHmm) and returns
// it as a sortable yyyyMMdd, "" when absent or invalid.
func (c *checker) planDate(n *libxml2.Node, what string) string {
	if n == nil || nullFlavoured(n) {
		return ""
	}
	v, ok := n.LookupAttrNS("", "value")
	if !ok {
		return ""
	}
	d, ok := parsePlanDate(v)
	if !ok {
		c.fail(n, RuleTimestamp, "%s %q is not a date yyyyMMddHHmm that exists", what, v)
		return ""
	}
	return d.Format("20060102")
}

// birthDate checks a birth time: a real date, at least yyyyMMdd.
func (c *checker) birthDate(n *libxml2.Node, what string) {
	if n == nil || nullFlavoured(n) {
		return
	}
	v := strings.TrimSpace(n.Attr("value"))
	if v == unknownBirthTime {
		// The emulator's birth date of a person PDS does not know: the
		// schema forbids a null flavour here (see unknownBirthTime).
		c.warn(n, RuleTimestamp, "%s %s stands for a date of birth PDS does not know: Spine always knows it", what, v)
		return
	}
	if parseTS(v).IsZero() || parseBirthDate(v).IsZero() {
		c.fail(n, RuleTimestamp, "%s is not a full date of birth yyyyMMdd that exists", what)
	}
}

// nhsNumber checks an NHS number as the core does (Modulus 11, wire
// reference §8; CP-NHS001, CP-SC001: only valid numbers are exchanged).
// The number is never quoted.
func (c *checker) nhsNumber(n *libxml2.Node, v, what string) {
	switch {
	case blank(v):
		c.fail(n, RuleNHSNumber, "%s: the NHS number is missing", what)
	case !cpis.ValidNHSNumber(v):
		c.fail(n, RuleNHSNumber, "%s: the NHS number is not ten digits with a valid Modulus 11 check digit", what)
	}
}

// nhsID checks an id that must carry an NHS number under root
// 2.16.840.1.113883.2.1.4.1 (wire reference §5, §8).
func (c *checker) nhsID(id *libxml2.Node, what string) {
	if id == nil || nullFlavoured(id) {
		return
	}
	if r := id.Attr("root"); r != oidNHSNumber {
		c.fail(id, RuleNHSNumber, "%s must have root %s, the NHS number OID, not %q", what, oidNHSNumber, r)
		return
	}
	c.nhsNumber(id, id.Attr("extension"), what)
}

// org checks an organisation id: an ODS organisation or site code under its
// OID (CP-IS008: organisations are named by ODS codes).
func (c *checker) org(id *libxml2.Node, what string) {
	if id == nil || nullFlavoured(id) {
		return
	}
	if r := id.Attr("root"); r != oidODSOrg && r != oidODSSite {
		c.fail(id, RuleODS, "%s must have root %s (ODS organisation) or %s (ODS site), not %q", what, oidODSOrg, oidODSSite, r)
	}
	if blank(id.Attr("extension")) {
		c.fail(id, RuleODS, "%s carries no ODS code", what)
	}
}

// count checks a declared count against what the message holds.
func (c *checker) count(value *libxml2.Node, held int, what string) {
	if value == nil || nullFlavoured(value) {
		return
	}
	v := strings.TrimSpace(value.Attr("value"))
	n, err := strconv.Atoi(v)
	if err != nil || n != held {
		c.fail(value, RuleCount, "%s is %q but the message holds %d", what, v, held)
	}
}

// contentIDs checks every npfitlc:contentId of the message: its root is the
// template OID 2.16.840.1.113883.2.1.3.2.4.18.16 and its extension,
// "<template>#<class>", announces the element that follows it,
// "<template>.<class>" (wire reference §4: the template content id names
// the CMET element used).
func (c *checker) contentIDs(n *libxml2.Node) {
	var walk func(n *libxml2.Node, depth int)
	walk = func(n *libxml2.Node, depth int) {
		if depth > uploadMaxDepth {
			return
		}
		for e := n.FirstChildElement(); e != nil; e = e.NextSiblingElement() {
			if !e.Is(NSLocalisation, "contentId") {
				walk(e, depth+1)
				continue
			}
			if r := e.Attr("root"); r != oidContentID {
				c.fail(e, RuleContentID, "npfitlc:contentId/@root must be %s", oidContentID)
			}
			ext := e.Attr("extension")
			next := e.NextSiblingElement()
			want := strings.Replace(ext, "#", ".", 1)
			switch {
			case next == nil:
				c.fail(e, RuleContentID, "npfitlc:contentId %q announces a template but no element follows it", ext)
			case !strings.Contains(ext, "#") || next.LocalName() != want || next.NamespaceURI() != NS:
				c.fail(e, RuleContentID, "npfitlc:contentId/@extension %q does not announce the %s element that follows it", ext, next.LocalName())
			}
		}
	}
	walk(n, 1)
}

// --- NHS Query (QUPC_IN000006GB01), wire reference §3-4 ---

func (c *checker) query(msg *libxml2.Node) {
	cae := child(msg, "ControlActEvent")
	// Spine: a control act author, when present, carries all three SDS ids
	// (wire reference §3; CP-IS042 RBAC). A nil author is no author.
	if a := child(cae, "author"); a != nil && a.AttrNS(nsXSI, "nil") != "true" {
		c.agentPersonSDS(child(a, "AgentPersonSDS"), a)
	}
	payload := path(cae, "subject", "CP-ISQueryStub", "cP-ISNHSQuery")
	if payload == nil {
		return // the schema says so
	}
	c.queryAct(payload, "the query", true)
	// CP-IS015, CP-NHS001: the query names one NHS number, valid.
	value := path(payload, "queryByParameter", "person.NHSnumber", "value")
	if value != nil && !nullFlavoured(value) {
		c.nhsNumber(value, value.Attr("extension"), "queryByParameter/person.NHSnumber/value/@extension")
	} else if value == nil && path(payload, "queryByParameter") != nil {
		c.fail(payload, RuleNHSNumber, "the query carries no NHS number")
	}
}

// agentPersonSDS checks the control act author: role profile id (root
// ...0.67), SDS user id (agentPersonSDS/id, root ...0.65) and job role
// (part/partSDSRole/id, root ...1.104), all present.
func (c *checker) agentPersonSDS(ap, author *libxml2.Node) {
	if ap == nil {
		return // the schema's business
	}
	ids := []struct {
		id         *libxml2.Node
		root, what string
	}{
		{child(ap, "id"), oidRoleProfile, "the SDS role profile id (AgentPersonSDS/id)"},
		{path(ap, "agentPersonSDS", "id"), oidSDSUser, "the SDS user id (agentPersonSDS/id)"},
		{path(ap, "part", "partSDSRole", "id"), oidSDSJobRole, "the job role (part/partSDSRole/id)"},
	}
	for _, x := range ids {
		switch {
		case x.id == nil || blank(x.id.Attr("extension")):
			at := x.id
			if at == nil {
				at = ap
			}
			c.fail(at, RuleAuthor, "the control act author lacks %s", x.what)
		case x.id.Attr("root") != x.root:
			c.fail(x.id, RuleAuthor, "%s must have root %s", x.what, x.root)
		}
	}
}

// queryAct checks a query act as the query carries it, and as the query
// response's access history and the Access to Service Notification repeat
// it (wire reference §4, §5, §7): its time, id and author. received is
// true for the query itself, false for a query the gateway reports.
func (c *checker) queryAct(q *libxml2.Node, what string, received bool) {
	c.timestamp(child(q, "effectiveTime"), what+"'s effectiveTime", false)
	c.uuid(child(q, "id"), what+"'s id (id/@root)")
	author := child(q, "author")
	if p := child(author, "COCT_TP145102GB01.AssignedAuthor"); p != nil {
		c.assignedAuthor(p, what, received)
	}
	if s := child(author, "COCT_TP145104GB01.System"); s != nil {
		c.systemAuthor(s, what)
	}
}

// assignedAuthor checks a person author (COCT_TP145102GB01.AssignedAuthor):
// the job role under the job role code system, the SDS user id (required)
// and role profile id under their OIDs, the organisation by ODS code
// (CP-NHS003: job role, organisation code and name). In a query the
// gateway reports (access history, notification) a null-flavoured id
// stands for an SDS user id the query did not give: the gateway writes
// what it was told.
func (c *checker) assignedAuthor(p *libxml2.Node, what string, received bool) {
	c.jobRole(child(p, "code"), what+"'s author job role")
	user := false
	for _, id := range children(p, "id") {
		switch id.Attr("root") {
		case oidSDSUser:
			user = user || !blank(id.Attr("extension"))
		case oidRoleProfile:
		default:
			if nullFlavoured(id) {
				user = user || !received
			} else {
				c.fail(id, RuleAuthor, "%s's author id must be an SDS user id (root %s) or role profile id (root %s)", what, oidSDSUser, oidRoleProfile)
			}
		}
	}
	if !user {
		c.fail(p, RuleAuthor, "%s's person author carries no SDS user id (root %s)", what, oidSDSUser)
	}
	c.org(path(p, "representedOrganization", "id"), what+"'s author organisation id")
}

// systemAuthor checks a system author (COCT_TP145104GB01.System): its ASID,
// the job roles of the people it acts for, its organisation.
func (c *checker) systemAuthor(s *libxml2.Node, what string) {
	c.asid(child(s, "id"), what+"'s system author id")
	for _, ia := range children(s, "indirectAuthority") {
		c.jobRole(path(ia, "superiorAssignedEntity", "code"), what+"'s system author's person job role")
	}
	c.org(path(s, "maintainingOrganization", "id"), what+"'s system author organisation id")
}

// jobRole checks a job role code's code system: JobRoleName
// 2.16.840.1.113883.2.1.3.2.4.17.124 as the DMS has it, or ...17.196 as
// Spine's own responses and NHS test material use (wire reference §4).
func (c *checker) jobRole(code *libxml2.Node, what string) {
	if code == nil || nullFlavoured(code) {
		return
	}
	if cs := code.Attr("codeSystem"); cs != oidJobRoleNameDMS && cs != oidJobRoleName {
		c.fail(code, RuleCodeSystem, "%s must be coded under %s (JobRoleName) or %s, not %q", what, oidJobRoleNameDMS, oidJobRoleName, cs)
	}
}

// --- NHS Query Response (REPC_IN000007GB01), wire reference §5 ---

func (c *checker) queryResponse(msg *libxml2.Node) {
	cae := child(msg, "ControlActEvent")
	qrc := path(cae, "queryAck", "queryResponseCode")
	// CP-IS015: a positive trace is answered OK with the records; every
	// negative one is a QUQI_IN010000UK14.
	if qrc != nil && qrc.Attr("code") != ResponseOK {
		c.fail(qrc, RuleQueryAck, "a query response answers queryResponseCode OK, not %q: a query that finds nothing is answered by %s", qrc.Attr("code"), InteractionQueryFailure)
	}
	resp := path(cae, "subject", "CP-ISNHSQueryResponse")
	if resp == nil {
		if cae != nil {
			c.fail(cae, RuleQueryAck, "a query response carries subject/CP-ISNHSQueryResponse")
		}
		return
	}
	c.timestamp(child(resp, "effectiveTime"), "CP-ISNHSQueryResponse/effectiveTime", false)
	c.uuid(child(resp, "id"), "CP-ISNHSQueryResponse/id")

	history := children(resp, "pertinentInformation13")
	holdings := children(resp, "pertinentInformation14")
	records := 0
	for _, h := range holdings {
		records += len(children(path(h, "pertinentCP-ISRecordControlAct"), "record"))
	}
	c.count(path(resp, "pertinentInformation11", "pertinentTotalReturnedAccessRecords", "value"), len(history), "pertinentTotalReturnedAccessRecords")
	c.count(path(resp, "pertinentInformation12", "pertinentTotalReturnedChildRecords", "value"), records, "pertinentTotalReturnedChildRecords")
	for _, h := range history {
		if q := child(h, "pertinentCP-ISNHSQuery"); q != nil {
			c.queryAct(q, "access history entry", false)
			if v := path(q, "queryByParameter", "person.NHSnumber", "value"); v != nil && !nullFlavoured(v) {
				c.nhsNumber(v, v.Attr("extension"), "access history entry")
			}
		}
	}
	for _, h := range holdings {
		for _, rec := range children(path(h, "pertinentCP-ISRecordControlAct"), "record") {
			c.responseRecord(rec)
		}
	}
}

// responsePlans are the query response's plan templates and their date
// observations (wire reference §5).
var responsePlans = [...]struct{ element, name, start, end string }{
	{"COCT_TP146105GB01.CPPInformation", "CPP", "cPPStartDate", "cPPEndDate"},
	{"COCT_TP146103GB01.LACInformation", "LAC", "lACStartDate", "lACEndDate"},
	{"COCT_TP146104GB01.UCPInformation", "unborn CPP", "uCPStartDate", "uCPEndDate"},
}

// responseRecord checks one record of a query response: the local
// authority's ODS code, each plan's dates in order, the subjects' NHS
// numbers and birth dates.
func (c *checker) responseRecord(rec *libxml2.Node) {
	c.org(path(rec, "communicationFunctionSnd", "organisation", "id"), "the record's local authority id")
	cr := child(rec, "CP-ISRecord")
	for _, pi := range children(cr, "pertinentInformation15") {
		for _, p := range responsePlans {
			info := child(pi, p.element)
			if info == nil {
				continue
			}
			start := c.planDate(path(info, "component", p.start, "value"), p.name+" start date")
			end := c.planDate(path(info, "component1", p.end, "value"), p.name+" end date")
			c.dateOrder(path(info, "component1", p.end, "value"), start, end, p.name)
		}
	}
	for _, s := range children(cr, "subject") {
		if ch := child(s, "COCT_TP145101GB01.Child"); ch != nil {
			c.nhsID(child(ch, "id"), "the child's id")
			c.birthDate(path(ch, "childPerson", "birthTime"), "the child's birthTime")
		}
		if u := child(s, "COCT_TP145100GB01.UnbornChild"); u != nil {
			c.nhsID(path(u, "parentMotherPerson", "playedMother", "id"), "the mother's id")
			c.birthDate(path(u, "parentMotherPerson", "birthTime"), "the mother's birthTime")
		}
	}
}

// dateOrder: a plan's end date is not before its start date (the core's
// upload rule 13, cpis.CheckRecord; the gateway stores and answers only
// such plans). yyyyMMdd strings compare as dates.
func (c *checker) dateOrder(at *libxml2.Node, start, end, name string) {
	if start != "" && end != "" && end < start {
		c.fail(at, RuleDateOrder, "the %s end date is before its start date", name)
	}
}

// --- Query failure (QUQI_IN010000UK14), wire reference §5 ---

func (c *checker) queryFailure(msg *libxml2.Node) {
	ack := child(msg, "acknowledgement")
	c.uuid(path(ack, "messageRef", "id"), "acknowledgement/messageRef/id (the failed query's id)")
	cae := child(msg, "ControlActEvent")
	if qrc := path(cae, "queryAck", "queryResponseCode"); qrc != nil && qrc.Attr("code") == ResponseOK {
		c.fail(qrc, RuleQueryAck, "a query failure cannot answer queryResponseCode OK: that is a %s", InteractionQueryResponse)
	}
	// Spine's detected issues are coded under ...17.42 (NHS Number Not
	// Found, wire reference §5), the Spine Mini Service vocabulary ...17.499.
	for _, r := range children(cae, "reason") {
		code := path(r, "justifyingDetectedIssueEvent", "code")
		if code == nil || nullFlavoured(code) {
			continue
		}
		if cs := code.Attr("codeSystem"); cs != CodeSystemDetectedIssue && cs != oidDetectedIssueSMS {
			c.fail(code, RuleCodeSystem, "the detected issue must be coded under %s or %s (Spine Mini Service), not %q", CodeSystemDetectedIssue, oidDetectedIssueSMS, cs)
		} else if cs == oidDetectedIssueSMS && smspNames[code.Attr("code")] == "" {
			c.fail(code, RuleCodeSystem, "%q is not a code of the Spine Mini Service vocabulary %s", code.Attr("code"), oidDetectedIssueSMS)
		}
	}
}

// --- LA Upload (File, REPC_MT000002GB01), wire reference §6 ---

// upload checks an LA Upload as the gateway processes it: the header with
// the core's file-level checks (cpis.CheckUploadHeader: CP-SC011, CP-SC016,
// CP-SC007), the record count (CP-IS018; the gateway answers a mismatch
// CPF01), then every record with the core's record checks that need no PDS
// (cpis.CheckRecord rules 1-13: CP-IS002, CP-SC001, CP-SC011..013). The
// records are read by the same code the upload pipeline uses.
func (c *checker) upload(file *libxml2.Node) {
	c.timestamp(child(file, "creationTime"), "creationTime", true)
	u := uploadReader{}
	u.up.FileID = extension(child(file, "id"))
	sender := child(file, "communicationFunctionSnd")
	u.readSender(sender)
	c.org(path(sender, "organisation", "id"), "the local authority id")
	if sender != nil {
		if err := cpis.CheckUploadHeader(u.up); err != nil {
			at := sender
			if blank(u.up.FileID) && child(file, "id") != nil {
				at = child(file, "id")
			}
			c.fail(at, RuleUpload, "%s (the gateway answers every record CPR07)", cpis.MessageOf(err))
		}
	}
	recs := children(file, "record")
	c.count(child(file, "transmissionQuantity"), len(recs), "transmissionQuantity")
	noPDS := func(cpis.NHSNumber) (cpis.Patient, bool) { return cpis.Patient{}, false }
	var buf [2]cpis.UploadRecord
	for i, rec := range recs {
		for _, r := range uploadRecords(rec, i+1, &buf) {
			// The core answers CPR01 (no PDS match) only once every check
			// of the record's own data has passed.
			out := cpis.CheckRecord(r, noPDS, cpis.VerifyCurrent)
			if out.Code == cpis.CPR01 {
				continue
			}
			rule := RuleRecord
			if out.Code == cpis.CPR04 || !cpis.ValidNHSNumber(r.NHSNumber) {
				rule = RuleNHSNumber
			}
			c.fail(rec, rule, "record %d: %s (the gateway answers it %s)", i+1, out.Detail, out.Code)
		}
		c.uploadRecordDates(rec, i+1)
	}
}

// uploadRecordDates reports plan dates that are no dates: the core sees
// them as a missing start date, the tester wants to know which.
func (c *checker) uploadRecordDates(rec *libxml2.Node, pos int) {
	for _, pi := range children(child(rec, "CP-ISRecord"), "pertinentInformation") {
		for _, t := range uploadPlanTemplates {
			info := child(pi, t.element)
			if info == nil {
				continue
			}
			name := string(t.typ)
			c.planDate(path(info, "component", t.start, "value"), fmt.Sprintf("record %d: the %s start date", pos, name))
			c.planDate(path(info, "component1", t.end, "value"), fmt.Sprintf("record %d: the %s end date", pos, name))
			c.planDate(path(info, "component2", t.delete, "value"), fmt.Sprintf("record %d: the %s delete date", pos, name))
		}
	}
}

// --- LA Acknowledgement Response (FileResponse, REPC_MT000003GB01) ---

// fileResponse checks the acknowledgement: its file code agrees with its
// counts (CP-IS018, CP-IS024, cpis.FileCodeCounts), the counts add up to
// the records received, each detail code sits under its own code system
// (wire reference §6). Records sent back in invalidCP-ISRecord are the
// LA's as uploaded, wrong NHS numbers included: they are not checked.
func (c *checker) fileResponse(fr *libxml2.Node) {
	c.timestamp(child(fr, "creationTime"), "creationTime", true)
	c.org(path(fr, "communicationFunctionRcv", "organisation", "id"), "the local authority id")
	code := path(fr, "acknowledgementFile", "acknowledgementFileDetail", "code")
	failedV := path(fr, "failedReturnedCP-ISRecords", "value")
	okV := path(fr, "successfulReturnedCP-ISRecords", "value")
	failed, okF := countOf(failedV)
	succeeded, okS := countOf(okV)
	if code != nil && okF && okS {
		fc := code.Attr("code")
		switch fc {
		case cpis.CPF02, cpis.CPF03, cpis.CPF04:
			if want := cpis.FileCodeCounts(succeeded, failed); want != fc {
				c.fail(code, RuleFileCode, "file code %s contradicts %d successful and %d failed records, which make %s", fc, succeeded, failed, want)
			}
			// The gateway counts every record received once, successful
			// or failed (upload pipeline); other writers may not.
			if q, ok := countOf(child(fr, "transmissionQuantity")); ok && q != succeeded+failed {
				c.warn(child(fr, "transmissionQuantity"), RuleCount, "transmissionQuantity (the records received) is %d but %d successful and %d failed records are counted", q, succeeded, failed)
			}
		case cpis.CPF01, "CPF05", "CPF06":
			// Nothing of the file was processed.
			if succeeded != 0 || failed != 0 {
				c.fail(code, RuleFileCode, "file code %s answers the file as a whole: no record can be counted successful or failed", fc)
			}
		}
	}
	details := 0
	for _, d := range children(path(fr, "acknowledgementRecord"), "acknowledgementRecordDetail") {
		dc := child(d, "code")
		if dc == nil || nullFlavoured(dc) {
			continue
		}
		v, cs := dc.Attr("code"), dc.Attr("codeSystem")
		var want string
		switch {
		case strings.HasPrefix(v, "CPR"):
			want = ackOIDRecordCode
			if v != cpis.CPR06 {
				details++
			}
		case strings.HasPrefix(v, "CPF"):
			want = ackOIDFileCode
		default:
			want = oidAckObservation
		}
		if cs != want {
			c.fail(dc, RuleCodeSystem, "acknowledgement code %q must be under code system %s, not %q", v, want, cs)
		}
	}
	if okF && details != failed {
		c.warn(failedV, RuleCount, "failedReturnedCP-ISRecords is %d but acknowledgementRecord gives %d failed record codes", failed, details)
	}
}

// countOf reads a count value; ok is false when absent or unreadable (the
// schema says so).
func countOf(v *libxml2.Node) (int, bool) {
	if v == nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v.Attr("value")))
	return n, err == nil && n >= 0
}

// --- Notifications to local authorities, wire reference §7 ---

// notificationHead checks what both notifications share: time, id
// (CP-IS019), and the LA they go to (CP-IS023).
func (c *checker) notificationHead(n *libxml2.Node) {
	c.timestamp(child(n, "effectiveTime"), "effectiveTime", false)
	c.uuid(child(n, "id"), "the notification id (id/@root)")
	c.org(path(n, "primaryInformationRecipient", "COCT_TP145103GB01.IntendedRecipient", "representedSourceOrganization", "id"), "the local authority id")
}

// accessNotification: CP-IS022, CP-IS025, CP-IS047. The declared number of
// records is the number of records sent; each access is a query act like
// the query's; each record names its child by a valid NHS number.
func (c *checker) accessNotification(n *libxml2.Node) {
	c.notificationHead(n)
	records := children(n, "pertinentInformation1")
	c.count(path(n, "pertinentInformation", "pertinentTotalReturnedRecords", "value"), len(records), "pertinentTotalReturnedRecords")
	for _, r := range records {
		ra := child(r, "pertinentCP-ISRecordAccess")
		for _, pi := range children(ra, "pertinentInformation2") {
			q := child(pi, "pertinentCP-ISNHSQuery")
			if q == nil {
				continue
			}
			c.queryAct(q, "the access", false)
			pid := path(q, "queryByParameter", "person.id")
			if pid == nil {
				continue
			}
			nhs := 0
			for _, v := range children(pid, "value") {
				switch v.Attr("root") {
				case oidNHSNumber:
					nhs++
					c.nhsNumber(v, v.Attr("extension"), "the accessed person's id")
				case uploadOIDLocalID, uploadOIDOldStyle:
				default:
					if !nullFlavoured(v) {
						c.fail(v, RuleNHSNumber, "the accessed person's id must be an NHS number (root %s) or the LA's child id (root %s)", oidNHSNumber, uploadOIDLocalID)
					}
				}
			}
			if nhs != 1 {
				c.fail(pid, RuleNHSNumber, "the accessed person is named by one NHS number (root %s), not %d", oidNHSNumber, nhs)
			}
		}
	}
}

// inactiveNotification: CP-IS012, CP-IS023. Each inactive patient is named
// by a valid NHS number; a replacement, when given, is one too.
func (c *checker) inactiveNotification(n *libxml2.Node) {
	c.notificationHead(n)
	for _, s := range children(n, "subject") {
		p := child(s, "pDSInactivePatient")
		if p == nil {
			continue
		}
		nhs := 0
		for _, id := range children(p, "id") {
			if id.Attr("root") == oidNHSNumber {
				nhs++
				c.nhsNumber(id, id.Attr("extension"), "the inactive patient's id")
			}
		}
		if nhs != 1 {
			c.fail(p, RuleNHSNumber, "the inactive patient is named by one NHS number (root %s), not %d", oidNHSNumber, nhs)
		}
		if id := path(p, "replacedBy", "newVersion", "id"); id != nil && !nullFlavoured(id) {
			c.nhsNumber(id, id.Attr("extension"), "the replacing NHS number (replacedBy/newVersion/id)")
		}
	}
}

// children returns n's HL7 child elements named local; none if n is nil.
func children(n *libxml2.Node, local string) []*libxml2.Node {
	if n == nil {
		return nil
	}
	return n.Children(NS, local)
}
