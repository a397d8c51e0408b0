package hl7

import (
	"fmt"
	"strings"

	"spinegw/cpis"
	"spinegw/internal/libxml2"
)

// Namespaces of CP-IS HL7 messages.
const (
	NS             = "urn:hl7-org:v3"
	NSLocalisation = "NPFIT:HL7:Localisation" // npfitlc:contentId
	nsXSI          = "http://www.w3.org/2001/XMLSchema-instance"
)

// Interactions: the root element names, which are also the
// interactionId/@extension values.
const (
	InteractionQuery         = "QUPC_IN000006GB01"
	InteractionQueryResponse = "REPC_IN000007GB01"
	InteractionQueryFailure  = "QUQI_IN010000UK14"
	InteractionAck           = "MCCI_IN010000UK13"
)

// OIDs of the identifiers and code systems the messages carry (wire
// reference §3-5).
const (
	oidInteraction = "2.16.840.1.113883.2.1.3.2.4.12"
	oidASID        = "1.2.826.0.1285.0.2.0.107"
	oidSDSUser     = "1.2.826.0.1285.0.2.0.65"
	oidRoleProfile = "1.2.826.0.1285.0.2.0.67"
	oidSDSJobRole  = "1.2.826.0.1285.0.2.1.104"
	oidNHSNumber   = "2.16.840.1.113883.2.1.4.1"
	oidContentID   = "2.16.840.1.113883.2.1.3.2.4.18.16"
	oidODSOrg      = "2.16.840.1.113883.2.1.3.2.4.19.1"
	// oidJobRoleName is the code system of job role codes in the access
	// history. Spine's own CP-IS query response (SPINE_MTH
	// REPC_IN000007GB01_sync_template1.xml) uses it for both R codes and
	// S:G:R triplets.
	oidJobRoleName = "2.16.840.1.113883.2.1.3.2.4.17.196"
)

// Template content ids (npfitlc:contentId/@extension): each names the CMET
// element that follows it.
const (
	contentAssignedAuthor = "COCT_TP145102GB01#AssignedAuthor"
	contentSystem         = "COCT_TP145104GB01#System"
	contentChild          = "COCT_TP145101GB01#Child"
	contentUnbornChild    = "COCT_TP145100GB01#UnbornChild"
	contentCPP            = "COCT_TP146105GB01#CPPInformation"
	contentLAC            = "COCT_TP146103GB01#LACInformation"
	contentUCP            = "COCT_TP146104GB01#UCPInformation"
)

// Wrapper is what the transmission wrapper (MCCI_MT010101UK12) of a received
// message says.
type Wrapper struct {
	MessageID     string // id/@root, a UUID
	CreationTime  string // creationTime/@value, HL7 TS as sent
	InteractionID string // interactionId/@extension
	VersionCode   string // versionCode/@code
	ReceiverASID  string // communicationFunctionRcv/device/id/@extension (the first)
	SenderASID    string // communicationFunctionSnd/device/id/@extension
}

// Query is a CP-IS NHS Query as received: the wrapper, the control act's
// authors and the payload.
type Query struct {
	Wrapper

	QueryID       string // cP-ISNHSQuery/id/@root
	EffectiveTime string // cP-ISNHSQuery/effectiveTime/@value, when the query was made
	NHSNumber     string // queryByParameter/person.NHSnumber/value/@extension, as sent

	// Author holds every claim the message makes about who sent it: the
	// payload author and the control act's AgentPersonSDS together, so that
	// the core can refuse claims that disagree (CP-IS042, CP-IS054).
	Author cpis.Author

	// AuthorSystemASIDs are the control act's author1 system ASIDs
	// (AgentSystemSDS/agentSystemSDS/id/@extension), 1..2 of them.
	AuthorSystemASIDs []string
}

// Core returns the query as the core answers it. Sender is left for the
// caller, which knows the accredited endpoint behind the sending ASID.
func (q Query) Core() cpis.Query {
	return cpis.Query{MessageID: q.MessageID, NHSNumber: q.NHSNumber, Author: q.Author}
}

