package hl7

import (
	"strings"
	"time"

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

// wrapperHead writes the transmission wrapper up to acceptAckCode
// (MCCI_MT010101UK12 / MCCI_MT020101UK12); r.MessageID has been through
// messageID.
func wrapperHead(w *xmlWriter, interaction string, r Reply) {
	w.markup(`<id root="`)
	w.attrValue(r.MessageID)
	w.markup(`"/><creationTime value="`)
	instant(w, r.CreationTime)
	w.markup(`"/><versionCode code="` + versionCode + `"/>`)
	w.markup(`<interactionId root="` + oidInteraction + `" extension="`)
	w.markup(interaction)
	w.markup(`"/><processingCode code="` + processingCode + `"/>` +
		`<processingModeCode code="` + processingModeCode + `"/>` +
		`<acceptAckCode code="` + acceptAckCode + `"/>`)
}

// wrapperAddresses writes the receiver (the querying system) and the sender
// (the gateway) of a reply.
func wrapperAddresses(w *xmlWriter, r Reply) {
	w.markup(`<communicationFunctionRcv typeCode="RCV">`)
	device(w, r.ToASID)
	w.markup(`</communicationFunctionRcv><communicationFunctionSnd typeCode="SND">`)
	device(w, r.GatewayASID)
	w.markup(`</communicationFunctionSnd>`)
}

func device(w *xmlWriter, asid string) {
	w.markup(`<device classCode="DEV" determinerCode="INSTANCE">`)
	asidID(w, asid)
	w.markup(`</device>`)
}

// asidID writes a device id; an ASID not known (a reply to a message too
// broken to name its sender) is a null-flavoured id.
func asidID(w *xmlWriter, asid string) {
	if asid == "" {
		w.markup(`<id nullFlavor="NI"/>`)
		return
	}
	instanceID(w, oidASID, asid)
}

// openControlAct opens the control act (QUQI_MT030101UK03) and writes the
// gateway as its system author; the caller writes the rest and closes it.
func openControlAct(w *xmlWriter, r Reply) {
	w.markup(`<ControlActEvent classCode="CACT" moodCode="EVN">` +
		`<author1 typeCode="AUT"><AgentSystemSDS classCode="AGNT">` +
		`<agentSystemSDS classCode="DEV" determinerCode="INSTANCE">`)
	asidID(w, r.GatewayASID)
	w.markup(`</agentSystemSDS></AgentSystemSDS></author1>`)
}

// closeControlAct writes the control act's query response code and closes
// it.
func closeControlAct(w *xmlWriter, code string) {
	w.markup(`<queryAck><queryResponseCode code="`)
	w.attrValue(code)
	w.markup(`"/></queryAck></ControlActEvent>`)
}

// instanceID writes an II: root is one of the package's OIDs, extension the
// identifier within it.
func instanceID(w *xmlWriter, root, extension string) {
	w.markup(`<id root="`)
	w.markup(root)
	w.markup(`" extension="`)
	w.attrValue(extension)
	w.markup(`"/>`)
}

// contentID writes the npfitlc:contentId announcing the template that
// follows; content is one of the package's template names.
func contentID(w *xmlWriter, content string) {
	w.markup(`<npfitlc:contentId root="` + oidContentID + `" extension="`)
	w.markup(content)
	w.markup(`"/>`)
}

// messageID returns id as the schema wants a message id: an upper-case UUID.
// An empty id gets a new one.
func messageID(id string) string {
	if id == "" {
		return strings.ToUpper(uuid.NewString())
	}
	return strings.ToUpper(id)
}

// instant writes an HL7 TS in English local time with its offset,
// yyyyMMddHHmmss+hhmm: CP-IS045 wants date and time with a time zone
// indication.
func instant(w *xmlWriter, t time.Time) {
	_, offset := t.In(cpis.London).Zone()
	var b [19]byte
	if !dateTime(b[:14], t.UTC().Add(time.Duration(offset)*time.Second)) {
		w.raw(t.In(cpis.London).AppendFormat(b[:0], "20060102150405-0700"))
		return
	}
	// As the layout's -0700 writes it: whole minutes, the sign of a zero
	// offset +.
	zone := offset / 60
	b[14] = '+'
	if zone < 0 {
		b[14], zone = '-', -zone
	}
	putDigits(b[15:17], zone/60)
	putDigits(b[17:19], zone%60)
	w.raw(b[:])
}

// civilDate formats a CP-IS date (midnight UTC) as an HL7 date, yyyyMMdd.
func civilDate(d time.Time) string { return d.UTC().Format("20060102") }

// planDate writes a plan's start or end date, as TS.NHS.DateType1 demands:
// yyyyMMddHHmm.
func planDate(w *xmlWriter, relationship, class string, d time.Time) {
	w.open(relationship)
	w.open(class)
	w.markup(`<value value="`)
	var b [14]byte
	if dateTime(b[:], d.UTC()) {
		w.raw(b[:12])
	} else { // never: checkAnswer keeps plan years to 1900-2099
		w.raw(d.UTC().AppendFormat(b[:0], "200601021504"))
	}
	w.markup(`"/>`)
	w.close(class)
	w.close(relationship)
}

// dateTime puts t's date and time of day, yyyyMMddHHmmss, in b, as they
// are in t's location. Formatting by hand rather than with a layout halves
// the cost of a timestamp, of which a response holds one per access. It
// reports false, leaving b as it was, for a year not of four digits.
func dateTime(b []byte, t time.Time) bool {
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return false
	}
	h, mi, s := t.Clock()
	putDigits(b[0:4], y)
	putDigits(b[4:6], int(mo))
	putDigits(b[6:8], d)
	putDigits(b[8:10], h)
	putDigits(b[10:12], mi)
	putDigits(b[12:14], s)
	return true
}

// putDigits puts v, which is not negative, in b as len(b) decimal digits.
func putDigits(b []byte, v int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}
