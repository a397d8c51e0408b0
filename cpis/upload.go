package cpis

import "time"

// File-level acknowledgement codes (code system 2.16.840.1.113883.2.1.3.2.4.17.474).
const (
	CPF01 = "CPF01" // file-level error: nothing stored
	CPF02 = "CPF02" // every record succeeded
	CPF03 = "CPF03" // some records succeeded
	CPF04 = "CPF04" // no record succeeded
)

// Record-level acknowledgement codes (code system 2.16.840.1.113883.2.1.3.2.4.17.473).
const (
	CPR01 = "CPR01" // PDS has no match for the NHS number
	CPR02 = "CPR02" // the PDS record is sensitive
	CPR03 = "CPR03" // the NHS number is not verified against PDS
	CPR04 = "CPR04" // an old-style NHS number
	CPR05 = "CPR05" // the NHS number is superseded (the new one is given)
	CPR06 = "CPR06" // success
	CPR07 = "CPR07" // unsuccessful: mandatory data missing or invalid
)

// Verification chooses the rule that decides whether an uploaded record's
// details verify its NHS number against PDS (wire reference §9).
type Verification string

const (
	// VerifyCurrent: date of birth matches exactly, and the forename or the
	// family name matches exactly with only minor spelling variation allowed
	// in the other (NHS number matching guidance, 2019/2022).
	VerifyCurrent Verification = "current"
	// VerifyCPIS2015: date of birth matches exactly; or two of its three
	// parts match and the first three letters of the surname and the
	// forename initial match (CP-IS002, 2015).
	VerifyCPIS2015 Verification = "cpis2015"
)

// Upload is the file-level content of an LA Upload (File, REPC_MT000002GB01).
type Upload struct {
	FileID       string
	CreationTime time.Time
	Quantity     int            // transmissionQuantity as the file states it
	LA           LocalAuthority // communicationFunctionSnd/organisation as the file gives it
	// Telecoms as sent, so the mandatory-telecom rule can be checked: the
	// use code ("EC", "WP", other) and value of each.
	Telecoms []Telecom
}

// Telecom is one telephone number as an LA sent it.
type Telecom struct {
	Use   string
	Value string
}

// UploadRecord is one record of an LA Upload as read from the file, before
// any check.
type UploadRecord struct {
	Position  int    // 1-based position in the file
	NHSNumber string // the child's, or for an unborn child the mother's, as sent
	OldStyle  bool   // the number was sent under the old-style/temporary root 2.16.840.1.113883.2.1.3.2.4.3
	LocalID   string // the LA's own child identifier
	Unborn    bool   // the subject is an UnbornChild (the mother)
	Name      Name   // the child's, or the mother's
	BirthDate time.Time
	Plans     []Plan
}

// RecordOutcome is the answer to one record.
type RecordOutcome struct {
	Position     int
	LocalID      string
	NHSNumber    string
	Code         string    // CPR01..CPR07
	Detail       string    // human-readable reason (CP-IS017); no patient data beyond what the LA sent
	NewNHSNumber NHSNumber // for CPR05, when PDS knows it
}

// Success reports whether the record was accepted.
func (o RecordOutcome) Success() bool { return o.Code == CPR06 }

// UploadResult is the answer to a whole file: what the FileResponse carries.
type UploadResult struct {
	FileID     string
	LA         LocalAuthority
	Code       string // CPF01..CPF04
	Detail     string // the reason, for CPF01
	Quantity   int
	Outcomes   []RecordOutcome
	Succeeded  int
	Failed     int
	ReceivedAt time.Time
}
