package cpis

import (
	"fmt"
	"strings"
	"unicode"
)

// CheckUploadHeader checks the file-level data every record of an LA Upload
// depends on (CP-IS002 item 3, CP-SC011, CP-SC016, wire reference §6). A
// failure is an *Error of KindInvalid whose Msg, safe to send, names the
// Spine check and the reason. The caller answers every record of the file
// CPR07 with that message as its detail, so the file is CPF04 and nothing is
// stored: CP-IS002 item 3 lists the source organisation's name and telephone
// number with the plans' start dates as data "each file associated to an NHS
// number" must be populated with, and every stored record carries them (a
// query response gives each record's LA with its telephone numbers). A
// caller that cannot tell which LA sent the file at all refuses it earlier,
// CPF01, having no LA to answer.
//
// Checks, in order, the first failure answering:
//  1. the file has an id (CP-SC016, CP-IS019: every stored record and every
//     notification refers back to it);
//  2. the local authority's ODS code, then its name, are present (CP-SC011
//     "Source Organisation Code", "Source Organisation Name");
//  3. every telecom has a value (TELECOM_VALUE_IS_MANDATORY), checked before
//     the counts so that an emergency number sent empty is reported as
//     such, not as missing;
//  4. exactly one emergency (EC) telephone (CP-SC011 "Source Organisation
//     Telephone (Emergency Duty Team/ Out of Hours)"):
//     MISSING_MANDATORY_TELECOM_TYPE|EC, DUPLICATE_TELECOM_TYPE|EC;
//  5. at most one office-hours (WP) telephone (CP-SC007 makes it optional):
//     DUPLICATE_TELECOM_TYPE|WP.
//
// Telecom.Use is read as the HL7 use list it is on the wire: "EC WP" is one
// number serving both. A telecom with neither code is neither counted nor
// refused: the schema admits the other HL7 uses and CP-IS has nowhere to
// show them. A value is present when it holds a digit: "tel:" alone, which
// the schema's pattern admits, is no telephone number.
func CheckUploadHeader(u Upload) error {
	fail := func(check, reason string) error {
		return &Error{Kind: KindInvalid, Op: "upload", Msg: check + ": " + reason}
	}
	const missing = "MISSING_MANDATORY_FIELD"
	switch {
	case blank(u.FileID):
		return fail(missing, "the file has no id")
	case blank(u.LA.ODS):
		return fail(missing, "the file gives no local authority ODS code")
	case blank(u.LA.Name):
		return fail(missing, "the file gives no local authority name")
	}
	ec, wp := 0, 0
	for i, t := range u.Telecoms {
		if !strings.ContainsFunc(t.Value, unicode.IsDigit) {
			return fail("TELECOM_VALUE_IS_MANDATORY", fmt.Sprintf("telecom %d of the local authority has no telephone number", i+1))
		}
		for _, use := range strings.Fields(t.Use) {
			switch use {
			case "EC":
				ec++
			case "WP":
				wp++
			}
		}
	}
	switch {
	case ec == 0:
		return fail("MISSING_MANDATORY_TELECOM_TYPE|EC", "the file gives no emergency (EC) telephone number")
	case ec > 1:
		return fail("DUPLICATE_TELECOM_TYPE|EC", "the file gives two emergency (EC) telephone numbers")
	case wp > 1:
		return fail("DUPLICATE_TELECOM_TYPE|WP", "the file gives two office hours (WP) telephone numbers")
	}
	return nil
}

// Record-level details of CheckRecord. They say what is wrong with what the
// LA sent and never carry PDS data: a CPR03 does not say which detail
// failed to match, nor does a CPR05's text give the new number (it has its
// own field).
const (
	detailModulus11  = "NHS number fails the Modulus 11 check"
	detailOldStyle   = "the NHS number is not a new-style ten-digit NHS number: only new-style NHS numbers are accepted"
	detailNoPatient  = "PDS holds no patient with this NHS number"
	detailSuperseded = "the NHS number has been superseded in PDS: resubmit the record under the new NHS number"
	detailSensitive  = "the PDS record for this NHS number is sensitive"
)

