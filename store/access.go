package store

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"time"

	"spinegw/cpis"
)

const (
	// maxBatch bounds one group commit, so that a long queue cannot hold
	// the write lock (and delay MergeWorld) for long.
	maxBatch = 256
	// queueSize lets callers enqueue while a batch commits.
	queueSize = 1024
)

const (
	sqlLastShown = `
SELECT at FROM access_events
WHERE nhs_number = ? AND accessor_key = ? AND shown = 1
ORDER BY at DESC LIMIT 1`

	sqlInsertEvent = `
INSERT INTO access_events (message_id, nhs_number, at, accessor_key, user_id, role_profile_id,
    name_prefix, name_given, name_family, job_role_code, job_role_name, org_ods, org_name,
    system, asid, shown)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	sqlInsertEventLA = `INSERT INTO access_event_las (event_id, seq, la_ods) VALUES (?, ?, ?)`
)

// accessRequest is one caller's event waiting for the access writer.
type accessRequest struct {
	ev   cpis.AccessEvent
	done chan error // buffered: the writer never blocks on a caller
}

// RecordAccess durably records ev and returns once it is committed
// (CP-IS068: the access is recorded immediately, before the answer goes
// out). Inside the write transaction it decides ev.Shown: true for the
// accessor's first access to the NHS number in 24 hours (CP-IS047).
//
// Events from concurrent callers are committed together (group commit). A
// caller whose ctx ends before its event is queued gets ctx's error and
// nothing is recorded; once queued, the caller waits for the outcome, so an
// event is never recorded behind the back of a caller told it failed, nor
// dropped while its caller is told it succeeded.
func (db *DB) RecordAccess(ctx context.Context, ev cpis.AccessEvent) error {
	const op = "record access"
	if !cpis.ValidNHSNumber(string(ev.NHSNumber)) {
		return cpis.Errorf(cpis.KindInvalid, op, "the access event has no valid NHS number")
	}
	if ev.At.IsZero() || !representable(ev.At) {
		return cpis.Errorf(cpis.KindInvalid, op, "the access event's time is missing or out of range")
	}
	if err := ctx.Err(); err != nil {
		return &cpis.Error{Kind: cpis.KindInternal, Op: op, Err: err}
	}
	req := &accessRequest{ev: ev, done: make(chan error, 1)}
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return cpis.Errorf(cpis.KindInternal, op, "the store is closed")
	}
	select {
	case db.queue <- req:
		db.mu.RUnlock()
	case <-ctx.Done():
		db.mu.RUnlock()
		return &cpis.Error{Kind: cpis.KindInternal, Op: op, Err: ctx.Err()}
	}
	return <-req.done
}

// writeAccessLoop is the access writer: it takes whatever events are
// waiting, up to maxBatch, commits them in one immediate transaction and
// tells each caller. Events arriving during a commit form the next batch, so
// the number of commits adapts to the load. It returns when the queue is
// closed and drained.
func (db *DB) writeAccessLoop() {
	defer close(db.writerDone)
	batch := make([]*accessRequest, 0, maxBatch)
	for req := range db.queue {
		batch = append(batch[:0], req)
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-db.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		db.commitAccess(batch)
		clear(batch) // let answered requests be collected
	}
}

// commitAccess commits a batch and answers its callers. Should the batch
// fail, each event is retried alone, so that one bad event cannot fail the
// others' callers and every caller gets its own event's outcome.
func (db *DB) commitAccess(batch []*accessRequest) {
	err := db.writeAccess(batch)
	if err == nil || len(batch) == 1 {
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	for _, r := range batch {
		r.done <- db.writeAccess([]*accessRequest{r})
	}
}

func (db *DB) writeAccess(batch []*accessRequest) error {
	const op = "record access"
	// The writer's work is not any one caller's: it runs to completion
	// whatever happens to the callers' contexts.
	ctx := context.Background()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return internal(op, err)
	}
	defer tx.Rollback()
	lastShown := tx.StmtContext(ctx, db.wLastShown)
	insert := tx.StmtContext(ctx, db.wInsertEvent)
	insertLA := tx.StmtContext(ctx, db.wInsertEventLA)

	// In time order, each event sees those before it in the same
	// transaction: two accesses by one accessor in one batch are decided as
	// if committed one after the other.
	events := make([]*accessRequest, len(batch))
	copy(events, batch)
	sort.SliceStable(events, func(i, j int) bool { return events[i].ev.At.Before(events[j].ev.At) })
	for _, r := range events {
		ev := &r.ev
		key := ev.Accessor.Key()
		var last sql.NullInt64
		err := lastShown.QueryRowContext(ctx, string(ev.NHSNumber), key).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return internal(op, err)
		}
		var lastAt time.Time // zero: no shown access yet
		if last.Valid {
			lastAt = instant(last.Int64)
		}
		ev.Shown = cpis.FirstInWindow(lastAt, ev.At)

		a := ev.Accessor
		given, err := stringsValue(a.Name.Given)
		if err != nil {
			return internal(op, err)
		}
		res, err := insert.ExecContext(ctx, ev.ID, string(ev.NHSNumber), ev.At.UnixNano(), key, a.UserID, a.RoleProfileID,
			a.Name.Prefix, given, a.Name.Family, a.JobRole.Code, a.JobRole.Name, a.Org.ODS, a.Org.Name,
			boolValue(a.System), a.ASID, boolValue(ev.Shown))
		if err != nil {
			return internal(op, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return internal(op, err)
		}
		for i, la := range ev.LAs {
			if _, err := insertLA.ExecContext(ctx, id, i, la); err != nil {
				return internal(op, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return internal(op, err)
	}
	return nil
}
