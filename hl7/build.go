package hl7

import (
	"bytes"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/google/uuid"

	"spinegw/cpis"
)

// Reply is what the gateway says about a message it sends in answer to a
// query.
type Reply struct {
	MessageID    string    // the reply's id: an upper-case UUID; one is made when empty
	CreationTime time.Time // when the reply was made
	RequestID    string    // the query's wrapper id: a failure's acknowledgement/messageRef (the query response's schema has no acknowledgement)
	GatewayASID  string    // the gateway's ASID: sender of the reply and its author1
	ToASID       string    // the querying system's ASID: receiver of the reply
}

// Fixed transmission wrapper values of every reply.
const (
	// versionCode: Spine's own replies say v3INF_DMSv5.7:FIN, which the
	// schema's HL7StandardVersionCode enumeration does not allow.
	versionCode        = "V3NPfIT3.0"
	processingCode     = "P" // production
	processingModeCode = "T" // current processing
	acceptAckCode      = "NE"
)

// unknown stands where the schema demands a code and forbids a null flavour
// but the world holds none (an ODS code or job role missing from the
// directory): HL7's own "unknown" code, so no reader can take it for a real
// one. The directory never lacks these for identities it knows.
const unknown = "UNK"

// writeSettings escape only what XML requires.
var writeSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}

// newMessage starts an HL7 message element: urn:hl7-org:v3 as the default
// namespace, and npfitlc when template content ids follow.
func newMessage(interaction string, localisation bool) *etree.Element {
	root := etree.NewElement(interaction)
	root.CreateAttr("xmlns", NS)
	if localisation {
		root.CreateAttr("xmlns:npfitlc", NSLocalisation)
	}
	return root
}

// serialize writes the element without indentation or XML declaration.
func serialize(root *etree.Element, sizeHint int) []byte {
	var b bytes.Buffer
	b.Grow(sizeHint)
	root.WriteTo(&b, &writeSettings)
	return b.Bytes()
}

// add appends the child element tag to p with the given attribute name/value
// pairs.
func add(p *etree.Element, tag string, attrs ...string) *etree.Element {
	e := p.CreateElement(tag)
	if len(attrs) > 2 {
		e.Attr = make([]etree.Attr, 0, len(attrs)/2)
	}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.CreateAttr(attrs[i], attrs[i+1])
	}
	return e
}

// addText appends the child element tag holding text.
func addText(p *etree.Element, tag, text string) *etree.Element {
	e := p.CreateElement(tag)
	if text != "" {
		e.SetText(text)
	}
	return e
}

// wrapperHead writes the transmission wrapper up to acceptAckCode
// (MCCI_MT010101UK12 / MCCI_MT020101UK12); r.MessageID has been through
// messageID.
func wrapperHead(root *etree.Element, interaction string, r Reply) {
	add(root, "id", "root", r.MessageID)
	add(root, "creationTime", "value", timestamp(r.CreationTime))
	add(root, "versionCode", "code", versionCode)
	add(root, "interactionId", "root", oidInteraction, "extension", interaction)
	add(root, "processingCode", "code", processingCode)
	add(root, "processingModeCode", "code", processingModeCode)
	add(root, "acceptAckCode", "code", acceptAckCode)
}

// wrapperAddresses writes the receiver (the querying system) and the sender
// (the gateway) of a reply.
func wrapperAddresses(root *etree.Element, r Reply) {
	device(add(root, "communicationFunctionRcv", "typeCode", "RCV"), r.ToASID)
	device(add(root, "communicationFunctionSnd", "typeCode", "SND"), r.GatewayASID)
}

func device(cf *etree.Element, asid string) {
	asidID(add(cf, "device", "classCode", "DEV", "determinerCode", "INSTANCE"), asid)
}

// asidID writes a device id; an ASID not known (a reply to a message too
// broken to name its sender) is a null-flavoured id.
func asidID(p *etree.Element, asid string) {
	if asid == "" {
		add(p, "id", "nullFlavor", "NI")
		return
	}
	add(p, "id", "root", oidASID, "extension", asid)
}

// controlAct starts the control act (QUQI_MT030101UK03) with the gateway as
// its system author.
func controlAct(root *etree.Element, r Reply) *etree.Element {
	cae := add(root, "ControlActEvent", "classCode", "CACT", "moodCode", "EVN")
	author := add(add(cae, "author1", "typeCode", "AUT"), "AgentSystemSDS", "classCode", "AGNT")
	asidID(add(author, "agentSystemSDS", "classCode", "DEV", "determinerCode", "INSTANCE"), r.GatewayASID)
	return cae
}

// messageID returns id as the schema wants a message id: an upper-case UUID.
// An empty id gets a new one.
func messageID(id string) string {
	if id == "" {
		return strings.ToUpper(uuid.NewString())
	}
	return strings.ToUpper(id)
}

// timestamp formats an instant as an HL7 TS in English local time with its
// offset: CP-IS045 wants date and time with a time zone indication.
func timestamp(t time.Time) string {
	return t.In(cpis.London).Format("20060102150405-0700")
}

// civilDate formats a CP-IS date (midnight UTC) as an HL7 date, yyyyMMdd.
func civilDate(d time.Time) string { return d.UTC().Format("20060102") }

// planDate formats a plan date as TS.NHS.DateType1 demands: yyyyMMddHHmm.
func planDate(d time.Time) string { return d.UTC().Format("200601021504") }
