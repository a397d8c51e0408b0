package store

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"spinegw/cpis"
)

// The audit trail (CP-IS073, CP-IS074; docs/audit.md). Entries are appended
// by appendAudit inside the transaction of the change they record, so that
// a change and its entry are committed together or not at all. Every write
// goes through the one writer connection in an immediate transaction, and
// appendAudit reads the chain's head inside that transaction: appends are
// serialised, by other processes on the same file too, and never lose or
// reorder an entry.

// auditInsertChunk is how many entries one insert statement carries.
const auditInsertChunk = 64

// auditColumns is how many values an audit_log row binds.
const auditColumns = 7

// auditHead reads, inside tx, the seq and hash the next entry chains to:
// the last entry's, or the latest pruned checkpoint's when the prune left
// no entry, or 0 and 32 zero bytes before the first entry ever written.
func auditHead(ctx context.Context, tx *sql.Tx) (int64, []byte, error) {
	var (
		seq  int64
		hash []byte
	)
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_checkpoints WHERE kind = 'pruned' ORDER BY id DESC LIMIT 1`).
			Scan(&seq, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, make([]byte, cpis.AuditHashSize), nil
		}
	}
	if err != nil {
		return 0, nil, err
	}
	return seq, hash, nil
}

// appendAudit appends entries, in the order given, to the chain inside tx,
// setting each one's Seq.
func appendAudit(ctx context.Context, tx *sql.Tx, entries []cpis.AuditEntry) error {
	first, err := appendAuditN(ctx, tx, len(entries), func(i int) cpis.AuditEntry { return entries[i] }, nil)
	for i := range entries {
		entries[i].Seq = first + int64(i)
	}
	return err
}

// auditCache holds, for the access writer, the insert statements of
// appendAuditN by row count, prepared on the writer connection once each
// (database/sql closes them with the connection). Only the access writer
// goroutine touches it.
type auditCache struct {
	db    *sql.DB
	stmts map[int]*sql.Stmt
}

// prepare makes sure the statements appending n entries are prepared. It
// must be called outside any transaction on c.db: the writer has one
// connection, which a transaction holds.
func (c *auditCache) prepare(ctx context.Context, n int) error {
	if n >= auditInsertChunk {
		if _, err := c.stmt(ctx, auditInsertChunk); err != nil {
			return err
		}
	}
	if r := n % auditInsertChunk; r > 0 {
		if _, err := c.stmt(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func (c *auditCache) stmt(ctx context.Context, n int) (*sql.Stmt, error) {
	if st, ok := c.stmts[n]; ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, sqlInsertAudit(n))
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = map[int]*sql.Stmt{}
	}
	c.stmts[n] = st
	return st, nil
}

func sqlInsertAudit(n int) string {
	return `INSERT INTO audit_log (seq, at, kind, nhs_number, content, prev_hash, hash) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", n), ", ")
}

