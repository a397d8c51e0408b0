package hl7

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"spinegw/cpis"
)

// The notifications to local authorities (wire reference §7): the daily
// Access to Service Notification (REPC_MT000004GB01, root
// CP-ISAccessToServiceNotification) and the Inactive NHS Number Notification
// (REPC_MT000005GB01, root CP-ISInactiveNHSNumberNotification). Both are
// files for the LA rather than SOAP replies, so each is written as a
// standalone document, with an XML declaration, and has no transmission
// wrapper.
//
// They are written with the query response's xmlWriter and its helpers: an
// access in a notification is the same pertinentCP-ISNHSQuery, with the same
// author templates, as an access history entry in the NHS Query Response,
// and the LA must read the same who, where and when in both (CP-IS008,
// CP-IS022, CP-IS026).

// contentIntendedRecipient announces the local authority a notification is
// for (primaryInformationRecipient, template NPFIT-100036).
const contentIntendedRecipient = "COCT_TP145103GB01#IntendedRecipient"

// notificationFlushAt is how much a notification holds in memory before it
// is written out. A county's day can hold thousands of accesses; written
// record by record, a notification costs one pooled buffer whatever its
// size.
const notificationFlushAt = 32 << 10

// NotificationReply is what the gateway says about a notification it sends.
type NotificationReply struct {
	// ID is the notification's own id (id/@root), an upper-case UUID: every
	// message is uniquely identifiable (CP-IS019). One is made when it is
	// empty; an id that is not a UUID is refused.
	ID string
	// CreationTime is when the notification was made, its effectiveTime.
	// When zero, the end of the period covered (an access notification) or
	// the notification's At (an inactive one).
	CreationTime time.Time
}

