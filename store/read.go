package store

import (
	"context"
	"database/sql"
	"errors"

	"spinegw/cpis"
)

const (
	sqlEndpoint = `SELECT ods, name FROM endpoints WHERE asid = ?`

	// One statement for the user and every role profile and activity: a
	// single statement reads one snapshot, so a concurrent MergeWorld
	// replacing the profiles cannot be seen half done.
	sqlUser = `
SELECT u.name_prefix, u.name_given, u.name_family, u.enabled,
       rp.id, rp.job_role_code, rp.job_role_name, rp.org_ods, rp.org_name, a.activity
FROM users u
LEFT JOIN role_profiles rp ON rp.user_id = u.id
LEFT JOIN role_profile_activities a ON a.role_profile_id = rp.id
WHERE u.id = ?
ORDER BY rp.seq, a.seq`

	sqlLocalAuthority = `SELECT name, emergency, office, uploads_enabled FROM local_authorities WHERE ods = ?`

	sqlPatient = `
SELECT name_prefix, name_given, name_family, birth_date, gender, superseded_by, sensitive, date_of_death
FROM patients WHERE nhs_number = ?`

	// Every LA's record for a number with its LA and plans, in a stable
	// order: LA, then plan type (CPP, LAC, UCP), then start date.
	sqlRecords = `
SELECT r.id, r.la_ods, r.local_id, r.file_id,
       la.name, la.emergency, la.office, la.uploads_enabled,
       p.type, p.start_date, p.end_date, p.delete_date
FROM records r
JOIN local_authorities la ON la.ods = r.la_ods
LEFT JOIN plans p ON p.record_id = r.id
WHERE r.nhs_number = ?
ORDER BY r.la_ods, CASE p.type WHEN 'CPP' THEN 0 WHEN 'LAC' THEN 1 ELSE 2 END, p.start_date, p.seq`

	eventColumns = `
SELECT e.message_id, e.nhs_number, e.at, e.user_id, e.role_profile_id,
       e.name_prefix, e.name_given, e.name_family, e.job_role_code, e.job_role_name,
       e.org_ods, e.org_name, e.system, e.asid, e.shown,
       (SELECT json_group_array(la_ods) FROM
           (SELECT la_ods FROM access_event_las WHERE event_id = e.id ORDER BY seq))
FROM access_events e`

	// CP-IS047, CP-IS048: shown events only, newest first, at most
	// HistoryLimit. Served by the access_events_history index in order.
	sqlHistory = eventColumns + `
WHERE e.nhs_number = ? AND e.shown = 1
ORDER BY e.at DESC, e.id DESC
LIMIT ?`

	sqlEvents = eventColumns + `
WHERE e.nhs_number = ?
ORDER BY e.at, e.id`
)

// Endpoint returns the accredited system with the ASID, or an error of kind
// KindNotFound.
func (db *DB) Endpoint(ctx context.Context, asid string) (cpis.Endpoint, error) {
	const op = "endpoint"
	ep := cpis.Endpoint{ASID: asid}
	err := db.qEndpoint.QueryRowContext(ctx, asid).Scan(&ep.ODS, &ep.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return cpis.Endpoint{}, cpis.Errorf(cpis.KindNotFound, op, "no endpoint has the ASID")
	}
	if err != nil {
		return cpis.Endpoint{}, internal(op, err)
	}
	return ep, nil
}

// User returns the SDS user with the id, with its role profiles and their
// activities in the order given, or an error of kind KindNotFound.
func (db *DB) User(ctx context.Context, id string) (cpis.User, error) {
	const op = "user"
	rows, err := db.qUser.QueryContext(ctx, id)
	if err != nil {
		return cpis.User{}, internal(op, err)
	}
	defer rows.Close()
	u := cpis.User{ID: id}
	found := false
	for rows.Next() {
		var (
			given                       string
			rpID, code, jrName, ods, on sql.NullString
			activity                    sql.NullString
		)
		if err := rows.Scan(&u.Name.Prefix, &given, &u.Name.Family, &u.Enabled,
			&rpID, &code, &jrName, &ods, &on, &activity); err != nil {
			return cpis.User{}, internal(op, err)
		}
		if !found {
			found = true
			if u.Name.Given, err = parseStrings(given); err != nil {
				return cpis.User{}, internal(op, err)
			}
		}
		if !rpID.Valid {
			continue // a user without role profiles
		}
		if n := len(u.RoleProfiles); n == 0 || u.RoleProfiles[n-1].ID != rpID.String {
			u.RoleProfiles = append(u.RoleProfiles, cpis.RoleProfile{
				ID:      rpID.String,
				JobRole: cpis.JobRole{Code: code.String, Name: jrName.String},
				Org:     cpis.Org{ODS: ods.String, Name: on.String},
			})
		}
		if activity.Valid {
			rp := &u.RoleProfiles[len(u.RoleProfiles)-1]
			rp.Activities = append(rp.Activities, activity.String)
		}
	}
	if err := rows.Err(); err != nil {
		return cpis.User{}, internal(op, err)
	}
	if !found {
		return cpis.User{}, cpis.Errorf(cpis.KindNotFound, op, "no SDS user has the id")
	}
	return u, nil
}

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
	p, found, err := scanPatient(db.qPatient.QueryRowContext(ctx, string(nhs)), nhs)
	if err != nil {
		return cpis.Patient{}, internal(op, err)
	}
	if !found {
		return cpis.Patient{}, cpis.Errorf(cpis.KindNotFound, op, "PDS does not know the NHS number")
	}
	return p, nil
}

