package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"spinegw/cpis"
)

// The reports CP-IS077 to CP-IS081 (cpis/report*.go): read-only queries over
// the existing tables, each report in one read transaction on the read
// pool, so one snapshot. The rules (what is current, what is in a period,
// what is stale) are the core's; this file reads their input.

const (
	// ?1: '' or an LA's ODS code.
	sqlReportRecords = `
SELECT r.nhs_number, r.la_ods, r.plans, p.birth_date
FROM records r LEFT JOIN patients p ON p.nhs_number = r.nhs_number
WHERE ?1 = '' OR r.la_ods = ?1`

	// Plans the purge removed; end-dated rows describe plans still held.
	sqlReportPurged = `
SELECT h.nhs_number, h.la_ods, h.plan_type, h.start_date, h.end_date, h.delete_date, p.birth_date
FROM record_history h LEFT JOIN patients p ON p.nhs_number = h.nhs_number
WHERE h.event = 'purged' AND (?1 = '' OR h.la_ods = ?1)`

	sqlReportProviders = `SELECT DISTINCT la_ods FROM uploads WHERE succeeded > 0 AND (?1 = '' OR la_ods = ?1)`

	// ?1, ?2: the period's instants [start, end); ?3: '' or an LA. An
	// access counts for an LA when it returned that LA's plans (CP-IS023).
	sqlReportCounts = `
SELECT
 (SELECT count(*) FROM access_events
  WHERE at >= ?1 AND at < ?2 AND (?3 = '' OR EXISTS (SELECT 1 FROM json_each(las) WHERE value = ?3))),
 (SELECT count(DISTINCT org_ods) FROM access_events
  WHERE at >= ?1 AND at < ?2 AND (?3 = '' OR EXISTS (SELECT 1 FROM json_each(las) WHERE value = ?3))),
 (SELECT count(*) FROM uploads WHERE received_at >= ?1 AND received_at < ?2 AND (?3 = '' OR la_ods = ?3)),
 (SELECT coalesce(sum(succeeded), 0) FROM uploads WHERE received_at >= ?1 AND received_at < ?2 AND (?3 = '' OR la_ods = ?3)),
 (SELECT coalesce(sum(failed), 0) FROM uploads WHERE received_at >= ?1 AND received_at < ?2 AND (?3 = '' OR la_ods = ?3)),
 (SELECT count(*) FROM outbox WHERE kind = 'access' AND created_at >= ?1 AND created_at < ?2 AND (?3 = '' OR la_ods = ?3)),
 (SELECT count(*) FROM outbox WHERE kind = 'inactive' AND created_at >= ?1 AND created_at < ?2 AND (?3 = '' OR la_ods = ?3))`
)

// readTx runs fn in one read transaction of the read pool.
func (db *DB) readTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return internal(op, err)
	}
	defer tx.Rollback() // read only: nothing to commit
	if err := fn(tx); err != nil {
		if cpis.KindOf(err) != cpis.KindInternal {
			return err
		}
		return internal(op, err)
	}
	return nil
}

