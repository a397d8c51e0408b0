package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"spinegw/cpis"
)

// The outbox (migration 0006): every notification to a local authority, as
// the document sent, written in the same transaction as the decision to send
// it, and delivered from there. Its UNIQUE (kind, la_ods, key) makes each
// notification structural: a day's Access to Service Notification to an LA,
// or an Inactive NHS Number Notification for one replaced number, is stored
// once however often, and by however many processes, it is attempted.

// Notification kinds in the outbox.
const (
	KindAccess   = "access"   // Access to Service Notification (REPC_MT000004GB01)
	KindInactive = "inactive" // Inactive NHS Number Notification (REPC_MT000005GB01)
)

// Message is one outbox row.
type Message struct {
	ID        int64  // the outbox row: orders messages and names the delivered file
	Kind      string // KindAccess or KindInactive
	LA        string // the recipient local authority's ODS code
	Key       string // the day (access) or 'OLD>NEW' (inactive): with Kind and LA, unique
	MessageID string // the document's id/@root (CP-IS019)
	Records   int    // records (access) or subjects (inactive) the document names
	Document  []byte
	Created   time.Time
	// Delivered and Acknowledged are zero until the message is written to
	// the LA's mailbox folder, and until the LA acknowledges it over the
	// HTTP mailbox.
	Delivered, Acknowledged time.Time
}

const (
	sqlInsertOutbox = `
INSERT INTO outbox (kind, la_ods, key, message_id, records, document, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (kind, la_ods, key) DO NOTHING`

	sqlOutboxColumns = `id, kind, la_ods, key, message_id, records, document, created_at, delivered_at, acknowledged_at`
)

// insertOutbox adds m inside tx, unless the same notification (kind, LA,
// key) is already there; it reports whether it added it.
func insertOutbox(ctx context.Context, tx *sql.Tx, m Message) (bool, error) {
	if m.Document == nil {
		m.Document = []byte{}
	}
	res, err := tx.ExecContext(ctx, sqlInsertOutbox, m.Kind, m.LA, m.Key, m.MessageID, m.Records, m.Document, m.Created.UnixNano())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil || n != 1 {
		return false, err
	}
	// CP-IS073: every notification is audited, in the transaction that
	// enqueues it.
	return true, appendAudit(ctx, tx, []cpis.AuditEntry{notificationAudit(m, "enqueue", m.Created)})
}

// notificationAudit is the audit entry of a notification's step: enqueued,
// delivered to the mailbox folder, acknowledged by the LA.
func notificationAudit(m Message, action string, at time.Time) cpis.AuditEntry {
	e := cpis.AuditEntry{At: at, Kind: cpis.AuditNotification, Action: action, Outcome: m.Kind, LA: m.LA,
		Detail: fmt.Sprintf("message %s; key %s; %d named", m.MessageID, m.Key, m.Records)}
	if m.Kind == KindInactive {
		old, _, _ := strings.Cut(m.Key, ">")
		e.NHSNumber = old
	}
	return e
}

type rowScanner interface{ Scan(dest ...any) error }

func scanMessage(r rowScanner) (Message, error) {
	var (
		m                   Message
		created             int64
		delivered, acknowld sql.NullInt64
	)
	if err := r.Scan(&m.ID, &m.Kind, &m.LA, &m.Key, &m.MessageID, &m.Records, &m.Document, &created, &delivered, &acknowld); err != nil {
		return Message{}, err
	}
	m.Created = instant(created)
	if delivered.Valid {
		m.Delivered = instant(delivered.Int64)
	}
	if acknowld.Valid {
		m.Acknowledged = instant(acknowld.Int64)
	}
	return m, nil
}

