package cpis_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
)

// The PDS the upload cases are checked against. Numbers are in the
// never-issued 999 range, each with a valid check digit.
const (
	nhsOliver          = "9990001006" // Oliver Hughes, born 2015-06-12: a child
	nhsSarah           = "9990001014" // Sarah Mitchell, born 1999-08-27: an expectant mother
	nhsMerged          = "9990001022" // superseded by nhsMergedInto
	nhsMergedInto      = "9990001030"
	nhsSensitive       = "9990001049" // Amelia Khan, born 2012-11-03, sensitive
	nhsMergedSensitive = "9990001057" // superseded by nhsMergedSensitiveTo, and sensitive
	nhsMergedSensTo    = "9990001065"
	nhsUnknownToPDS    = "9990001073" // a valid number PDS does not hold
	nhsBadCheckDigit   = "9990001007" // nhsOliver with its check digit one off
	nhsCheckTen        = "9990000000" // a prefix whose check digit would be 10
)

var uploadPDS = map[cpis.NHSNumber]cpis.Patient{
	nhsOliver:          {NHSNumber: nhsOliver, Name: cpis.Name{Given: []string{"Oliver"}, Family: "Hughes"}, BirthDate: day("2015-06-12")},
	nhsSarah:           {NHSNumber: nhsSarah, Name: cpis.Name{Prefix: "Ms", Given: []string{"Sarah", "Louise"}, Family: "Mitchell"}, BirthDate: day("1999-08-27")},
	nhsMerged:          {NHSNumber: nhsMerged, Name: cpis.Name{Given: []string{"Oliver"}, Family: "Hughes"}, BirthDate: day("2015-06-12"), SupersededBy: nhsMergedInto},
	nhsMergedInto:      {NHSNumber: nhsMergedInto, Name: cpis.Name{Given: []string{"Oliver"}, Family: "Hughes"}, BirthDate: day("2015-06-12")},
	nhsSensitive:       {NHSNumber: nhsSensitive, Name: cpis.Name{Given: []string{"Amelia"}, Family: "Khan"}, BirthDate: day("2012-11-03"), Sensitive: true},
	nhsMergedSensitive: {NHSNumber: nhsMergedSensitive, Name: cpis.Name{Given: []string{"Amelia"}, Family: "Khan"}, BirthDate: day("2012-11-03"), Sensitive: true, SupersededBy: nhsMergedSensTo},
}

// recOpt changes one thing about an uploaded record.
type recOpt func(*cpis.UploadRecord)

func nhs(n string) recOpt { return func(r *cpis.UploadRecord) { r.NHSNumber = n } }

var oldStyleRoot recOpt = func(r *cpis.UploadRecord) { r.OldStyle = true }

func named(given, family string) recOpt {
	return func(r *cpis.UploadRecord) {
		r.Name = cpis.Name{Family: family}
		if given != "" {
			r.Name.Given = []string{given}
		}
	}
}

func bornOn(s string) recOpt { return func(r *cpis.UploadRecord) { r.BirthDate = day(s) } }

var noBirthDate recOpt = func(r *cpis.UploadRecord) { r.BirthDate = time.Time{} }

var noLocalID recOpt = func(r *cpis.UploadRecord) { r.LocalID = "" }

func plans(ps ...cpis.Plan) recOpt { return func(r *cpis.UploadRecord) { r.Plans = ps } }

// childRecord is Oliver Hughes's record as his LA sends it: his number,
// name and date of birth as PDS holds them, a CPP started 2025-01-01.
func childRecord(opts ...recOpt) cpis.UploadRecord {
	r := cpis.UploadRecord{
		Position: 3, NHSNumber: nhsOliver, LocalID: "SOM-CH-004411",
		Name: cpis.Name{Given: []string{"Oliver"}, Family: "Hughes"}, BirthDate: day("2015-06-12"),
		Plans: []cpis.Plan{cpp(start("2025-01-01"))},
	}
	for _, o := range opts {
		o(&r)
	}
	return r
}

// unbornRecord is the record of Sarah Mitchell's unborn child: her number,
// name and date of birth, an unborn CPP started 2026-01-15, due 2026-06-20.
func unbornRecord(opts ...recOpt) cpis.UploadRecord {
	r := cpis.UploadRecord{
		Position: 4, NHSNumber: nhsSarah, LocalID: "SOM-UB-000017", Unborn: true,
		Name: cpis.Name{Given: []string{"Sarah"}, Family: "Mitchell"}, BirthDate: day("1999-08-27"),
		Plans: []cpis.Plan{ucp(start("2026-01-15"), due("2026-06-20"))},
	}
	for _, o := range opts {
		o(&r)
	}
	return r
}