func scanPatient(row *sql.Row, nhs cpis.NHSNumber) (cpis.Patient, bool, error) {
	p := cpis.Patient{NHSNumber: nhs}
	var given, superseded string
	var birth, death sql.NullString
	err := row.Scan(&p.Name.Prefix, &given, &p.Name.Family, &birth, &p.Gender, &superseded, &p.Sensitive, &death)
	if errors.Is(err, sql.ErrNoRows) {
		return cpis.Patient{}, false, nil
	}
	if err != nil {
		return cpis.Patient{}, false, err
	}
	p.SupersededBy = cpis.NHSNumber(superseded)
	if p.Name.Given, err = parseStrings(given); err != nil {
		return cpis.Patient{}, false, err
	}
	if p.BirthDate, err = parseDate(birth); err != nil {
		return cpis.Patient{}, false, err
	}
	if p.DateOfDeath, err = parseDate(death); err != nil {
		return cpis.Patient{}, false, err
	}
	return p, true, nil
}

// Subject reads, in one read transaction (one snapshot), what a query needs
// for the NHS number: the PDS patient, every LA's record with its plans, and
// the shown access history, newest first, at most cpis.HistoryLimit
// (CP-IS047, CP-IS048). An unknown number gives an empty Subject, not an
// error: whether that is a negative trace is the core's decision (CP-IS015).
func (db *DB) Subject(ctx context.Context, nhs cpis.NHSNumber) (cpis.Subject, error) {
	const op = "subject"
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return cpis.Subject{}, internal(op, err)
	}
	defer tx.Rollback() // read only: nothing to commit

	var s cpis.Subject
	if s.Patient, s.HasPatient, err = scanPatient(tx.StmtContext(ctx, db.qPatient).QueryRowContext(ctx, string(nhs)), nhs); err != nil {
		return cpis.Subject{}, internal(op, err)
	}
	if s.Records, err = readRecords(ctx, tx.StmtContext(ctx, db.qRecords), nhs); err != nil {
		return cpis.Subject{}, internal(op, err)
	}
	if s.History, err = readEvents(ctx, tx.StmtContext(ctx, db.qHistory), string(nhs), cpis.HistoryLimit); err != nil {
		return cpis.Subject{}, internal(op, err)
	}
	return s, nil
}

func readRecords(ctx context.Context, stmt *sql.Stmt, nhs cpis.NHSNumber) ([]cpis.Record, error) {
	rows, err := stmt.QueryContext(ctx, string(nhs))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out    []cpis.Record
		lastID int64 = -1
	)
	for rows.Next() {
		var (
			id                   int64
			la                   cpis.LocalAuthority
			local, file          string
			typ, start, end, del sql.NullString
			plan                 cpis.Plan
		)
		if err := rows.Scan(&id, &la.ODS, &local, &file, &la.Name, &la.Emergency, &la.Office, &la.UploadsEnabled,
			&typ, &start, &end, &del); err != nil {
			return nil, err
		}
		if id != lastID {
			lastID = id
			out = append(out, cpis.Record{NHSNumber: nhs, LA: la, LocalID: local, FileID: file})
		}
		if !typ.Valid {
			continue // a record without plans
		}
		plan.Type = cpis.PlanType(typ.String)
		if plan.Start, err = parseDate(start); err != nil {
			return nil, err
		}
		if plan.End, err = parseDate(end); err != nil {
			return nil, err
		}
		if plan.Delete, err = parseDate(del); err != nil {
			return nil, err
		}
		last := &out[len(out)-1]
		last.Plans = append(last.Plans, plan)
	}
	return out, rows.Err()
}

func readEvents(ctx context.Context, stmt *sql.Stmt, args ...any) ([]cpis.AccessEvent, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []cpis.AccessEvent
	for rows.Next() {
		var (
			e          cpis.AccessEvent
			nhs        string
			at         int64
			given, las string
		)
		a := &e.Accessor
		if err := rows.Scan(&e.ID, &nhs, &at, &a.UserID, &a.RoleProfileID,
			&a.Name.Prefix, &given, &a.Name.Family, &a.JobRole.Code, &a.JobRole.Name,
			&a.Org.ODS, &a.Org.Name, &a.System, &a.ASID, &e.Shown, &las); err != nil {
			return nil, err
		}
		e.NHSNumber = cpis.NHSNumber(nhs)
		e.At = instant(at)
		if a.Name.Given, err = parseStrings(given); err != nil {
			return nil, err
		}
		if e.LAs, err = parseStrings(las); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AccessEvents returns every access event recorded for the NHS number,
// shown or not, oldest first: for tests and reports (CP-IS047 records every
// access).
func (db *DB) AccessEvents(ctx context.Context, nhs cpis.NHSNumber) ([]cpis.AccessEvent, error) {
	events, err := readEvents(ctx, db.qEvents, string(nhs))
	if err != nil {
		return nil, internal("access events", err)
	}
	return events, nil
}