func (db *DB) messages(ctx context.Context, op, query string, args ...any) ([]Message, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, internal(op, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}

// Outbox returns every message to the local authority, delivered or not,
// oldest first; every message when ods is empty.
func (db *DB) Outbox(ctx context.Context, ods string) ([]Message, error) {
	if ods == "" {
		return db.messages(ctx, "outbox", `SELECT `+sqlOutboxColumns+` FROM outbox ORDER BY id`)
	}
	return db.messages(ctx, "outbox", `SELECT `+sqlOutboxColumns+` FROM outbox WHERE la_ods = ? ORDER BY id`, ods)
}

// Undelivered returns up to limit messages not yet written to their LA's
// mailbox folder, oldest first.
func (db *DB) Undelivered(ctx context.Context, limit int) ([]Message, error) {
	return db.messages(ctx, "undelivered",
		`SELECT `+sqlOutboxColumns+` FROM outbox WHERE delivered_at IS NULL ORDER BY id LIMIT ?`, limit)
}

// MarkDelivered records that the messages were written to their mailbox
// folders. A message already marked keeps its first delivery time.
func (db *DB) MarkDelivered(ctx context.Context, ids []int64, at time.Time) error {
	const op = "mark delivered"
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, at.UnixNano())
	for _, id := range ids {
		args = append(args, id)
	}
	q := `UPDATE outbox SET delivered_at = ? WHERE delivered_at IS NULL AND id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)
RETURNING kind, la_ods, key, message_id, records`
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return internal(op, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return internal(op, err)
	}
	var audit []cpis.AuditEntry
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.Kind, &m.LA, &m.Key, &m.MessageID, &m.Records); err != nil {
			rows.Close()
			return internal(op, err)
		}
		audit = append(audit, notificationAudit(m, "deliver", at))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return internal(op, err)
	}
	if err := appendAudit(ctx, tx, audit); err != nil {
		return internal(op, err)
	}
	if err := tx.Commit(); err != nil {
		return internal(op, err)
	}
	return nil
}

// Inbox returns the messages to the local authority that it has not
// acknowledged, oldest first: its HTTP mailbox inbox (MESH semantics: an
// acknowledged message leaves the inbox). Documents are left out.
func (db *DB) Inbox(ctx context.Context, ods string) ([]Message, error) {
	const op = "inbox"
	rows, err := db.read.QueryContext(ctx, `
SELECT id, kind, la_ods, key, message_id, records, created_at
FROM outbox WHERE la_ods = ? AND acknowledged_at IS NULL ORDER BY id`, ods)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var (
			m       Message
			created int64
		)
		if err := rows.Scan(&m.ID, &m.Kind, &m.LA, &m.Key, &m.MessageID, &m.Records, &created); err != nil {
			return nil, internal(op, err)
		}
		m.Created = instant(created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}

// InboxMessage returns the LA's message with that id (the document's
// id/@root), acknowledged or not; an error of kind KindNotFound when the LA
// has no such message (another LA's message is not found either).
func (db *DB) InboxMessage(ctx context.Context, ods, messageID string) (Message, error) {
	const op = "inbox message"
	row := db.read.QueryRowContext(ctx, `SELECT `+sqlOutboxColumns+` FROM outbox WHERE message_id = ? AND la_ods = ?`,
		strings.ToUpper(messageID), ods)
	m, err := scanMessage(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, cpis.Errorf(cpis.KindNotFound, op, "no such message in the inbox")
	}
	if err != nil {
		return Message{}, internal(op, err)
	}
	return m, nil
}

// Acknowledge records that the LA has acknowledged its message: it leaves
// the inbox. Acknowledging again changes nothing and is not an error; a
// message the LA does not have is an error of kind KindNotFound.
func (db *DB) Acknowledge(ctx context.Context, ods, messageID string, at time.Time) error {
	const op = "acknowledge"
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return internal(op, err)
	}
	defer tx.Rollback()
	var (
		m     Message
		acked sql.NullInt64
	)
	err = tx.QueryRowContext(ctx, `SELECT kind, la_ods, key, message_id, records, acknowledged_at FROM outbox WHERE message_id = ? AND la_ods = ?`,
		strings.ToUpper(messageID), ods).Scan(&m.Kind, &m.LA, &m.Key, &m.MessageID, &m.Records, &acked)
	if errors.Is(err, sql.ErrNoRows) {
		return cpis.Errorf(cpis.KindNotFound, op, "no such message in the inbox")
	}
	if err != nil {
		return internal(op, err)
	}
	if acked.Valid {
		return nil // acknowledged before: nothing changes
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET acknowledged_at = ? WHERE message_id = ? AND la_ods = ?`,
		at.UnixNano(), m.MessageID, ods); err != nil {
		return internal(op, err)
	}
	if err := appendAudit(ctx, tx, []cpis.AuditEntry{notificationAudit(m, "acknowledge", at)}); err != nil {
		return internal(op, err)
	}
	if err := tx.Commit(); err != nil {
		return internal(op, err)
	}
	return nil
}
