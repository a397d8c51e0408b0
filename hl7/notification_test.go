package hl7_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/hl7/schema"
	"spinegw/internal/libxml2"
)

const (
	accessRoot   = "CP-ISAccessToServiceNotification"
	inactiveRoot = "CP-ISInactiveNHSNumberNotification"
)

// Fixtures of the notification tests: synthetic people, organisations and
// NHS numbers of the never-issued 999 range.
var (
	notifLA = cpis.LocalAuthority{ODS: "E10000003", Name: "Exampleshire & District Council",
		Emergency: "tel:01632960301", UploadsEnabled: true}

	notifMidwife = cpis.Accessor{
		UserID: "100000000505", RoleProfileID: "100000000606",
		Name:    cpis.Name{Prefix: "Ms", Given: []string{"Nia", "Grace"}, Family: "O'Connell"},
		JobRole: cpis.JobRole{Code: "S0030:G0100:R0680", Name: "Midwife"},
		Org:     cpis.Org{ODS: "RX1", Name: "Example Hospitals NHS Trust"},
	}
	notifNurse = cpis.Accessor{
		UserID: "100000000707", RoleProfileID: "100000000808",
		Name:    cpis.Name{Given: []string{"Ravi"}, Family: "Shah"},
		JobRole: cpis.JobRole{Code: "R0570", Name: "Staff Nurse"},
		Org:     cpis.Org{ODS: "RY2", Name: "Sampleton Children's Hospital NHS Foundation Trust"},
	}
	notifEndpoint = cpis.Endpoint{ASID: "200000000909", ODS: "NX2", Name: "Example Urgent Care Centre"}
)

func utc(y int, m time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, m, d, h, mi, s, 0, time.UTC)
}

// clockChangeDay is the notification of 26 October 2025, the 25-hour day on
// which England leaves summer time: [00:00 BST, 00:00 GMT next day). The
// midwife looked at the first child just after midnight (BST) and again just
// before the next midnight (GMT), 24 hours 20 minutes apart, so both are her
// first access within 24 hours (CP-IS047) and both are notified; the nurse
// looked at both children. The second child's record came with the
// emulated world, not in an upload: it has neither file id nor local id.
func clockChangeDay() cpis.AccessNotification {
	first, second := cpis.NHSNumber("9990000042"), cpis.NHSNumber("9990000085")
	return cpis.AccessNotification{
		LA:   notifLA,
		From: utc(2025, 10, 25, 23, 0, 0),
		To:   utc(2025, 10, 27, 0, 0, 0),
		Records: []cpis.NotifiedRecord{
			{NHSNumber: first, LocalID: "EX/CH/0042", FileID: "E10000003-20251001-0007", Accesses: []cpis.AccessEvent{
				{ID: "3f2a9c1e-7b4d-4e8f-9a6b-0c1d2e3f4a5b", NHSNumber: first, At: utc(2025, 10, 25, 23, 10, 0), Accessor: notifMidwife, LAs: []string{notifLA.ODS}, Shown: true},
				{ID: "6C7D8E9F-0A1B-4C2D-8E3F-4A5B6C7D8E9F", NHSNumber: first, At: utc(2025, 10, 26, 10, 42, 5), Accessor: notifNurse, LAs: []string{notifLA.ODS}, Shown: true},
				{ID: "A1B2C3D4-E5F6-4789-8ABC-DEF012345678", NHSNumber: first, At: utc(2025, 10, 26, 23, 30, 0), Accessor: notifMidwife, LAs: []string{notifLA.ODS}, Shown: true},
			}},
			{NHSNumber: second, Accesses: []cpis.AccessEvent{
				{ID: "0F1E2D3C-4B5A-4697-8887-766554433221", NHSNumber: second, At: utc(2025, 10, 26, 14, 3, 0), Accessor: notifNurse, LAs: []string{notifLA.ODS}, Shown: true},
			}},
		},
	}
}

// quietDay is a day on which none of the LA's children was accessed: the
// notification is sent all the same (CP-IS025).
func quietDay() cpis.AccessNotification {
	return cpis.AccessNotification{LA: notifLA, From: utc(2026, 3, 9, 0, 0, 0), To: utc(2026, 3, 10, 0, 0, 0)}
}

