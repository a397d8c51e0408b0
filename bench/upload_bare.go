package bench

import (
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"spinegw/cpis"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// bareSchema is one table holding what the gateway stores for a record:
// the NHS number and LA that key it, the LA's local id, the file it came
// from and its plans, one text column, so that one prepared statement
// inserts a record.
const bareSchema = `CREATE TABLE records (
    nhs_number TEXT NOT NULL,
    la_ods     TEXT NOT NULL,
    local_id   TEXT NOT NULL,
    file_id    TEXT NOT NULL,
    plans      TEXT NOT NULL,
    PRIMARY KEY (nhs_number, la_ods)
) WITHOUT ROWID`

// BareInsert creates a fresh SQLite database at path and inserts rows with
// one prepared statement in one transaction, with the store's pragmas (WAL,
// synchronous=NORMAL). It is the floor an upload's storing is measured
// against: no XML, no checks, no store logic. The time runs from opening the
// database to closing it, so creating the file and the final checkpoint
// count as they do for the gateway.
func BareInsert(path, la, fileID string, rows []bareRow) (time.Duration, error) {
	start := time.Now()
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, err
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	db, err := sql.Open("sqlite3", "file:"+abs+"?"+q.Encode())
	if err != nil {
		return 0, fmt.Errorf("bare insert: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// The pragmas are in the DSN; check they took, so the floor is measured
	// in the same mode as the store.
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return 0, fmt.Errorf("bare insert: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return 0, fmt.Errorf("bare insert: journal mode is %q, want wal", mode)
	}
	if _, err := db.Exec(bareSchema); err != nil {
		return 0, fmt.Errorf("bare insert: %w", err)
	}
	tx, err := db.Begin()
	if err != nil {
		return 0, fmt.Errorf("bare insert: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	stmt, err := tx.Prepare(`INSERT INTO records (nhs_number, la_ods, local_id, file_id, plans) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, fmt.Errorf("bare insert: %w", err)
	}
	var buf []byte
	for _, r := range rows {
		buf = appendPlans(buf[:0], r.Plans)
		if _, err := stmt.Exec(r.NHS, la, r.LocalID, fileID, string(buf)); err != nil {
			return 0, fmt.Errorf("bare insert: %w", err)
		}
	}
	if err := stmt.Close(); err != nil {
		return 0, fmt.Errorf("bare insert: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("bare insert: %w", err)
	}
	if err := db.Close(); err != nil {
		return 0, fmt.Errorf("bare insert: %w", err)
	}
	return time.Since(start), nil
}

// appendPlans encodes plans as "TYPE start end delete" joined by ";", dates
// YYYY-MM-DD and "-" for none: compact, and as cheap to build as the
// gateway's plan rows.
func appendPlans(b []byte, plans []cpis.Plan) []byte {
	for i, p := range plans {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, p.Type...)
		for _, d := range []time.Time{p.Start, p.End, p.Delete} {
			b = append(b, ' ')
			if d.IsZero() {
				b = append(b, '-')
			} else {
				b = d.AppendFormat(b, time.DateOnly)
			}
		}
	}
	return b
}