// CheckRecord decides the record-level code (CPR01..CPR07) and detail of
// one record of an LA Upload (CP-IS002, CP-IS006, CP-IS017, CP-IS024). pds
// looks a patient up by NHS number and must not be nil; it is called at most
// once, and only for a record that would be stored if it verifies.
//
// The NHS number is the child's, or for an unborn child's record the
// mother's (CP-IS003, CP-IS033, CP-SC012). Rules, in order; the first that
// fails answers:
//
//  1. No NHS number (blank): CPR07 (CP-SC001, CP-SC011).
//  2. An old-style number, sent under the old-style root (OldStyle) or not
//     exactly ten ASCII digits as sent (legacy alphanumeric numbers, and
//     numbers with spaces): CPR04 (CP-IS002 "only new style NHS number").
//  3. Ten digits failing Modulus 11: CPR07 "NHS number fails the Modulus 11
//     check", because the LA must correct what it typed (CP-SC001, CP-SC002)
//     and no PDS record can have such a number.
//  4. No date of birth, for a child and a mother alike: CPR07 (CP-IS002 makes
//     the full date of birth a mandatory criterion of the cross-check).
//  5. An unborn child's record without the mother's given name, then family
//     name: CPR07 (CP-SC012). A child's missing name is not an error:
//     CP-IS002 says a missing forename or short surname means "NOT
//     verified", so it answers CPR03 at rule 17.
//  6. No plan at all: CPR07 (CP-SC011 "at least one Start Date").
//  7. A plan that is not a CPP, LAC or UCP: CPR07.
//  8. A UCP on a child's record: CPR07. An unborn plan is held under the
//     mother's number and sent with her details (CP-SC012, CP-IS033).
//  9. A CPP or LAC on an unborn child's record: CPR07. It would be stored as
//     the mother's own plan and shown to every clinician. A young mother with
//     plans of her own and an unborn plan is sent as two records under her
//     number, one of each kind (CP-IS035).
//  10. A second plan of a type already in the record: CPR07. The dataset has
//     one start and one end date per plan type, and a record's three plan
//     slots (pertinentInformation 1..3) are one per type.
//  11. A plan without a start date: CPR07 (CP-SC011, CP-IS002 item 3).
//  12. A UCP without an end date, the expected due date: CPR07 (CP-SC013,
//     CP-IS033); it is what deletes the plan at due date + 28 days.
//  13. An end date before its start date: CPR07. An end on the start date is
//     a one-day plan. Delete dates are not constrained: they remove data sent
//     in error on whatever date the LA chooses (CP-IS009).
//  14. PDS does not know the number: CPR01 (CP-IS002).
//  15. The number is superseded: CPR05, with NewNHSNumber the number PDS gives
//     as its replacement (CP-IS012). Before sensitivity, because a
//     superseded record is retired: its flags no longer describe anyone's
//     current record, and a resubmission under the new number meets the new
//     record's own flag.
//  16. The PDS record is sensitive: CPR02. Before verification, so that
//     nothing is compared with, nor said about, a sensitive record.
//  17. The uploaded details do not verify the number under profile v
//     (Verified): CPR03 (CP-IS002, CP-IS006).
//  18. Otherwise CPR06, with no detail.
//
// Rules 7-13 are checked plan by plan in the order sent, so the first faulty
// plan answers. The NHS number comes first because it is what the record is
// about and stored under (CP-IS006); the record's own data (rules 4-13)
// comes before PDS so that PDS is never consulted for a record that could
// not be stored anyway.
//
// The LA's local child identifier is optional: neither the dataset, CP-SC011
// nor CP-IS002 names it, and the schema allows a Child with the NHS number
// alone. Dates of death and ages are not checked: CP-IS is silent on the
// former, and an LA must still be able to end-date a plan; the latter is the
// visibility rules' business (CP-IS007), which need the date of the query.
// The outcome always carries the record's Position, LocalID and NHSNumber as
// sent.
func CheckRecord(r UploadRecord, pds func(NHSNumber) (Patient, bool), v Verification) RecordOutcome {
	out := RecordOutcome{Position: r.Position, LocalID: r.LocalID, NHSNumber: r.NHSNumber}
	answer := func(code, detail string) RecordOutcome {
		out.Code, out.Detail = code, detail
		return out
	}
	whose := "the child's"
	if r.Unborn {
		whose = "the mother's"
	}

	// 1. The NHS number.
	switch {
	case blank(r.NHSNumber):
		return answer(CPR07, whose+" NHS number is missing")
	case r.OldStyle || !tenDigits(r.NHSNumber):
		return answer(CPR04, detailOldStyle)
	case !ValidNHSNumber(r.NHSNumber):
		return answer(CPR07, detailModulus11)
	}

	// 2. The subject.
	switch {
	case r.BirthDate.IsZero():
		return answer(CPR07, whose+" date of birth is missing")
	case r.Unborn && !hasLetter(forename(r.Name)):
		return answer(CPR07, "the mother's given name is missing")
	case r.Unborn && !hasLetter(r.Name.Family):
		return answer(CPR07, "the mother's family name is missing")
	}

	// 3. The plans.
	if detail := checkPlans(r); detail != "" {
		return answer(CPR07, detail)
	}

	// 4. PDS.
	nhs := NHSNumber(r.NHSNumber)
	p, ok := pds(nhs)
	switch {
	case !ok:
		return answer(CPR01, detailNoPatient)
	case p.SupersededBy != "":
		out.NewNHSNumber = p.SupersededBy
		return answer(CPR05, detailSuperseded)
	case p.Sensitive:
		return answer(CPR02, detailSensitive)
	case !Verified(r, p, v):
		return answer(CPR03, notVerifiedDetail(v))
	}
	return answer(CPR06, "")
}

