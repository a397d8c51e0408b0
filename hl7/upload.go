package hl7

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"spinegw/cpis"
	"spinegw/internal/libxml2"
)

// Identifier roots of an LA Upload's subjects (wire reference §6, §8).
const (
	// uploadOIDOldStyle is the root of old-style and temporary NHS numbers,
	// which CP-IS does not accept (CP-IS002: "only new style NHS number").
	// The official schema admits only the two roots below; a file under a
	// schema that admits it is still read, flagged OldStyle.
	uploadOIDOldStyle = "2.16.840.1.113883.2.1.3.2.4.3"
	// uploadOIDLocalID is the root of the LA's own identifier for the
	// child, the "Local Authority Identity Number" (CP-IS051): a second id of
	// COCT_TP145101GB01.Child (or of the mother's playedMother).
	uploadOIDLocalID = "2.16.840.1.113883.2.1.3.2.4.18.24"
)

// uploadMaxDepth bounds element nesting in an upload. The deepest element
// the schema has is at depth 8 (File/record/CP-ISRecord/subject/
// COCT_TP145100GB01.UnbornChild/parentMotherPerson/playedMother/id); any
// deeper file is invalid anyway, and refused as hostile long before 256.
const uploadMaxDepth = 64

// ReadUpload streams an LA Upload (File, REPC_MT000002GB01) from r: it
// validates it against s, the File schema, while reading (CP-IS002 item 1),
// calls header once with the file-level data, and record for each record
// in file order. Nothing of the file is held beyond the record being read,
// so the England cohort in one file (230,000 records) reads in a few MB.
//
// header is called once the header has been read (after
// communicationFunctionSnd), before the first record; for a file without
// records, at its end. record is called for each CP-ISRecord, with Position
// counting the file's records from 1. A record about a child and the
// child's own unborn child (a Child and an UnbornChild subject, CP-IS035)
// is handed over as two UploadRecords with the same Position: the child
// with the CPP and LAC plans, the mother with the UCP plans, as the core
// checks each kind on its own (CP-IS033). Records are handed over as they
// are read, before the rest of the file is validated or even known to be
// well-formed: the caller must not commit anything until ReadUpload has
// returned with no issues and no error.
//
// Fields are read as sent and never judged here (the core decides the CPR
// codes, CP-IS017); data the file lacks stays zero. A date that is present
// but is no date (which the official schema's pattern lets through as,
// say, 30 February) cannot be carried in a time.Time: a birth date is left
// zero, which the core refuses as missing, and a plan with such a date
// gets a zero start date, which the core refuses likewise, so that no plan
// is ever stored with a date other than the one sent.
//
// Schema errors come back as issues, with their lines, NHS numbers hidden
// (at most 100, then a count); they do not stop the reading, so every
// record is still handed over. A file that is not well-formed comes back as
// a *cpis.Error of KindNotWellFormed, a hostile one (DOCTYPE, nesting) of
// KindHostile; an error returned by header or record stops the reading and
// comes back as it is; a failure of r itself is returned wrapped. With s
// nil nothing is validated: for tests only.
func ReadUpload(r io.Reader, s *libxml2.Schema, header func(cpis.Upload) error, record func(cpis.UploadRecord) error) (issues []Issue, err error) {
	rd, err := libxml2.NewReader(r, libxml2.ReaderOptions{Schema: s, MaxDepth: uploadMaxDepth})
	if err != nil {
		return nil, &cpis.Error{Kind: cpis.KindInternal, Op: "upload", Msg: "cannot read the file", Err: err}
	}
	defer rd.Close()
	u := uploadReader{rd: rd, header: header, record: record}
	cbErr := u.read()
	for _, e := range rd.ValidationErrors() {
		u.issues = append(u.issues, Issue{Line: e.Line, Msg: redactNHSNumbers(e.Msg)})
	}
	if cbErr != nil {
		return u.issues, cbErr
	}
	return u.issues, uploadReadError(rd.Err())
}

