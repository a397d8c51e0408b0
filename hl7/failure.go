package hl7

import (
	"strings"

	"spinegw/cpis"
)

// Code systems of query failure reasons.
const (
	// CodeSystemDetectedIssue is the code system of Spine's query detected
	// issues, in which code 1 is "NHS Number Not Found".
	CodeSystemDetectedIssue = "2.16.840.1.113883.2.1.3.2.4.17.42"
	// CodeSystemSMSP is the CP-IS Spine Mini Service response code
	// vocabulary (wire reference §5).
	CodeSystemSMSP = "2.16.840.1.113883.2.1.3.2.4.17.499"
)

// Query response codes (queryAck/queryResponseCode).
const (
	ResponseOK             = "OK" // data found
	ResponseIssueDetected  = "ID" // issue detected: Spine's answer when there is no record
	ResponseNoData         = "NF" // no data found
	ResponseQueryError     = "QE" // query parameter error
	ResponseApplicationErr = "AE" // application error
)

// Failure is why a query failed, as a QUQI_IN010000UK14 states it: a
// detected issue (reason/justifyingDetectedIssueEvent/code) and the query
// response code.
type Failure struct {
	Code         string
	CodeSystem   string
	DisplayName  string
	Text         string // the human-readable reason; sent as the code's originalText when it adds to DisplayName
	ResponseCode string // queryAck/queryResponseCode
}

// NotFound is the failure for an NHS number with no CP-IS information the
// author may see (CP-IS015 negative trace), exactly as Spine's emulator
// answers it: code 1 "NHS Number Not Found" qualified ER, response code ID.
func NotFound() Failure {
	return Failure{
		Code:         "1",
		CodeSystem:   CodeSystemDetectedIssue,
		DisplayName:  "NHS Number Not Found",
		Text:         "NHS Number Not Found",
		ResponseCode: ResponseIssueDetected,
	}
}

// smspNames are the display names of the CP-IS Spine Mini Service response
// codes.
var smspNames = map[string]string{
	"SMSP-0000": "Success",
	"SMSP-0001": "Input message validation error",
	"SMSP-0002": "Response message validation error",
	"SMSP-0004": "Could not connect to Spine",
	"SMSP-0005": "Author credentials error",
	"SMSP-9999": "Provider software failure",
	"CPIS-0001": "No match",
	"CPIS-9999": "CP-IS Spine service error",
}

// SMSP is a failure coded in the Spine Mini Service vocabulary, with text as
// its human-readable reason. An invalid message (SMSP-0001) is a query
// parameter error (QE); every other code an application error (AE). A code
// outside the vocabulary is shown as its own display name.
func SMSP(code, text string) Failure {
	name, ok := smspNames[code]
	if !ok {
		name = code
	}
	rc := ResponseApplicationErr
	if code == "SMSP-0001" {
		rc = ResponseQueryError
	}
	return Failure{Code: code, CodeSystem: CodeSystemSMSP, DisplayName: name, Text: text, ResponseCode: rc}
}

// QueryFailure builds the QUQI_IN010000UK14 answering a query that failed:
// acknowledgement AE referring to the query, one reason carrying f, and f's
// query response code. The message refers to r.RequestID, or to q's message
// id when r has none; a request id that is not a UUID is not echoed.
//
// The schema types the detected issue as a CD, which has no free-text
// element of its own but an originalText: the reason goes there. It is left
// out when it only repeats the display name, so that NotFound is byte for
// byte Spine's answer.
func QueryFailure(r Reply, q Query, f Failure) ([]byte, error) {
	if f.Code == "" || f.ResponseCode == "" {
		return nil, cpis.Errorf(cpis.KindInternal, "hl7", "a query failure needs a code and a response code")
	}
	r.MessageID = messageID(r.MessageID)
	w := getWriter()
	w.markup(`<` + InteractionQueryFailure + ` xmlns="` + NS + `">`)
	wrapperHead(w, InteractionQueryFailure, r)
	request := r.RequestID
	if request == "" {
		request = q.MessageID
	}
	acknowledgement(w, request)
	wrapperAddresses(w, r)
	openControlAct(w, r)
	w.markup(`<reason typeCode="RSON">`)
	detectedIssue(w, f)
	w.markup(`</reason>`)
	closeControlAct(w, f.ResponseCode)
	w.markup(`</` + InteractionQueryFailure + `>`)
	return w.bytes(), nil
}

// acknowledgement writes the application error acknowledgement (AE) referring
// to the failed request.
func acknowledgement(w *xmlWriter, request string) {
	w.markup(`<acknowledgement typeCode="AE"><messageRef>`)
	if isUUID(request) {
		w.markup(`<id root="`)
		w.attrValue(strings.ToUpper(request))
		w.markup(`"/>`)
	} else {
		// The request had no usable id (the reason it failed, perhaps):
		// echoing it would make this answer invalid too.
		w.markup(`<id nullFlavor="NI"/>`)
	}
	w.markup(`</messageRef></acknowledgement>`)
}

// detectedIssue writes the reason of the failure, a
// justifyingDetectedIssueEvent coded with f.
func detectedIssue(w *xmlWriter, f Failure) {
	w.markup(`<justifyingDetectedIssueEvent classCode="ALRT" moodCode="EVN"><code code="`)
	w.attrValue(f.Code)
	w.markup(`"`)
	if f.CodeSystem != "" {
		w.markup(` codeSystem="`)
		w.attrValue(f.CodeSystem)
		w.markup(`"`)
	}
	if f.DisplayName != "" {
		w.markup(` displayName="`)
		w.attrValue(f.DisplayName)
		w.markup(`"`)
	}
	w.markup(`>`)
	if f.Text != "" && f.Text != f.DisplayName {
		w.textElement("originalText", f.Text)
	}
	// ER: the issue is an error (Spine's qualifier on every query failure).
	w.markup(`<qualifier code="ER"/></code></justifyingDetectedIssueEvent>`)
}