// ParseQuery reads a QUPC_IN000006GB01 element (which may sit anywhere in a
// document, e.g. inside a SOAP Body) and applies the Spine checks that the
// schema cannot express:
//
//   - interactionId/@extension is the root element's name and its root is
//     2.16.840.1.113883.2.1.3.2.4.12 (Spine rule: the interaction named is
//     the message sent);
//   - the message id (id/@root) is a UUID;
//   - a control act author (AgentPersonSDS), when present, carries all three
//     ids: role profile, SDS user and job role (wire reference §3);
//   - the payload author's npfitlc:contentId names the author element that
//     follows it (COCT_TP145102GB01#AssignedAuthor or COCT_TP145104GB01#System);
//   - an NHS number is present (its Modulus 11 check is the core's).
//
// A failed check is an *cpis.Error of KindInvalid whose message says what is
// wrong and where, never what patient it concerns. The Query is returned as
// far as it could be read even then, so that a failure can still refer to
// the message id.
func ParseQuery(root *libxml2.Node) (Query, error) {
	q, issues := parseQuery(root)
	if len(issues) > 0 {
		return q, invalidError("query", issues)
	}
	return q, nil
}

// invalidError reports issues as one KindInvalid error.
func invalidError(op string, issues []Issue) error {
	msgs := make([]string, len(issues))
	for i, is := range issues {
		msgs[i] = is.String()
	}
	return &cpis.Error{Kind: cpis.KindInvalid, Op: op, Msg: strings.Join(msgs, "; ")}
}

// ParseWrapper reads the transmission wrapper of any received message,
// without checks: a caller answering a message that failed validation still
// needs its id and ASIDs.
func ParseWrapper(msg *libxml2.Node) Wrapper {
	var w Wrapper
	readWrapper(msg, &w)
	return w
}

// queryReader walks a query, collecting every Spine check that fails.
type queryReader struct {
	issues []Issue
}

func (r *queryReader) fail(n *libxml2.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line()
	}
	r.issues = append(r.issues, Issue{Line: line, Msg: fmt.Sprintf(format, args...)})
}

func parseQuery(root *libxml2.Node) (Query, []Issue) {
	var q Query
	var r queryReader
	if root == nil {
		r.fail(nil, "there is no message")
		return q, r.issues
	}
	if !is(root, InteractionQuery) {
		r.fail(root, "the message is %s, not %s in namespace %s", root.LocalName(), InteractionQuery, NS)
		return q, r.issues
	}
	cae, interaction := readWrapper(root, &q.Wrapper)

	// Spine: the interaction id names the message actually sent, under the
	// NHS interaction OID.
	switch {
	case interaction == nil:
		r.fail(root, "the message has no interactionId")
	case q.InteractionID != InteractionQuery:
		r.fail(interaction, "interactionId/@extension must be %s, the name of the message's root element", InteractionQuery)
	case interaction.Attr("root") != oidInteraction:
		r.fail(interaction, "interactionId/@root must be %s", oidInteraction)
	}
	// Spine: every message is identified by a UUID.
	if !isUUID(q.MessageID) {
		r.fail(root, "the message id (id/@root) must be a UUID")
	}
	if cae == nil {
		r.fail(root, "the message has no ControlActEvent")
		return q, r.issues
	}
	r.controlAct(cae, &q)
	return q, r.issues
}

// readWrapper reads the transmission wrapper into w and returns the control act
// and the interactionId element. The first of each element counts.
//
// The walk looks elements up by name (Node.Child compares in C memory)
// rather than reading every element's names, which would copy each into a
// Go string: this is the per-request hot path.
func readWrapper(msg *libxml2.Node, w *Wrapper) (cae, interaction *libxml2.Node) {
	if msg == nil {
		return nil, nil
	}
	interaction = child(msg, "interactionId")
	w.MessageID = attr(child(msg, "id"), "root")
	w.CreationTime = attr(child(msg, "creationTime"), "value")
	w.VersionCode = attr(child(msg, "versionCode"), "code")
	w.InteractionID = attr(interaction, "extension")
	w.ReceiverASID = deviceASID(child(msg, "communicationFunctionRcv"))
	w.SenderASID = deviceASID(child(msg, "communicationFunctionSnd"))
	return child(msg, "ControlActEvent"), interaction
}

// deviceASID reads communicationFunction*/device/id/@extension, preferring
// the id with the ASID root.
func deviceASID(cf *libxml2.Node) string {
	dev := child(cf, "device")
	if id := idWithRoot(dev, oidASID); id != nil {
		return id.Attr("extension")
	}
	return attr(child(dev, "id"), "extension")
}