// ReportStatistics reads the CP-IS077 figures for the period, with current
// figures counted on the civil day asOf; la, when not empty, narrows every
// figure to that local authority.
func (db *DB) ReportStatistics(ctx context.Context, per cpis.Period, asOf time.Time, la string) (cpis.Statistics, error) {
	t := &cpis.StatsTally{Period: per, AsOf: asOf}
	var c cpis.ServiceCounts
	err := db.readTx(ctx, "statistics report", func(tx *sql.Tx) error {
		if err := eachRow(ctx, tx, sqlReportRecords, []any{la}, func(rows *sql.Rows) error {
			var nhs, ods, plans string
			var birthText sql.NullString
			if err := rows.Scan(&nhs, &ods, &plans, &birthText); err != nil {
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
			for _, p := range ps {
				t.Held(cpis.NHSNumber(nhs), ods, p, birth)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := eachRow(ctx, tx, sqlReportPurged, []any{la}, func(rows *sql.Rows) error {
			var nhs, ods, typ, start string
			var end, del, birthText sql.NullString
			if err := rows.Scan(&nhs, &ods, &typ, &start, &end, &del, &birthText); err != nil {
				return err
			}
			p, birth, err := historyPlan(typ, start, end, del, birthText)
			if err != nil {
				return err
			}
			t.Purged(cpis.NHSNumber(nhs), ods, p, birth)
			return nil
		}); err != nil {
			return err
		}
		if err := eachRow(ctx, tx, sqlReportProviders, []any{la}, func(rows *sql.Rows) error {
			var ods string
			if err := rows.Scan(&ods); err != nil {
				return err
			}
			c.ProvidingUploads = append(c.ProvidingUploads, ods)
			return nil
		}); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, sqlReportCounts, per.Start().UnixNano(), per.End().UnixNano(), la).Scan(
			&c.Positive, &c.QueryOrgs, &c.Uploads, &c.UploadAccepted, &c.UploadRejected, &c.AccessNotes, &c.InactiveNotes)
	})
	if err != nil {
		return cpis.Statistics{}, err
	}
	return t.Statistics(la, c), nil
}

func historyPlan(typ, start string, end, del, birthText sql.NullString) (cpis.Plan, time.Time, error) {
	p := cpis.Plan{Type: planType(typ)}
	var err error
	if p.Start, err = parseDate(sql.NullString{String: start, Valid: true}); err != nil {
		return p, time.Time{}, err
	}
	if p.End, err = parseDate(end); err != nil {
		return p, time.Time{}, err
	}
	if p.Delete, err = parseDate(del); err != nil {
		return p, time.Time{}, err
	}
	birth, err := parseDate(birthText)
	return p, birth, err
}

// ReportStaleCPPs reads the CP-IS080 report on the civil day asOf: every
// CPP cpis.StaleCPP finds, narrowed to an LA and an NHS number when given.
func (db *DB) ReportStaleCPPs(ctx context.Context, asOf time.Time, la, nhs string) (cpis.StaleReport, error) {
	all, err := db.StaleCPPs(ctx, asOf)
	if err != nil {
		return cpis.StaleReport{}, err
	}
	r := cpis.StaleReport{AsOf: asOf, LA: la, NHS: nhs}
	for _, s := range all {
		if (la == "" || s.LA == la) && (nhs == "" || string(s.NHSNumber) == nhs) {
			r.Rows = append(r.Rows, cpis.StaleRow{LA: s.LA, NHSNumber: s.NHSNumber, LocalID: s.LocalID, Start: s.Start})
		}
	}
	return r, nil
}

const (
	sqlReportSupersededBy = `
SELECT nhs_number, inactive FROM patients WHERE superseded_by = ?1 AND superseded_by <> '' ORDER BY nhs_number`

	sqlReportSubjectRecords = `SELECT la_ods, local_id, file_id, plans FROM records WHERE nhs_number = ?1 ORDER BY la_ods`

	sqlReportSubjectHistory = `
SELECT la_ods, local_id, file_id, plan_type, start_date, end_date, delete_date, event, reason, new_end_date, day, keep_until
FROM record_history WHERE nhs_number = ?1 ORDER BY day, id`

	sqlReportSubjectUploads = `
SELECT la_ods, file_id, received_at, route, code, succeeded, failed FROM uploads
WHERE (la_ods, file_id) IN (SELECT la_ods, file_id FROM records WHERE nhs_number = ?1
                            UNION SELECT la_ods, file_id FROM record_history WHERE nhs_number = ?1)
ORDER BY received_at, id`

	// Notifications naming the number: every Inactive NHS Number
	// Notification keyed by it (old or new), and every Access to Service
	// Notification of a day whose period holds a shown access to it that
	// returned the LA's plans (CP-IS023, CP-IS025, CP-IS047).
	sqlReportSubjectNotifications = `
SELECT kind, la_ods, key, message_id, created_at, delivered_at, acknowledged_at FROM outbox
WHERE kind = 'inactive' AND (key LIKE ?1 || '>%' OR key LIKE '%>' || ?1)
UNION
SELECT o.kind, o.la_ods, o.key, o.message_id, o.created_at, o.delivered_at, o.acknowledged_at
FROM access_events e
JOIN daily_runs d ON e.at >= d.period_from AND e.at < d.period_to
JOIN json_each(e.las) l
JOIN outbox o ON o.kind = 'access' AND o.la_ods = l.value AND o.key = d.day
WHERE e.nhs_number = ?1 AND e.shown = 1
ORDER BY 5, 2`
)

// ReportSubject reads the CP-IS079 data protection report of an NHS
// number: its PDS entry and supersessions, every plan held for it now,
// the purge's trace of what was held (CP-IS075), the upload files its
// records came from, every access to it (CP-IS047) and the notifications
// naming it; asOf is the civil day the status of held plans is given for.
func (db *DB) ReportSubject(ctx context.Context, nhs cpis.NHSNumber, asOf time.Time) (cpis.SubjectReport, error) {
	r := cpis.SubjectReport{NHSNumber: nhs, AsOf: asOf}
	add := func(it cpis.SubjectItem) { r.Items = append(r.Items, it) }
	err := db.readTx(ctx, "subject report", func(tx *sql.Tx) error {
		var birth time.Time
		var (
			prefix, given, family, gender, superseded string
			birthText, death                          sql.NullString
			sensitive, inactive                       bool
		)
		err := tx.QueryRowContext(ctx, sqlPatient, string(nhs)).Scan(&prefix, &given, &family, &birthText, &gender,
			&superseded, &inactive, &sensitive, &death)
		switch {
		case err == sql.ErrNoRows:
			add(cpis.SubjectItem{Section: cpis.SecPatient, What: "PDS", Detail: "PDS does not know the number"})
		case err != nil:
			return err
		default:
			p, err := makePatient(nhs, prefix, given, family, birthText, gender, superseded, inactive, sensitive, death)
			if err != nil {
				return err
			}
			birth = p.BirthDate
			d := fmt.Sprintf("name %s; born %s; gender %s", p.Name, orNone(cpis.FormatDay(p.BirthDate)), orNone(p.Gender))
			if !p.DateOfDeath.IsZero() {
				d += "; died " + cpis.FormatDay(p.DateOfDeath)
			}
			if p.Sensitive {
				d += "; sensitive"
			}
			add(cpis.SubjectItem{Section: cpis.SecPatient, What: "PDS", Detail: d})
			if p.SupersededBy != "" {
				add(cpis.SubjectItem{Section: cpis.SecSupersession, What: "superseded by", Detail: string(p.SupersededBy)})
			} else if p.Inactive {
				add(cpis.SubjectItem{Section: cpis.SecSupersession, What: "inactive", Detail: "PDS knows no replacement number"})
			}
		}
		if err := eachRow(ctx, tx, sqlReportSupersededBy, []any{string(nhs)}, func(rows *sql.Rows) error {
			var old string
			var inact bool
			if err := rows.Scan(&old, &inact); err != nil {
				return err
			}
			add(cpis.SubjectItem{Section: cpis.SecSupersession, What: "replaces", Detail: old})
			return nil
		}); err != nil {
			return err
		}
		if err := eachRow(ctx, tx, sqlReportSubjectRecords, []any{string(nhs)}, func(rows *sql.Rows) error {
			var la, localID, fileID, plans string
			if err := rows.Scan(&la, &localID, &fileID, &plans); err != nil {
				return err
			}
			ps, err := parsePlans(plans)
			if err != nil {
				return err
			}
			for _, p := range ps {
				add(cpis.SubjectItem{Section: cpis.SecRecord, LA: la, What: string(p.Type), Start: p.Start, End: p.End,
					Delete: p.Delete, Detail: fmt.Sprintf("%s; local id %s; file %s", cpis.PlanStatus(p, birth, asOf),
						orNone(localID), orNone(fileID))})
			}
			return nil
		}); err != nil {
			return err
		}
		if err := eachRow(ctx, tx, sqlReportSubjectHistory, []any{string(nhs)}, func(rows *sql.Rows) error {
			var la, localID, fileID, typ, start, event, reason, day string
			var end, del, newEnd, keep sql.NullString
			if err := rows.Scan(&la, &localID, &fileID, &typ, &start, &end, &del, &event, &reason, &newEnd, &day, &keep); err != nil {
				return err
			}
			p, _, err := historyPlan(typ, start, end, del, sql.NullString{})
			if err != nil {
				return err
			}
			d := event + " (" + reason + ")"
			if newEnd.Valid {
				d += "; end date set to " + newEnd.String
			}
			d += fmt.Sprintf("; local id %s; file %s; audit kept until %s", orNone(localID), orNone(fileID),
				orNone(keep.String))
			add(cpis.SubjectItem{Section: cpis.SecHistory, When: day, LA: la, What: string(p.Type), Start: p.Start,
				End: p.End, Delete: p.Delete, Detail: d})
			return nil
		}); err != nil {
			return err
		}
		if err := eachRow(ctx, tx, sqlReportSubjectUploads, []any{string(nhs)}, func(rows *sql.Rows) error {
			var la, fileID, route, code string
			var at int64
			var ok, failed int
			if err := rows.Scan(&la, &fileID, &at, &route, &code, &ok, &failed); err != nil {
				return err
			}
			add(cpis.SubjectItem{Section: cpis.SecUpload, When: cpis.FormatInstant(instant(at)), LA: la, What: fileID,
				Detail: fmt.Sprintf("received by %s; %s; %d accepted, %d refused", route, code, ok, failed)})
			return nil
		}); err != nil {
			return err
		}
		if err := eachRow(ctx, tx, sqlEvents, []any{string(nhs)}, func(rows *sql.Rows) error {
			e, err := scanEvent(rows, false)
			if err != nil {
				return err
			}
			add(cpis.SubjectItem{Section: cpis.SecAccess, When: cpis.FormatInstant(e.At), LA: strings.Join(e.LAs, " "),
				What: viewWhat(e.Shown), Detail: accessorText(e.Accessor) + "; message " + e.ID})
			return nil
		}); err != nil {
			return err
		}
		return eachRow(ctx, tx, sqlReportSubjectNotifications, []any{string(nhs)}, func(rows *sql.Rows) error {
			var kind, la, key, id string
			var created int64
			var delivered, acked sql.NullInt64
			if err := rows.Scan(&kind, &la, &key, &id, &created, &delivered, &acked); err != nil {
				return err
			}
			d := "message " + id + "; key " + key
			if delivered.Valid {
				d += "; delivered " + cpis.FormatInstant(instant(delivered.Int64))
			}
			if acked.Valid {
				d += "; acknowledged " + cpis.FormatInstant(instant(acked.Int64))
			}
			what := "access to service"
			if kind == "inactive" {
				what = "inactive NHS number"
			}
			add(cpis.SubjectItem{Section: cpis.SecNotification, When: cpis.FormatInstant(instant(created)), LA: la,
				What: what, Detail: d})
			return nil
		})
	})
	if err != nil {
		return cpis.SubjectReport{}, err
	}
	return r, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func viewWhat(shown bool) string {
	if shown {
		return "view"
	}
	return "view (repeat within 24 hours)"
}

func accessorText(a cpis.Accessor) string {
	who := a.Name.String()
	if a.UserID != "" {
		who += " (user " + a.UserID + ", role profile " + a.RoleProfileID + ")"
	} else if a.System {
		who += " (system author)"
	}
	if a.JobRole.Code != "" {
		who += "; " + strings.TrimSpace(a.JobRole.Code+" "+a.JobRole.Name)
	}
	return who + "; " + a.Org.ODS + " " + a.Org.Name + "; ASID " + a.ASID
}

// scanEvent reads a row of sqlEvents (withNHS false) or of
// sqlReportEvents (withNHS true).
func scanEvent(rows *sql.Rows, withNHS bool) (cpis.AccessEvent, error) {
	var (
		e          cpis.AccessEvent
		at         int64
		given, las string
		nhs        string
		a          = &e.Accessor
	)
	dest := []any{&at, &e.ID}
	if withNHS {
		dest = append(dest, &nhs)
	}
	dest = append(dest, &a.UserID, &a.RoleProfileID, &a.Name.Prefix, &given, &a.Name.Family,
		&a.JobRole.Code, &a.JobRole.Name, &a.Org.ODS, &a.Org.Name, &a.System, &a.ASID, &las, &e.Shown)
	if err := rows.Scan(dest...); err != nil {
		return e, err
	}
	e.NHSNumber, e.At = cpis.NHSNumber(nhs), instant(at)
	var err error
	if a.Name.Given, err = parseStrings(given); err != nil {
		return e, err
	}
	e.LAs, err = parseStrings(las)
	return e, err
}

// ReportAccess reads the CP-IS081 report for the period: every access
// event (who viewed which child's information, from which organisation,
// when), every LA upload file received and every record still traceable to
// it (which LA changed which records, when); la narrows it to the accesses
// that returned that LA's plans and that LA's uploads, nhs to one child.
func (db *DB) ReportAccess(ctx context.Context, per cpis.Period, la, nhs string) (cpis.AccessReport, error) {
	r := cpis.AccessReport{Period: per, LA: la, NHS: nhs}
	start, end := per.Start().UnixNano(), per.End().UnixNano()
	err := db.readTx(ctx, "access report", func(tx *sql.Tx) error {
		// Built per filter, so that an NHS number uses the index
		// access_events_nhs.
		q := `
SELECT at, message_id, nhs_number, user_id, role_profile_id, name_prefix, name_given, name_family,
       job_role_code, job_role_name, org_ods, org_name, system, asid, las, shown
FROM access_events WHERE at >= ? AND at < ?`
		args := []any{start, end}
		if nhs != "" {
			q += ` AND nhs_number = ?`
			args = append(args, nhs)
		}
		if la != "" {
			q += ` AND EXISTS (SELECT 1 FROM json_each(las) WHERE value = ?)`
			args = append(args, la)
		}
		q += ` ORDER BY at, id`
		if err := eachRow(ctx, tx, q, args, func(rows *sql.Rows) error {
			e, err := scanEvent(rows, true)
			if err != nil {
				return err
			}
			a := e.Accessor
			role := strings.TrimSpace(a.JobRole.Code + " " + a.JobRole.Name)
			detail := "message " + e.ID
			if !e.Shown {
				detail += "; repeat within 24 hours, not shown in history (CP-IS047)"
			}
			if a.System {
				detail += "; system author"
			}
			r.Rows = append(r.Rows, cpis.AccessRow{At: e.At, Action: cpis.ActView, NHSNumber: e.NHSNumber, UserID: a.UserID,
				User: a.Name.String(), JobRole: role, OrgODS: a.Org.ODS, OrgName: a.Org.Name, ASID: a.ASID, LAs: e.LAs,
				Detail: detail})
			return nil
		}); err != nil {
			return err
		}
		// Upload files, unless the report is of one child: a file names
		// no child, its records do.
		laCond, laArgs := "", []any{start, end}
		if la != "" {
			laCond, laArgs = ` AND u.la_ods = ?`, append(laArgs, la)
		}
		if nhs == "" {
			if err := eachRow(ctx, tx, `
SELECT u.received_at, u.la_ods, coalesce(l.name, ''), u.file_id, u.route, u.code, u.succeeded, u.failed
FROM uploads u LEFT JOIN local_authorities l ON l.ods = u.la_ods
WHERE u.received_at >= ? AND u.received_at < ?`+laCond+` ORDER BY u.received_at, u.id`,
				laArgs, func(rows *sql.Rows) error {
					var at int64
					var ods, name, fileID, route, code string
					var ok, failed int
					if err := rows.Scan(&at, &ods, &name, &fileID, &route, &code, &ok, &failed); err != nil {
						return err
					}
					r.Rows = append(r.Rows, cpis.AccessRow{At: instant(at), Action: cpis.ActUpload, OrgODS: ods, OrgName: name,
						LAs: []string{ods}, Detail: fmt.Sprintf("file %s by %s; %s; %d accepted, %d refused", fileID, route, code, ok, failed)})
					return nil
				}); err != nil {
				return err
			}
		}
		// The records an upload of the period stored that can still be
		// traced to it: held now from that file, or removed by the purge
		// with that file as their source. A record the LA replaced by a
		// later file is traced to the later file only.
		nhsCond, args := "", laArgs
		if nhs != "" {
			nhsCond, args = ` AND x.nhs_number = ?`, append(args, nhs)
		}
		return eachRow(ctx, tx, `
SELECT u.received_at, u.la_ods, coalesce(l.name, ''), u.file_id, x.nhs_number, min(x.state)
FROM (SELECT nhs_number, la_ods, file_id, 'held now' AS state FROM records
      UNION ALL
      SELECT nhs_number, la_ods, file_id, 'since purged' FROM record_history WHERE event = 'purged') x
JOIN uploads u ON u.la_ods = x.la_ods AND u.file_id = x.file_id
LEFT JOIN local_authorities l ON l.ods = u.la_ods
WHERE u.received_at >= ? AND u.received_at < ?`+laCond+nhsCond+`
GROUP BY u.id, x.nhs_number
ORDER BY u.received_at, u.id, x.nhs_number`, args, func(rows *sql.Rows) error {
			var at int64
			var ods, name, fileID, n, state string
			if err := rows.Scan(&at, &ods, &name, &fileID, &n, &state); err != nil {
				return err
			}
			r.Rows = append(r.Rows, cpis.AccessRow{At: instant(at), Action: cpis.ActUpdate, NHSNumber: cpis.NHSNumber(n),
				OrgODS: ods, OrgName: name, LAs: []string{ods}, Detail: "record from file " + fileID + ", " + state})
			return nil
		})
	})
	if err != nil {
		return cpis.AccessReport{}, err
	}
	// Views, uploads and updates interleaved in time; at one instant a
	// file before the records it stored.
	order := map[string]int{cpis.ActView: 0, cpis.ActUpload: 1, cpis.ActUpdate: 2}
	slices.SortStableFunc(r.Rows, func(a, b cpis.AccessRow) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(order[a.Action], order[b.Action])
	})
	return r, nil
}