// uploadReadError maps the reader's failure to the core's error kinds, as
// the SOAP endpoint does for a message.
func uploadReadError(err error) error {
	if err == nil {
		return nil
	}
	var pe *libxml2.ParseError
	if !errors.As(err, &pe) {
		return &cpis.Error{Kind: cpis.KindInternal, Op: "upload", Msg: "the file could not be read", Err: err}
	}
	kind := cpis.KindHostile
	if pe.Kind == libxml2.NotWellFormed || pe.Kind == libxml2.InvalidEncoding {
		kind = cpis.KindNotWellFormed
	}
	return &cpis.Error{Kind: kind, Op: "upload", Msg: redactNHSNumbers(pe.Error())}
}

// uploadReader walks a File: the header elements, then the records, each
// expanded once and read through the Node API.
type uploadReader struct {
	rd         *libxml2.Reader
	header     func(cpis.Upload) error
	record     func(cpis.UploadRecord) error
	up         cpis.Upload
	headerDone bool
	position   int
	issues     []Issue
	buf        [2]cpis.UploadRecord // the records of the record being read
}

// read returns only the callbacks' errors; the reader's own are in rd.Err.
func (u *uploadReader) read() error {
	rd := u.rd
	if !rd.Next() {
		return nil
	}
	if !rd.Is(NS, "File") {
		u.issues = append(u.issues, Issue{Line: rd.Line(), Msg: "the document is " + rd.LocalName() + " in namespace \"" + rd.NamespaceURI() + "\", not an LA Upload (File in namespace " + NS + ")"})
		rd.Skip() // reads to the end, for the remaining errors
		return nil
	}
	for ok := rd.Next(); ok; ok = rd.Skip() {
		if rd.Depth() != 2 {
			continue // cannot happen: Skip stays among File's children
		}
		var err error
		switch {
		case rd.Is(NS, "record"):
			err = u.readRecord()
		case u.headerDone:
			// Anything after the header but a record is a schema error,
			// already reported by the validator.
		case rd.Is(NS, "creationTime"):
			err = u.expand(func(n *libxml2.Node) { u.up.CreationTime = parseTS(n.Attr("value")) })
		case rd.Is(NS, "id"):
			err = u.expand(func(n *libxml2.Node) { u.up.FileID = n.Attr("extension") })
		case rd.Is(NS, "transmissionQuantity"):
			err = u.expand(func(n *libxml2.Node) { u.up.Quantity = parseQuantity(n.Attr("value")) })
		case rd.Is(NS, "communicationFunctionSnd"):
			if err = u.expand(u.readSender); err == nil {
				err = u.callHeader()
			}
		}
		if err != nil {
			return err
		}
	}
	if rd.Err() == nil {
		return u.callHeader()
	}
	return nil
}

// expand hands the current element's subtree to fn; a failure to expand is
// the reader's, left for rd.Err.
func (u *uploadReader) expand(fn func(*libxml2.Node)) error {
	if n, err := u.rd.Expand(); err == nil {
		fn(n)
	}
	return nil
}

func (u *uploadReader) callHeader() error {
	if u.headerDone {
		return nil
	}
	u.headerDone = true
	return u.header(u.up)
}

// readSender reads communicationFunctionSnd/organisation: the LA's ODS code
// and name, and every telecom as sent, so that the core can apply the
// telecom rules (CP-SC007, CP-SC011); the first EC and WP numbers are also
// the LA's emergency and office numbers.
func (u *uploadReader) readSender(cf *libxml2.Node) {
	org := child(cf, "organisation")
	if org == nil {
		return
	}
	u.up.LA.ODS = strings.TrimSpace(extension(child(org, "id")))
	u.up.LA.Name = strings.TrimSpace(text(child(org, "name")))
	for t := org.FirstChildElement(); t != nil; t = t.NextSiblingElement() {
		if !t.Is(NS, "telecom") {
			continue
		}
		tel := cpis.Telecom{Use: t.Attr("use"), Value: t.Attr("value")}
		u.up.Telecoms = append(u.up.Telecoms, tel)
		for _, use := range strings.Fields(tel.Use) {
			switch {
			case use == "EC" && u.up.LA.Emergency == "":
				u.up.LA.Emergency = tel.Value
			case use == "WP" && u.up.LA.Office == "":
				u.up.LA.Office = tel.Value
			}
		}
	}
}