// appendAuditN appends n entries, entry(0) to entry(n-1), to the chain
// inside tx, and returns the seq of the first. Entries are made one at a
// time, so that an upload of 230,000 records never holds them all. The
// insert statements come from cache when given (prepared beforehand,
// outside the transaction), else are prepared on tx for this call.
func appendAuditN(ctx context.Context, tx *sql.Tx, n int, entry func(i int) cpis.AuditEntry, cache *auditCache) (int64, error) {
	if n == 0 {
		return 0, nil
	}
	seq, prev, err := auditHead(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("audit head: %w", err)
	}
	first := seq + 1
	var local map[int]*sql.Stmt
	defer func() {
		for _, st := range local {
			st.Close()
		}
	}()
	args := make([]any, 0, min(n, auditInsertChunk)*auditColumns)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		rows := len(args) / auditColumns
		var st *sql.Stmt
		if cache != nil {
			st = cache.stmts[rows]
		}
		if st != nil {
			st = tx.StmtContext(ctx, st)
		} else if st = local[rows]; st == nil {
			var err error
			if st, err = tx.PrepareContext(ctx, sqlInsertAudit(rows)); err != nil {
				return fmt.Errorf("audit append: %w", err)
			}
			if local == nil {
				local = map[int]*sql.Stmt{}
			}
			local[rows] = st
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("audit append: %w", err)
		}
		clear(args)
		args = args[:0]
		return nil
	}
	for i := range n {
		e := entry(i)
		seq++
		e.Seq = seq
		content := e.Canonical()
		hash := cpis.AuditHash(prev, content)
		args = append(args, seq, e.At.UnixNano(), e.Kind, e.NHSNumber, string(content), prev, hash)
		prev = hash
		if len(args) == auditInsertChunk*auditColumns {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	return first, flush()
}

// Audit appends one entry in a transaction of its own: for actions that
// change nothing else in the store (an admin action, a refused query).
// It returns the entry as appended, Seq set.
func (db *DB) Audit(ctx context.Context, e cpis.AuditEntry) (cpis.AuditEntry, error) {
	const op = "audit"
	if e.At.IsZero() || !representable(e.At) || e.Kind == "" {
		return e, cpis.Errorf(cpis.KindInvalid, op, "an audit entry needs a time and a kind")
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return e, internal(op, err)
	}
	defer tx.Rollback()
	entries := []cpis.AuditEntry{e}
	if err := appendAudit(ctx, tx, entries); err != nil {
		return e, internal(op, err)
	}
	if err := tx.Commit(); err != nil {
		return e, internal(op, err)
	}
	return entries[0], nil
}

// AuditEntries returns the entries with seq in [from, to] (to 0: to the
// end), in chain order, as stored (not verified).
func (db *DB) AuditEntries(ctx context.Context, from, to int64) ([]cpis.AuditEntry, error) {
	if to <= 0 {
		to = 1<<63 - 1
	}
	rows, err := db.read.QueryContext(ctx, `SELECT content FROM audit_log WHERE seq BETWEEN ? AND ? ORDER BY seq`, from, to)
	if err != nil {
		return nil, internal("audit entries", err)
	}
	defer rows.Close()
	var out []cpis.AuditEntry
	for rows.Next() {
		var content []byte
		if err := rows.Scan(&content); err != nil {
			return nil, internal("audit entries", err)
		}
		e, err := cpis.ParseAuditEntry(content)
		if err != nil {
			return nil, internal("audit entries", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// accessAudit is the audit entry of a recorded access event (CP-IS073:
// who, from where, when, which NHS number, and the outcome).
func accessAudit(ev *cpis.AccessEvent) cpis.AuditEntry {
	outcome := "not-shown" // recorded, not shown in the history (CP-IS047)
	if ev.Shown {
		outcome = "shown"
	}
	a := &ev.Accessor
	user := a.UserID
	if a.System {
		user = "system"
	}
	return cpis.AuditEntry{At: ev.At, Kind: cpis.AuditQuery, Action: "query", Outcome: outcome,
		NHSNumber: string(ev.NHSNumber), User: user, RoleProfile: a.RoleProfileID, JobRole: a.JobRole.Code,
		ASID: a.ASID, Org: a.Org.ODS, LA: strings.Join(ev.LAs, " "), Detail: "message " + ev.ID}
}

// AuditPrune is what the retention prune of the audit trail did.
type AuditPrune struct {
	Pruned  int64 // entries removed this time
	Through int64 // the last entry removed (0: none ever)
	Head    int64 // the head the checkpoint written pins (0: empty chain)
}

// pruneAudit removes, inside tx, the longest prefix of the chain whose
// every entry is past its retention on civil date today
// (cpis.AuditEntryUntil, CP-IS076), writes a signed 'pruned' checkpoint for
// it, appends an entry saying so, and then writes a signed 'head'
// checkpoint pinning the head, so that entries removed from the end are
// found by verify.
func pruneAudit(ctx context.Context, tx *sql.Tx, key ed25519.PrivateKey, today, at time.Time) (AuditPrune, error) {
	var res AuditPrune
	rows, err := tx.QueryContext(ctx, `
SELECT a.seq, a.at, a.nhs_number, a.hash, p.birth_date, p.date_of_death
FROM audit_log a LEFT JOIN patients p ON p.nhs_number = a.nhs_number AND a.nhs_number <> ''
ORDER BY a.seq`)
	if err != nil {
		return res, err
	}
	var lastHash []byte
	for rows.Next() {
		var (
			seq, atNS    int64
			nhs          string
			hash         []byte
			birth, death sql.NullString
		)
		if err := rows.Scan(&seq, &atNS, &nhs, &hash, &birth, &death); err != nil {
			rows.Close()
			return res, err
		}
		b, err1 := parseDate(birth)
		d, err2 := parseDate(death)
		if err := errors.Join(err1, err2); err != nil {
			rows.Close()
			return res, err
		}
		until := cpis.AuditEntryUntil(cpis.AuditEntry{At: instant(atNS), NHSNumber: nhs}, b, d)
		if until.After(today) {
			break
		}
		res.Pruned++
		res.Through, lastHash = seq, hash
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}
	if res.Pruned > 0 {
		var before int64
		err := tx.QueryRowContext(ctx, `SELECT count FROM audit_checkpoints WHERE kind = 'pruned' ORDER BY id DESC LIMIT 1`).Scan(&before)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return res, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE seq <= ?`, res.Through); err != nil {
			return res, err
		}
		cp := cpis.AuditCheckpoint{Kind: "pruned", Seq: res.Through, Hash: lastHash, Count: before + res.Pruned, At: at}
		if err := insertCheckpoint(ctx, tx, key, cp); err != nil {
			return res, err
		}
		if err := appendAudit(ctx, tx, []cpis.AuditEntry{{At: at, Kind: cpis.AuditPurge, Action: "audit-prune",
			Outcome: "pruned", Detail: fmt.Sprintf("entries through %d, %d this time", res.Through, res.Pruned)}}); err != nil {
			return res, err
		}
	} else {
		var through sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(seq) FROM audit_checkpoints WHERE kind = 'pruned'`).Scan(&through); err != nil {
			return res, err
		}
		res.Through = through.Int64
	}
	head, hash, err := auditHead(ctx, tx)
	if err != nil {
		return res, err
	}
	res.Head = head
	if head == 0 {
		return res, nil
	}
	cp := cpis.AuditCheckpoint{Kind: "head", Seq: head, Hash: hash, Count: head, At: at}
	return res, insertCheckpoint(ctx, tx, key, cp)
}

func insertCheckpoint(ctx context.Context, tx *sql.Tx, key ed25519.PrivateKey, cp cpis.AuditCheckpoint) error {
	sig := ed25519.Sign(key, cp.Signed())
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (kind, seq, hash, count, at, signature) VALUES (?, ?, ?, ?, ?, ?)`,
		cp.Kind, cp.Seq, cp.Hash, cp.Count, cp.At.UnixNano(), sig)
	return err
}

// Path returns the file the store is kept in.
func (db *DB) Path(ctx context.Context) (string, error) {
	rows, err := db.read.QueryContext(ctx, `PRAGMA database_list`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq        int
			name, file string
		)
		if err := rows.Scan(&seq, &name, &file); err != nil {
			return "", err
		}
		if name == "main" {
			return file, nil
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return "", errors.New("no main database")
}

// planSummary spells a record's plans for its audit entry: "CPP
// 2023-06-12/2024-01-31 delete 2026-12-31; LAC 2024-02-01", or "no plans".
func planSummary(plans []cpis.Plan) string {
	if len(plans) == 0 {
		return "no plans"
	}
	var b strings.Builder
	for i, p := range plans {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(string(p.Type))
		b.WriteByte(' ')
		b.WriteString(p.Start.Format(time.DateOnly))
		if !p.End.IsZero() {
			b.WriteByte('/')
			b.WriteString(p.End.Format(time.DateOnly))
		}
		if !p.Delete.IsZero() {
			b.WriteString(" delete ")
			b.WriteString(p.Delete.Format(time.DateOnly))
		}
	}
	return b.String()
}

// uploadAudit appends, inside tx, the audit of a stored upload: one entry
// for the file and one per record it replaced (CP-IS075: that a record was
// present, which LA held it and what it was, can be derived from the
// trail).
func uploadAudit(ctx context.Context, tx *sql.Tx, u Upload, records []cpis.Record) error {
	_, err := appendAuditN(ctx, tx, 1+len(records), func(i int) cpis.AuditEntry {
		if i == 0 {
			return cpis.AuditEntry{At: u.ReceivedAt, Kind: cpis.AuditUpload, Action: "upload", Outcome: u.Code,
				LA: u.LA, Detail: fmt.Sprintf("file %s; route %s; sha256 %s; %d succeeded, %d failed", u.FileID, u.Route, u.Digest,
					u.Succeeded, u.Failed)}
		}
		r := &records[i-1]
		return cpis.AuditEntry{At: u.ReceivedAt, Kind: cpis.AuditRecord, Action: "replace", Outcome: "stored",
			NHSNumber: string(r.NHSNumber), LA: u.LA,
			Detail: "file " + u.FileID + "; local id " + r.LocalID + "; " + planSummary(r.Plans)}
	}, nil)
	return err
}

// worldAudit appends, inside tx, the audit of a world merge: one entry
// for the load and one per record it replaced.
func worldAudit(ctx context.Context, tx *sql.Tx, w cpis.World, at time.Time) error {
	_, err := appendAuditN(ctx, tx, 1+len(w.Records), func(i int) cpis.AuditEntry {
		if i == 0 {
			return cpis.AuditEntry{At: at, Kind: cpis.AuditWorld, Action: "merge", Outcome: "stored",
				Detail: fmt.Sprintf("%d endpoints, %d users, %d patients, %d local authorities, %d records",
					len(w.Endpoints), len(w.Users), len(w.Patients), len(w.LocalAuthorities), len(w.Records))}
		}
		r := &w.Records[i-1]
		return cpis.AuditEntry{At: at, Kind: cpis.AuditRecord, Action: "world", Outcome: "stored",
			NHSNumber: string(r.NHSNumber), LA: r.LA.ODS, Detail: "local id " + r.LocalID + "; " + planSummary(r.Plans)}
	}, nil)
	return err
}
