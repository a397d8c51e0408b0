package synth

import (
	"bufio"
	"io"
	"strconv"
	"time"

	"spinegw/cpis"
)

// Roots of the identifiers a File uses, and its namespaces.
const (
	rootNHSNumber = "2.16.840.1.113883.2.1.4.1"         // new-style NHS number
	rootLocalID   = "2.16.840.1.113883.2.1.3.2.4.18.24" // the LA's own child identifier
	rootLA        = "2.16.840.1.113883.2.1.3.2.4.19.1"  // ODS organisation code
	rootContentID = "2.16.840.1.113883.2.1.3.2.4.18.16" // npfitlc:contentId template ids
	hl7NS         = "urn:hl7-org:v3"
	npfitNS       = "NPFIT:HL7:Localisation"
)

// Plan dates are civil dates, sent at midnight (the schema wants the time
// of day too); the file is written at 02:00, as LA batches run overnight.
const (
	planTime      = "0000"
	creationClock = 2 * time.Hour
)

// Generate makes the records of the file o describes, in file order, and
// calls fn with each and the record-level code it should get (CPR01..CPR07).
// It returns the world that gives those codes: the PDS patients the records
// need and the sending local authority. WriteUpload writes the same records;
// Generate lets a caller use them without parsing the file (a benchmark's
// reference insert, a test's expectations). An error from fn stops it.
func Generate(o Options, fn func(r cpis.UploadRecord, code string) error) (cpis.World, error) {
	g, err := newGenerator(o)
	if err != nil {
		return cpis.World{}, err
	}
	w := cpis.World{
		LocalAuthorities: []cpis.LocalAuthority{o.LocalAuthority()},
		Patients:         make([]cpis.Patient, 0, o.Records+o.Records/50),
	}
	for pos := 1; pos <= o.Records; pos++ {
		r := g.next(pos)
		w.Patients = append(w.Patients, r.patients...)
		if err := fn(r.UploadRecord, r.kind.code()); err != nil {
			return cpis.World{}, err
		}
	}
	return w, nil
}

// WriteUpload writes the File o describes to w, streaming: memory does not
// grow with the file beyond the returned world and codes. It returns the
// world (PDS patients and the LA) that makes each record succeed or fail as
// labelled, and the expected record-level code of each record (index =
// position - 1).
func WriteUpload(w io.Writer, o Options) (cpis.World, []string, error) {
	if err := o.check(); err != nil {
		return cpis.World{}, nil, err
	}
	x := &xmlWriter{w: bufio.NewWriterSize(w, 256<<10)}
	x.header(o)
	codes := make([]string, 0, o.Records)
	world, err := Generate(o, func(r cpis.UploadRecord, code string) error {
		x.record(&r)
		codes = append(codes, code)
		return x.err()
	})
	if err != nil {
		return cpis.World{}, nil, err
	}
	x.s("\n</File>\n")
	x.flush()
	if err := x.w.Flush(); err != nil {
		return cpis.World{}, nil, err
	}
	return world, codes, nil
}

// xmlWriter builds the File with appends into a reused scratch buffer:
// fmt and encoding/xml would make the whole England cohort take tens of
// seconds instead of about one.
type xmlWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (x *xmlWriter) s(s string) { x.buf = append(x.buf, s...) }

// text appends s escaped for element content and attribute values alike.
func (x *xmlWriter) text(s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			x.s("&amp;")
		case '<':
			x.s("&lt;")
		case '>':
			x.s("&gt;")
		case '"':
			x.s("&quot;")
		default:
			x.buf = append(x.buf, c)
		}
	}
}

// date appends d as YYYYMMDD, the form of a date of birth.
func (x *xmlWriter) date(d time.Time) {
	y, m, day := d.Date()
	x.buf = append(x.buf, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10),
		byte('0'+int(m)/10), byte('0'+int(m)%10), byte('0'+day/10), byte('0'+day%10))
}

func (x *xmlWriter) flush() {
	if len(x.buf) > 0 {
		_, _ = x.w.Write(x.buf) // a write error stays in the bufio.Writer: see err
		x.buf = x.buf[:0]
	}
}

func (x *xmlWriter) err() error {
	x.flush()
	// bufio.Writer keeps the first write error and returns it from every
	// later call; a zero-length write asks for it without writing.
	_, err := x.w.Write(nil)
	return err
}

