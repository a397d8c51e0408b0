package hl7

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"spinegw/cpis"
)

// Code systems of the LA Acknowledgement Response (wire reference §6).
const (
	ackOIDFileCode    = "2.16.840.1.113883.2.1.3.2.4.17.474" // CP-ISUploadFileResponse: CPF01..CPF06
	ackOIDRecordCode  = "2.16.840.1.113883.2.1.3.2.4.17.473" // CP-ISUploadRecordResponse: CPR01..CPR07
	ackOIDObservation = "2.16.840.1.113883.2.1.3.2.4.17.469" // CP-ISObservationType: LAUFI and others
)

// ackFileNames are the display names the vocabulary (CPVocab.xsd,
// CP-ISUploadFileResponse_displayName) gives the file codes; the schema
// demands one with each code.
var ackFileNames = map[string]string{
	cpis.CPF01: "File Level Error",
	cpis.CPF02: "Successful File Upload",
	cpis.CPF03: "Partial File Upload",
	cpis.CPF04: "Unsuccessful File Upload",
	"CPF05":    "PDS Error - PDS Unavailable",
	"CPF06":    "Spine ii rejected the request because this version of the CPIS Client is no longer supported",
}

// ackRecordNames are the vocabulary's display names of the record codes
// (CP-ISUploadRecordResponse_displayName), spelt as published: an LA system
// may compare them.
var ackRecordNames = map[string]string{
	cpis.CPR01: "PDS Error - No Match Found for NHS Number",
	cpis.CPR02: "PDS Error - NHS Number Matched, but Sensitive Record",
	cpis.CPR03: "PDS Error - NHS Number not Verified",
	cpis.CPR04: "PDS Error - NHS Number Format Incorrect",
	cpis.CPR05: "PDS Error - NHS Number Verified, but Superseded",
	cpis.CPR06: "Successful Record Upload",
	cpis.CPR07: "Unsucessful Record Upload",
}

// ackMaxLocalID bounds how much of an LA's local child id a location
// quotes. ST.NHS.StringType5 sets no length in the schema; a location stays
// a short pointer into the LA's file all the same.
const ackMaxLocalID = 40

// FileReply is what the gateway says about the acknowledgement it sends.
type FileReply struct {
	// ResponseID is the acknowledgement's own id (FileResponse/id/
	// @extension): new for every response (CP-IS019: every message is
	// uniquely identifiable). An upper-case UUID is made when it is empty.
	ResponseID string
	// CreationTime is when the response was made; when zero, the result's
	// ReceivedAt.
	CreationTime time.Time
	// Record, when set, returns a failed record as it was read from the
	// file, so that the response can send it back in an invalidCP-ISRecord
	// message for the LA to reconcile (CP-SC020); it is asked only about
	// the outcomes that are not a success. Without it, or for a record it
	// does not know, the record is answered by its acknowledgementRecord
	// detail alone.
	Record func(cpis.RecordOutcome) (cpis.UploadRecord, bool)
}

