package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"

	"spinegw/cpis"
)

const (
	sqlLocalAuthority = `SELECT name, emergency, office, uploads_enabled FROM local_authorities WHERE ods = ?`

	sqlPatient = `
SELECT name_prefix, name_given, name_family, birth_date, gender, superseded_by, inactive, sensitive, date_of_death
FROM patients WHERE nhs_number = ?`

	// Everything a query reads of its subject in one statement, so one
	// snapshot: the patient (kind 0), each LA's record with the LA's
	// details (kind 1, one row per LA), and the history summary (kind 2,
	// access_history, keyed ?2). A concurrent upload, merge or access is
	// seen whole or not at all. Columns line up by type: 1-6 text, 7
	// integer, 8 nullable text; padding is '' and 0, not NULL, for the
	// string targets; the patient's integer column carries sensitive in bit 0
	// and inactive in bit 1. No ORDER BY: it made SQLite sort the records, which
	// the primary key already gives in LA order; Subject checks.
	sqlSubject = `
SELECT 0, name_prefix, name_given, name_family, birth_date, gender, superseded_by, sensitive + 2 * inactive, date_of_death
FROM patients WHERE nhs_number = ?1
UNION ALL
SELECT 1, r.la_ods, r.local_id, r.file_id, r.plans, la.name, la.emergency, la.uploads_enabled, la.office
FROM records r JOIN local_authorities la ON la.ods = r.la_ods
WHERE r.nhs_number = ?1
UNION ALL
SELECT 2, '', '', '', events, '', '', 0, NULL FROM access_history WHERE nhs = ?2`

	// Every event of a number, oldest first (then first recorded first).
	sqlEvents = `
SELECT at, message_id, user_id, role_profile_id, name_prefix, name_given, name_family,
       job_role_code, job_role_name, org_ods, org_name, system, asid, las, shown
FROM access_events
WHERE nhs_number = ?
ORDER BY at, id`
)

// LocalAuthority returns the local authority with the ODS code, or an error
// of kind KindNotFound.
func (db *DB) LocalAuthority(ctx context.Context, ods string) (cpis.LocalAuthority, error) {
	const op = "local authority"
	la := cpis.LocalAuthority{ODS: ods}
	err := db.qLA.QueryRowContext(ctx, ods).Scan(&la.Name, &la.Emergency, &la.Office, &la.UploadsEnabled)
	if errors.Is(err, sql.ErrNoRows) {
		return cpis.LocalAuthority{}, cpis.Errorf(cpis.KindNotFound, op, "no local authority has the ODS code")
	}
	if err != nil {
		return cpis.LocalAuthority{}, internal(op, err)
	}
	return la, nil
}

// Patient returns the PDS record of the NHS number, or an error of kind
// KindNotFound.
func (db *DB) Patient(ctx context.Context, nhs cpis.NHSNumber) (cpis.Patient, error) {
	const op = "patient"
	var (
		prefix, given, family, gender, superseded string
		birth, death                              sql.NullString
		sensitive, inactive                       bool
	)
	err := db.qPatient.QueryRowContext(ctx, string(nhs)).Scan(&prefix, &given, &family, &birth, &gender, &superseded, &inactive, &sensitive, &death)
	if errors.Is(err, sql.ErrNoRows) {
		return cpis.Patient{}, cpis.Errorf(cpis.KindNotFound, op, "PDS does not know the NHS number")
	}
	if err != nil {
		return cpis.Patient{}, internal(op, err)
	}
	p, err := makePatient(nhs, prefix, given, family, birth, gender, superseded, inactive, sensitive, death)
	if err != nil {
		return cpis.Patient{}, internal(op, err)
	}
	return p, nil
}

func makePatient(nhs cpis.NHSNumber, prefix, given, family string, birth sql.NullString, gender, superseded string,
	inactive, sensitive bool, death sql.NullString) (cpis.Patient, error) {
	p := cpis.Patient{NHSNumber: nhs, Name: cpis.Name{Prefix: prefix, Family: family}, Gender: gender,
		SupersededBy: cpis.NHSNumber(superseded), Inactive: inactive, Sensitive: sensitive}
	var err error
	if p.Name.Given, err = parseStrings(given); err != nil {
		return cpis.Patient{}, err
	}
	if p.BirthDate, err = parseDate(birth); err != nil {
		return cpis.Patient{}, err
	}
	if p.DateOfDeath, err = parseDate(death); err != nil {
		return cpis.Patient{}, err
	}
	return p, nil
}