func (x *xmlWriter) header(o Options) {
	x.s(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x.s(`<File xmlns="` + hl7NS + `" xmlns:npfitlc="` + npfitNS + `">` + "\n")
	x.s(`<creationTime value="`)
	x.date(o.today())
	x.s(formatClock(creationClock))
	x.s(`"/>` + "\n" + `<id extension="`)
	x.text(o.ID())
	x.s(`"/>` + "\n" + `<transmissionQuantity value="`)
	x.buf = strconv.AppendInt(x.buf, int64(o.Records), 10)
	x.s(`"/>` + "\n")
	la := o.LocalAuthority()
	x.s(`<communicationFunctionSnd><organisation><id root="` + rootLA + `" extension="`)
	x.text(la.ODS)
	x.s(`"/><name>`)
	x.text(la.Name)
	x.s(`</name><telecom value="`)
	x.text(la.Emergency)
	x.s(`" use="EC"/><telecom value="`)
	x.text(la.Office)
	x.s(`" use="WP"/></organisation></communicationFunctionSnd>`)
	x.flush()
}

// formatClock renders a time of day as HHMMSS.
func formatClock(d time.Duration) string {
	return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(d).Format("150405")
}

// planElems names a plan type's CMET and its elements.
type planElems struct {
	cmet, class, prefix string
}

var planNames = map[cpis.PlanType]planElems{
	cpis.LAC: {"COCT_TP146100GB01", "LACInformation", "lAC"},
	cpis.CPP: {"COCT_TP146101GB01", "CPPInformation", "cPP"},
	cpis.UCP: {"COCT_TP146102GB01", "UCPInformation", "uCP"},
}

func (x *xmlWriter) record(r *cpis.UploadRecord) {
	// One record a line, so that a person can grep and diff the file.
	x.s("\n<record><CP-ISRecord>")
	for _, p := range r.Plans {
		n := planNames[p.Type]
		x.s(`<pertinentInformation><npfitlc:contentId root="` + rootContentID + `" extension="` + n.cmet + "#" + n.class + `"/>`)
		x.s("<" + n.cmet + "." + n.class + ">")
		x.planDate("component", n.prefix+"StartDate", p.Start)
		if !p.End.IsZero() {
			x.planDate("component1", n.prefix+"EndDate", p.End)
		}
		if !p.Delete.IsZero() {
			x.planDate("component2", n.prefix+"DeleteDate", p.Delete)
		}
		x.s("</" + n.cmet + "." + n.class + "></pertinentInformation>")
	}
	if r.Unborn {
		x.s(`<subject><npfitlc:contentId root="` + rootContentID + `" extension="COCT_TP145100GB01#UnbornChild"/>`)
		x.s("<COCT_TP145100GB01.UnbornChild><parentMotherPerson>")
		x.person(r)
		x.s("<playedMother>")
		x.ids(r)
		x.s("</playedMother></parentMotherPerson></COCT_TP145100GB01.UnbornChild></subject>")
	} else {
		x.s(`<subject><npfitlc:contentId root="` + rootContentID + `" extension="COCT_TP145101GB01#Child"/>`)
		x.s("<COCT_TP145101GB01.Child>")
		x.ids(r)
		x.s("<childPerson>")
		x.person(r)
		x.s("</childPerson></COCT_TP145101GB01.Child></subject>")
	}
	x.s("</CP-ISRecord></record>")
	if len(x.buf) >= 64<<10 {
		x.flush()
	}
}

func (x *xmlWriter) planDate(component, elem string, d time.Time) {
	x.s("<" + component + "><" + elem + `><value value="`)
	x.date(d)
	x.s(planTime + `"/></` + elem + "></" + component + ">")
}

// ids writes the subject's NHS number and, when the LA sent one, its own
// identifier.
func (x *xmlWriter) ids(r *cpis.UploadRecord) {
	x.s(`<id root="` + rootNHSNumber + `" extension="`)
	x.text(r.NHSNumber)
	x.s(`"/>`)
	if r.LocalID != "" {
		x.s(`<id root="` + rootLocalID + `" extension="`)
		x.text(r.LocalID)
		x.s(`"/>`)
	}
}

// person writes birthTime and name. The schema wants exactly one given and
// one family element; a missing part is sent empty.
func (x *xmlWriter) person(r *cpis.UploadRecord) {
	x.s(`<birthTime value="`)
	x.date(r.BirthDate)
	x.s(`"/><name><given>`)
	for i, g := range r.Name.Given {
		if i > 0 {
			x.s(" ")
		}
		x.text(g)
	}
	x.s("</given><family>")
	x.text(r.Name.Family)
	x.s("</family></name>")
}