// WriteFileResponse writes the LA Acknowledgement Response (FileResponse,
// REPC_MT000003GB01) to an upload (CP-IS017, CP-IS018, CP-IS024), as a
// standalone document, streaming: its size is one line per failed record
// whatever the file's. It holds, in the schema's order:
//
//   - creationTime, id (the response's own, r.ResponseID) and
//     transmissionQuantity: res.Quantity, the number of records received;
//   - acknowledgementFile: the file code res.Code (CPF01..CPF06) with its
//     display name;
//   - acknowledgementRecord, whose details are, in order:
//     the uploaded file's id, as keyword LAUFI ("LA Upload File Id", code
//     system ...17.469) with the id as its location, so that the response
//     names the file it answers (CP-IS019: FileResponse has no other place
//     for it, its id being its own) and the LA can tell which of its files
//     are still unanswered (CP-SC016, CP-SC017); the reason of a file-level answer,
//     when res.Detail has one (CPF01), as the file code with the reason as
//     its original text, location "file"; then one detail per outcome that
//     is not a success, in the order given: the record code (CPR01..CPR07,
//     ...17.473) with the core's reason as original text (CP-IS017), and as
//     location the record's position and the LA's own child id (CP-IS051),
//     plus for CPR05 the new NHS number (CP-SC022, CP-SC023);
//   - communicationFunctionRcv: the LA (ODS code, name, emergency and office
//     telephone numbers; CP-IS023: the answer goes to the sending LA only);
//   - failedReturnedCP-ISRecords, res.Failed;
//   - one message per failed record that r.Record returns, an
//     invalidCP-ISRecord sending the record's plans and subject back as
//     uploaded (with the LA's child id). Successful records get no message:
//     the schema does not ask for any, their count says it all, and for the
//     whole cohort in one file they would make the response as large as
//     the upload;
//   - successfulReturnedCP-ISRecords, res.Succeeded.
//
// The output is valid against the official REPC_MT000003GB01 schema and
// spinegw's own. It fails with a KindInternal error for a result that is not
// an answer (no or unknown file code), else only with w's error.
func WriteFileResponse(w io.Writer, r FileReply, res cpis.UploadResult) error {
	fileName, ok := ackFileNames[res.Code]
	if !ok {
		return cpis.Errorf(cpis.KindInternal, "hl7", "an acknowledgement needs a file code CPF01..CPF06, not %q", res.Code)
	}
	at := r.CreationTime
	if at.IsZero() {
		at = res.ReceivedAt
	}
	if at.IsZero() {
		return cpis.Errorf(cpis.KindInternal, "hl7", "an acknowledgement needs its creation time")
	}
	id := strings.TrimSpace(r.ResponseID)
	if id == "" {
		id = strings.ToUpper(uuid.NewString())
	}

	a := ackWriter{w: bufio.NewWriterSize(w, 32<<10)}
	a.s(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	a.s(`<FileResponse xmlns="` + NS + `" xmlns:npfitlc="` + NSLocalisation + `">` + "\n")
	a.s(`  <creationTime value="` + at.In(cpis.London).Format("20060102150405-0700") + `"/>` + "\n")
	a.s(`  <id extension="`)
	a.attr(id)
	a.s(`"/>` + "\n")
	a.s(`  <transmissionQuantity value="` + strconv.Itoa(res.Quantity) + `"/>` + "\n")
	a.s("  <acknowledgementFile>\n    <acknowledgementFileDetail>\n")
	a.s(`      <code code="` + res.Code + `" displayName="`)
	a.attr(fileName)
	a.s("\"/>\n    </acknowledgementFileDetail>\n  </acknowledgementFile>\n")

	fid := strings.TrimSpace(res.FileID)
	failed := slices.ContainsFunc(res.Outcomes, func(o cpis.RecordOutcome) bool { return !o.Success() })
	// acknowledgementRecord needs at least one detail: with nothing to say
	// (no file id, no reason, no failure) it is left out, as it may be.
	if fid != "" || res.Detail != "" || failed {
		a.s("  <acknowledgementRecord>\n")
		if fid != "" {
			a.detail("LAUFI", ackOIDObservation, "LA Upload File Id", "", fid)
		}
		if res.Detail != "" {
			a.detail(res.Code, ackOIDFileCode, fileName, res.Detail, "file")
		}
		for _, o := range res.Outcomes {
			if !o.Success() {
				a.detail(o.Code, ackOIDRecordCode, ackRecordNames[o.Code], o.Detail, ackLocation(o))
			}
		}
		a.s("  </acknowledgementRecord>\n")
	}

	a.s("  <communicationFunctionRcv>\n")
	a.organisation(res.LA)
	a.s("  </communicationFunctionRcv>\n")
	a.s("  <failedReturnedCP-ISRecords>\n    <value value=\"" + strconv.Itoa(res.Failed) + "\"/>\n  </failedReturnedCP-ISRecords>\n")
	if r.Record != nil {
		for _, o := range res.Outcomes {
			if o.Success() {
				continue
			}
			if rec, ok := r.Record(o); ok {
				a.invalidRecord(rec)
			}
		}
	}
	a.s("  <successfulReturnedCP-ISRecords>\n    <value value=\"" + strconv.Itoa(res.Succeeded) + "\"/>\n  </successfulReturnedCP-ISRecords>\n")
	a.s("</FileResponse>\n")
	return a.flush()
}

// ackLocation points the LA to a record of its file: its position and, when
// it sent one, its own child id; for CPR05, the number to use instead.
func ackLocation(o cpis.RecordOutcome) string {
	var b strings.Builder
	b.WriteString("record ")
	b.WriteString(strconv.Itoa(o.Position))
	if id := strings.TrimSpace(o.LocalID); id != "" {
		if len(id) > ackMaxLocalID {
			id = strings.ToValidUTF8(id[:ackMaxLocalID], "") + "..."
		}
		b.WriteString(" (local id ")
		b.WriteString(id)
		b.WriteString(")")
	}
	if o.Code == cpis.CPR05 && o.NewNHSNumber != "" {
		b.WriteString(", new NHS number ")
		b.WriteString(string(o.NewNHSNumber))
	}
	return b.String()
}

// ackWriter writes the response, keeping the first write error.
type ackWriter struct {
	w   *bufio.Writer
	err error
}

func (a *ackWriter) s(s string) {
	if a.err == nil {
		_, a.err = a.w.WriteString(s)
	}
}

func (a *ackWriter) flush() error {
	if a.err != nil {
		return a.err
	}
	return a.w.Flush()
}

// attr writes s escaped for an attribute value in double quotes.
func (a *ackWriter) attr(s string) { a.escaped(s, true) }

// text writes s escaped as character data.
func (a *ackWriter) text(s string) { a.escaped(s, false) }

// escaped writes s with the markup characters escaped, and what XML 1.0
// cannot carry (control characters, invalid UTF-8, U+FFFE/U+FFFF)
// replaced by U+FFFD, so that whatever a detail holds the document stays
// well-formed. In attributes, tab and line breaks are kept as character
// references, as attribute value normalisation would turn them to spaces.
func (a *ackWriter) escaped(s string, attr bool) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var rep string
		size := 1
		switch {
		case c == '&':
			rep = "&amp;"
		case c == '<':
			rep = "&lt;"
		case c == '>':
			rep = "&gt;"
		case c == '"' && attr:
			rep = "&quot;"
		case c == '\t' && attr:
			rep = "&#9;"
		case c == '\n' && attr:
			rep = "&#10;"
		case c == '\r':
			rep = "&#13;"
		case c < 0x20 && c != '\t' && c != '\n':
			rep = "\uFFFD"
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			size = n
			if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
				rep = "\uFFFD"
			}
		}
		if rep != "" {
			a.s(s[last:i])
			a.s(rep)
			last = i + size
		}
		i += size
	}
	a.s(s[last:])
}