// expect is what CheckRecord should answer: a code, a phrase its detail
// holds, and for CPR05 the new number.
type expect struct {
	code   string
	detail string
	newNHS cpis.NHSNumber
}

var stored = expect{code: cpis.CPR06}

func rejected(code, detail string) expect { return expect{code: code, detail: detail} }

func supersededBy(n cpis.NHSNumber) expect {
	return expect{code: cpis.CPR05, detail: "superseded", newNHS: n}
}

const (
	current  = cpis.VerifyCurrent
	cpis2015 = cpis.VerifyCPIS2015
)

func TestCheckRecord(t *testing.T) {
	tests := []struct {
		name string
		rec  cpis.UploadRecord
		v    cpis.Verification
		want expect
	}{
		// CP-IS002, CP-IS006: a verified NHS number with complete data is stored.
		{"CP-IS002 a child whose details match PDS is stored", childRecord(), current, stored},
		{"CP-IS002 a child whose details match PDS is stored under the 2015 rule too", childRecord(), cpis2015, stored},
		{"CP-IS033 an unborn child's plan under the mother's verified number is stored", unbornRecord(), current, stored},
		{"CP-IS051 the LA's local child identifier is optional", childRecord(noLocalID), current, stored},

		// CP-SC001, CP-IS002: only new-style, valid NHS numbers.
		{"CP-SC011 a record with no NHS number is CPR07", childRecord(nhs("")), current, rejected(cpis.CPR07, "the child's NHS number is missing")},
		{"CP-SC011 a blank NHS number is missing, CPR07", childRecord(nhs("   ")), current, rejected(cpis.CPR07, "NHS number is missing")},
		{"CP-SC012 an unborn child's record without the mother's NHS number is CPR07", unbornRecord(nhs("")), current, rejected(cpis.CPR07, "the mother's NHS number is missing")},
		{"CP-IS002 a number sent under the old-style root is CPR04 even with ten valid digits", childRecord(oldStyleRoot), current, rejected(cpis.CPR04, "new-style")},
		{"CP-IS002 an alphanumeric legacy number is CPR04", childRecord(nhs("RGT0012345")), current, rejected(cpis.CPR04, "new-style")},
		{"CP-IS002 an old-style number under the old-style root is CPR04", childRecord(nhs("A123456"), oldStyleRoot), current, rejected(cpis.CPR04, "new-style")},
		{"CP-IS002 a nine-digit number is CPR04", childRecord(nhs("999000100")), current, rejected(cpis.CPR04, "new-style")},
		{"CP-IS002 an eleven-digit number is CPR04", childRecord(nhs("99900010060")), current, rejected(cpis.CPR04, "new-style")},
		{"CP-IS002 a number printed with spaces is not ten digits: CPR04", childRecord(nhs("999 000 1006")), current, rejected(cpis.CPR04, "new-style")},
		{"CP-IS033 a mother's old-style number is CPR04", unbornRecord(oldStyleRoot), current, rejected(cpis.CPR04, "new-style")},
		{"CP-SC002 ten digits failing Modulus 11 are CPR07", childRecord(nhs(nhsBadCheckDigit)), current, rejected(cpis.CPR07, "NHS number fails the Modulus 11 check")},
		{"CP-SC002 ten digits whose check digit would be 10 are CPR07", childRecord(nhs(nhsCheckTen)), current, rejected(cpis.CPR07, "NHS number fails the Modulus 11 check")},
		{"CP-SC002 a mother's number failing Modulus 11 is CPR07", unbornRecord(nhs(nhsBadCheckDigit)), current, rejected(cpis.CPR07, "NHS number fails the Modulus 11 check")},
		{"CP-IS006 the number is checked first: old-style with no plans is CPR04", childRecord(oldStyleRoot, plans()), current, rejected(cpis.CPR04, "new-style")},
		{"CP-IS006 the number is checked first: a Modulus 11 failure without a start date is reported as the number", childRecord(nhs(nhsBadCheckDigit), plans(cpp())), current, rejected(cpis.CPR07, "Modulus 11")},

		// CP-IS002, CP-SC012: the subject's mandatory data.
		{"CP-IS002 a child without a date of birth is CPR07", childRecord(noBirthDate), current, rejected(cpis.CPR07, "the child's date of birth is missing")},
		{"CP-SC012 an unborn child's record without the mother's date of birth is CPR07", unbornRecord(noBirthDate), current, rejected(cpis.CPR07, "the mother's date of birth is missing")},
		{"CP-SC012 an unborn child's record without the mother's given name is CPR07", unbornRecord(named("", "Mitchell")), current, rejected(cpis.CPR07, "the mother's given name is missing")},
		{"CP-SC012 an unborn child's record without the mother's family name is CPR07", unbornRecord(named("Sarah", "")), current, rejected(cpis.CPR07, "the mother's family name is missing")},
		{"CP-SC012 a mother's given name of punctuation only is missing", unbornRecord(named(" - ", "Mitchell")), current, rejected(cpis.CPR07, "the mother's given name is missing")},
		{"CP-SC012 a mother's family name of spaces only is missing", unbornRecord(named("Sarah", "  ")), current, rejected(cpis.CPR07, "the mother's family name is missing")},
		{"CP-SC012 the mother's date of birth is reported before her names", unbornRecord(noBirthDate, named("", "")), current, rejected(cpis.CPR07, "date of birth is missing")},
		{"CP-IS002 a child without a forename is not an error but not verified: CPR03", childRecord(named("", "Hughes")), current, rejected(cpis.CPR03, "do not verify")},
		{"CP-IS002 a child without a forename is not verified under the 2015 rule either when the date is not exact", childRecord(named("", "Hughes"), bornOn("2015-06-13")), cpis2015, rejected(cpis.CPR03, "do not verify")},
		{"CP-IS002 a child without a family name is CPR03", childRecord(named("Oliver", "")), current, rejected(cpis.CPR03, "do not verify")},

		// CP-SC011, CP-SC013, CP-IS033, CP-IS035: the plans.
		{"CP-SC011 a child's record with no plan is CPR07", childRecord(plans()), current, rejected(cpis.CPR07, "no CPP or LAC information")},
		{"CP-SC011 an unborn child's record with no plan is CPR07", unbornRecord(plans()), current, rejected(cpis.CPR07, "no unborn CPP information")},
		{"CP-SC011 a CPP without a start date is CPR07", childRecord(plans(cpp())), current, rejected(cpis.CPR07, "the CPP start date is missing")},
		{"CP-SC011 a LAC without a start date is CPR07", childRecord(plans(lac(end("2026-01-01")))), current, rejected(cpis.CPR07, "the LAC start date is missing")},
		{"CP-SC011 an unborn CPP without a start date is CPR07", unbornRecord(plans(ucp(due("2026-06-20")))), current, rejected(cpis.CPR07, "the unborn CPP start date is missing")},
		{"CP-SC013 an unborn CPP without its due date as end date is CPR07", unbornRecord(plans(ucp(start("2026-01-15")))), current, rejected(cpis.CPR07, "end date (the expected due date) is missing")},
		{"CP-SC013 an unborn CPP with a delete date but no due date is CPR07", unbornRecord(plans(ucp(start("2026-01-15"), del("2026-02-01")))), current, rejected(cpis.CPR07, "expected due date")},
		{"CP-SC011 a CPP ending before it starts is CPR07", childRecord(plans(cpp(start("2025-03-01"), end("2025-02-28")))), current, rejected(cpis.CPR07, "the CPP end date is before its start date")},
		{"CP-SC011 a LAC ending before it starts is CPR07", childRecord(plans(lac(start("2025-03-01"), end("2024-03-01")))), current, rejected(cpis.CPR07, "the LAC end date is before its start date")},
		{"CP-SC013 an unborn CPP due before it starts is CPR07", unbornRecord(plans(ucp(start("2026-01-15"), due("2026-01-14")))), current, rejected(cpis.CPR07, "the unborn CPP end date is before its start date")},
		{"CP-IS010 a CPP ending on the day it starts is stored", childRecord(plans(cpp(start("2025-03-01"), end("2025-03-01")))), current, stored},
		{"CP-IS010 a CPP with no end date is stored", childRecord(plans(cpp(start("2025-03-01")))), current, stored},
		{"CP-IS010 a CPP ending in the future is stored", childRecord(plans(cpp(start("2025-03-01"), end("2030-01-01")))), current, stored},
		{"CP-IS009 a delete date is not constrained: one before the start is stored", childRecord(plans(cpp(start("2025-03-01"), del("2025-01-01")))), current, stored},
		{"CP-IS011 an unborn CPP with a due date and a delete date is stored", unbornRecord(plans(ucp(start("2026-01-15"), due("2026-06-20"), del("2026-03-01")))), current, stored},
		{"CP-IS035 a child with a CPP and a LAC at once is stored", childRecord(plans(cpp(start("2025-01-01")), lac(start("2024-06-01"), end("2025-06-01")))), current, stored},
		{"CP-IS035 a LAC sent before the CPP is stored", childRecord(plans(lac(start("2024-06-01")), cpp(start("2025-01-01")))), current, stored},
		{"CP-IS035 two CPPs in one record are CPR07: one of each type", childRecord(plans(cpp(start("2024-01-01"), end("2024-06-01")), cpp(start("2025-01-01")))), current, rejected(cpis.CPR07, "two CPPs")},
		{"CP-IS035 two LACs in one record are CPR07: one of each type", childRecord(plans(lac(start("2024-01-01")), cpp(start("2025-01-01")), lac(start("2025-01-01")))), current, rejected(cpis.CPR07, "two LACs")},
		{"CP-IS033 two unborn CPPs in one record are CPR07", unbornRecord(plans(ucp(start("2026-01-15"), due("2026-06-20")), ucp(start("2026-02-01"), due("2026-06-20")))), current, rejected(cpis.CPR07, "two unborn CPPs")},
		{"CP-IS033 an unborn CPP on a child's record is CPR07", childRecord(plans(cpp(start("2025-01-01")), ucp(start("2026-01-15"), due("2026-06-20")))), current, rejected(cpis.CPR07, "unborn CPP is sent with the mother")},
		{"CP-IS033 a CPP on an unborn child's record is CPR07", unbornRecord(plans(cpp(start("2026-01-15")))), current, rejected(cpis.CPR07, "only unborn CPP information, not a CPP")},
		{"CP-IS033 a LAC beside the unborn CPP on an unborn child's record is CPR07", unbornRecord(plans(ucp(start("2026-01-15"), due("2026-06-20")), lac(start("2026-01-15")))), current, rejected(cpis.CPR07, "not a LAC")},
		{"CP-IS002 an information item of no known type is CPR07", childRecord(plans(plan("XYZ", start("2025-01-01")))), current, rejected(cpis.CPR07, "information item 1 is not a CPP, LAC or unborn CPP")},
		{"CP-IS002 the second item of no known type is named as such", childRecord(plans(cpp(start("2025-01-01")), plan("", start("2025-01-01")))), current, rejected(cpis.CPR07, "information item 2")},
		{"CP-IS017 the first faulty plan answers: a CPP without a start before a LAC ending early", childRecord(plans(cpp(), lac(start("2025-03-01"), end("2025-01-01")))), current, rejected(cpis.CPR07, "the CPP start date is missing")},
		{"CP-IS002 the record's own data comes before PDS: an unknown number without a start date is CPR07", childRecord(nhs(nhsUnknownToPDS), plans(cpp())), current, rejected(cpis.CPR07, "start date is missing")},
		{"CP-IS002 the record's own data comes before PDS: a sensitive record with no plan is CPR07", childRecord(nhs(nhsSensitive), plans()), current, rejected(cpis.CPR07, "no CPP or LAC")},

		// CP-IS002, CP-IS006, CP-IS012: the PDS cross-check.
		{"CP-IS002 a number PDS does not know is CPR01", childRecord(nhs(nhsUnknownToPDS)), current, rejected(cpis.CPR01, "PDS holds no patient")},
		{"CP-IS033 a mother's number PDS does not know is CPR01", unbornRecord(nhs(nhsUnknownToPDS)), current, rejected(cpis.CPR01, "PDS holds no patient")},
		{"CP-IS012 a superseded number is CPR05 with the new number", childRecord(nhs(nhsMerged)), current, supersededBy(nhsMergedInto)},
		{"CP-IS012 a superseded number whose details would not verify is still CPR05", childRecord(nhs(nhsMerged), named("Jack", "Smith")), current, supersededBy(nhsMergedInto)},
		{"CP-IS012 superseded comes before sensitive: a retired sensitive record is CPR05", childRecord(nhs(nhsMergedSensitive), named("Amelia", "Khan"), bornOn("2012-11-03")), current, supersededBy(nhsMergedSensTo)},
		{"CP-IS012 a mother's superseded number is CPR05", unbornRecord(nhs(nhsMerged)), current, supersededBy(nhsMergedInto)},
		{"CP-IS002 a sensitive record is CPR02", childRecord(nhs(nhsSensitive), named("Amelia", "Khan"), bornOn("2012-11-03")), current, rejected(cpis.CPR02, "sensitive")},
		{"CP-IS002 sensitive comes before verification: a sensitive record with other details is CPR02", childRecord(nhs(nhsSensitive)), current, rejected(cpis.CPR02, "sensitive")},
		{"CP-IS002 a child whose date of birth differs from PDS is CPR03", childRecord(bornOn("2015-06-13")), current, rejected(cpis.CPR03, "the date of birth must match exactly")},
		{"CP-IS002 a child with another child's names is CPR03", childRecord(named("Amelia", "Khan")), current, rejected(cpis.CPR03, "do not verify")},
		{"CP-IS002 a mother whose date of birth differs is CPR03", unbornRecord(bornOn("1998-08-27")), current, rejected(cpis.CPR03, "do not verify")},
		{"CP-IS002 a one-letter slip in the forename with the family name exact is stored", childRecord(named("Olvier", "Hughes")), current, stored},
		{"CP-IS002 a mother giving her first given name of two is stored", unbornRecord(named("Sarah", "Mitchell")), current, stored},
		{"CP-IS002 a day out with the name starts matching verifies under the 2015 rule", childRecord(bornOn("2015-06-13")), cpis2015, stored},
		{"CP-IS002 the 2015 rule's detail says what it needs", childRecord(bornOn("2015-12-06")), cpis2015, rejected(cpis.CPR03, "two of its three parts")},
		{"CP-IS002 with no verification profile in force nothing verifies", childRecord(), "", rejected(cpis.CPR03, "no verification profile")},
	}
	check := func(r cpis.UploadRecord, v cpis.Verification, want expect) error {
		calls := 0
		lookup := func(n cpis.NHSNumber) (cpis.Patient, bool) {
			calls++
			p, ok := uploadPDS[n]
			return p, ok
		}
		got := cpis.CheckRecord(r, lookup, v)
		switch {
		case got.Code != want.code:
			return fmt.Errorf("code %s (%q), want %s", got.Code, got.Detail, want.code)
		case want.code == cpis.CPR06 && got.Detail != "":
			return fmt.Errorf("success with detail %q", got.Detail)
		case !strings.Contains(got.Detail, want.detail):
			return fmt.Errorf("detail %q, want it to say %q", got.Detail, want.detail)
		case got.NewNHSNumber != want.newNHS:
			return fmt.Errorf("new NHS number %q, want %q", got.NewNHSNumber, want.newNHS)
		case got.Position != r.Position || got.LocalID != r.LocalID || got.NHSNumber != r.NHSNumber:
			return fmt.Errorf("outcome %+v does not carry the record's position, local id and NHS number as sent", got)
		case got.Success() != (want.code == cpis.CPR06):
			return fmt.Errorf("Success() = %v for %s", got.Success(), got.Code)
		}
		// PDS is asked once, and only for a record that could be stored.
		wantCalls := 1
		if got.Code == cpis.CPR04 || got.Code == cpis.CPR07 {
			wantCalls = 0
		}
		if calls != wantCalls {
			return fmt.Errorf("PDS asked %d times, want %d", calls, wantCalls)
		}
		return nil
	}
	for _, tt := range tests {
		if err := check(tt.rec, tt.v, tt.want); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// CP-IS017, RecordOutcome.Detail: a detail says what is wrong with what the
// LA sent, never what PDS holds: not a PDS name, date of birth or, in the
// text, a new NHS number.
func TestCheckRecordDetailsCarryNoPDSData(t *testing.T) {
	lookup := func(n cpis.NHSNumber) (cpis.Patient, bool) { p, ok := uploadPDS[n]; return p, ok }
	records := []cpis.UploadRecord{
		childRecord(nhs(nhsMerged), named("Jack", "Smith"), bornOn("2010-01-01")),
		childRecord(nhs(nhsSensitive), named("Jack", "Smith"), bornOn("2010-01-01")),
		childRecord(nhs(nhsMergedSensitive), named("Jack", "Smith"), bornOn("2010-01-01")),
		childRecord(named("Jack", "Smith"), bornOn("2010-01-01")),
		unbornRecord(named("Jane", "Doe"), bornOn("1990-01-01")),
	}
	for _, v := range []cpis.Verification{current, cpis2015} {
		for _, r := range records {
			got := cpis.CheckRecord(r, lookup, v)
			p := uploadPDS[cpis.NHSNumber(r.NHSNumber)]
			leaks := append([]string{p.Name.Family, p.BirthDate.Format("2006"), p.BirthDate.Format("20060102"), string(p.SupersededBy)}, p.Name.Given...)
			for _, leak := range leaks {
				if leak != "" && strings.Contains(strings.ToLower(got.Detail), strings.ToLower(leak)) {
					t.Errorf("%s %s: detail %q carries PDS data %q", v, r.NHSNumber, got.Detail, leak)
				}
			}
		}
	}
}

// CP-IS017: the same record is answered the same way every time.
func TestCheckRecordIsDeterministic(t *testing.T) {
	lookup := func(n cpis.NHSNumber) (cpis.Patient, bool) { p, ok := uploadPDS[n]; return p, ok }
	for _, r := range []cpis.UploadRecord{childRecord(), unbornRecord(), childRecord(nhs(nhsMerged)), childRecord(plans())} {
		first := cpis.CheckRecord(r, lookup, current)
		for range 3 {
			if again := cpis.CheckRecord(r, lookup, current); again != first {
				t.Errorf("record %s answered %+v, then %+v", r.NHSNumber, first, again)
			}
		}
	}
}

// header is a well-formed file header: an id, the LA's ODS code and name,
// and its emergency (EC) and office hours (WP) numbers.
func header(opts ...func(*cpis.Upload)) cpis.Upload {
	u := cpis.Upload{
		FileID: "933-20240301-0001", CreationTime: at("2024-03-01T02:00:00Z"), Quantity: 3,
		LA:       cpis.LocalAuthority{ODS: "933", Name: "Somerset Council", Emergency: "tel:03004561234", Office: "tel:03001231234"},
		Telecoms: []cpis.Telecom{{Use: "EC", Value: "tel:03004561234"}, {Use: "WP", Value: "tel:03001231234"}},
	}
	for _, o := range opts {
		o(&u)
	}
	return u
}

func fileID(id string) func(*cpis.Upload) { return func(u *cpis.Upload) { u.FileID = id } }
func laODS(ods string) func(*cpis.Upload) { return func(u *cpis.Upload) { u.LA.ODS = ods } }
func laName(n string) func(*cpis.Upload)  { return func(u *cpis.Upload) { u.LA.Name = n } }
func tel(use, value string) cpis.Telecom  { return cpis.Telecom{Use: use, Value: value} }
func telecoms(ts ...cpis.Telecom) func(*cpis.Upload) {
	return func(u *cpis.Upload) { u.Telecoms = ts }
}

func TestCheckUploadHeader(t *testing.T) {
	const accepted = ""
	const (
		ec = "tel:03004561234"
		wp = "tel:03001231234"
	)
	tests := []struct {
		name string
		file cpis.Upload
		want string // the whole message, or accepted
	}{
		{"CP-SC011 a file with its LA's code, name, EC and WP numbers is accepted", header(), accepted},
		{"CP-SC007 the office hours (WP) number is optional", header(telecoms(tel("EC", ec))), accepted},
		{"CP-SC007 the WP number may come first", header(telecoms(tel("WP", wp), tel("EC", ec))), accepted},
		{"CP-SC011 one number serving both uses (use \"EC WP\") is accepted", header(telecoms(tel("EC WP", ec))), accepted},
		{"CP-SC011 a telephone number with a leading + is accepted", header(telecoms(tel("EC", "tel:+443004561234"))), accepted},
		{"CP-SC011 a telecom of another HL7 use beside the EC is neither counted nor refused", header(telecoms(tel("EC", ec), tel("H", wp))), accepted},
		{"CP-SC016 a file without an id is refused", header(fileID("")), "MISSING_MANDATORY_FIELD: the file has no id"},
		{"CP-SC011 a file without the LA's ODS code is refused", header(laODS("")), "MISSING_MANDATORY_FIELD: the file gives no local authority ODS code"},
		{"CP-SC011 a blank ODS code is missing", header(laODS("  ")), "MISSING_MANDATORY_FIELD: the file gives no local authority ODS code"},
		{"CP-SC011 a file without the LA's name is refused", header(laName("")), "MISSING_MANDATORY_FIELD: the file gives no local authority name"},
		{"CP-SC011 a blank LA name is missing", header(laName("\t")), "MISSING_MANDATORY_FIELD: the file gives no local authority name"},
		{"CP-SC011 a file without any telephone number is refused", header(telecoms()), "MISSING_MANDATORY_TELECOM_TYPE|EC: the file gives no emergency (EC) telephone number"},
		{"CP-SC011 an office hours number alone is no emergency number", header(telecoms(tel("WP", wp))), "MISSING_MANDATORY_TELECOM_TYPE|EC: the file gives no emergency (EC) telephone number"},
		{"CP-SC011 use codes are case-sensitive: \"ec\" is not EC", header(telecoms(tel("ec", ec))), "MISSING_MANDATORY_TELECOM_TYPE|EC: the file gives no emergency (EC) telephone number"},
		{"CP-SC011 two emergency numbers are refused", header(telecoms(tel("EC", ec), tel("EC", wp))), "DUPLICATE_TELECOM_TYPE|EC: the file gives two emergency (EC) telephone numbers"},
		{"CP-SC011 an EC number and one serving EC and WP are two emergency numbers", header(telecoms(tel("EC", ec), tel("WP EC", wp))), "DUPLICATE_TELECOM_TYPE|EC: the file gives two emergency (EC) telephone numbers"},
		{"CP-SC007 two office hours numbers are refused", header(telecoms(tel("EC", ec), tel("WP", wp), tel("WP", wp))), "DUPLICATE_TELECOM_TYPE|WP: the file gives two office hours (WP) telephone numbers"},
		{"CP-SC011 an emergency number without a value is refused", header(telecoms(tel("EC", ""))), "TELECOM_VALUE_IS_MANDATORY: telecom 1 of the local authority has no telephone number"},
		{"CP-SC011 \"tel:\" without digits is no value", header(telecoms(tel("EC", "tel:"))), "TELECOM_VALUE_IS_MANDATORY: telecom 1 of the local authority has no telephone number"},
		{"CP-SC007 an office hours number without a value is refused", header(telecoms(tel("EC", ec), tel("WP", " "))), "TELECOM_VALUE_IS_MANDATORY: telecom 2 of the local authority has no telephone number"},
		{"CP-SC016 the file id is checked first", header(fileID(""), laODS(""), telecoms()), "MISSING_MANDATORY_FIELD: the file has no id"},
		{"CP-SC011 the ODS code is reported before the name and telephones", header(laODS(""), laName(""), telecoms()), "MISSING_MANDATORY_FIELD: the file gives no local authority ODS code"},
		{"CP-SC011 an empty value is reported before a duplicate", header(telecoms(tel("WP", wp), tel("WP", ""))), "TELECOM_VALUE_IS_MANDATORY: telecom 2 of the local authority has no telephone number"},
		{"CP-SC011 a missing EC is reported before a duplicate WP", header(telecoms(tel("WP", wp), tel("WP", wp))), "MISSING_MANDATORY_TELECOM_TYPE|EC: the file gives no emergency (EC) telephone number"},
	}
	check := func(u cpis.Upload, want string) error {
		err := cpis.CheckUploadHeader(u)
		if want == accepted {
			if err != nil {
				return fmt.Errorf("refused: %v", err)
			}
			return nil
		}
		var e *cpis.Error
		switch {
		case err == nil:
			return fmt.Errorf("accepted, want %q", want)
		case !errors.As(err, &e) || e.Kind != cpis.KindInvalid:
			return fmt.Errorf("%v is not a KindInvalid *cpis.Error", err)
		case cpis.MessageOf(err) != want:
			return fmt.Errorf("message %q, want %q", cpis.MessageOf(err), want)
		}
		return nil
	}
	for _, tt := range tests {
		if err := check(tt.file, tt.want); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestFileCode(t *testing.T) {
	ok := cpis.RecordOutcome{Code: cpis.CPR06}
	fail := func(code string) cpis.RecordOutcome { return cpis.RecordOutcome{Code: code} }
	tests := []struct {
		name     string
		outcomes []cpis.RecordOutcome
		want     string
	}{
		{"CP-IS018 every record succeeded: CPF02", []cpis.RecordOutcome{ok, ok, ok}, cpis.CPF02},
		{"CP-IS018 the one record succeeded: CPF02", []cpis.RecordOutcome{ok}, cpis.CPF02},
		{"CP-IS018 some records succeeded: CPF03", []cpis.RecordOutcome{ok, fail(cpis.CPR03), ok}, cpis.CPF03},
		{"CP-IS018 one of many succeeded: CPF03", []cpis.RecordOutcome{fail(cpis.CPR01), fail(cpis.CPR02), ok, fail(cpis.CPR07)}, cpis.CPF03},
		{"CP-IS018 all but one succeeded: CPF03", []cpis.RecordOutcome{ok, ok, fail(cpis.CPR05)}, cpis.CPF03},
		{"CP-IS018 no record succeeded: CPF04", []cpis.RecordOutcome{fail(cpis.CPR04), fail(cpis.CPR07)}, cpis.CPF04},
		{"CP-IS018 the one record failed: CPF04", []cpis.RecordOutcome{fail(cpis.CPR03)}, cpis.CPF04},
		{"CP-IS018 a record with no code is no success", []cpis.RecordOutcome{fail("")}, cpis.CPF04},
		{"CP-IS018 no records at all stored nothing: CPF04", nil, cpis.CPF04},
	}
	for _, tt := range tests {
		if got := cpis.FileCode(tt.outcomes); got != tt.want {
			t.Errorf("%s: FileCode = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// CP-IS009, CP-IS019, CP-IS031, CP-IS033: a successful record is stored as
// sent, under the verified number, with the file it came in.
func TestRecordFromUpload(t *testing.T) {
	somerset := la("933")
	r := childRecord(plans(cpp(start("2025-01-01"), end("2025-06-30"), del("2025-07-01")), lac(start("2024-06-01"))))
	got := cpis.RecordFromUpload(r, nhsOliver, somerset, "933-20240301-0001")
	want := cpis.Record{
		NHSNumber: nhsOliver, LA: somerset, LocalID: "SOM-CH-004411", FileID: "933-20240301-0001",
		Plans: []cpis.Plan{cpp(start("2025-01-01"), end("2025-06-30"), del("2025-07-01")), lac(start("2024-06-01"))},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CP-IS031 RecordFromUpload = %+v, want %+v", got, want)
	}

	// CP-IS033: an unborn child's plan is stored under the mother's number.
	u := unbornRecord()
	if got := cpis.RecordFromUpload(u, nhsSarah, somerset, "f2"); got.NHSNumber != nhsSarah || len(got.Plans) != 1 || got.Plans[0].Type != cpis.UCP || !got.Plans[0].End.Equal(day("2026-06-20")) {
		t.Errorf("CP-IS033 unborn record stored as %+v", got)
	}

	// The stored plans are the record's own: changing the upload afterwards
	// does not reach the store's copy.
	r.Plans[0].Start = day("1999-01-01")
	if !got.Plans[0].Start.Equal(day("2025-01-01")) {
		t.Errorf("CP-IS031 the stored plans share the upload's slice")
	}

	// The number stored is the verified one passed in, not the string sent.
	if got := cpis.RecordFromUpload(childRecord(), nhsMergedInto, somerset, "f3"); got.NHSNumber != nhsMergedInto {
		t.Errorf("CP-IS006 stored under %s, want the number passed in %s", got.NHSNumber, nhsMergedInto)
	}

	// A record without a local id is stored without one (CP-IS051).
	if got := cpis.RecordFromUpload(childRecord(noLocalID), nhsOliver, somerset, "f4"); got.LocalID != "" {
		t.Errorf("CP-IS051 local id %q invented", got.LocalID)
	}
}

// CheckRecord and RecordFromUpload over a whole file: the outcomes give the
// file code, and only successes become records (CP-IS018, CP-IS024).
func TestUploadRulesTogether(t *testing.T) {
	lookup := func(n cpis.NHSNumber) (cpis.Patient, bool) { p, ok := uploadPDS[n]; return p, ok }
	file := header()
	if err := cpis.CheckUploadHeader(file); err != nil {
		t.Fatalf("header refused: %v", err)
	}
	records := []cpis.UploadRecord{childRecord(), unbornRecord(), childRecord(nhs(nhsUnknownToPDS))}
	var outcomes []cpis.RecordOutcome
	var storedRecords []cpis.Record
	for _, r := range records {
		o := cpis.CheckRecord(r, lookup, current)
		outcomes = append(outcomes, o)
		if o.Success() {
			storedRecords = append(storedRecords, cpis.RecordFromUpload(r, cpis.NHSNumber(r.NHSNumber), file.LA, file.FileID))
		}
	}
	if got := cpis.FileCode(outcomes); got != cpis.CPF03 {
		t.Errorf("CP-IS018 two of three stored: file code %s, want CPF03", got)
	}
	if len(storedRecords) != 2 || storedRecords[0].NHSNumber != nhsOliver || storedRecords[1].NHSNumber != nhsSarah {
		t.Errorf("CP-IS031 stored %+v", storedRecords)
	}
}
