package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"spinegw/cpis"
)

// The daily cycle's persistence (migration 0006): what a day's Access to
// Service Notifications are built from, the transaction that commits them
// with the day, the retention purge, and PDS supersession with its Inactive
// NHS Number Notifications. The rules themselves are the core's
// (cpis.AccessNotifications, cpis.Expired, cpis.EndDatedAt18,
// cpis.StaleCPP); this file reads their input and writes their outcome.

// DayInput is what a day's Access to Service Notifications are built from,
// read in one snapshot.
type DayInput struct {
	// Holders are the local authorities holding at least one record: each
	// gets a notification, with or without accesses (CP-IS025).
	Holders []cpis.LocalAuthority
	// Events are the shown access events of the period (CP-IS047), oldest
	// first.
	Events []cpis.AccessEvent
	// Records are every LA's record for each NHS number accessed in the
	// period, and Births the PDS birth dates of those numbers: only they
	// can be notified, so a day reads as many records as it has accessed
	// children, not the whole cohort.
	Records []cpis.Record
	Births  map[cpis.NHSNumber]time.Time
}

const (
	sqlHolders = `
SELECT ods, name, emergency, office, uploads_enabled FROM local_authorities
WHERE ods IN (SELECT DISTINCT la_ods FROM records) ORDER BY ods`

	// Served by the partial index access_events_shown_at: the condition
	// shown = 1 must stay for the planner to use it.
	sqlShownBetween = `
SELECT at, message_id, nhs_number, user_id, role_profile_id, name_prefix, name_given, name_family,
       job_role_code, job_role_name, org_ods, org_name, system, asid, las
FROM access_events
WHERE shown = 1 AND at >= ? AND at < ?
ORDER BY at, id`

	// ?1 is a JSON array of NHS numbers.
	sqlRecordsOf = `
SELECT r.nhs_number, r.la_ods, r.local_id, r.file_id, r.plans, la.name, la.emergency, la.office, la.uploads_enabled
FROM json_each(?1) j
JOIN records r ON r.nhs_number = j.value
JOIN local_authorities la ON la.ods = r.la_ods
ORDER BY r.nhs_number, r.la_ods`

	sqlBirthsOf = `
SELECT p.nhs_number, p.birth_date FROM json_each(?1) j JOIN patients p ON p.nhs_number = j.value`
)

// DayInput reads, in one snapshot, what the notifications of the period
// [from, to) are built from.
func (db *DB) DayInput(ctx context.Context, from, to time.Time) (DayInput, error) {
	const op = "day input"
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return DayInput{}, internal(op, err)
	}
	defer tx.Rollback()
	var in DayInput
	if in.Holders, err = readLAs(ctx, tx, sqlHolders); err != nil {
		return DayInput{}, internal(op, err)
	}
	if in.Events, err = shownBetween(ctx, tx, from, to); err != nil {
		return DayInput{}, internal(op, err)
	}
	seen := map[cpis.NHSNumber]bool{}
	var numbers []string
	for _, ev := range in.Events {
		if !seen[ev.NHSNumber] {
			seen[ev.NHSNumber] = true
			numbers = append(numbers, string(ev.NHSNumber))
		}
	}
	list := stringsValue(numbers)
	if in.Records, err = recordsOf(ctx, tx, list); err != nil {
		return DayInput{}, internal(op, err)
	}
	in.Births = map[cpis.NHSNumber]time.Time{}
	rows, err := tx.QueryContext(ctx, sqlBirthsOf, list)
	if err != nil {
		return DayInput{}, internal(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			nhs   string
			birth sql.NullString
		)
		if err := rows.Scan(&nhs, &birth); err != nil {
			return DayInput{}, internal(op, err)
		}
		b, err := parseDate(birth)
		if err != nil {
			return DayInput{}, internal(op, err)
		}
		in.Births[cpis.NHSNumber(nhs)] = b
	}
	if err := rows.Err(); err != nil {
		return DayInput{}, internal(op, err)
	}
	return in, nil
}