func (r *queryReader) controlAct(cae *libxml2.Node, q *Query) {
	for _, a := range cae.Children(NS, "author1") {
		if id := child(child(child(a, "AgentSystemSDS"), "agentSystemSDS"), "id"); id != nil {
			q.AuthorSystemASIDs = append(q.AuthorSystemASIDs, id.Attr("extension"))
		}
	}
	if payload := child(child(child(cae, "subject"), "CP-ISQueryStub"), "cP-ISNHSQuery"); payload != nil {
		r.payload(payload, q)
	} else {
		r.fail(cae, "the control act has no subject/CP-ISQueryStub/cP-ISNHSQuery")
	}
	// A nil author (xsi:nil, the schema allows it) is no author.
	if person := child(cae, "author"); person != nil && person.AttrNS(nsXSI, "nil") != "true" {
		r.agentPerson(person, &q.Author)
	}
	if len(q.Author.UserIDs) > 0 {
		q.Author.UserID = q.Author.UserIDs[0]
	}
}

// agentPerson reads the control act author, AgentPersonSDS. Spine requires
// all three of its ids once it is there (wire reference §3): the role
// profile id (AgentPersonSDS/id), the SDS user id (agentPersonSDS/id) and the
// job role (part/partSDSRole/id). Its claims join the payload author's so
// that the core can refuse any disagreement (CP-IS042, CP-IS054).
func (r *queryReader) agentPerson(author *libxml2.Node, a *cpis.Author) {
	ap := child(author, "AgentPersonSDS")
	if ap == nil {
		r.fail(author, "the control act author must be an AgentPersonSDS")
		return
	}
	rp := extension(idWithRoot(ap, oidRoleProfile))
	user := extension(idWithRoot(child(ap, "agentPersonSDS"), oidSDSUser))
	role := extension(idWithRoot(child(child(ap, "part"), "partSDSRole"), oidSDSJobRole))
	var missing []string
	if blank(rp) {
		missing = append(missing, "the SDS role profile id (AgentPersonSDS/id, root "+oidRoleProfile+")")
	}
	if blank(user) {
		missing = append(missing, "the SDS user id (agentPersonSDS/id, root "+oidSDSUser+")")
	}
	if blank(role) {
		missing = append(missing, "the job role (part/partSDSRole/id, root "+oidSDSJobRole+")")
	}
	if len(missing) > 0 {
		r.fail(ap, "the control act author lacks %s", strings.Join(missing, " and "))
	}
	if !blank(user) {
		a.UserIDs = append(a.UserIDs, user)
	}
	if !blank(rp) {
		a.RoleProfileIDs = append(a.RoleProfileIDs, rp)
	}
	if !blank(role) {
		a.JobRoles = append(a.JobRoles, role)
	}
}

// payload reads cP-ISNHSQuery (QUPC_MT000006GB01).
func (r *queryReader) payload(p *libxml2.Node, q *Query) {
	q.EffectiveTime = attr(child(p, "effectiveTime"), "value")
	q.QueryID = attr(child(p, "id"), "root")
	if author := child(p, "author"); author != nil {
		r.payloadAuthor(author, &q.Author)
	} else {
		r.fail(p, "the query has no author")
	}
	// Spine: the query must name the NHS number it asks about.
	q.NHSNumber = attr(child(child(child(p, "queryByParameter"), "person.NHSnumber"), "value"), "extension")
	if blank(q.NHSNumber) {
		r.fail(p, "the query carries no NHS number (queryByParameter/person.NHSnumber/value/@extension)")
	}
}

// payloadAuthor reads the query author: a person (AssignedAuthor) or a
// system (System), announced by its npfitlc:contentId.
func (r *queryReader) payloadAuthor(author *libxml2.Node, a *cpis.Author) {
	content := author.Child(NSLocalisation, "contentId")
	person := child(author, "COCT_TP145102GB01.AssignedAuthor")
	system := child(author, "COCT_TP145104GB01.System")
	var used string
	switch {
	case person != nil:
		used = contentAssignedAuthor
		assignedAuthor(person, a)
	case system != nil:
		used = contentSystem
		systemAuthor(system, a)
	default:
		r.fail(author, "the query author must be a COCT_TP145102GB01.AssignedAuthor or a COCT_TP145104GB01.System")
		return
	}
	// Spine: the template content id announces the author element used.
	switch {
	case content == nil:
		r.fail(author, "the query author has no npfitlc:contentId")
	case content.Attr("extension") != used:
		r.fail(content, "the query author's npfitlc:contentId/@extension must be %s for the author element sent", used)
	}
}