// checkPlans applies rules 6-13 of CheckRecord and returns the reason the plans
// fail, or "".
func checkPlans(r UploadRecord) string {
	if len(r.Plans) == 0 {
		if r.Unborn {
			return "the record has no unborn CPP information"
		}
		return "the record has no CPP or LAC information"
	}
	seen := map[PlanType]bool{}
	for i, p := range r.Plans {
		name := planName(p.Type)
		switch {
		case !p.Type.Valid():
			return fmt.Sprintf("information item %d is not a CPP, LAC or unborn CPP", i+1)
		case p.Type == UCP && !r.Unborn:
			return "an unborn CPP is sent with the mother as an unborn child, not on a child's record"
		case p.Type != UCP && r.Unborn:
			return "an unborn child's record holds only unborn CPP information, not a " + name
		case seen[p.Type]:
			return "the record holds two " + name + "s: at most one of each type"
		case p.Start.IsZero():
			return "the " + name + " start date is missing"
		case p.Type == UCP && p.End.IsZero():
			return "the unborn CPP end date (the expected due date) is missing"
		case !p.End.IsZero() && p.End.Before(p.Start):
			return "the " + name + " end date is before its start date"
		}
		seen[p.Type] = true
	}
	return ""
}

// notVerifiedDetail says, for the profile in force, what verification needs,
// without saying which of the LA's details PDS disagrees with.
func notVerifiedDetail(v Verification) string {
	const lead = "the date of birth and names do not verify the NHS number against PDS: "
	switch v {
	case VerifyCPIS2015:
		return lead + "the date of birth must match exactly, or two of its three parts with the first three letters of the family name and the initial of the given name"
	case VerifyCurrent:
		return lead + "the date of birth must match exactly, and the given or family name exactly with at most a minor spelling variation in the other"
	}
	return lead + "no verification profile is in force"
}

// FileCode returns the file-level code of a processed file from its
// records' outcomes (CP-IS018, CP-IS024): CPF02 when every record
// succeeded, CPF03 when some did, CPF04 when none did. No outcome at all is
// CPF04: nothing was stored (the schema demands at least one record, so
// such a file should have been refused before).
func FileCode(outcomes []RecordOutcome) string {
	ok := 0
	for _, o := range outcomes {
		if o.Success() {
			ok++
		}
	}
	return FileCodeCounts(ok, len(outcomes)-ok)
}

// FileCodeCounts is FileCode from the counts alone, for a pipeline that keeps
// only the failed outcomes of a large file.
func FileCodeCounts(succeeded, failed int) string {
	switch {
	case succeeded > 0 && failed == 0:
		return CPF02
	case succeeded > 0:
		return CPF03
	}
	return CPF04
}

// RecordFromUpload builds the Record stored for a record that succeeded
// (CPR06): nhs is its verified number (the child's, or the mother's for an
// unborn child, CP-IS033), la the sending local authority and fileID the
// upload file, kept so notifications can refer back to it (CP-IS019). The
// plans are stored as sent, delete dates included (CP-IS009), in a slice of
// their own. Replacing what the LA held before for the number is the
// store's business (CP-IS017, CP-IS020).
func RecordFromUpload(r UploadRecord, nhs NHSNumber, la LocalAuthority, fileID string) Record {
	var plans []Plan
	if len(r.Plans) > 0 {
		plans = append(make([]Plan, 0, len(r.Plans)), r.Plans...)
	}
	return Record{NHSNumber: nhs, LA: la, LocalID: r.LocalID, FileID: fileID, Plans: plans}
}

// planName names a plan type for an LA to read.
func planName(t PlanType) string {
	if t == UCP {
		return "unborn CPP"
	}
	return string(t)
}

// tenDigits reports whether s is exactly ten ASCII digits.
func tenDigits(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// blank reports whether s holds nothing but white space.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

// hasLetter reports whether a name part holds at least one letter, so that
// "", " " and "-" count as missing.
func hasLetter(s string) bool { return strings.ContainsFunc(s, unicode.IsLetter) }