// systemDay: accesses by system authors, taken on the endpoint's word: one
// naming the clinician it acts for, one naming nobody (its own name and the
// endpoint's organisation stand in).
func systemDay() cpis.AccessNotification {
	nhs := cpis.NHSNumber("9990000093")
	named := cpis.SystemAccessor(cpis.Author{System: true, Name: cpis.Name{Given: []string{"Sam"}, Family: "Patel"},
		JobRoles: []string{"R0260"}, Org: cpis.Org{ODS: "NX1", Name: "Example Out of Hours Service"}}, notifEndpoint)
	anonymous := cpis.SystemAccessor(cpis.Author{System: true, SystemName: "Example ED System"}, notifEndpoint)
	return cpis.AccessNotification{
		LA: notifLA, From: utc(2026, 3, 9, 0, 0, 0), To: utc(2026, 3, 10, 0, 0, 0),
		Records: []cpis.NotifiedRecord{
			{NHSNumber: nhs, LocalID: "EX/CH/0093", FileID: "E10000003-20260301-0001", Accesses: []cpis.AccessEvent{
				{ID: "5D4C3B2A-1908-4776-8554-433221100FFE", NHSNumber: nhs, At: utc(2026, 3, 9, 2, 17, 44), Accessor: named, Shown: true},
				{ID: "legacy-event-42", NHSNumber: nhs, At: utc(2026, 3, 9, 19, 5, 0), Accessor: anonymous, Shown: true},
			}},
		},
	}
}

var notifReply = hl7.NotificationReply{ID: "D00DFEED-2222-4333-8444-555566667777", CreationTime: utc(2026, 3, 10, 1, 15, 0)}

// supersededNumber: a summer notification of one number PDS has replaced,
// with the new one.
func supersededNumber() cpis.InactiveNotification {
	return cpis.InactiveNotification{LA: notifLA, At: utc(2026, 6, 12, 1, 30, 0), Subjects: []cpis.InactiveSubject{
		{Old: "9990000107", New: "9990000115", FileID: "E10000003-20260301-0001", LocalID: "EX/CH/0107"},
	}}
}

// unknownReplacement: numbers PDS no longer treats as active with no
// replacement known, one from an upload, one from the emulated world.
func unknownReplacement() cpis.InactiveNotification {
	return cpis.InactiveNotification{LA: notifLA, At: utc(2026, 3, 10, 1, 30, 0), Subjects: []cpis.InactiveSubject{
		{Old: "9990000123", FileID: "E10000003-20260215-0003", LocalID: "EX/CH/0123"},
		{Old: "9990000018"},
	}}
}

// notificationSchemaSet is one schema set's compiled notification schemas,
// by root element.
type notificationSchemaSet map[string]*libxml2.Schema

var (
	notifSchemasOnce sync.Once
	notifSchemas     map[string]notificationSchemaSet
	notifSchemasErr  error
)

// notificationSchemas compiles the notification schemas of the official set
// and of spinegw's own, once per test binary.
func notificationSchemas(t testing.TB) map[string]notificationSchemaSet {
	t.Helper()
	notifSchemasOnce.Do(func() {
		sets := map[string]func(string) (*libxml2.Schema, error){
			"official": func(e string) (*libxml2.Schema, error) { return libxml2.CompileSchema(os.DirFS(officialSchemas), e) },
			"own":      func(e string) (*libxml2.Schema, error) { return libxml2.CompileSchema(schema.FS, e) },
		}
		notifSchemas = map[string]notificationSchemaSet{}
		for name, compile := range sets {
			set := notificationSchemaSet{}
			for _, root := range []string{accessRoot, inactiveRoot} {
				entry, ok := schema.Entry(root)
				if !ok {
					notifSchemasErr = fmt.Errorf("schema.Entry knows no %s", root)
					return
				}
				s, err := compile(entry)
				if err != nil {
					notifSchemasErr = fmt.Errorf("%s %s: %w", name, entry, err)
					return
				}
				set[root] = s
			}
			notifSchemas[name] = set
		}
	})
	if notifSchemasErr != nil {
		t.Fatal(notifSchemasErr)
	}
	return notifSchemas
}

