package soap

import (
	"bytes"
	"encoding/xml"
	"io"
)

// ReplyHeader is the header of an envelope the gateway sends back.
type ReplyHeader struct {
	MessageID string // "uuid:" + upper-case UUID
	Action    string
	To        string // the caller's wsa:ReplyTo, else its wsa:From
	From      string // the address the caller sent to (its wsa:To)
	RcvASID   string // the caller
	SndASID   string // the gateway
	RelatesTo string // the request's wsa:MessageID
}

func esc(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }

func element(b *bytes.Buffer, name, text string) {
	b.WriteString("<")
	b.WriteString(name)
	b.WriteString(">")
	esc(b, text)
	b.WriteString("</")
	b.WriteString(name)
	b.WriteString(">")
}

func device(b *bytes.Buffer, name, asid string) {
	b.WriteString("<hl7:" + name + "><hl7:device><hl7:id root=\"" + ASIDRoot + "\" extension=\"")
	esc(b, asid)
	b.WriteString("\"/></hl7:device></hl7:" + name + ">")
}

// WriteReply writes a SOAP 1.1 envelope in Spine's shape around body, an HL7
// message serialised without an XML declaration.
func WriteReply(w io.Writer, h ReplyHeader, body []byte) error {
	var b bytes.Buffer
	b.Grow(len(body) + 1024)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + NSEnvelope + `" xmlns:wsa="` + NSAddressing + `" xmlns:hl7="` + NSHL7 + `">`)
	b.WriteString("<SOAP-ENV:Header>")
	element(&b, "wsa:MessageID", h.MessageID)
	element(&b, "wsa:Action", h.Action)
	if h.To != "" {
		element(&b, "wsa:To", h.To)
	}
	if h.From != "" {
		b.WriteString("<wsa:From>")
		element(&b, "wsa:Address", h.From)
		b.WriteString("</wsa:From>")
	}
	device(&b, "communicationFunctionRcv", h.RcvASID)
	device(&b, "communicationFunctionSnd", h.SndASID)
	if h.RelatesTo != "" {
		element(&b, "wsa:RelatesTo", h.RelatesTo)
	}
	b.WriteString("</SOAP-ENV:Header><SOAP-ENV:Body>")
	b.Write(body)
	b.WriteString("</SOAP-ENV:Body></SOAP-ENV:Envelope>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// Fault is a Spine transport (TMS) error, sent as a SOAP 1.1 Fault with an
// nasp:errorList detail.
type Fault struct {
	Code        string // TMS error code, e.g. "201"
	Description string
}

// TMS error codes the gateway uses.
const (
	TMSDefault       = "200" // System failure to process message - default
	TMSNotWellFormed = "201" // The message is not well formed
)

// WriteFault writes f in Spine's fault shape: faultcode SOAP-ENV:Server,
// faultstring "Application Exception", detail/nasp:errorList/nasp:error.
func WriteFault(w io.Writer, f Fault) error {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + NSEnvelope + `"><SOAP-ENV:Body><SOAP-ENV:Fault>`)
	b.WriteString("<faultcode>SOAP-ENV:Server</faultcode><faultstring>Application Exception</faultstring><detail>")
	b.WriteString(`<nasp:errorList xmlns:nasp="` + NSErrorList + `"><nasp:error>`)
	element(&b, "nasp:codeContext", "urn:nhs:names:error:tms")
	element(&b, "nasp:errorCode", f.Code)
	element(&b, "nasp:severity", "Error")
	element(&b, "nasp:location", "Not Supported")
	element(&b, "nasp:description", f.Description)
	b.WriteString("</nasp:error></nasp:errorList></detail></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>\n")
	_, err := w.Write(b.Bytes())
	return err
}
