package store

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"slices"
	"strings"
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
	// The latest shown access of each (NHS number, accessor key) pair of a
	// batch, ?1 being a JSON array of [nhs_number, accessor_key]: one
	// statement for the batch. Served by the partial index
	// access_events_last_shown: the condition shown = 1 must stay for the
	// planner to use it.
	sqlLastShown = `
SELECT j.key, (SELECT e.at FROM access_events e
               WHERE e.nhs_number = j.value ->> 0 AND e.accessor_key = j.value ->> 1 AND e.shown = 1
               ORDER BY e.at DESC LIMIT 1)
FROM json_each(?1) AS j`

	sqlGetHistory = `SELECT events FROM access_history WHERE nhs = ?`
	sqlPutHistory = `INSERT OR REPLACE INTO access_history (nhs, events) VALUES (?, ?)`
)

// eventColumns is how many columns sqlInsertEvents binds per event.
const eventColumns = 17

// insertChunks are the row counts of the multi-row inserts a batch is cut
// into, largest first: a batch of 37 events is 16+16+4+1 rows in four
// statements, each prepared once. Bound values, not a JSON array taken
// apart by SQLite: ->> parses its JSON argument on each call, 17 times
// per event.
var insertChunks = [...]int{64, 16, 4, 1}

// sqlInsertEvents is the insert of n events, values in column order.
func sqlInsertEvents(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO access_events (message_id, nhs_number, at, accessor_key, user_id, role_profile_id,
    name_prefix, name_given, name_family, job_role_code, job_role_name, org_ods, org_name,
    system, asid, las, shown) VALUES `)
	row := "(?" + strings.Repeat(", ?", eventColumns-1) + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// accessRequest is one caller's event waiting for the access writer. The
// writer sets ev.Shown before it sends on done; the caller reads ev after
// receiving, so the channel orders the two.
type accessRequest struct {
	ev   cpis.AccessEvent
	done chan error // buffered: the writer never blocks on a caller
}

// RecordAccess durably records ev and returns once it is committed
// (CP-IS068: the access is recorded immediately, before the answer goes
// out). Inside the write transaction it decides Shown: true for the
// accessor's first access to the NHS number in 24 hours (CP-IS047). It
// returns the event as recorded, Shown set.
//
// Events from concurrent callers are committed together (group commit). A
// caller whose ctx ends before its event is queued gets ctx's error and
// nothing is recorded; once queued, the caller waits for the outcome, so an
// event is never recorded behind the back of a caller told it failed, nor
// dropped while its caller is told it succeeded.
func (db *DB) RecordAccess(ctx context.Context, ev cpis.AccessEvent) (cpis.AccessEvent, error) {
	const op = "record access"
	if !cpis.ValidNHSNumber(string(ev.NHSNumber)) {
		return cpis.AccessEvent{}, cpis.Errorf(cpis.KindInvalid, op, "the access event has no valid NHS number")
	}
	if ev.At.IsZero() || !representable(ev.At) {
		return cpis.AccessEvent{}, cpis.Errorf(cpis.KindInvalid, op, "the access event's time is missing or out of range")
	}
	if err := ctx.Err(); err != nil {
		return cpis.AccessEvent{}, &cpis.Error{Kind: cpis.KindInternal, Op: op, Err: err}
	}
	req := &accessRequest{ev: ev, done: make(chan error, 1)}
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return cpis.AccessEvent{}, cpis.Errorf(cpis.KindInternal, op, "the store is closed")
	}
	select {
	case db.queue <- req:
		db.mu.RUnlock()
	case <-ctx.Done():
		db.mu.RUnlock()
		return cpis.AccessEvent{}, &cpis.Error{Kind: cpis.KindInternal, Op: op, Err: ctx.Err()}
	}
	if err := <-req.done; err != nil {
		return cpis.AccessEvent{}, err
	}
	return req.ev, nil
}

// readHistory reads, inside the writer's transaction, the history summary
// of an NHS number, split into its events.
func (db *DB) readHistory(ctx context.Context, tx *sql.Tx, key int64) ([]histEntry, error) {
	var text string
	err := tx.StmtContext(ctx, db.wGetHistory).QueryRowContext(ctx, key).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return make([]histEntry, 0, cpis.HistoryLimit+1), nil
	}
	if err != nil {
		return nil, err
	}
	return splitHistory(text)
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
		if len(db.queue) < maxBatch/4 {
			// Let callers woken by the last commit, runnable but not yet
			// queued, join this batch: each commit costs the same whatever
			// its size. With nobody else runnable this returns at once.
			runtime.Gosched()
		}
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
		db.batches.Add(1)
		db.batched.Add(int64(len(batch)))
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

	// In time order, each event sees those before it in the same
	// transaction: two accesses by one accessor in one batch are decided as
	// if committed one after the other.
	events := make([]*cpis.AccessEvent, len(batch))
	for i, r := range batch {
		events[i] = &r.ev
	}
	slices.SortStableFunc(events, func(a, b *cpis.AccessEvent) int { return a.At.Compare(b.At) })

	// The (NHS number, accessor) pairs whose last shown access decides
	// the batch, encoded before the transaction.
	type pair struct {
		nhs cpis.NHSNumber
		key string
	}
	pairOf := make([]int, len(events)) // event -> index of its pair
	pairs := make(map[pair]int, len(events))
	w := &db.enc
	w.pairs = append(w.pairs[:0], '[')
	keys := make([]string, len(events))
	for i, ev := range events {
		keys[i] = ev.Accessor.Key()
		p := pair{ev.NHSNumber, keys[i]}
		n, ok := pairs[p]
		if !ok {
			n = len(pairs)
			pairs[p] = n
			if n > 0 {
				w.pairs = append(w.pairs, ',')
			}
			w.pairs = append(w.pairs, '[')
			w.pairs = appendJSONString(w.pairs, string(ev.NHSNumber))
			w.pairs = append(w.pairs, ',')
			w.pairs = appendJSONString(w.pairs, keys[i])
			w.pairs = append(w.pairs, ']')
		}
		pairOf[i] = n
	}
	w.pairs = append(w.pairs, ']')

	// The audit inserts this batch needs, prepared before the transaction
	// takes the writer's one connection.
	w.auditStmts.db = db.write
	if err := w.auditStmts.prepare(ctx, len(events)); err != nil {
		return internal(op, err)
	}

	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return internal(op, err)
	}
	defer tx.Rollback()

	lastShown := make([]time.Time, len(pairs)) // zero: no shown access yet
	rows, err := tx.StmtContext(ctx, db.wLastShown).QueryContext(ctx, string(w.pairs))
	if err != nil {
		return internal(op, err)
	}
	for rows.Next() {
		var (
			n  int
			at sql.NullInt64
		)
		if err := rows.Scan(&n, &at); err != nil {
			rows.Close()
			return internal(op, err)
		}
		if at.Valid && n >= 0 && n < len(lastShown) {
			lastShown[n] = instant(at.Int64)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return internal(op, err)
	}

	// CP-IS047, decided in time order, each shown event becoming its
	// pair's latest for the events after it. Rows are inserted in this
	// order, so that ids order events of one instant as they were decided.
	var histories map[int64][]histEntry
	w.args = w.args[:0]
	for i, ev := range events {
		ev.Shown = cpis.FirstInWindow(lastShown[pairOf[i]], ev.At)
		if ev.Shown {
			lastShown[pairOf[i]] = ev.At
		}
		a := &ev.Accessor
		w.args = append(w.args, ev.ID, string(ev.NHSNumber), ev.At.UnixNano(), keys[i], a.UserID, a.RoleProfileID,
			a.Name.Prefix, stringsValue(a.Name.Given), a.Name.Family, a.JobRole.Code, a.JobRole.Name, a.Org.ODS, a.Org.Name,
			boolValue(a.System), a.ASID, stringsValue(ev.LAs), boolValue(ev.Shown))
		if !ev.Shown {
			continue // not in any history
		}
		key := nhsKey(ev.NHSNumber)
		h, ok := histories[key]
		if !ok {
			if h, err = db.readHistory(ctx, tx, key); err != nil {
				return internal(op, err)
			}
			if histories == nil {
				histories = map[int64][]histEntry{}
			}
		}
		w.entry = appendHistoryEntry(w.entry[:0], ev)
		histories[key] = insertHistory(h, histEntry{at: ev.At.UnixNano(), raw: string(w.entry)})
	}
	for args := w.args; len(args) > 0; {
		for i, n := range insertChunks {
			if len(args) < n*eventColumns {
				continue
			}
			if _, err := tx.StmtContext(ctx, db.wInsertEvents[i]).ExecContext(ctx, args[:n*eventColumns]...); err != nil {
				return internal(op, err)
			}
			args = args[n*eventColumns:]
			break
		}
	}
	clear(w.args) // let the batch's strings go
	// CP-IS073: each event's audit entry, chained in the order decided,
	// in this same transaction.
	w.audit = w.audit[:0]
	for _, ev := range events {
		w.audit = append(w.audit, accessAudit(ev))
	}
	if _, err := appendAuditN(ctx, tx, len(w.audit), func(i int) cpis.AuditEntry { return w.audit[i] }, &w.auditStmts); err != nil {
		return internal(op, err)
	}
	clear(w.audit)
	for key, h := range histories {
		w.entry = joinHistory(w.entry[:0], h)
		if _, err := tx.StmtContext(ctx, db.wPutHistory).ExecContext(ctx, key, string(w.entry)); err != nil {
			return internal(op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return internal(op, err)
	}
	return nil
}

// accessEncoder holds the access writer's buffers, reused batch after
// batch; only the writer goroutine touches it.
type accessEncoder struct {
	pairs, entry []byte
	args         []any
	audit        []cpis.AuditEntry
	auditStmts   auditCache
}