// mustValidateNotification checks a notification against both schema sets
// and returns its document.
func mustValidateNotification(t *testing.T, out []byte) *libxml2.Document {
	t.Helper()
	doc, err := libxml2.Parse(out, libxml2.ParseOptions{})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, out)
	}
	t.Cleanup(doc.Free)
	root := doc.Root().LocalName()
	for setName, set := range notificationSchemas(t) {
		s := set[root]
		if s == nil {
			t.Fatalf("no %s schema for root %s", setName, root)
		}
		for _, e := range s.ValidateDocument(doc) {
			t.Errorf("%s schema: %s", setName, e)
		}
	}
	return doc
}

// goldenNotification compares out with testdata/notification/name, or
// rewrites it with -update.
func goldenNotification(t *testing.T, name string, out []byte) {
	t.Helper()
	path := filepath.Join("testdata", "notification", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\n got %s\nwant %s", name, out, want)
	}
}

func writeAccess(t *testing.T, r hl7.NotificationReply, n cpis.AccessNotification) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := hl7.WriteAccessNotification(&b, r, n); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeInactive(t *testing.T, r hl7.NotificationReply, n cpis.InactiveNotification) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := hl7.WriteInactiveNotification(&b, r, n); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var notifNS = map[string]string{"h": hl7.NS, "l": hl7.NSLocalisation}

// xpathValues returns the string value of every node expr selects.
func notifNodes(t *testing.T, doc *libxml2.Document, expr string) []string {
	t.Helper()
	nodes, err := doc.XPath(expr, notifNS)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Text()
	}
	return out
}

