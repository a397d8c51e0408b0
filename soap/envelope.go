// Package soap is spinegw's SOAP 1.1 transport: it reads envelopes as Spine
// clients send them (WS-Addressing 2004/08 header plus the HL7 transmission
// wrapper's ASIDs), writes Spine's replies and faults, and serves the
// synchronous endpoint POST /sync-service.
//
// Every match is made on namespace URIs, never on prefixes: senders write
// SOAP-ENV:, SOAP:, soapenv: or a default namespace, and all are the same
// envelope.
package soap

import (
	"regexp"
	"strings"

	"spinegw/cpis"
	"spinegw/internal/libxml2"
)

// Namespaces and actions of the CP-IS SOAP binding.
const (
	NSEnvelope   = "http://schemas.xmlsoap.org/soap/envelope/"
	NSAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	NSHL7        = "urn:hl7-org:v3"
	NSErrorList  = "http://national.carerecords.nhs.uk/schema/"

	// ASIDRoot is the OID of an accredited system identifier (ASID).
	ASIDRoot = "1.2.826.0.1285.0.2.0.107"

	ActionQuery         = "urn:nhs:names:services:cpisquery/QUPC_IN000006GB01"
	ActionQueryResponse = "urn:nhs:names:services:cpisquery/REPC_IN000007GB01"
	ActionQueryFailure  = "urn:nhs:names:services:cpisquery/QUQI_IN010000UK14"

	// ActionUpload is the DMS interaction name of the CP-IS Local Authority
	// Upload; ActionUploadResponse names the FileResponse sent back.
	ActionUpload         = "urn:GB-en-NHS:iops:interaction:CP-ISLocalAuthorityUpload-v1-0"
	ActionUploadResponse = "urn:GB-en-NHS:iops:interaction:CP-ISLocalAuthorityAcknowledgementResponse-v1-0"
)

// Envelope is a parsed request envelope. Body is the HL7 message element, the
// first element child of soap:Body; it lives as long as the document.
type Envelope struct {
	MessageID string // wsa:MessageID, "uuid:" + UUID
	Action    string // wsa:Action
	To        string // wsa:To
	From      string // wsa:From/wsa:Address
	ReplyTo   string // wsa:ReplyTo/wsa:Address
	RcvASID   string // hl7:communicationFunctionRcv/hl7:device/hl7:id/@extension
	SndASID   string // hl7:communicationFunctionSnd/...
	Body      *libxml2.Node
}