func (u *uploadReader) readRecord() error {
	if err := u.callHeader(); err != nil {
		return err
	}
	u.position++
	n, err := u.rd.Expand()
	if err != nil {
		return nil // the reader has failed: rd.Err says why
	}
	for _, rec := range uploadRecords(n, u.position, &u.buf) {
		if err := u.record(rec); err != nil {
			return err
		}
	}
	return nil
}

// uploadSubject is one subject of a CP-ISRecord as sent.
type uploadSubject struct {
	unborn    bool
	nhs       string
	oldStyle  bool
	localID   string
	name      cpis.Name
	birthDate time.Time
}

// Which plans of a record go to a subject's UploadRecord.
const (
	allPlans    = iota // one subject, or two of a kind
	childPlans         // the child of a record that also has an unborn child: CPP, LAC
	unbornPlans        // the unborn child (the mother): UCP
)

// uploadRecords maps one record element to the UploadRecords it holds, in
// buf: one, or one per subject when it has two (see ReadUpload).
func uploadRecords(rec *libxml2.Node, position int, buf *[2]cpis.UploadRecord) []cpis.UploadRecord {
	cr := child(rec, "CP-ISRecord")
	if cr == nil {
		buf[0] = cpis.UploadRecord{Position: position}
		return buf[:1]
	}
	// One slot more than a record may have: a record with too many plans
	// then still shows the core two of a type, which it refuses.
	var plans [maxPlansPerUpload + 1]cpis.Plan
	np := 0
	var subjects [2]uploadSubject
	ns := 0
	for c := cr.FirstChildElement(); c != nil; c = c.NextSiblingElement() {
		switch {
		case c.Is(NS, "pertinentInformation") && np < len(plans):
			if p, ok := uploadPlan(c); ok {
				plans[np] = p
				np++
			}
		case c.Is(NS, "subject") && ns < len(subjects):
			if s, ok := readUploadSubject(c); ok {
				subjects[ns] = s
				ns++
			}
		}
	}
	switch {
	case ns == 0:
		buf[0] = uploadSubject{}.record(position, plans[:np], allPlans)
		return buf[:1]
	case ns == 1 || subjects[0].unborn == subjects[1].unborn:
		// One subject, or two of a kind (which the core refuses or not on
		// their own merits): each gets every plan.
		for i := 0; i < ns; i++ {
			buf[i] = subjects[i].record(position, plans[:np], allPlans)
		}
		return buf[:ns]
	}
	// A child and an unborn child: the UCP plans are the mother's, the rest
	// the child's (CP-IS033, CP-IS035). An LA's identity number given for
	// one of them identifies the record for both.
	for i := range subjects {
		if subjects[i].localID == "" {
			subjects[i].localID = subjects[1-i].localID
		}
		which := childPlans
		if subjects[i].unborn {
			which = unbornPlans
		}
		buf[i] = subjects[i].record(position, plans[:np], which)
	}
	return buf[:2]
}

// record builds the UploadRecord of this subject with the plans which
// selects, in a slice of its own.
func (s uploadSubject) record(position int, plans []cpis.Plan, which int) cpis.UploadRecord {
	r := cpis.UploadRecord{
		Position:  position,
		NHSNumber: s.nhs,
		OldStyle:  s.oldStyle,
		LocalID:   s.localID,
		Unborn:    s.unborn,
		Name:      s.name,
		BirthDate: s.birthDate,
	}
	n := 0
	for _, p := range plans {
		if which == allPlans || (p.Type == cpis.UCP) == (which == unbornPlans) {
			n++
		}
	}
	if n == 0 {
		return r
	}
	r.Plans = make([]cpis.Plan, 0, n)
	for _, p := range plans {
		if which == allPlans || (p.Type == cpis.UCP) == (which == unbornPlans) {
			r.Plans = append(r.Plans, p)
		}
	}
	return r
}