// detail writes one acknowledgementRecordDetail: a code of codeSystem with
// its display name and, if any, original text, and a location.
func (a *ackWriter) detail(code, codeSystem, displayName, originalText, location string) {
	a.s("    <acknowledgementRecordDetail>\n      <code code=\"")
	a.attr(code)
	a.s(`" codeSystem="` + codeSystem + `" displayName="`)
	a.attr(displayName)
	if originalText == "" {
		a.s("\"/>\n")
	} else {
		a.s("\">\n        <originalText>")
		a.text(originalText)
		a.s("</originalText>\n      </code>\n")
	}
	a.s("      <location>")
	a.text(location)
	a.s("</location>\n    </acknowledgementRecordDetail>\n")
}

// organisation writes the receiving LA: ODS code, readable name (CP-IS008)
// and its telephone numbers, emergency duty (EC) and office hours (WP), as
// the query response gives them.
func (a *ackWriter) organisation(la cpis.LocalAuthority) {
	a.s("    <organisation>\n      <id root=\"" + oidODSOrg + "\" extension=\"")
	a.attr(orUnknown(strings.TrimSpace(la.ODS)))
	a.s("\"/>\n      <name>")
	a.text(la.Name)
	a.s("</name>\n")
	ec, ecOK := telephone(la.Emergency)
	wp, wpOK := telephone(la.Office)
	if ecOK || !wpOK {
		// The schema wants at least one number; an LA without a usable
		// one gets an empty emergency number rather than no answer.
		a.s(`      <telecom value="` + ec + `" use="EC"/>` + "\n")
	}
	if wpOK {
		a.s(`      <telecom value="` + wp + `" use="WP"/>` + "\n")
	}
	a.s("    </organisation>\n")
}

// ackPlanTemplates are the upload plan templates, as echoed in an
// invalidCP-ISRecord, with their start, end and delete date names.
var ackPlanTemplates = map[cpis.PlanType]struct {
	content, element, start, end, delete string
}{
	cpis.CPP: {"COCT_TP146101GB01#CPPInformation", "COCT_TP146101GB01.CPPInformation", "cPPStartDate", "cPPEndDate", "cPPDeleteDate"},
	cpis.LAC: {"COCT_TP146100GB01#LACInformation", "COCT_TP146100GB01.LACInformation", "lACStartDate", "lACEndDate", "lACDeleteDate"},
	cpis.UCP: {"COCT_TP146102GB01#UCPInformation", "COCT_TP146102GB01.UCPInformation", "uCPStartDate", "uCPEndDate", "uCPDeleteDate"},
}

// ackPlanDate reports whether d can be sent as a TS.NHS.DateType1, whose
// years are 19xx and 20xx.
func ackPlanDate(d time.Time) bool {
	y := d.UTC().Year()
	return !d.IsZero() && 1900 <= y && y <= 2099
}

// ackEchoable reports whether the schema can carry the plan back: a known
// type with a sendable start date, and for a UCP its due date; an end or
// delete date outside the schema's years would be dropped.
func ackEchoable(p cpis.Plan) bool {
	_, known := ackPlanTemplates[p.Type]
	return known && ackPlanDate(p.Start) && (p.Type != cpis.UCP || ackPlanDate(p.End))
}

