package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"spinegw/cpis"
)

const (
	sqlUpsertEndpoint = `
INSERT INTO endpoints (asid, ods, name) VALUES (?, ?, ?)
ON CONFLICT (asid) DO UPDATE SET ods = excluded.ods, name = excluded.name`

	sqlUpsertUser = `
INSERT INTO users (id, name_prefix, name_given, name_family, enabled) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET name_prefix = excluded.name_prefix, name_given = excluded.name_given,
    name_family = excluded.name_family, enabled = excluded.enabled`

	sqlDeleteUserProfiles = `DELETE FROM role_profiles WHERE user_id = ?`
	// A role profile id is unique across SDS: one named again under another
	// user has moved to that user.
	sqlDeleteProfile = `DELETE FROM role_profiles WHERE id = ?`
	sqlInsertProfile = `
INSERT INTO role_profiles (id, user_id, seq, job_role_code, job_role_name, org_ods, org_name)
VALUES (?, ?, ?, ?, ?, ?, ?)`
	sqlInsertActivity = `INSERT INTO role_profile_activities (role_profile_id, seq, activity) VALUES (?, ?, ?)`

	sqlUpsertPatient = `
INSERT INTO patients (nhs_number, name_prefix, name_given, name_family, birth_date, gender, superseded_by, inactive, sensitive, date_of_death)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (nhs_number) DO UPDATE SET name_prefix = excluded.name_prefix, name_given = excluded.name_given,
    name_family = excluded.name_family, birth_date = excluded.birth_date, gender = excluded.gender,
    superseded_by = excluded.superseded_by, inactive = excluded.inactive, sensitive = excluded.sensitive,
    date_of_death = excluded.date_of_death`

	sqlUpsertLA = `
INSERT INTO local_authorities (ods, name, emergency, office, uploads_enabled) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (ods) DO UPDATE SET name = excluded.name, emergency = excluded.emergency,
    office = excluded.office, uploads_enabled = excluded.uploads_enabled`

	sqlLAExists = `SELECT 1 FROM local_authorities WHERE ods = ?`

	// CP-IS020: a record replaces whatever its LA held for the number,
	// plans and all (they are one row, migration 0004); other LAs' rows
	// for the number are other keys (CP-IS034).
	sqlPutRecord = `
INSERT OR REPLACE INTO records (nhs_number, la_ods, local_id, file_id, plans) VALUES (?, ?, ?, ?, ?)`
)

// MergeWorld merges w into the store in one immediate transaction: all of
// it or, on error, none of it.
//
// Endpoints, users, patients and local authorities are upserted by key; a
// user's role profiles are replaced by the world's. A world record replaces
// what its local authority holds for the NHS number, plans included
// (CP-IS020), and leaves other LAs' records for the number alone (CP-IS034).
// A record's local authority must be in w or already in the store; a record
// naming another, an invalid NHS number or plan type, or a missing key is an
// error of kind KindInvalid. Messages point at items by position, never by
// NHS number.
func (db *DB) MergeWorld(ctx context.Context, w cpis.World) error {
	const op = "merge world"
	if err := checkWorld(w); err != nil {
		return err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return internal(op, err)
	}
	defer tx.Rollback()
	m := merger{ctx: ctx, tx: tx}
	m.endpoints(w.Endpoints)
	m.users(w.Users)
	m.patients(w.Patients)
	m.localAuthorities(w.LocalAuthorities)
	m.records(w.Records)
	if m.err != nil {
		var e *cpis.Error
		if errors.As(m.err, &e) {
			return m.err
		}
		return internal(op, m.err)
	}
	// CP-IS073, CP-IS075: the load and every record it replaced are
	// audited with it. MergeWorld takes no time: the entries carry the
	// wall clock's.
	if err := worldAudit(ctx, tx, w, time.Now()); err != nil {
		return internal(op, err)
	}
	if err := tx.Commit(); err != nil {
		return internal(op, err)
	}
	if len(w.Endpoints) > 0 || len(w.Users) > 0 {
		// The merge is committed whatever happens here: should the reload
		// fail, the next lookup retries it.
		_ = db.refreshDirectory(ctx)
	}
	return nil
}