// readUploadSubject reads a subject: a COCT_TP145101GB01.Child (ids, birth
// time, name) or a COCT_TP145100GB01.UnbornChild, recorded through the
// mother (her birth time, name and, in playedMother, her ids; CP-SC012).
func readUploadSubject(sub *libxml2.Node) (uploadSubject, bool) {
	var s uploadSubject
	var person, ids *libxml2.Node
	if c := sub.Child(NS, "COCT_TP145101GB01.Child"); c != nil {
		person, ids = child(c, "childPerson"), c
	} else if c := sub.Child(NS, "COCT_TP145100GB01.UnbornChild"); c != nil {
		s.unborn = true
		person = child(c, "parentMotherPerson")
		ids = child(person, "playedMother")
	} else {
		return s, false
	}
	if ids != nil {
		for id := ids.FirstChildElement(); id != nil; id = id.NextSiblingElement() {
			if !id.Is(NS, "id") {
				continue
			}
			switch id.Attr("root") {
			case oidNHSNumber:
				if s.nhs == "" || s.oldStyle {
					s.nhs, s.oldStyle = strings.TrimSpace(id.Attr("extension")), false
				}
			case uploadOIDOldStyle:
				if s.nhs == "" {
					s.nhs, s.oldStyle = strings.TrimSpace(id.Attr("extension")), true
				}
			case uploadOIDLocalID:
				if s.localID == "" {
					s.localID = strings.TrimSpace(id.Attr("extension"))
				}
			}
		}
	}
	if person != nil {
		s.birthDate = parseBirthDate(attr(child(person, "birthTime"), "value"))
		if name := child(person, "name"); name != nil {
			if g := strings.TrimSpace(text(child(name, "given"))); g != "" {
				s.name.Given = []string{g}
			}
			s.name.Family = strings.TrimSpace(text(child(name, "family")))
		}
	}
	return s, true
}

// uploadPlanTemplates are the upload plan templates (COCT_TP146100/101/102
// GB01) and the names of their start, end and delete date observations.
var uploadPlanTemplates = [...]struct {
	element            string
	typ                cpis.PlanType
	start, end, delete string
}{
	{"COCT_TP146101GB01.CPPInformation", cpis.CPP, "cPPStartDate", "cPPEndDate", "cPPDeleteDate"},
	{"COCT_TP146100GB01.LACInformation", cpis.LAC, "lACStartDate", "lACEndDate", "lACDeleteDate"},
	{"COCT_TP146102GB01.UCPInformation", cpis.UCP, "uCPStartDate", "uCPEndDate", "uCPDeleteDate"},
}

// uploadPlan reads a pertinentInformation: the plan's start date
// (component), end date (component1; for a UCP the expected due date,
// CP-IS011, CP-SC013) and delete date (component2, CP-IS009), each as a
// civil date.
// An end or delete date sent as nil (xsi:nil, which the schema allows) is
// none. A plan in an unknown template keeps its element name as its type,
// which the core refuses.
func uploadPlan(pi *libxml2.Node) (cpis.Plan, bool) {
	for c := pi.FirstChildElement(); c != nil; c = c.NextSiblingElement() {
		if c.Is(NSLocalisation, "contentId") {
			continue
		}
		for _, t := range uploadPlanTemplates {
			if !c.Is(NS, t.element) {
				continue
			}
			p := cpis.Plan{Type: t.typ}
			var ok [3]bool
			p.Start, ok[0] = planValue(c, "component", t.start)
			p.End, ok[1] = planValue(c, "component1", t.end)
			p.Delete, ok[2] = planValue(c, "component2", t.delete)
			if !ok[0] || !ok[1] || !ok[2] {
				// A date sent but unreadable: refused through the start
				// date rather than stored wrong (see ReadUpload).
				p.Start = time.Time{}
			}
			return p, true
		}
		return cpis.Plan{Type: cpis.PlanType(c.LocalName())}, true
	}
	return cpis.Plan{}, false
}