// subjectScan holds the scan targets of one sqlSubject row; dest points at
// them, built once, so that scanning a row allocates nothing of its own.
type subjectScan struct {
	kind               int64
	c1, c2, c3, c5, c6 string
	c4, c8             sql.NullString
	c7                 int64
	dest               []any
}

var subjectScans = sync.Pool{New: func() any {
	s := &subjectScan{}
	s.dest = []any{&s.kind, &s.c1, &s.c2, &s.c3, &s.c4, &s.c5, &s.c6, &s.c7, &s.c8}
	return s
}}

// Subject reads what a query needs for the NHS number, in one statement:
// the PDS patient, every LA's record with its plans, and the shown access
// history, newest first, at most cpis.HistoryLimit (CP-IS047, CP-IS048). An
// unknown number gives an empty Subject, not an error: whether that is a
// negative trace is the core's decision (CP-IS015).
func (db *DB) Subject(ctx context.Context, nhs cpis.NHSNumber) (cpis.Subject, error) {
	const op = "subject"
	if !cpis.ValidNHSNumber(string(nhs)) {
		return cpis.Subject{}, nil // nothing is ever stored under one
	}
	rows, err := db.qSubject.QueryContext(ctx, string(nhs), nhsKey(nhs))
	if err != nil {
		return cpis.Subject{}, internal(op, err)
	}
	defer rows.Close()
	sc := subjectScans.Get().(*subjectScan)
	defer subjectScans.Put(sc)
	var s cpis.Subject
	for rows.Next() {
		if err := rows.Scan(sc.dest...); err != nil {
			return cpis.Subject{}, internal(op, err)
		}
		switch sc.kind {
		case 0:
			// name_prefix, name_given, name_family, birth_date, gender,
			// superseded_by, sensitive + 2 * inactive, date_of_death
			if s.Patient, err = makePatient(nhs, sc.c1, sc.c2, sc.c3, sc.c4, sc.c5, sc.c6, sc.c7&2 != 0, sc.c7&1 != 0, sc.c8); err != nil {
				return cpis.Subject{}, internal(op, err)
			}
			s.HasPatient = true
		case 1:
			// la_ods, local_id, file_id, plans, name, emergency,
			// uploads_enabled, office
			r := cpis.Record{NHSNumber: nhs, LocalID: sc.c2, FileID: sc.c3,
				LA: cpis.LocalAuthority{ODS: sc.c1, Name: sc.c5, Emergency: sc.c6, UploadsEnabled: sc.c7 != 0, Office: sc.c8.String}}
			if r.Plans, err = parsePlans(sc.c4.String); err != nil {
				return cpis.Subject{}, internal(op, err)
			}
			if s.Records == nil {
				s.Records = make([]cpis.Record, 0, 2)
			}
			s.Records = append(s.Records, r)
		case 2:
			if s.History, err = parseHistory(sc.c4.String, nhs); err != nil {
				return cpis.Subject{}, internal(op, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return cpis.Subject{}, internal(op, err)
	}
	if !slices.IsSortedFunc(s.Records, byLA) {
		slices.SortFunc(s.Records, byLA)
	}
	return s, nil
}

func byLA(a, b cpis.Record) int { return strings.Compare(a.LA.ODS, b.LA.ODS) }

// AccessEvents returns every access event recorded for the NHS number,
// shown or not, oldest first: for tests and reports (CP-IS047 records every
// access).
func (db *DB) AccessEvents(ctx context.Context, nhs cpis.NHSNumber) ([]cpis.AccessEvent, error) {
	const op = "access events"
	rows, err := db.qEvents.QueryContext(ctx, string(nhs))
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []cpis.AccessEvent
	for rows.Next() {
		var (
			e          cpis.AccessEvent
			at         int64
			given, las string
			a          = &e.Accessor
		)
		if err := rows.Scan(&at, &e.ID, &a.UserID, &a.RoleProfileID, &a.Name.Prefix, &given, &a.Name.Family,
			&a.JobRole.Code, &a.JobRole.Name, &a.Org.ODS, &a.Org.Name, &a.System, &a.ASID, &las, &e.Shown); err != nil {
			return nil, internal(op, err)
		}
		e.NHSNumber, e.At = nhs, instant(at)
		if a.Name.Given, err = parseStrings(given); err != nil {
			return nil, internal(op, err)
		}
		if e.LAs, err = parseStrings(las); err != nil {
			return nil, internal(op, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}
