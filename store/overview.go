package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"spinegw/cpis"
)

// What the service page reads: the world as the store holds it now (a
// `world load` or an upload may have changed it since the gateway started),
// bounded so that a store holding a whole cohort still answers quickly, and
// the counts the page shows. Neither is on the query path.

const (
	sqlAllLAs = `SELECT ods, name, emergency, office, uploads_enabled FROM local_authorities ORDER BY ods`

	// The first NHS numbers the store knows, from PDS or from records, in
	// number order. Both tables are keyed by the number, so SQLite merges
	// two index scans and stops at the limit.
	sqlFirstNumbers = `
SELECT nhs_number FROM patients
UNION
SELECT nhs_number FROM records
ORDER BY 1 LIMIT ?`

	sqlPatientsUpTo = `
SELECT nhs_number, name_prefix, name_given, name_family, birth_date, gender, superseded_by, inactive, sensitive, date_of_death
FROM patients WHERE nhs_number <= ? ORDER BY nhs_number`

	sqlRecordsUpTo = `
SELECT nhs_number, la_ods, local_id, file_id, plans FROM records WHERE nhs_number <= ? ORDER BY nhs_number, la_ods`

	sqlCounts = `
SELECT (SELECT count(*) FROM patients),
       (SELECT count(*) FROM local_authorities),
       (SELECT count(*) FROM records),
       (SELECT coalesce(sum(json_array_length(plans)), 0) FROM records),
       (SELECT count(*) FROM access_events),
       (SELECT count(*) FROM uploads),
       (SELECT count(*) FROM outbox WHERE acknowledged_at IS NULL)`
)

// WorldView is the world as the store holds it, for people to read: every
// endpoint (by ASID), user (by id) and local authority (by ODS code), and
// the PDS patients and records of the first NHS numbers in number order.
// Records carry their local authority's details.
type WorldView struct {
	cpis.World
	// More is true when the store knows more NHS numbers, from PDS or from
	// records, than the limit asked for. (Counting them all would take a
	// sort of every number, a third of a second for a whole cohort: Counts
	// gives the patients and records instead.)
	More bool
}

// WorldView reads the world, with the patients and records of at most
// limit NHS numbers, in one read transaction (one snapshot). The directory
// comes from the in-memory directory, as queries see it.
func (db *DB) WorldView(ctx context.Context, limit int) (WorldView, error) {
	const op = "world view"
	var v WorldView
	d, err := db.directory(ctx)
	if err != nil {
		return WorldView{}, internal(op, err)
	}
	for _, ep := range d.endpoints {
		v.Endpoints = append(v.Endpoints, ep)
	}
	slices.SortFunc(v.Endpoints, func(a, b cpis.Endpoint) int { return strings.Compare(a.ASID, b.ASID) })
	for _, u := range d.users {
		v.Users = append(v.Users, cloneUser(u))
	}
	slices.SortFunc(v.Users, func(a, b cpis.User) int { return strings.Compare(a.ID, b.ID) })

	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return WorldView{}, internal(op, err)
	}
	defer tx.Rollback() // read only: nothing to commit
	las := map[string]cpis.LocalAuthority{}
	if err := eachRow(ctx, tx, sqlAllLAs, nil, func(rows *sql.Rows) error {
		var la cpis.LocalAuthority
		if err := rows.Scan(&la.ODS, &la.Name, &la.Emergency, &la.Office, &la.UploadsEnabled); err != nil {
			return err
		}
		v.LocalAuthorities = append(v.LocalAuthorities, la)
		las[la.ODS] = la
		return nil
	}); err != nil {
		return WorldView{}, internal(op, err)
	}
	if limit <= 0 {
		return v, nil
	}
	// The last of the first numbers bounds both reads below: every patient
	// and record at or under it is of one of those numbers. One more number
	// than the limit says whether there are more.
	var last string
	seen := 0
	if err := eachRow(ctx, tx, sqlFirstNumbers, []any{limit + 1}, func(rows *sql.Rows) error {
		var nhs string
		if err := rows.Scan(&nhs); err != nil {
			return err
		}
		if seen++; seen <= limit {
			last = nhs
		} else {
			v.More = true
		}
		return nil
	}); err != nil {
		return WorldView{}, internal(op, err)
	}
	if seen == 0 {
		return v, nil
	}
	if err := eachRow(ctx, tx, sqlPatientsUpTo, []any{last}, func(rows *sql.Rows) error {
		var (
			nhs, prefix, given, family, gender, superseded string
			birth, death                                   sql.NullString
			inactive, sensitive                            bool
		)
		if err := rows.Scan(&nhs, &prefix, &given, &family, &birth, &gender, &superseded, &inactive, &sensitive, &death); err != nil {
			return err
		}
		p, err := makePatient(cpis.NHSNumber(nhs), prefix, given, family, birth, gender, superseded, inactive, sensitive, death)
		if err != nil {
			return err
		}
		v.Patients = append(v.Patients, p)
		return nil
	}); err != nil {
		return WorldView{}, internal(op, err)
	}
	if err := eachRow(ctx, tx, sqlRecordsUpTo, []any{last}, func(rows *sql.Rows) error {
		var nhs, ods, localID, fileID, plans string
		if err := rows.Scan(&nhs, &ods, &localID, &fileID, &plans); err != nil {
			return err
		}
		r := cpis.Record{NHSNumber: cpis.NHSNumber(nhs), LA: las[ods], LocalID: localID, FileID: fileID}
		r.LA.ODS = ods
		var err error
		if r.Plans, err = parsePlans(plans); err != nil {
			return err
		}
		v.Records = append(v.Records, r)
		return nil
	}); err != nil {
		return WorldView{}, internal(op, err)
	}
	return v, nil
}

// eachRow runs query in tx and calls fn on each row.
func eachRow(ctx context.Context, tx *sql.Tx, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", firstLine(query), err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("%s: %w", firstLine(query), err)
		}
	}
	return rows.Err()
}

// Counts is what the store holds, counted.
type Counts struct {
	Patients         int // PDS entries
	LocalAuthorities int
	Records          int // records held (one per LA per NHS number)
	Plans            int // plans in those records
	AccessEvents     int // every access recorded (CP-IS047)
	Uploads          int // LA upload files answered, by any route
	// NotificationsWaiting counts notifications to local authorities not
	// yet acknowledged through the HTTP mailbox.
	NotificationsWaiting int
}

// Counts counts, in one statement, what the store holds.
func (db *DB) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := db.read.QueryRowContext(ctx, sqlCounts).Scan(&c.Patients, &c.LocalAuthorities, &c.Records, &c.Plans,
		&c.AccessEvents, &c.Uploads, &c.NotificationsWaiting)
	if err != nil {
		return Counts{}, internal("counts", err)
	}
	return c, nil
}