// planValue reads info/component/observation/value/@value as a civil date.
// ok is false only for a value that is present but is no date.
func planValue(info *libxml2.Node, component, observation string) (d time.Time, ok bool) {
	value := child(child(child(info, component), observation), "value")
	if value == nil {
		return time.Time{}, true
	}
	v, present := value.LookupAttrNS("", "value")
	if !present {
		return time.Time{}, true
	}
	return parsePlanDate(v)
}

// parsePlanDate reads a TS.NHS.DateType1 value, yyyyMMddHHmm, as the civil
// date it names; the time of day carries nothing CP-IS uses. A bare
// yyyyMMdd is read too.
func parsePlanDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if len(v) != 12 && len(v) != 8 {
		return time.Time{}, false
	}
	d, ok := civilDateOf(v[:8])
	if ok && len(v) == 12 {
		hh, err1 := strconv.Atoi(v[8:10])
		mm, err2 := strconv.Atoi(v[10:12])
		ok = err1 == nil && err2 == nil && hh < 24 && mm < 60 && allDigits(v[8:])
	}
	if !ok {
		return time.Time{}, false
	}
	return d, true
}

// parseBirthDate reads a birth time (HL7 TS) as the civil date it names.
// Only a full date counts (CP-IS002: "Full Date of Birth (YYYYMMDD)"): a
// year or a month alone, or anything unreadable, is zero.
func parseBirthDate(v string) time.Time {
	v = strings.TrimSpace(v)
	if len(v) < 8 {
		return time.Time{}
	}
	d, ok := civilDateOf(v[:8])
	if !ok {
		return time.Time{}
	}
	return d
}

// civilDateOf reads yyyyMMdd, refusing dates that do not exist (20250230).
func civilDateOf(v string) (time.Time, bool) {
	if len(v) != 8 || !allDigits(v) {
		return time.Time{}, false
	}
	y, _ := strconv.Atoi(v[:4])
	m, _ := strconv.Atoi(v[4:6])
	d, _ := strconv.Atoi(v[6:8])
	t := cpis.Date(y, time.Month(m), d)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseTS reads an HL7 TS instant: yyyyMMdd[HH[mm[ss[.fff]]]] with an
// optional +hhmm/-hhmm offset; without one, English local time. Anything
// else is zero.
func parseTS(v string) time.Time {
	v = strings.TrimSpace(v)
	loc := cpis.London
	if i := strings.IndexAny(v, "+-"); i >= 0 {
		off := v[i+1:]
		if len(off) != 4 || !allDigits(off) {
			return time.Time{}
		}
		h, _ := strconv.Atoi(off[:2])
		m, _ := strconv.Atoi(off[2:])
		secs := (h*60 + m) * 60
		if v[i] == '-' {
			secs = -secs
		}
		loc = time.FixedZone("", secs)
		v = v[:i]
	}
	frac := ""
	if i := strings.IndexByte(v, '.'); i >= 0 {
		v, frac = v[:i], v[i+1:]
		if len(v) != 14 || !allDigits(frac) {
			return time.Time{}
		}
	}
	if !allDigits(v) {
		return time.Time{}
	}
	layout := map[int]string{8: "20060102", 10: "2006010215", 12: "200601021504", 14: "20060102150405"}[len(v)]
	if layout == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation(layout, v, loc)
	if err != nil {
		return time.Time{}
	}
	if frac != "" {
		ns, _ := strconv.Atoi((frac + "000000000")[:9])
		t = t.Add(time.Duration(ns))
	}
	return t
}

// parseQuantity reads transmissionQuantity/@value; unreadable is 0.
func parseQuantity(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