func readLAs(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]cpis.LocalAuthority, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []cpis.LocalAuthority
	for rows.Next() {
		var la cpis.LocalAuthority
		if err := rows.Scan(&la.ODS, &la.Name, &la.Emergency, &la.Office, &la.UploadsEnabled); err != nil {
			return nil, err
		}
		out = append(out, la)
	}
	return out, rows.Err()
}

func shownBetween(ctx context.Context, tx *sql.Tx, from, to time.Time) ([]cpis.AccessEvent, error) {
	rows, err := tx.QueryContext(ctx, sqlShownBetween, from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []cpis.AccessEvent
	for rows.Next() {
		var (
			at                                            int64
			id, nhs, user, profile, prefix, given, family string
			code, jobName, ods, org, asid, las            string
			system                                        bool
		)
		if err := rows.Scan(&at, &id, &nhs, &user, &profile, &prefix, &given, &family,
			&code, &jobName, &ods, &org, &system, &asid, &las); err != nil {
			return nil, err
		}
		e := cpis.AccessEvent{ID: id, NHSNumber: cpis.NHSNumber(nhs), At: instant(at), Shown: true,
			Accessor: cpis.Accessor{UserID: user, RoleProfileID: profile,
				Name:    cpis.Name{Prefix: prefix, Family: family},
				JobRole: cpis.JobRole{Code: code, Name: jobName},
				Org:     cpis.Org{ODS: ods, Name: org}, System: system, ASID: asid}}
		if e.Accessor.Name.Given, err = parseStrings(given); err != nil {
			return nil, err
		}
		if e.LAs, err = parseStrings(las); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func recordsOf(ctx context.Context, tx *sql.Tx, numbers string) ([]cpis.Record, error) {
	rows, err := tx.QueryContext(ctx, sqlRecordsOf, numbers)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []cpis.Record
	for rows.Next() {
		var (
			r     cpis.Record
			nhs   string
			plans string
		)
		if err := rows.Scan(&nhs, &r.LA.ODS, &r.LocalID, &r.FileID, &plans, &r.LA.Name, &r.LA.Emergency, &r.LA.Office, &r.LA.UploadsEnabled); err != nil {
			return nil, err
		}
		r.NHSNumber = cpis.NHSNumber(nhs)
		if r.Plans, err = parsePlans(plans); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DailyRun is one daily cycle as the store keeps it.
type DailyRun struct {
	Day           time.Time // the civil day in England the run belongs to
	From, To      time.Time // the period its notifications cover, [From, To)
	NotifiedAt    time.Time
	Notifications int // Access to Service Notifications written
	Accesses      int // access events they notify
	// Purged is zero until the day's purge has committed.
	Purged time.Time
	Purge  PurgeResult
}

// PurgeResult counts what a day's purge did.
type PurgeResult struct {
	Plans     int // plans removed from the live tables (expired)
	Records   int // records removed, left with no plan
	EndDated  int // CPP/LAC plans given the 18th-birthday end date (CP-IS030)
	StaleCPPs int // CPPs with neither end nor delete date for 2 years (CP-IS080), after the purge
	// HistoryDropped counts audit rows past their retention (CP-IS076).
	HistoryDropped int
	// Skipped counts records an upload changed while the purge ran: left as
	// they are, the next day's purge takes them.
	Skipped int
	// Audit is what the retention prune of the audit trail did (CP-IS076).
	Audit AuditPrune
}

// DailyRun returns the run of the civil day, if there has been one.
func (db *DB) DailyRun(ctx context.Context, day time.Time) (DailyRun, bool, error) {
	return db.dailyRun(ctx, `WHERE day = ?`, dateValue(day))
}

// LastDailyRun returns the latest day run, if any.
func (db *DB) LastDailyRun(ctx context.Context) (DailyRun, bool, error) {
	return db.dailyRun(ctx, `ORDER BY day DESC LIMIT 1`)
}

func (db *DB) dailyRun(ctx context.Context, where string, args ...any) (DailyRun, bool, error) {
	const op = "daily run"
	var (
		r                                 DailyRun
		day                               string
		from, to, notified                int64
		purged, plans, recs, ended, stale sql.NullInt64
	)
	err := db.read.QueryRowContext(ctx, `
SELECT day, period_from, period_to, notified_at, notifications, accesses,
       purged_at, purged_plans, purged_records, end_dated, stale_cpps
FROM daily_runs `+where, args...).Scan(&day, &from, &to, &notified, &r.Notifications, &r.Accesses,
		&purged, &plans, &recs, &ended, &stale)
	if errors.Is(err, sql.ErrNoRows) {
		return DailyRun{}, false, nil
	}
	if err != nil {
		return DailyRun{}, false, internal(op, err)
	}
	d, ok := civilDate(day)
	if !ok {
		return DailyRun{}, false, internal(op, fmt.Errorf("stored day %q", day))
	}
	r.Day, r.From, r.To, r.NotifiedAt = d, instant(from), instant(to), instant(notified)
	if purged.Valid {
		r.Purged = instant(purged.Int64)
		r.Purge = PurgeResult{Plans: int(plans.Int64), Records: int(recs.Int64), EndDated: int(ended.Int64), StaleCPPs: int(stale.Int64)}
	}
	return r, true, nil
}

// CommitDay writes a day's notifications to the outbox and records the day
// as notified, in one immediate transaction: a crash before the commit
// leaves neither, and the day is built again; after it, both, and the day is
// never notified again. It reports false, writing nothing, when the day was
// already notified (by an earlier run, or another process meanwhile).
// Messages are of KindAccess, keyed by the day; a message whose (kind, LA,
// key) is already in the outbox is not added again.
func (db *DB) CommitDay(ctx context.Context, run DailyRun, msgs []Message) (bool, error) {
	const op = "commit day"
	if run.Day.IsZero() || !representable(run.From) || !representable(run.To) || !representable(run.NotifiedAt) {
		return false, cpis.Errorf(cpis.KindInvalid, op, "the run's day or times are missing or out of range")
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return false, internal(op, err)
	}
	defer tx.Rollback()
	var one int
	switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM daily_runs WHERE day = ?`, dateValue(run.Day)).Scan(&one); {
	case err == nil:
		return false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, internal(op, err)
	}
	for _, m := range msgs {
		if _, err := insertOutbox(ctx, tx, m); err != nil {
			return false, internal(op, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `
INSERT INTO daily_runs (day, period_from, period_to, notified_at, notifications, accesses) VALUES (?, ?, ?, ?, ?, ?)`,
		dateValue(run.Day), run.From.UnixNano(), run.To.UnixNano(), run.NotifiedAt.UnixNano(), run.Notifications, run.Accesses); err != nil {
		return false, internal(op, err)
	}
	if dayFault != nil {
		if err := dayFault(run.Day); err != nil {
			return false, internal(op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, internal(op, err)
	}
	return true, nil
}

// dayFault, when set by a test, is called inside CommitDay's transaction
// just before the commit; an error it returns rolls the day back, as a
// crash there would.
var dayFault func(day time.Time) error

// recordChange is what the purge does to one record.
type recordChange struct {
	nhs, la, localID, fileID string
	old                      string // the plans value read: the update applies only if it is still that
	plans                    string // the new plans value; "" to delete the record
	history                  []historyRow
	purged, endDated         int
}

type historyRow struct {
	plan      cpis.Plan
	event     string // "purged" or "end-dated"
	reason    string
	newEnd    time.Time
	keepUntil time.Time
}

const sqlAllRecords = `
SELECT r.nhs_number, r.la_ods, r.local_id, r.file_id, r.plans, p.birth_date, p.date_of_death
FROM records r LEFT JOIN patients p ON p.nhs_number = r.nhs_number`

// eachRecord calls fn with every record and its subject's PDS birth and
// death dates (zero when PDS does not know them), streaming: the whole
// cohort is never in memory.
func (db *DB) eachRecord(ctx context.Context, fn func(nhs, la, localID, fileID, plansText string, plans []cpis.Plan, birth, death time.Time) error) error {
	rows, err := db.read.QueryContext(ctx, sqlAllRecords)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		nhs, la, localID, fileID, plans string
		birthText, deathText            sql.NullString
	)
	for rows.Next() {
		if err := rows.Scan(&nhs, &la, &localID, &fileID, &plans, &birthText, &deathText); err != nil {
			return err
		}
		ps, err := parsePlans(plans)
		if err != nil {
			return err
		}
		birth, err := parseDate(birthText)
		if err != nil {
			return err
		}
		death, err := parseDate(deathText)
		if err != nil {
			return err
		}
		if err := fn(nhs, la, localID, fileID, plans, ps, birth, death); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Purge enforces retention physically for the civil day (CP-IS007,
// CP-IS009, CP-IS010, CP-IS011, CP-IS030): it removes from the live tables
// every plan cpis.Expired says is expired on the day, and every record left
// with no plan; it persists the end date cpis.EndDatedAt18 gives a CPP or
// LAC still held on the child's 18th birthday; it leaves, for each plan
// removed or end-dated, a record_history row from which an auditor can
// derive that the record existed (CP-IS075), kept until cpis.AuditUntil
// (CP-IS076), and drops those rows whose time has come. It counts the CPPs
// stale under CP-IS080 that remain.
//
// The decisions are taken on a snapshot read through the reader pool,
// record by record, so the write lock is held only to apply the changes, in
// one transaction with the day's purged_at. A record an upload replaced
// meanwhile is left alone (counted in Skipped): the next day's purge sees
// it. The day must have been notified first (CommitDay); a day already
// purged is not purged again and its stored counts are returned.
func (db *DB) Purge(ctx context.Context, day, at time.Time) (PurgeResult, error) {
	const op = "purge"
	run, ok, err := db.DailyRun(ctx, day)
	if err != nil {
		return PurgeResult{}, err
	}
	if !ok {
		return PurgeResult{}, cpis.Errorf(cpis.KindInvalid, op, "the day %s has not been notified", day.Format(time.DateOnly))
	}
	if !run.Purged.IsZero() {
		return run.Purge, nil
	}
	var (
		res     PurgeResult
		changes []recordChange
		buf     []byte
	)
	err = db.eachRecord(ctx, func(nhs, la, localID, fileID, text string, plans []cpis.Plan, birth, death time.Time) error {
		var (
			c    recordChange
			kept = make([]cpis.Plan, 0, len(plans))
		)
		for _, p := range plans {
			if reason := cpis.ExpiryReason(p, birth, day); reason != "" {
				c.history = append(c.history, historyRow{plan: p, event: "purged", reason: reason, keepUntil: cpis.AuditUntil(p, birth, death)})
				c.purged++
				continue
			}
			if q, changed := cpis.EndDatedAt18(p, birth, day); changed {
				c.history = append(c.history, historyRow{plan: p, event: "end-dated", reason: "18th-birthday", newEnd: q.End,
					keepUntil: cpis.AuditUntil(p, birth, death)})
				c.endDated++
				p = q
			}
			kept = append(kept, p)
		}
		for _, p := range kept {
			if cpis.StaleCPP(p, day) {
				res.StaleCPPs++
			}
		}
		if len(c.history) == 0 && len(kept) > 0 {
			return nil
		}
		c.nhs, c.la, c.localID, c.fileID, c.old = nhs, la, localID, fileID, text
		if len(kept) > 0 {
			buf = appendPlans(buf[:0], kept)
			c.plans = string(buf)
		}
		changes = append(changes, c)
		return nil
	})
	if err != nil {
		return PurgeResult{}, internal(op, err)
	}

	key, err := db.auditKey(ctx)
	if err != nil {
		return PurgeResult{}, internal(op, err)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return PurgeResult{}, internal(op, err)
	}
	defer tx.Rollback()
	var purgedAt sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT purged_at FROM daily_runs WHERE day = ?`, dateValue(day)).Scan(&purgedAt); err != nil {
		return PurgeResult{}, internal(op, err)
	}
	if purgedAt.Valid {
		// Another process purged the day meanwhile.
		tx.Rollback()
		run, _, err := db.DailyRun(ctx, day)
		return run.Purge, err
	}
	update, err := tx.PrepareContext(ctx, `UPDATE records SET plans = ? WHERE nhs_number = ? AND la_ods = ? AND plans = ?`)
	if err != nil {
		return PurgeResult{}, internal(op, err)
	}
	defer update.Close()
	remove, err := tx.PrepareContext(ctx, `DELETE FROM records WHERE nhs_number = ? AND la_ods = ? AND plans = ?`)
	if err != nil {
		return PurgeResult{}, internal(op, err)
	}
	defer remove.Close()
	history, err := tx.PrepareContext(ctx, `
INSERT INTO record_history (nhs_number, la_ods, local_id, file_id, plan_type, start_date, end_date, delete_date,
    event, reason, new_end_date, day, keep_until)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return PurgeResult{}, internal(op, err)
	}
	defer history.Close()
	dayText := dateValue(day)
	var audit []cpis.AuditEntry
	for _, c := range changes {
		var r sql.Result
		if c.plans == "" {
			r, err = remove.ExecContext(ctx, c.nhs, c.la, c.old)
		} else {
			r, err = update.ExecContext(ctx, c.plans, c.nhs, c.la, c.old)
		}
		if err != nil {
			return PurgeResult{}, internal(op, err)
		}
		if n, err := r.RowsAffected(); err != nil {
			return PurgeResult{}, internal(op, err)
		} else if n == 0 {
			res.Skipped++
			continue
		}
		if c.plans == "" {
			res.Records++
		}
		res.Plans += c.purged
		res.EndDated += c.endDated
		audit = audit[:0]
		for _, h := range c.history {
			detail := "local id " + c.localID + "; file " + c.fileID + "; " + planSummary([]cpis.Plan{h.plan})
			if !h.newEnd.IsZero() {
				detail += "; new end " + h.newEnd.Format(time.DateOnly)
			}
			audit = append(audit, cpis.AuditEntry{At: at, Kind: cpis.AuditPurge, Action: h.event, Outcome: h.reason,
				NHSNumber: c.nhs, LA: c.la, Detail: detail})
		}
		if c.plans == "" {
			audit = append(audit, cpis.AuditEntry{At: at, Kind: cpis.AuditPurge, Action: "removed", Outcome: "no-plan-left",
				NHSNumber: c.nhs, LA: c.la, Detail: "local id " + c.localID + "; file " + c.fileID})
		}
		if err := appendAudit(ctx, tx, audit); err != nil {
			return PurgeResult{}, internal(op, err)
		}
		for _, h := range c.history {
			if _, err := history.ExecContext(ctx, c.nhs, c.la, c.localID, c.fileID, string(h.plan.Type),
				dateValue(h.plan.Start), dateValue(h.plan.End), dateValue(h.plan.Delete),
				h.event, h.reason, dateValue(h.newEnd), dayText, dateValue(h.keepUntil)); err != nil {
				return PurgeResult{}, internal(op, err)
			}
		}
	}
	// CP-IS076: audit rows past their retention go.
	dropped, err := tx.ExecContext(ctx, `DELETE FROM record_history WHERE keep_until IS NOT NULL AND keep_until <= ?`, dayText)
	if err != nil {
		return PurgeResult{}, internal(op, err)
	}
	if n, err := dropped.RowsAffected(); err == nil {
		res.HistoryDropped = int(n)
	}
	// CP-IS076: so do audit entries, a prefix of the chain at a time, with
	// signed checkpoints that keep the rest verifiable.
	if res.Audit, err = pruneAudit(ctx, tx, key, day, at); err != nil {
		return PurgeResult{}, internal(op, err)
	}
	if _, err := tx.ExecContext(ctx, `
UPDATE daily_runs SET purged_at = ?, purged_plans = ?, purged_records = ?, end_dated = ?, stale_cpps = ? WHERE day = ?`,
		at.UnixNano(), res.Plans, res.Records, res.EndDated, res.StaleCPPs, dayText); err != nil {
		return PurgeResult{}, internal(op, err)
	}
	if err := tx.Commit(); err != nil {
		return PurgeResult{}, internal(op, err)
	}
	return res, nil
}

// HistoryRow is one row of the audit trace the purge leaves (CP-IS075).
type HistoryRow struct {
	NHSNumber, LA, LocalID, FileID string
	Plan                           cpis.Plan
	Event                          string // "purged" or "end-dated"
	Reason                         string // a cpis.Expired* constant, or "18th-birthday"
	NewEnd                         time.Time
	Day                            time.Time // the daily run that made the change
	KeepUntil                      time.Time // zero: kept with no end (CP-IS076)
}

// RecordHistory returns the audit trace of the NHS number's records, oldest
// first: what CP-IS075 needs to derive that a record existed after the
// purge removed it.
func (db *DB) RecordHistory(ctx context.Context, nhs cpis.NHSNumber) ([]HistoryRow, error) {
	const op = "record history"
	rows, err := db.read.QueryContext(ctx, `
SELECT nhs_number, la_ods, local_id, file_id, plan_type, start_date, end_date, delete_date, event, reason,
       new_end_date, day, keep_until
FROM record_history WHERE nhs_number = ? ORDER BY day, id`, string(nhs))
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []HistoryRow
	for rows.Next() {
		var (
			h                      HistoryRow
			typ, start, day        string
			end, del, newEnd, keep sql.NullString
		)
		if err := rows.Scan(&h.NHSNumber, &h.LA, &h.LocalID, &h.FileID, &typ, &start, &end, &del, &h.Event, &h.Reason,
			&newEnd, &day, &keep); err != nil {
			return nil, internal(op, err)
		}
		h.Plan.Type = planType(typ)
		var errs []error
		var e error
		h.Plan.Start, e = parseDate(sql.NullString{String: start, Valid: true})
		errs = append(errs, e)
		h.Plan.End, e = parseDate(end)
		errs = append(errs, e)
		h.Plan.Delete, e = parseDate(del)
		errs = append(errs, e)
		h.NewEnd, e = parseDate(newEnd)
		errs = append(errs, e)
		h.Day, e = parseDate(sql.NullString{String: day, Valid: true})
		errs = append(errs, e)
		h.KeepUntil, e = parseDate(keep)
		errs = append(errs, e)
		if err := errors.Join(errs...); err != nil {
			return nil, internal(op, err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}

// StaleCPP is a Child Protection Plan with neither end nor delete date two
// years after its start (CP-IS080).
type StaleCPP struct {
	NHSNumber cpis.NHSNumber
	LA        string
	LocalID   string
	Start     time.Time
}

// StaleCPPs returns the CPPs stale on the civil day under cpis.StaleCPP
// (CP-IS080), by LA then NHS number: what the report CP-IS080 asks for
// reads.
func (db *DB) StaleCPPs(ctx context.Context, day time.Time) ([]StaleCPP, error) {
	var out []StaleCPP
	err := db.eachRecord(ctx, func(nhs, la, localID, _, _ string, plans []cpis.Plan, _, _ time.Time) error {
		for _, p := range plans {
			if cpis.StaleCPP(p, day) {
				out = append(out, StaleCPP{NHSNumber: cpis.NHSNumber(nhs), LA: la, LocalID: localID, Start: p.Start})
			}
		}
		return nil
	})
	if err != nil {
		return nil, internal("stale cpps", err)
	}
	slices.SortFunc(out, func(a, b StaleCPP) int {
		if c := strings.Compare(a.LA, b.LA); c != 0 {
			return c
		}
		return strings.Compare(string(a.NHSNumber), string(b.NHSNumber))
	})
	return out, nil
}

// InactiveRenderer renders the Inactive NHS Number Notification n and
// returns its id (id/@root, upper case) and document.
type InactiveRenderer func(n cpis.InactiveNotification) (messageID string, doc []byte, err error)

// inactiveKey is an inactive notification's outbox key: the replaced number
// and its replacement. A replacement corrected later is a new notification.
func inactiveKey(old, replacement string) string { return old + ">" + replacement }

// sqlOwedInactive finds every record held under a superseded number, or a
// number PDS marks inactive with no replacement (superseded_by empty, key
// 'OLD>'), whose LA has not been sent the Inactive NHS Number Notification
// for it (CP-IS012, CP-IS023), through the partial index patients_inactive.
// ?1, when not NULL, narrows it to one old number.
const sqlOwedInactive = `
SELECT p.nhs_number, p.superseded_by, r.la_ods, r.local_id, r.file_id, la.name, la.emergency, la.office, la.uploads_enabled
FROM patients p
JOIN records r ON r.nhs_number = p.nhs_number
JOIN local_authorities la ON la.ods = r.la_ods
WHERE (p.superseded_by <> '' OR p.inactive = 1) AND (?1 IS NULL OR p.nhs_number = ?1)
  AND NOT EXISTS (SELECT 1 FROM outbox o
                  WHERE o.kind = 'inactive' AND o.la_ods = r.la_ods AND o.key = p.nhs_number || '>' || p.superseded_by)
ORDER BY r.la_ods, p.nhs_number`

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// owedInactive reads the notifications owed, one per LA and old number.
func owedInactive(ctx context.Context, q queryer, only any, at time.Time) ([]cpis.InactiveNotification, error) {
	rows, err := q.QueryContext(ctx, sqlOwedInactive, only)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []cpis.InactiveNotification
	for rows.Next() {
		var (
			old, repl string
			s         cpis.InactiveSubject
			la        cpis.LocalAuthority
		)
		if err := rows.Scan(&old, &repl, &la.ODS, &s.LocalID, &s.FileID, &la.Name, &la.Emergency, &la.Office, &la.UploadsEnabled); err != nil {
			return nil, err
		}
		s.Old, s.New = cpis.NHSNumber(old), cpis.NHSNumber(repl)
		out = append(out, cpis.InactiveNotification{LA: la, At: at, Subjects: []cpis.InactiveSubject{s}})
	}
	return out, rows.Err()
}

// enqueueInactive renders and adds, inside tx, the notifications owed.
func enqueueInactive(ctx context.Context, tx *sql.Tx, only any, at time.Time, render InactiveRenderer) (int, error) {
	owed, err := owedInactive(ctx, tx, only, at)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, note := range owed {
		id, doc, err := render(note)
		if err != nil {
			return 0, err
		}
		s := note.Subjects[0]
		added, err := insertOutbox(ctx, tx, Message{Kind: KindInactive, LA: note.LA.ODS, Key: inactiveKey(string(s.Old), string(s.New)),
			MessageID: strings.ToUpper(id), Records: 1, Document: doc, Created: at})
		if err != nil {
			return 0, err
		}
		if added {
			n++
		}
	}
	return n, nil
}

// EnqueueInactive writes to the outbox an Inactive NHS Number Notification
// to each LA holding a record under an NHS number PDS has superseded or
// marked inactive and that has not had one for that number and replacement
// (CP-IS012, CP-IS023), however PDS came to say so: a world file merged,
// Supersede or Inactivate.
// Each notification names one number. It returns how many it added. When
// nothing is owed (the usual case) it reads only, through the reader pool,
// and takes no write lock.
func (db *DB) EnqueueInactive(ctx context.Context, at time.Time, render InactiveRenderer) (int, error) {
	const op = "enqueue inactive"
	owed, err := owedInactive(ctx, db.read, nil, at)
	if err != nil {
		return 0, internal(op, err)
	}
	if len(owed) == 0 {
		return 0, nil
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, internal(op, err)
	}
	defer tx.Rollback()
	n, err := enqueueInactive(ctx, tx, nil, at, render)
	if err != nil {
		return 0, internal(op, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, internal(op, err)
	}
	return n, nil
}

// Supersede records in PDS that the NHS number old is superseded by
// replacement, and writes to the outbox an Inactive NHS Number Notification,
// naming the new number, to every LA holding a record under the old one
// (CP-IS012, CP-IS023): one immediate transaction, so the change and the
// notifications it owes are committed together or not at all.
//
// PDS must know old (else an error of kind KindNotFound). When PDS does not
// know replacement, it is added with old's demographics, as PDS's merge
// leaves the patient under the new number: the LA, expected to resubmit
// under it, can then have it verified. The LAs' records stay under the old
// number until they do. It returns how many notifications it added (none
// when old was already superseded by replacement and they were sent).
func (db *DB) Supersede(ctx context.Context, old, replacement cpis.NHSNumber, at time.Time, render InactiveRenderer) (int, error) {
	const op = "supersede"
	switch {
	case !cpis.ValidNHSNumber(string(old)) || !cpis.ValidNHSNumber(string(replacement)):
		return 0, cpis.Errorf(cpis.KindInvalid, op, "both NHS numbers must be valid")
	case old == replacement:
		return 0, cpis.Errorf(cpis.KindInvalid, op, "an NHS number cannot be superseded by itself")
	case !representable(at):
		return 0, cpis.Errorf(cpis.KindInvalid, op, "the time is out of range")
	}
	return db.changePatient(ctx, op, old, at, render, `UPDATE patients SET superseded_by = ? WHERE nhs_number = ?`,
		[]any{string(replacement), string(old)},
		func(tx *sql.Tx) error {
			// PDS knows the new number from now on, with the old one's details,
			// so the LA's resubmission under it verifies.
			_, err := tx.ExecContext(ctx, `
INSERT INTO patients (nhs_number, name_prefix, name_given, name_family, birth_date, gender, superseded_by, sensitive, date_of_death)
SELECT ?, name_prefix, name_given, name_family, birth_date, gender, '', sensitive, date_of_death FROM patients WHERE nhs_number = ?
ON CONFLICT (nhs_number) DO NOTHING`, string(replacement), string(old))
			return err
		})
}

// changePatient applies one change to the PDS entry of old (update, with
// args; KindNotFound when PDS does not know old), then more, then writes to
// the outbox the Inactive NHS Number Notifications now owed for old, all in
// one immediate transaction (CP-IS012, CP-IS023). It returns how many it
// added.
func (db *DB) changePatient(ctx context.Context, op string, old cpis.NHSNumber, at time.Time, render InactiveRenderer,
	update string, args []any, more func(*sql.Tx) error) (int, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, internal(op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, update, args...)
	if err != nil {
		return 0, internal(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, internal(op, err)
	} else if n == 0 {
		return 0, cpis.Errorf(cpis.KindNotFound, op, "PDS does not know the NHS number to %s", op)
	}
	if more != nil {
		if err := more(tx); err != nil {
			return 0, internal(op, err)
		}
	}
	// CP-IS073: the PDS change is audited with it.
	change := cpis.AuditEntry{At: at, Kind: cpis.AuditPDS, Action: op, Outcome: "changed", NHSNumber: string(old)}
	if op == "supersede" {
		change.Detail = fmt.Sprintf("superseded by %v", args[0])
	}
	if err := appendAudit(ctx, tx, []cpis.AuditEntry{change}); err != nil {
		return 0, internal(op, err)
	}
	n, err := enqueueInactive(ctx, tx, string(old), at, render)
	if err != nil {
		return 0, internal(op, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, internal(op, err)
	}
	return n, nil
}

// Inactivate records in PDS that the NHS number old is no longer active,
// with no replacement known, and writes to the outbox an Inactive NHS
// Number Notification without a new number to every LA holding a record
// under it (CP-IS012, CP-IS023), keyed 'OLD>' so each LA gets it once: one
// immediate transaction, as Supersede. PDS must know old (else an error of
// kind KindNotFound). A number already superseded stays superseded: its
// notifications name the new number. It returns how many it added.
func (db *DB) Inactivate(ctx context.Context, old cpis.NHSNumber, at time.Time, render InactiveRenderer) (int, error) {
	const op = "inactivate"
	switch {
	case !cpis.ValidNHSNumber(string(old)):
		return 0, cpis.Errorf(cpis.KindInvalid, op, "the NHS number must be valid")
	case !representable(at):
		return 0, cpis.Errorf(cpis.KindInvalid, op, "the time is out of range")
	}
	return db.changePatient(ctx, op, old, at, render, `UPDATE patients SET inactive = 1 WHERE nhs_number = ?`, []any{string(old)}, nil)
}