func notifString(t *testing.T, doc *libxml2.Document, expr string) string {
	t.Helper()
	s, err := doc.XPathString(expr, notifNS)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNotificationGolden(t *testing.T) {
	cases := []struct {
		name  string
		write func(*testing.T) []byte
	}{
		{"access-clock-change-day.xml", func(t *testing.T) []byte {
			return writeAccess(t, hl7.NotificationReply{ID: notifReply.ID, CreationTime: utc(2025, 10, 27, 1, 15, 0)}, clockChangeDay())
		}},
		{"access-none.xml", func(t *testing.T) []byte { return writeAccess(t, notifReply, quietDay()) }},
		{"access-system.xml", func(t *testing.T) []byte { return writeAccess(t, notifReply, systemDay()) }},
		{"inactive-superseded.xml", func(t *testing.T) []byte {
			return writeInactive(t, hl7.NotificationReply{ID: notifReply.ID}, supersededNumber())
		}},
		{"inactive-no-replacement.xml", func(t *testing.T) []byte { return writeInactive(t, notifReply, unknownReplacement()) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := c.write(t)
			mustValidateNotification(t, out)
			goldenNotification(t, c.name, out)
		})
	}
}

// TestAccessNotificationContent reads back what the LA needs from a day's
// notification: how many records, who looked from where and when, which
// child and which of its files (CP-IS008, CP-IS022, CP-IS045, CP-IS051).
func TestAccessNotificationContent(t *testing.T) {
	n := clockChangeDay()
	doc := mustValidateNotification(t, writeAccess(t, hl7.NotificationReply{ID: notifReply.ID, CreationTime: utc(2025, 10, 27, 1, 15, 0)}, n))
	const root = "/h:CP-ISAccessToServiceNotification"
	check := func(expr, want string) {
		t.Helper()
		if got := notifString(t, doc, "string("+expr+")"); got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
	check(root+"/h:effectiveTime/@value", "20251027011500+0000")
	check(root+"/h:id/@root", notifReply.ID)
	check(root+"/h:pertinentInformation/h:pertinentTotalReturnedRecords/h:value/@value", "2")
	check("count("+root+"/h:pertinentInformation1)", "2")
	const rec1 = root + "/h:pertinentInformation1[1]/h:pertinentCP-ISRecordAccess"
	const rec2 = root + "/h:pertinentInformation1[2]/h:pertinentCP-ISRecordAccess"
	check("count("+rec1+"/h:pertinentInformation2)", "3")
	check("count("+rec2+"/h:pertinentInformation2)", "1")

	q := rec1 + "/h:pertinentInformation2[1]/h:pertinentCP-ISNHSQuery"
	// 00:10 in summer time, 23:30 in winter time: each with its own offset.
	check(q+"/h:effectiveTime/@value", "20251026001000+0100")
	check(rec1+"/h:pertinentInformation2[3]/h:pertinentCP-ISNHSQuery/h:effectiveTime/@value", "20251026233000+0000")
	check(q+"/h:id/@root", "3F2A9C1E-7B4D-4E8F-9A6B-0C1D2E3F4A5B")
	check(q+"/h:author/l:contentId/@extension", "COCT_TP145102GB01#AssignedAuthor")
	a := q + "/h:author/h:COCT_TP145102GB01.AssignedAuthor"
	check(a+"/h:code/@code", "S0030:G0100:R0680")
	check(a+"/h:code/@displayName", "Midwife")
	check(a+"/h:id[1]/@extension", "100000000505")
	check(a+"/h:id[2]/@extension", "100000000606")
	check(a+"/h:assignedAuthorPerson/h:name/h:family", "O'Connell")
	check(a+"/h:representedOrganization/h:id/@extension", "RX1")
	check(a+"/h:representedOrganization/h:name", "Example Hospitals NHS Trust")
	check(q+"/h:queryByParameter/h:person.id/h:value[1]/@root", "2.16.840.1.113883.2.1.4.1")
	check(q+"/h:queryByParameter/h:person.id/h:value[1]/@extension", "9990000042")
	check(q+"/h:queryByParameter/h:person.id/h:value[2]/@root", "2.16.840.1.113883.2.1.3.2.4.18.24")
	check(q+"/h:queryByParameter/h:person.id/h:value[2]/@extension", "EX/CH/0042")
	check(rec1+"/h:reference/h:referredToLAUploadFile/h:value/@extension", "E10000003-20251001-0007")

	// The world's record: no local id, the file id placeholder.
	check("count("+rec2+"//h:person.id/h:value)", "1")
	check(rec2+"/h:reference/h:referredToLAUploadFile/h:value/@extension", "UNK")

	r := root + "/h:primaryInformationRecipient"
	check(r+"/l:contentId/@extension", "COCT_TP145103GB01#IntendedRecipient")
	check(r+"/h:COCT_TP145103GB01.IntendedRecipient/h:representedSourceOrganization/h:id/@extension", "E10000003")
	check(r+"/h:COCT_TP145103GB01.IntendedRecipient/h:representedSourceOrganization/h:name", "Exampleshire & District Council")
}

// TestInactiveNotificationContent reads back the inactive numbers, their
// replacements when known, the LA's ids and files (CP-IS012, CP-IS051).
func TestInactiveNotificationContent(t *testing.T) {
	doc := mustValidateNotification(t, writeInactive(t, hl7.NotificationReply{}, supersededNumber()))
	const p = "/h:CP-ISInactiveNHSNumberNotification/h:subject/h:pDSInactivePatient"
	for expr, want := range map[string]string{
		"string(/h:CP-ISInactiveNHSNumberNotification/h:effectiveTime/@value)": "20260612023000+0100",
		"string(" + p + "/h:id[1]/@extension)":                                 "9990000107",
		"string(" + p + "/h:id[2]/@extension)":                                 "EX/CH/0107",
		"string(" + p + "/h:replacedBy/h:newVersion/h:id/@extension)":          "9990000115",
		"string(" + p + "/h:subjectOf/h:lAUploadFile/h:value/@extension)":      "E10000003-20260301-0001",
	} {
		if got := notifString(t, doc, expr); got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
	// An empty reply id gets a new upper-case UUID.
	id := notifString(t, doc, "string(/h:CP-ISInactiveNHSNumberNotification/h:id/@root)")
	if len(id) != 36 || id != strings.ToUpper(id) {
		t.Errorf("id %q is not an upper-case UUID", id)
	}

	doc = mustValidateNotification(t, writeInactive(t, notifReply, unknownReplacement()))
	if got := notifNodes(t, doc, "//h:replacedBy"); len(got) != 0 {
		t.Errorf("%d replacedBy for numbers with no known replacement", len(got))
	}
	if got := notifNodes(t, doc, "/h:CP-ISInactiveNHSNumberNotification/h:subject[2]/h:pDSInactivePatient/h:id"); len(got) != 1 {
		t.Errorf("a subject without local id has %d ids, want 1", len(got))
	}
	// A "replacement" by the same number is no replacement.
	same := cpis.InactiveNotification{LA: notifLA, At: utc(2026, 3, 10, 1, 0, 0),
		Subjects: []cpis.InactiveSubject{{Old: "9990000107", New: "9990000107", FileID: "F1"}}}
	doc = mustValidateNotification(t, writeInactive(t, notifReply, same))
	if got := notifNodes(t, doc, "//h:replacedBy"); len(got) != 0 {
		t.Errorf("replacedBy written for a number replaced by itself")
	}
}

func TestNotificationIDAndTime(t *testing.T) {
	// Without a creation time, an access notification is dated the end of
	// its period, an inactive one its At.
	doc := mustValidateNotification(t, writeAccess(t, hl7.NotificationReply{ID: "d00dfeed-2222-4333-8444-555566667777"}, quietDay()))
	if got := notifString(t, doc, "string(/h:CP-ISAccessToServiceNotification/h:effectiveTime/@value)"); got != "20260310000000+0000" {
		t.Errorf("effectiveTime %q, want the end of the period", got)
	}
	if got := notifString(t, doc, "string(/h:CP-ISAccessToServiceNotification/h:id/@root)"); got != notifReply.ID {
		t.Errorf("id %q, want the reply's upper-cased", got)
	}
	// Two notifications made without ids differ (CP-IS019).
	a := writeAccess(t, hl7.NotificationReply{CreationTime: notifReply.CreationTime}, quietDay())
	b := writeAccess(t, hl7.NotificationReply{CreationTime: notifReply.CreationTime}, quietDay())
	if bytes.Equal(a, b) {
		t.Error("two notifications made without an id got the same one")
	}
}

// TestNotificationRefusals: what the schema cannot carry is refused as an
// internal error, before anything is written, and the reason names no
// patient.
func TestNotificationRefusals(t *testing.T) {
	day := clockChangeDay
	accessCases := map[string]func() (hl7.NotificationReply, cpis.AccessNotification){
		"LA without ODS code": func() (hl7.NotificationReply, cpis.AccessNotification) {
			n := day()
			n.LA.ODS = " "
			return notifReply, n
		},
		"no time at all": func() (hl7.NotificationReply, cpis.AccessNotification) {
			n := day()
			n.To = time.Time{}
			return hl7.NotificationReply{}, n
		},
		"creation time past year 9999": func() (hl7.NotificationReply, cpis.AccessNotification) {
			return hl7.NotificationReply{CreationTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, day()
		},
		"id not a UUID": func() (hl7.NotificationReply, cpis.AccessNotification) {
			return hl7.NotificationReply{ID: "notification-1", CreationTime: notifReply.CreationTime}, day()
		},
		"record without NHS number": func() (hl7.NotificationReply, cpis.AccessNotification) {
			n := day()
			n.Records[1].NHSNumber = ""
			return notifReply, n
		},
		"record without access": func() (hl7.NotificationReply, cpis.AccessNotification) {
			n := day()
			n.Records[1].Accesses = nil
			return notifReply, n
		},
		"access without time": func() (hl7.NotificationReply, cpis.AccessNotification) {
			n := day()
			n.Records[0].Accesses[2].At = time.Time{}
			return notifReply, n
		},
	}
	for name, c := range accessCases {
		t.Run("access/"+name, func(t *testing.T) {
			r, n := c()
			var b bytes.Buffer
			mustRefuse(t, hl7.WriteAccessNotification(&b, r, n), b.Bytes())
		})
	}
	inactiveCases := map[string]func() (hl7.NotificationReply, cpis.InactiveNotification){
		"no subject": func() (hl7.NotificationReply, cpis.InactiveNotification) {
			n := unknownReplacement()
			n.Subjects = nil
			return notifReply, n
		},
		"subject without number": func() (hl7.NotificationReply, cpis.InactiveNotification) {
			n := unknownReplacement()
			n.Subjects[1].Old = ""
			return notifReply, n
		},
		"LA without ODS code": func() (hl7.NotificationReply, cpis.InactiveNotification) {
			n := unknownReplacement()
			n.LA.ODS = ""
			return notifReply, n
		},
		"no time at all": func() (hl7.NotificationReply, cpis.InactiveNotification) {
			n := unknownReplacement()
			n.At = time.Time{}
			return hl7.NotificationReply{}, n
		},
	}
	for name, c := range inactiveCases {
		t.Run("inactive/"+name, func(t *testing.T) {
			r, n := c()
			var b bytes.Buffer
			mustRefuse(t, hl7.WriteInactiveNotification(&b, r, n), b.Bytes())
		})
	}
}

func mustRefuse(t *testing.T, err error, written []byte) {
	t.Helper()
	var e *cpis.Error
	if !errors.As(err, &e) || e.Kind != cpis.KindInternal {
		t.Fatalf("err = %v, want a KindInternal *cpis.Error", err)
	}
	if len(written) > 0 {
		t.Errorf("wrote %d bytes before refusing", len(written))
	}
	if strings.Contains(err.Error(), "99900000") {
		t.Errorf("the refusal %q carries an NHS number", err)
	}
}

// TestAccessNotificationWithoutOrganisation: an accessor the directory gave
// no organisation or job role is written as the query response writes it,
// with UNK codes, rather than withholding the LA's whole day (CP-IS025).
func TestAccessNotificationWithoutOrganisation(t *testing.T) {
	n := quietDay()
	nhs := cpis.NHSNumber("9990000050")
	n.Records = []cpis.NotifiedRecord{{NHSNumber: nhs, FileID: "F-1", Accesses: []cpis.AccessEvent{
		{ID: "11111111-2222-4333-8444-555555555555", NHSNumber: nhs, At: utc(2026, 3, 9, 8, 0, 0), Accessor: cpis.Accessor{}, Shown: true},
		{ID: "11111111-2222-4333-8444-666666666666", NHSNumber: nhs, At: utc(2026, 3, 9, 9, 0, 0), Accessor: cpis.Accessor{System: true, ASID: "200000000909"}, Shown: true},
	}}}
	doc := mustValidateNotification(t, writeAccess(t, notifReply, n))
	ids, err := doc.XPath("//h:representedOrganization/h:id | //h:maintainingOrganization/h:id", notifNS)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0].Attr("extension") != "UNK" || ids[1].Attr("extension") != "UNK" {
		t.Errorf("%d organisations, want two, both UNK", len(ids))
	}
}

// TestAccessNotificationLarge: a county's busy day is passed on to the
// writer in pieces, and still makes one valid document.
func TestAccessNotificationLarge(t *testing.T) {
	n := quietDay()
	for i := range 400 {
		nhs := cpis.NHSNumber(fmt.Sprintf("999%07d", i))
		rec := cpis.NotifiedRecord{NHSNumber: nhs, LocalID: "L" + strconv.Itoa(i), FileID: "F-" + strconv.Itoa(i%7)}
		for j := range 3 {
			acc := notifNurse
			acc.UserID = strconv.Itoa(100000001000 + j)
			rec.Accesses = append(rec.Accesses, cpis.AccessEvent{ID: fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", i, j),
				NHSNumber: nhs, At: utc(2026, 3, 9, j*7, i%60, 0), Accessor: acc, Shown: true})
		}
		n.Records = append(n.Records, rec)
	}
	var w countingWriter
	if err := hl7.WriteAccessNotification(&w, notifReply, n); err != nil {
		t.Fatal(err)
	}
	if w.writes < 2 {
		t.Errorf("%d KB in %d write(s): the notification was not passed on in pieces", w.Len()>>10, w.writes)
	}
	doc := mustValidateNotification(t, w.Bytes())
	if got := notifString(t, doc, "string(/h:CP-ISAccessToServiceNotification/h:pertinentInformation/h:pertinentTotalReturnedRecords/h:value/@value)"); got != "400" {
		t.Errorf("total %s, want 400", got)
	}
	if got := notifString(t, doc, "count(//h:pertinentCP-ISNHSQuery)"); got != "1200" {
		t.Errorf("%s accesses, want 1200", got)
	}
}

type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// failingWriter fails every write.
type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestNotificationWriteError(t *testing.T) {
	broken := errors.New("disk full")
	if err := hl7.WriteAccessNotification(failingWriter{broken}, notifReply, clockChangeDay()); !errors.Is(err, broken) {
		t.Errorf("access notification: err = %v, want the writer's", err)
	}
	if err := hl7.WriteInactiveNotification(failingWriter{broken}, notifReply, unknownReplacement()); !errors.Is(err, broken) {
		t.Errorf("inactive notification: err = %v, want the writer's", err)
	}
}

// FuzzNotifications: whatever names, organisation names and identifiers the
// store holds, both notifications are well-formed XML, or are refused as an
// internal error.
func FuzzNotifications(f *testing.F) {
	f.Add("Nia Grace", "O'Connell", "Example Hospitals NHS Trust", "RX1", "E10000003", "Exampleshire & District Council",
		"EX/CH/0042", "E10000003-20251001-0007", "100000000505", "S0030:G0100:R0680", "3f2a9c1e-7b4d-4e8f-9a6b-0c1d2e3f4a5b", "9990000042", false)
	f.Add("", "", "", "", "E1", "", "", "", "", "", "", "9990000018", true)
	f.Add("<b>&amp;</b>", "]]>\x00\xff", "\"'\t\r\n", "\uFFFE", "a\x01b", "\xed\xa0\x80", "&#0;", "--", "&", "<", "\"", "1", false)
	f.Fuzz(func(t *testing.T, given, family, orgName, orgODS, laODS, laName, localID, fileID, userID, jobRole, eventID, nhs string, system bool) {
		acc := cpis.Accessor{UserID: userID, RoleProfileID: userID, Name: cpis.Name{Prefix: given, Given: []string{given, family}, Family: family},
			JobRole: cpis.JobRole{Code: jobRole, Name: orgName}, Org: cpis.Org{ODS: orgODS, Name: orgName}, System: system, ASID: userID}
		la := cpis.LocalAuthority{ODS: laODS, Name: laName}
		at := utc(2026, 3, 9, 12, 0, 0)
		access := cpis.AccessNotification{LA: la, From: at.Add(-12 * time.Hour), To: at.Add(12 * time.Hour), Records: []cpis.NotifiedRecord{
			{NHSNumber: cpis.NHSNumber(nhs), LocalID: localID, FileID: fileID, Accesses: []cpis.AccessEvent{
				{ID: eventID, NHSNumber: cpis.NHSNumber(nhs), At: at, Accessor: acc, Shown: true}}},
		}}
		inactive := cpis.InactiveNotification{LA: la, At: at, Subjects: []cpis.InactiveSubject{
			{Old: cpis.NHSNumber(nhs), New: cpis.NHSNumber(userID), FileID: fileID, LocalID: localID}}}
		for _, write := range []func(*bytes.Buffer) error{
			func(b *bytes.Buffer) error {
				return hl7.WriteAccessNotification(b, hl7.NotificationReply{CreationTime: at}, access)
			},
			func(b *bytes.Buffer) error {
				return hl7.WriteInactiveNotification(b, hl7.NotificationReply{CreationTime: at}, inactive)
			},
		} {
			var b bytes.Buffer
			if err := write(&b); err != nil {
				if cpis.KindOf(err) != cpis.KindInternal || b.Len() > 0 {
					t.Fatalf("refused with %v after %d bytes", err, b.Len())
				}
				continue
			}
			doc, err := libxml2.Parse(b.Bytes(), libxml2.ParseOptions{})
			if err != nil {
				t.Fatalf("not well-formed: %v\n%s", err, b.Bytes())
			}
			root := doc.Root()
			if root.NamespaceURI() != hl7.NS || (root.LocalName() != accessRoot && root.LocalName() != inactiveRoot) {
				t.Errorf("root {%s}%s", root.NamespaceURI(), root.LocalName())
			}
			doc.Free()
		}
	})
}

// TestNotificationSchemasRefuse: the schemas the notifications are checked
// against do refuse a broken one, so that the golden tests' validation
// proves something.
func TestNotificationSchemasRefuse(t *testing.T) {
	out := writeAccess(t, notifReply, quietDay())
	for name, broken := range map[string][]byte{
		"no total":             cut(t, out, "<pertinentInformation>", "</pertinentInformation>"),
		"no recipient":         cut(t, out, "<primaryInformationRecipient>", "</primaryInformationRecipient>"),
		"inactive, no subject": cut(t, writeInactive(t, notifReply, unknownReplacement()), "<subject>", "</subject>"),
	} {
		doc, err := libxml2.Parse(broken, libxml2.ParseOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for setName, set := range notificationSchemas(t) {
			if errs := set[doc.Root().LocalName()].ValidateDocument(doc); len(errs) == 0 {
				t.Errorf("%s: the %s schema accepts it", name, setName)
			}
		}
		doc.Free()
	}
}

// cut removes from out the text from the first from to the end of the last
// to.
func cut(t *testing.T, out []byte, from, to string) []byte {
	t.Helper()
	s := string(out)
	i, j := strings.Index(s, from), strings.LastIndex(s, to)
	if i < 0 || j < i {
		t.Fatalf("%q ... %q not found", from, to)
	}
	return []byte(s[:i] + s[j+len(to):])
}