// assignedAuthor reads a person author (COCT_TP145102GB01.AssignedAuthor).
func assignedAuthor(p *libxml2.Node, a *cpis.Author) {
	if code := attr(child(p, "code"), "code"); !blank(code) {
		a.JobRoles = append(a.JobRoles, code)
	}
	for _, id := range p.Children(NS, "id") {
		ext := id.Attr("extension")
		if blank(ext) {
			continue
		}
		switch id.Attr("root") {
		case oidSDSUser:
			a.UserIDs = append(a.UserIDs, ext)
		case oidRoleProfile:
			a.RoleProfileIDs = append(a.RoleProfileIDs, ext)
		}
	}
	a.Name = readName(child(child(p, "assignedAuthorPerson"), "name"))
	a.Org = readOrg(child(p, "representedOrganization"))
}

// systemAuthor reads a system author (COCT_TP145104GB01.System). The
// schema gives a system no name of its own: SystemName stays empty and the
// core names the system after its accredited endpoint.
func systemAuthor(s *libxml2.Node, a *cpis.Author) {
	a.System = true
	a.ASID = extension(idWithRoot(s, oidASID))
	// The people the system acts for: their job role decides what they may
	// see like a person author's (CP-IS041); the first named is shown.
	for _, ia := range s.Children(NS, "indirectAuthority") {
		e := child(ia, "superiorAssignedEntity")
		if code := attr(child(e, "code"), "code"); !blank(code) {
			a.JobRoles = append(a.JobRoles, code)
		}
		if a.Name.IsZero() {
			a.Name = readName(child(child(e, "assignedPerson"), "name"))
		}
	}
	a.Org = readOrg(child(s, "maintainingOrganization"))
}

// readName reads an HL7 PN: prefix, given names and family name. A name sent
// as plain text, without parts, is kept whole as the family name so that it
// can still be shown (CP-IS026).
func readName(n *libxml2.Node) cpis.Name {
	var name cpis.Name
	if n == nil {
		return name
	}
	prefix, family, given := child(n, "prefix"), child(n, "family"), n.Children(NS, "given")
	if prefix == nil && family == nil && len(given) == 0 {
		name.Family = strings.Join(strings.Fields(n.Text()), " ")
		return name
	}
	name.Prefix = strings.TrimSpace(text(prefix))
	name.Family = strings.TrimSpace(text(family))
	for _, g := range given {
		if t := strings.TrimSpace(g.Text()); t != "" {
			name.Given = append(name.Given, t)
		}
	}
	return name
}

// readOrg reads an organisation's ODS code and name.
func readOrg(o *libxml2.Node) cpis.Org {
	return cpis.Org{
		ODS:  attr(child(o, "id"), "extension"),
		Name: strings.TrimSpace(text(child(o, "name"))),
	}
}

// is reports whether n is the HL7 element local.
func is(n *libxml2.Node, local string) bool {
	return n.NamespaceURI() == NS && n.LocalName() == local
}

// child returns n's first HL7 child element named local; nil if n is nil.
func child(n *libxml2.Node, local string) *libxml2.Node {
	if n == nil {
		return nil
	}
	return n.Child(NS, local)
}

// idWithRoot returns n's first HL7 id child with the given root.
func idWithRoot(n *libxml2.Node, root string) *libxml2.Node {
	if n == nil {
		return nil
	}
	for _, id := range n.Children(NS, "id") {
		if id.Attr("root") == root {
			return id
		}
	}
	return nil
}

func attr(n *libxml2.Node, name string) string {
	if n == nil {
		return ""
	}
	return n.Attr(name)
}

func extension(n *libxml2.Node) string { return attr(n, "extension") }

// blank reports whether an identifier is absent in all but name.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

func text(n *libxml2.Node) string {
	if n == nil {
		return ""
	}
	return n.Text()
}

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hexadecimal form. The
// schema further demands upper case.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