// WriteAccessNotification writes the Access to Service Notification
// (CP-ISAccessToServiceNotification, REPC_MT000004GB01) for one local
// authority: every access, in the period n covers, to the CP-IS information
// of the children it holds records for (CP-IS022, CP-IS023, CP-IS025,
// CP-IS037, CP-IS070). It holds, in the schema's order:
//
//   - effectiveTime: when the notification was made (r.CreationTime, else
//     n.To), in London time with its offset (CP-IS045). The schema types it
//     a point in time (TS), not an interval, so the period itself
//     [n.From, n.To) is not on the wire: a notification covers the 24 hours
//     before it (CP-IS025);
//   - id: r.ID (CP-IS019);
//   - pertinentInformation/pertinentTotalReturnedRecords/value: the number of
//     records notified. Zero records, and so no pertinentInformation1, is a
//     notification too: it tells the LA that none of its children was
//     accessed in the period (CP-IS025);
//   - one pertinentInformation1/pertinentCP-ISRecordAccess per record, in the
//     order given (the core sorts them by NHS number), holding:
//     one pertinentInformation2/pertinentCP-ISNHSQuery per access, in the
//     order given (oldest first), the accesses being those the core kept
//     under CP-IS047 (first per accessor within 24 hours): when (London time,
//     CP-IS045), the query's id (as the query response gives it), who and
//     where as the query response's access history writes them (CP-IS008,
//     CP-IS022: a person by job role code with its display name, SDS user
//     and role profile ids, name and organisation; a system by ASID, the
//     person it acted for and its organisation; a missing code or ODS code
//     is written UNK, as there), and queryByParameter/person.id: the child's
//     NHS number and, when the LA gave one, its own child id, which the LA
//     may be told (CP-IS051);
//     then reference/referredToLAUploadFile/value/@extension, the LA upload
//     file the record came from, so that the LA can tie it to its own
//     (CP-IS019). The schema demands it and forbids a null flavour; a record
//     that came with no upload (an emulated world's own records) gets the
//     package's "UNK" placeholder, which no upload file id is made of;
//   - primaryInformationRecipient: the LA, by ODS code and name (CP-IS008).
//
// It refuses, with a KindInternal error and before writing anything, what
// the schema cannot express: an LA without an ODS code, a record without an
// NHS number or without any access (pertinentInformation2 is 1..*), an
// access or creation time that is missing or not a four-digit year, an id
// that is not a UUID. It fails otherwise only with w's error.
func WriteAccessNotification(w io.Writer, r NotificationReply, n cpis.AccessNotification) error {
	at := r.CreationTime
	if at.IsZero() {
		at = n.To
	}
	id, err := checkNotification(r, at, n.LA)
	if err != nil {
		return err
	}
	for _, rec := range n.Records {
		if rec.NHSNumber == "" {
			return notificationError("a notified record has no NHS number")
		}
		if len(rec.Accesses) == 0 {
			return notificationError("a notified record has no access")
		}
		for _, ev := range rec.Accesses {
			if !stampable(ev.At) {
				return notificationError("an access has no usable time")
			}
		}
	}

	x := newNotificationWriter(w)
	defer x.release()
	x.markup(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<CP-ISAccessToServiceNotification xmlns="` + NS + `" xmlns:npfitlc="` + NSLocalisation + `">` + "\n")
	notificationHead(x.xmlWriter, at, id)
	x.markup(`<pertinentInformation><pertinentTotalReturnedRecords><value value="`)
	x.markup(strconv.Itoa(len(n.Records)))
	x.markup(`"/></pertinentTotalReturnedRecords></pertinentInformation>` + "\n")
	for _, rec := range n.Records {
		notifiedRecord(x.xmlWriter, rec)
		x.spill()
	}
	recipient(x.xmlWriter, n.LA)
	x.markup(`</CP-ISAccessToServiceNotification>` + "\n")
	return x.flush()
}

// notifiedRecord writes one pertinentInformation1: the accesses to one
// child's record and the upload file it came from. Each access starts a line
// of its own, so that a day's notification reads, and compares, an access at
// a time.
func notifiedRecord(w *xmlWriter, rec cpis.NotifiedRecord) {
	w.markup(`<pertinentInformation1><pertinentCP-ISRecordAccess>`)
	for _, ev := range rec.Accesses {
		w.markup("\n" + `<pertinentInformation2>`)
		notifiedAccess(w, ev, rec)
		w.markup(`</pertinentInformation2>`)
	}
	w.markup("\n" + `<reference><referredToLAUploadFile><value extension="`)
	w.attrValue(orUnknown(rec.FileID))
	w.markup(`"/></referredToLAUploadFile></reference></pertinentCP-ISRecordAccess></pertinentInformation1>` + "\n")
}

// notifiedAccess writes one access as REPC_MT000004GB01 has it, a
// pertinentCP-ISNHSQuery: as the query response's access history entry
// (accessEvent), save that the child is named by person.id, whose values
// carry their root, and may be named by the LA's own child id too
// (CP-IS051). The NHS number is the record's: the core notifies an access
// under the number it was made with, which is the record's.
func notifiedAccess(w *xmlWriter, ev cpis.AccessEvent, rec cpis.NotifiedRecord) {
	w.markup(`<pertinentCP-ISNHSQuery><effectiveTime value="`)
	instant(w, ev.At)
	w.markup(`"/><id root="`)
	// The query's message id, as the query response's history gives it:
	// the LA sees the same id for the same access in both (CP-IS019).
	id := eventID(ev.ID)
	w.raw(id[:])
	w.markup(`"/><author>`)
	accessor(w, ev.Accessor)
	w.markup(`</author><queryByParameter><person.id>`)
	patientIDs(w, "value", rec.NHSNumber, rec.LocalID)
	w.markup(`</person.id></queryByParameter></pertinentCP-ISNHSQuery>`)
}

// WriteInactiveNotification writes the Inactive NHS Number Notification
// (CP-ISInactiveNHSNumberNotification, REPC_MT000005GB01) to one local
// authority: the NHS numbers it holds records under that PDS no longer
// treats as active (CP-IS012, CP-IS023). It holds, in the schema's order:
//
//   - effectiveTime: when the notification was made (r.CreationTime, else
//     n.At), in London time with its offset (CP-IS045);
//   - id: r.ID (CP-IS019);
//   - primaryInformationRecipient: the LA, by ODS code and name (CP-IS008);
//   - one subject/pDSInactivePatient per subject, in the order given: id, the
//     inactive NHS number and, when the LA gave one, its own child id
//     (CP-IS051 names this message among those that may return it);
//     replacedBy/newVersion/id, the replacing number, when PDS knows one
//     (CP-IS012: "where possible, SHOULD also inform the Local Authority of
//     the new NHS number"); subjectOf/lAUploadFile/value/@extension, the
//     upload file the record came from (CP-IS019), or, as in the access
//     notification, "UNK" for a record no upload brought.
//
// It refuses, with a KindInternal error and before writing anything, what
// the schema cannot express: no subject (subject is 1..*: with nothing to
// say no notification is sent), a subject without its inactive number, an
// LA without an ODS code, a missing creation time, an id that is not a
// UUID. It fails otherwise only with w's error.
func WriteInactiveNotification(w io.Writer, r NotificationReply, n cpis.InactiveNotification) error {
	at := r.CreationTime
	if at.IsZero() {
		at = n.At
	}
	id, err := checkNotification(r, at, n.LA)
	if err != nil {
		return err
	}
	if len(n.Subjects) == 0 {
		return notificationError("an inactive NHS number notification needs at least one subject")
	}
	for _, s := range n.Subjects {
		if s.Old == "" {
			return notificationError("an inactive NHS number notification's subject has no NHS number")
		}
	}

	x := newNotificationWriter(w)
	defer x.release()
	x.markup(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<CP-ISInactiveNHSNumberNotification xmlns="` + NS + `" xmlns:npfitlc="` + NSLocalisation + `">` + "\n")
	notificationHead(x.xmlWriter, at, id)
	recipient(x.xmlWriter, n.LA)
	for _, s := range n.Subjects {
		inactiveSubject(x.xmlWriter, s)
		x.spill()
	}
	x.markup(`</CP-ISInactiveNHSNumberNotification>` + "\n")
	return x.flush()
}

// inactiveSubject writes one subject/pDSInactivePatient, on a line of its
// own.
func inactiveSubject(w *xmlWriter, s cpis.InactiveSubject) {
	w.markup(`<subject><pDSInactivePatient>`)
	patientIDs(w, "id", s.Old, s.LocalID)
	// A "replacement" by the same number says nothing: it is left out as an
	// unknown one is.
	if s.New != "" && s.New != s.Old {
		// NewNHSPatient's id is II.NHS.extension.mandatory: the schema
		// prohibits the root, the NHS number being implied.
		w.markup(`<replacedBy><newVersion><id extension="`)
		w.attrValue(string(s.New))
		w.markup(`"/></newVersion></replacedBy>`)
	}
	w.markup(`<subjectOf><lAUploadFile><value extension="`)
	w.attrValue(orUnknown(s.FileID))
	w.markup(`"/></lAUploadFile></subjectOf></pDSInactivePatient></subject>` + "\n")
}

// patientIDs writes a child's identifiers as
// II.NPfIT.oid.mandatoryAndEnumerated.assignedAuthority.optional allows them,
// as elements tag: the NHS number, then the LA's own child id when it has one
// (root 2.16.840.1.113883.2.1.3.2.4.18.24, as the LA uploaded it; CP-IS051).
// Both are written as they are stored, so that the LA can match them to its
// own.
func patientIDs(w *xmlWriter, tag string, nhs cpis.NHSNumber, localID string) {
	w.markup(`<`)
	w.markup(tag)
	w.markup(` root="` + oidNHSNumber + `" extension="`)
	w.attrValue(string(nhs))
	w.markup(`"/>`)
	if localID != "" {
		w.markup(`<`)
		w.markup(tag)
		w.markup(` root="` + uploadOIDLocalID + `" extension="`)
		w.attrValue(localID)
		w.markup(`"/>`)
	}
}

// notificationHead writes a notification's effectiveTime and id, each on a
// line.
func notificationHead(w *xmlWriter, at time.Time, id string) {
	w.markup(`<effectiveTime value="`)
	instant(w, at)
	w.markup(`"/>` + "\n" + `<id root="`)
	w.attrValue(id)
	w.markup(`"/>` + "\n")
}

// recipient writes the local authority a notification is for
// (COCT_TP145103GB01.IntendedRecipient): ODS code and name (CP-IS008). The
// template has no telephone numbers, unlike the query response's LA.
func recipient(w *xmlWriter, la cpis.LocalAuthority) {
	w.markup(`<primaryInformationRecipient>`)
	contentID(w, contentIntendedRecipient)
	w.markup(`<COCT_TP145103GB01.IntendedRecipient><representedSourceOrganization>`)
	organisation(w, cpis.Org{ODS: la.ODS, Name: la.Name})
	w.markup(`</representedSourceOrganization></COCT_TP145103GB01.IntendedRecipient></primaryInformationRecipient>` + "\n")
}

// checkNotification checks what both notifications need, and returns the
// id to write: an LA to send to, a creation time, an id that is a UUID.
func checkNotification(r NotificationReply, at time.Time, la cpis.LocalAuthority) (string, error) {
	if strings.TrimSpace(la.ODS) == "" {
		// Not written UNK as a missing accessor's organisation is: a
		// notification addressed to nobody must not be sent at all.
		return "", notificationError("a notification needs the local authority's ODS code")
	}
	if !stampable(at) {
		return "", notificationError("a notification needs its creation time")
	}
	id := r.ID
	switch {
	case id == "":
		id = uuid.NewString()
	case !isUUID(id):
		return "", notificationError("a notification id must be a UUID")
	}
	return strings.ToUpper(id), nil
}

// stampable reports whether t can be written as the schema's ts, in London
// time with four-digit years: not zero (a time never recorded), years 1 to
// 9999.
func stampable(t time.Time) bool {
	if t.IsZero() {
		return false
	}
	y := t.In(cpis.London).Year()
	return 1 <= y && y <= 9999
}

func notificationError(msg string) error {
	return cpis.Errorf(cpis.KindInternal, "hl7", "%s", msg)
}

// notificationWriter writes a notification through a pooled xmlWriter,
// passing it on to dst record by record (spill) rather than holding the
// whole day's notification, and keeping dst's first error.
type notificationWriter struct {
	*xmlWriter
	dst io.Writer
	err error
}

func newNotificationWriter(dst io.Writer) *notificationWriter {
	return &notificationWriter{xmlWriter: getWriter(), dst: dst}
}

// spill passes what has been written on to dst once it is worth a write.
func (x *notificationWriter) spill() {
	if len(x.b) >= notificationFlushAt {
		x.write()
	}
}

// flush passes the rest on and reports dst's first error.
func (x *notificationWriter) flush() error {
	x.write()
	return x.err
}

func (x *notificationWriter) write() {
	if x.err == nil && len(x.b) > 0 {
		_, x.err = x.dst.Write(x.b)
	}
	// After a failure the rest is dropped: it can no longer make a
	// document, and holding it would only grow the buffer.
	x.b = x.b[:0]
}

// release puts the buffer back in the pool, as xmlWriter.bytes does, unless
// an unusually large record made it too big to keep.
func (x *notificationWriter) release() {
	if cap(x.b) <= maxPooled {
		writers.Put(x.xmlWriter)
	}
	x.xmlWriter = nil
}