// invalidRecord writes a message with an invalidCP-ISRecord: the record's
// plans (at most three) and its subject, as the LA sent them. A record the
// schema cannot carry back (no plan with a start date, no identifier for
// its subject) gets no message: its acknowledgementRecord detail is its
// answer.
func (a *ackWriter) invalidRecord(r cpis.UploadRecord) {
	var plans []cpis.Plan
	for _, p := range r.Plans {
		if ackEchoable(p) && len(plans) < maxPlansPerUpload {
			plans = append(plans, p)
		}
	}
	nhs := strings.TrimSpace(r.NHSNumber)
	if r.OldStyle {
		nhs = "" // the schema has no root for an old-style number
	}
	local := strings.TrimSpace(r.LocalID)
	if len(plans) == 0 || nhs == "" && local == "" {
		return
	}
	a.s("  <message>\n    <cP-ISLAAcknowledgementResponse>\n      <pertinentInformation1>\n        <invalidCP-ISRecord>\n")
	for _, p := range plans {
		t := ackPlanTemplates[p.Type]
		a.s("          <pertinentInformation>\n")
		a.s(`            <npfitlc:contentId root="` + oidContentID + `" extension="` + t.content + `"/>` + "\n")
		a.s("            <" + t.element + ">\n")
		a.planDate("component", t.start, p.Start)
		if ackPlanDate(p.End) {
			a.planDate("component1", t.end, p.End)
		}
		if ackPlanDate(p.Delete) {
			a.planDate("component2", t.delete, p.Delete)
		}
		a.s("            </" + t.element + ">\n")
		a.s("          </pertinentInformation>\n")
	}
	a.s("          <subject>\n")
	birth := unknownBirthDate
	if !r.BirthDate.IsZero() {
		birth = r.BirthDate.UTC().Format("20060102")
	}
	if r.Unborn {
		a.s(`            <npfitlc:contentId root="` + oidContentID + `" extension="COCT_TP145100GB01#UnbornChild"/>` + "\n")
		a.s("            <COCT_TP145100GB01.UnbornChild>\n              <parentMotherPerson>\n")
		a.s(`                <birthTime value="` + birth + `"/>` + "\n")
		a.name("                ", r.Name)
		a.s("                <playedMother>\n")
		a.ids("                  ", nhs, local)
		a.s("                </playedMother>\n              </parentMotherPerson>\n            </COCT_TP145100GB01.UnbornChild>\n")
	} else {
		a.s(`            <npfitlc:contentId root="` + oidContentID + `" extension="COCT_TP145101GB01#Child"/>` + "\n")
		a.s("            <COCT_TP145101GB01.Child>\n")
		a.ids("              ", nhs, local)
		a.s("              <childPerson>\n")
		a.s(`                <birthTime value="` + birth + `"/>` + "\n")
		a.name("                ", r.Name)
		a.s("              </childPerson>\n            </COCT_TP145101GB01.Child>\n")
	}
	a.s("          </subject>\n        </invalidCP-ISRecord>\n      </pertinentInformation1>\n    </cP-ISLAAcknowledgementResponse>\n  </message>\n")
}

// maxPlansPerUpload is how many plans a CP-ISRecord carries: one of each
// type (pertinentInformation 1..3).
const maxPlansPerUpload = 3

// unknownBirthDate stands for a birth date the record lacked: the schema
// demands a birthTime value and forbids a null flavour. Month and day 00 are
// no date at all, so nobody can take it for one.
const unknownBirthDate = "00000000"

func (a *ackWriter) planDate(component, observation string, d time.Time) {
	a.s("              <" + component + ">\n                <" + observation + "><value value=\"" +
		d.UTC().Format("200601021504") + "\"/></" + observation + ">\n              </" + component + ">\n")
}

// ids writes the subject's identifiers: the NHS number and the LA's own
// child id (CP-IS051: returned to the LA in its acknowledgement).
func (a *ackWriter) ids(indent, nhs, local string) {
	if nhs != "" {
		a.s(indent + `<id root="` + oidNHSNumber + `" extension="`)
		a.attr(nhs)
		a.s("\"/>\n")
	}
	if local != "" {
		a.s(indent + `<id root="` + uploadOIDLocalID + `" extension="`)
		a.attr(local)
		a.s("\"/>\n")
	}
}

// name writes a subject's name as PN.NHS.PersonNameType6 has it: one given
// (the given names joined) and one family name; a part the record lacks is
// null-flavoured, which the type allows on parts though not on the name.
func (a *ackWriter) name(indent string, n cpis.Name) {
	a.s(indent + "<name>")
	for _, part := range [2]struct{ tag, text string }{{"given", strings.Join(n.Given, " ")}, {"family", n.Family}} {
		if t := strings.TrimSpace(part.text); t != "" {
			a.s("<" + part.tag + ">")
			a.text(t)
			a.s("</" + part.tag + ">")
		} else {
			a.s("<" + part.tag + ` nullFlavor="UNK"/>`)
		}
	}
	a.s("</name>\n")
}