var messageIDPattern = regexp.MustCompile(`^uuid:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

func transport(format string, args ...any) error {
	return cpis.Errorf(cpis.KindTransport, "soap", format, args...)
}

// ReadEnvelope reads the SOAP 1.1 envelope rooted at root. The header must
// carry wsa:MessageID ("uuid:" + UUID), wsa:Action, wsa:To and the HL7
// communicationFunctionRcv/Snd device ids; wsa:From and wsa:ReplyTo, when
// present, must carry an address. The body must hold exactly one element.
func ReadEnvelope(root *libxml2.Node) (*Envelope, error) {
	if root == nil || root.NamespaceURI() != NSEnvelope || root.LocalName() != "Envelope" {
		return nil, transport("the document is not a SOAP 1.1 Envelope")
	}
	var header, body *libxml2.Node
	for c := root.FirstChildElement(); c != nil; c = c.NextSiblingElement() {
		if c.NamespaceURI() != NSEnvelope {
			return nil, transport("unexpected element %s in the SOAP Envelope", c.LocalName())
		}
		switch c.LocalName() {
		case "Header":
			if header != nil || body != nil {
				return nil, transport("the SOAP Header must come once, before the Body")
			}
			header = c
		case "Body":
			if body != nil {
				return nil, transport("the SOAP Body must come once")
			}
			body = c
		default:
			return nil, transport("unexpected element %s in the SOAP Envelope", c.LocalName())
		}
	}
	if header == nil {
		return nil, transport("the SOAP Header with WS-Addressing is missing")
	}
	if body == nil {
		return nil, transport("the SOAP Body is missing")
	}
	env := &Envelope{}
	seen := map[string]bool{}
	for h := header.FirstChildElement(); h != nil; h = h.NextSiblingElement() {
		ns, name := h.NamespaceURI(), h.LocalName()
		key := ns + " " + name
		if ns == NSAddressing || ns == NSHL7 {
			if seen[key] {
				return nil, transport("the SOAP header repeats %s", name)
			}
			seen[key] = true
		}
		switch {
		case ns == NSAddressing && name == "MessageID":
			env.MessageID = strings.TrimSpace(h.Text())
		case ns == NSAddressing && name == "Action":
			env.Action = strings.TrimSpace(h.Text())
		case ns == NSAddressing && name == "To":
			env.To = strings.TrimSpace(h.Text())
		case ns == NSAddressing && (name == "From" || name == "ReplyTo"):
			addr := h.Child(NSAddressing, "Address")
			if addr == nil || strings.TrimSpace(addr.Text()) == "" {
				return nil, transport("wsa:%s has no wsa:Address", name)
			}
			if name == "From" {
				env.From = strings.TrimSpace(addr.Text())
			} else {
				env.ReplyTo = strings.TrimSpace(addr.Text())
			}
		case ns == NSHL7 && name == "communicationFunctionRcv":
			id, err := deviceASID(h)
			if err != nil {
				return nil, err
			}
			env.RcvASID = id
		case ns == NSHL7 && name == "communicationFunctionSnd":
			id, err := deviceASID(h)
			if err != nil {
				return nil, err
			}
			env.SndASID = id
		}
	}
	switch {
	case env.MessageID == "":
		return nil, transport("wsa:MessageID is missing from the SOAP header")
	case !messageIDPattern.MatchString(env.MessageID):
		return nil, transport("wsa:MessageID must be uuid: followed by a UUID")
	case env.Action == "":
		return nil, transport("wsa:Action is missing from the SOAP header")
	case env.To == "":
		return nil, transport("wsa:To is missing from the SOAP header")
	case env.RcvASID == "":
		return nil, transport("hl7:communicationFunctionRcv is missing from the SOAP header")
	case env.SndASID == "":
		return nil, transport("hl7:communicationFunctionSnd is missing from the SOAP header")
	}
	env.Body = body.FirstChildElement()
	if env.Body == nil {
		return nil, transport("the SOAP Body is empty")
	}
	if env.Body.NextSiblingElement() != nil {
		return nil, transport("the SOAP Body must hold one message")
	}
	return env, nil
}

// deviceASID reads communicationFunction*/device/id with the ASID root.
func deviceASID(cf *libxml2.Node) (string, error) {
	dev := cf.Child(NSHL7, "device")
	if dev == nil {
		return "", transport("%s has no hl7:device", cf.LocalName())
	}
	id := dev.Child(NSHL7, "id")
	if id == nil || id.Attr("root") != ASIDRoot || !isASID(id.Attr("extension")) {
		return "", transport("%s must carry a device id with root %s and a 12-digit ASID", cf.LocalName(), ASIDRoot)
	}
	return id.Attr("extension"), nil
}

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

// WrapperASIDs reads the receiver and sender ASIDs from an HL7 transmission
// wrapper (communicationFunctionRcv/Snd/device/id/@extension). Missing ones
// come back empty: the schema reports them.
func WrapperASIDs(msg *libxml2.Node) (rcv, snd string) {
	read := func(name string) string {
		cf := msg.Child(NSHL7, name)
		if cf == nil {
			return ""
		}
		dev := cf.Child(NSHL7, "device")
		if dev == nil {
			return ""
		}
		id := dev.Child(NSHL7, "id")
		if id == nil {
			return ""
		}
		return id.Attr("extension")
	}
	return read("communicationFunctionRcv"), read("communicationFunctionSnd")
}

// Interaction returns the interaction id an action names: the text after its
// last "/" (Spine's rule: it must also be the body root's local name).
func Interaction(action string) string {
	if i := strings.LastIndexByte(action, '/'); i >= 0 {
		return action[i+1:]
	}
	return action
}