// checkWorld refuses what the schema cannot hold meaningfully. A world from
// world.Parse passes; a world built in code might not.
func checkWorld(w cpis.World) error {
	bad := func(format string, args ...any) error {
		return cpis.Errorf(cpis.KindInvalid, "merge world", format, args...)
	}
	for i, e := range w.Endpoints {
		if e.ASID == "" {
			return bad("endpoints[%d]: no ASID", i)
		}
	}
	for i, u := range w.Users {
		if u.ID == "" {
			return bad("users[%d]: no SDS user id", i)
		}
		for j, rp := range u.RoleProfiles {
			if rp.ID == "" {
				return bad("users[%d].role_profiles[%d]: no role profile id", i, j)
			}
		}
	}
	for i, p := range w.Patients {
		if !cpis.ValidNHSNumber(string(p.NHSNumber)) {
			return bad("patients[%d]: the NHS number is not valid", i)
		}
		if p.SupersededBy != "" && !cpis.ValidNHSNumber(string(p.SupersededBy)) {
			return bad("patients[%d]: the superseding NHS number is not valid", i)
		}
	}
	for i, la := range w.LocalAuthorities {
		if la.ODS == "" {
			return bad("local_authorities[%d]: no ODS code", i)
		}
	}
	for i, r := range w.Records {
		if !cpis.ValidNHSNumber(string(r.NHSNumber)) {
			return bad("records[%d]: the NHS number is not valid", i)
		}
		if r.LA.ODS == "" {
			return bad("records[%d]: no local authority", i)
		}
		for j, p := range r.Plans {
			if !p.Type.Valid() {
				return bad("records[%d].plans[%d]: the plan type is not CPP, LAC or UCP", i, j)
			}
			if p.Start.IsZero() {
				return bad("records[%d].plans[%d]: no start date", i, j)
			}
			if !storableDate(p.Start) || !storableDate(p.End) || !storableDate(p.Delete) {
				return bad("records[%d].plans[%d]: a date is outside the years 0-9999", i, j)
			}
		}
	}
	return nil
}

// merger runs the statements of one MergeWorld, each prepared once for the
// transaction, and keeps the first error.
type merger struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	err   error
}

func (m *merger) stmt(query string) *sql.Stmt {
	if s, ok := m.stmts[query]; ok {
		return s
	}
	s, err := m.tx.PrepareContext(m.ctx, query)
	if err != nil {
		m.fail(err)
		return nil
	}
	if m.stmts == nil {
		m.stmts = map[string]*sql.Stmt{}
	}
	m.stmts[query] = s
	return s
}

func (m *merger) exec(query string, args ...any) {
	if m.err != nil {
		return
	}
	if s := m.stmt(query); s != nil {
		if _, err := s.ExecContext(m.ctx, args...); err != nil {
			m.fail(fmt.Errorf("%s: %w", firstLine(query), err))
		}
	}
}

func (m *merger) fail(err error) {
	if m.err == nil {
		m.err = err
	}
}

func (m *merger) endpoints(eps []cpis.Endpoint) {
	for _, e := range eps {
		m.exec(sqlUpsertEndpoint, e.ASID, e.ODS, e.Name)
	}
}

func (m *merger) users(users []cpis.User) {
	for _, u := range users {
		given := stringsValue(u.Name.Given)
		m.exec(sqlUpsertUser, u.ID, u.Name.Prefix, given, u.Name.Family, boolValue(u.Enabled))
		// Deleting the profiles cascades to their activities.
		m.exec(sqlDeleteUserProfiles, u.ID)
		for i, rp := range u.RoleProfiles {
			m.exec(sqlDeleteProfile, rp.ID)
			m.exec(sqlInsertProfile, rp.ID, u.ID, i, rp.JobRole.Code, rp.JobRole.Name, rp.Org.ODS, rp.Org.Name)
			for j, a := range rp.Activities {
				m.exec(sqlInsertActivity, rp.ID, j, a)
			}
		}
	}
}

func (m *merger) patients(patients []cpis.Patient) {
	for _, p := range patients {
		given := stringsValue(p.Name.Given)
		m.exec(sqlUpsertPatient, string(p.NHSNumber), p.Name.Prefix, given, p.Name.Family, dateValue(p.BirthDate),
			p.Gender, string(p.SupersededBy), boolValue(p.Inactive), boolValue(p.Sensitive), dateValue(p.DateOfDeath))
	}
}

func (m *merger) localAuthorities(las []cpis.LocalAuthority) {
	for _, la := range las {
		m.exec(sqlUpsertLA, la.ODS, la.Name, la.Emergency, la.Office, boolValue(la.UploadsEnabled))
	}
}

// records runs after localAuthorities, so that a record may name an LA of
// the same world.
func (m *merger) records(records []cpis.Record) {
	var buf []byte
	for i, r := range records {
		if m.err != nil {
			return
		}
		exists := m.stmt(sqlLAExists)
		if m.err != nil {
			return
		}
		var one int
		err := exists.QueryRowContext(m.ctx, r.LA.ODS).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			m.fail(cpis.Errorf(cpis.KindInvalid, "merge world", "records[%d]: local authority %s is not known", i, r.LA.ODS))
			return
		}
		if err != nil {
			m.fail(err)
			return
		}
		buf = appendPlans(buf[:0], r.Plans)
		m.exec(sqlPutRecord, string(r.NHSNumber), r.LA.ODS, r.LocalID, r.FileID, string(buf))
	}
}

// firstLine names a statement in an error by its first words.
func firstLine(query string) string {
	for len(query) > 0 && query[0] == '\n' {
		query = query[1:]
	}
	for i := 0; i < len(query); i++ {
		if query[i] == '\n' {
			return query[:i]
		}
	}
	return query
}
