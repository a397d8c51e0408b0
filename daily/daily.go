// Package daily is the CP-IS service's own daily cycle: once a day it tells
// every local authority holding records who accessed its children in the
// last 24 hours (Access to Service Notification, REPC_MT000004GB01; CP-IS022,
// CP-IS023, CP-IS025, CP-IS037, CP-IS070), then enforces retention
// physically (CP-IS007, CP-IS009, CP-IS010, CP-IS011, CP-IS030, CP-IS080). It
// also tells LAs when PDS supersedes an NHS number they hold records under
// (Inactive NHS Number Notification, REPC_MT000005GB01; CP-IS012, CP-IS023),
// and delivers every notification from the store's outbox to the LAs'
// mailbox folders.
//
// Exactly once per LA per day, across crashes and restarts:
//
//   - A day's notifications are built from a snapshot, rendered, and written
//     to the outbox in the one transaction that marks the day notified. A
//     crash before that commit leaves nothing, and the day is built again; a
//     crash after it leaves the day done, and it is never built again. The
//     outbox's UNIQUE (kind, LA, day) makes a second copy impossible even if
//     two processes run the same day at once.
//   - Delivery writes each undelivered outbox message to DIR/<ODS>/in/ under
//     a name derived from its outbox row (tmp file, fsync, rename), then marks
//     it delivered. A crash between the two delivers it again over the same
//     file: a redelivery overwrites, it never duplicates.
//   - The purge is a transaction of its own, after the notifications, and
//     marks the day purged; a day notified but not purged is purged by the
//     next run.
//
// Time is the injected clock's: the cycle of civil day D (in England) runs
// at D's run time (default 02:00 Europe/London) and covers the period from
// the previous day's run time to its own. Nothing here sleeps for time to
// pass; RunDue runs every day that has fallen due by a given instant, in
// order, so that a clock moved forward by several days catches up.
package daily

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/store"
)

// DefaultRunAt is when the daily cycle runs, London time, unless
// configured: early morning, when few queries come.
const DefaultRunAt = "02:00"

// RunAt is a time of day in England.
type RunAt struct{ Hour, Minute int }

// ParseRunAt reads "HH:MM" (24-hour clock).
func ParseRunAt(s string) (RunAt, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		return RunAt{}, fmt.Errorf("the daily run time must be HH:MM, 00:00 to 23:59: %q", s)
	}
	return RunAt{hour, minute}, nil
}

func (r RunAt) String() string { return fmt.Sprintf("%02d:%02d", r.Hour, r.Minute) }

// Runner runs the daily cycle against a store. It is safe for concurrent
// use: the cycle, supersessions and delivery are serialised within the
// process, and the store's transactions keep them exactly once across
// processes.
type Runner struct {
	Store *store.DB
	// Clock stamps what the runner records (when a day was notified and
	// purged, a supersession, a delivery); which days are due is decided by
	// the instant given to RunDue.
	Clock cpis.Clock
	RunAt RunAt
	// Mailbox is the mailbox folder tree (upload.Mailbox's): notifications
	// are delivered to Mailbox/<ODS>/in/. Empty: no folder delivery, the
	// messages wait in the outbox (the HTTP mailbox still serves them).
	Mailbox string
	Log     *slog.Logger

	mu sync.Mutex
	// Fault injection for crash tests: called after a day's notifications
	// are committed and before its purge, and after a message's file is
	// written and before it is marked delivered.
	afterNotify  func(day time.Time) error
	afterDeliver func(m store.Message) error
}

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

func (r *Runner) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

// RunTime returns the instant at which the cycle of civil day d runs.
// A run time that does not exist on a spring-forward day (01:00-01:59 on the
// last Sunday of March) is the instant Go's time.Date gives it, an hour
// later; one that occurs twice in autumn is its first occurrence.
func (r *Runner) RunTime(d time.Time) time.Time {
	y, m, dd := d.Date()
	return time.Date(y, m, dd, r.RunAt.Hour, r.RunAt.Minute, 0, 0, cpis.London)
}

// Period returns the period the notifications of day d cover: from the
// previous day's run time to d's, [from, to). It is 24 hours, except on the
// days the clocks change, when it is 23 or 25: consecutive periods meet
// exactly, so every access is notified once and none falls between two days
// (CP-IS025).
func (r *Runner) Period(d time.Time) (from, to time.Time) {
	return r.RunTime(d.AddDate(0, 0, -1)), r.RunTime(d)
}

// DueDay returns the latest civil day whose run time is at or before now.
func (r *Runner) DueDay(now time.Time) time.Time {
	d := cpis.Today(now)
	if r.RunTime(d).After(now) {
		d = d.AddDate(0, 0, -1)
	}
	return d
}

// DayResult is what one day's cycle did.
type DayResult struct {
	Day time.Time
	// Notified is false when the day's notifications had already been
	// committed (by an earlier run that stopped before its purge, or by
	// another process): nothing was written to the outbox this time.
	Notified      bool
	Notifications int
	Accesses      int
	// Purged reports whether the day's purge ran (or had run) and Purge
	// what it did; a day caught up before a later one is not purged itself.
	Purged bool
	Purge  store.PurgeResult
}

// RunDue runs, in order, every day whose run time is at or before now and
// that is not done: from the day after the last day done (or the last day
// itself, if its purge did not complete) up to the latest due day, which
// alone is purged. A store that has never run a cycle starts at the latest
// due day. It stops at the first error and returns the days run until then.
func (r *Runner) RunDue(ctx context.Context, now time.Time) ([]DayResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runDue(ctx, now)
}

func (r *Runner) runDue(ctx context.Context, now time.Time) ([]DayResult, error) {
	latest := r.DueDay(now)
	next := latest
	last, ok, err := r.Store.LastDailyRun(ctx)
	if err != nil {
		return nil, err
	}
	if ok {
		next = last.Day.AddDate(0, 0, 1)
		if last.Purged.IsZero() {
			next = last.Day
		}
	}
	var out []DayResult
	for d := next; !d.After(latest); d = d.AddDate(0, 0, 1) {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		// Catching up, only the last day due is purged: expiry only grows
		// with time, so one purge on the last day leaves the live tables as
		// a purge every day would have, and each day's notifications
		// check expiry themselves (cpis.AccessNotifications). A clock moved
		// a year forward over the whole cohort then costs one purge, not
		// 365. The days in between keep no purged_at.
		res, err := r.runDay(ctx, d, d.Equal(latest))
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// RunDay runs the cycle of civil day d: idempotent and crash-safe. Unless
// the day was notified before, it builds the Access to Service
// Notification of every LA holding records for the period of d (Period),
// renders them and writes them to the outbox in the one transaction that
// marks the day notified; then it purges (store.Purge), unless the day was
// purged before. The purge also prunes the audit trail past its retention
// (CP-IS076) and signs a checkpoint of it (docs/audit.md). Running a day
// that is done changes nothing.
func (r *Runner) RunDay(ctx context.Context, d time.Time) (DayResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runDay(ctx, d, true)
}

func (r *Runner) runDay(ctx context.Context, d time.Time, purge bool) (DayResult, error) {
	d = cpis.Date(d.Date())
	res := DayResult{Day: d}
	run, done, err := r.Store.DailyRun(ctx, d)
	if err != nil {
		return res, err
	}
	if done {
		res.Notifications, res.Accesses = run.Notifications, run.Accesses
	} else {
		msgs, accesses, err := r.build(ctx, d)
		if err != nil {
			return res, fmt.Errorf("day %s: %w", d.Format(time.DateOnly), err)
		}
		from, to := r.Period(d)
		run := store.DailyRun{Day: d, From: from, To: to, NotifiedAt: r.now(), Notifications: len(msgs), Accesses: accesses}
		if res.Notified, err = r.Store.CommitDay(ctx, run, msgs); err != nil {
			return res, fmt.Errorf("day %s: %w", d.Format(time.DateOnly), err)
		}
		if res.Notified {
			res.Notifications, res.Accesses = len(msgs), accesses
		} else if run, _, err := r.Store.DailyRun(ctx, d); err == nil {
			res.Notifications, res.Accesses = run.Notifications, run.Accesses
		}
	}
	if r.afterNotify != nil {
		if err := r.afterNotify(d); err != nil {
			return res, err
		}
	}
	if purge {
		if res.Purge, err = r.Store.Purge(ctx, d, r.now()); err != nil {
			return res, fmt.Errorf("day %s: %w", d.Format(time.DateOnly), err)
		}
		res.Purged = true
	}
	r.log().Info("daily cycle", "day", d.Format(time.DateOnly), "notified", res.Notified,
		"notifications", res.Notifications, "accesses", res.Accesses,
		"purged_plans", res.Purge.Plans, "purged_records", res.Purge.Records,
		"end_dated", res.Purge.EndDated, "stale_cpps", res.Purge.StaleCPPs,
		"audit_pruned", res.Purge.Audit.Pruned, "audit_pruned_through", res.Purge.Audit.Through, "audit_head", res.Purge.Audit.Head)
	return res, nil
}

// build makes day d's Access to Service Notifications, rendered, as outbox
// messages, and counts the accesses they notify.
func (r *Runner) build(ctx context.Context, d time.Time) ([]store.Message, int, error) {
	from, to := r.Period(d)
	in, err := r.Store.DayInput(ctx, from, to)
	if err != nil {
		return nil, 0, err
	}
	birth := func(n cpis.NHSNumber) time.Time { return in.Births[n] }
	notes := cpis.AccessNotifications(in.Holders, in.Records, in.Events, birth, from, to)
	msgs := make([]store.Message, 0, len(notes))
	accesses := 0
	key := d.Format(time.DateOnly)
	var buf bytes.Buffer
	for _, n := range notes {
		id := newID()
		buf.Reset()
		// The notification is stamped with its scheduled run time, not the
		// moment a late or catching-up run made it: the LA reads the day's
		// notification as of the day (CP-IS025).
		if err := hl7.WriteAccessNotification(&buf, hl7.NotificationReply{ID: id, CreationTime: to}, n); err != nil {
			return nil, 0, fmt.Errorf("notification to %s: %w", n.LA.ODS, err)
		}
		for _, rec := range n.Records {
			accesses += len(rec.Accesses)
		}
		msgs = append(msgs, store.Message{Kind: store.KindAccess, LA: n.LA.ODS, Key: key, MessageID: id,
			Records: len(n.Records), Document: bytes.Clone(buf.Bytes()), Created: to})
	}
	return msgs, accesses, nil
}

// newID is a notification's id: an upper-case UUID, as every id the gateway
// makes (CP-IS019).
func newID() string { return strings.ToUpper(uuid.NewString()) }

// renderInactive renders an Inactive NHS Number Notification.
func renderInactive(n cpis.InactiveNotification) (string, []byte, error) {
	id := newID()
	var buf bytes.Buffer
	if err := hl7.WriteInactiveNotification(&buf, hl7.NotificationReply{ID: id, CreationTime: n.At}, n); err != nil {
		return "", nil, err
	}
	return id, buf.Bytes(), nil
}

// Supersede records that PDS has superseded the NHS number old by
// replacement and, in the same transaction, writes an Inactive NHS Number
// Notification naming the new number to every LA holding records under the
// old one (CP-IS012, CP-IS023). It returns how many it wrote; delivery
// follows with Deliver.
func (r *Runner) Supersede(ctx context.Context, old, replacement cpis.NHSNumber) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Store.Supersede(ctx, old, replacement, r.now(), renderInactive)
}

// Inactivate records that PDS marks the NHS number old inactive, with no
// replacement, and in the same transaction writes an Inactive NHS Number
// Notification without a new number to every LA holding records under it
// (CP-IS012, CP-IS023). It returns how many it wrote; delivery follows with
// Deliver.
func (r *Runner) Inactivate(ctx context.Context, old cpis.NHSNumber) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Store.Inactivate(ctx, old, r.now(), renderInactive)
}

// SweepInactive writes the Inactive NHS Number Notifications owed for
// supersessions that came another way than Supersede (a world file merged):
// one to each LA holding records under a superseded number, once
// (CP-IS012, CP-IS023).
func (r *Runner) SweepInactive(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Store.EnqueueInactive(ctx, r.now(), renderInactive)
}

// Tick is one turn of the scheduler: the days due at now, the inactive
// notifications owed, and delivery.
func (r *Runner) Tick(ctx context.Context, now time.Time) ([]DayResult, error) {
	days, err := r.RunDue(ctx, now)
	if err != nil {
		return days, err
	}
	if n, err := r.SweepInactive(ctx); err != nil {
		return days, err
	} else if n > 0 {
		r.log().Info("inactive NHS number notifications", "written", n)
	}
	_, err = r.Deliver(ctx)
	return days, err
}

// Schedule runs Tick against the clock every interval until ctx ends,
// logging failures: a failed tick is tried again at the next.
func (r *Runner) Schedule(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := r.Tick(ctx, r.now()); err != nil && ctx.Err() == nil {
			r.log().Error("daily cycle", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// deliverBatch is how many messages one read of the outbox takes.
const deliverBatch = 64

// FileName is the name under which a message is delivered to its LA's
// in/ folder: derived from its outbox row only, so a redelivery after a
// crash overwrites the same file. The outbox id orders the names; the
// message's own id keeps two stores (a database recreated beside the same
// mailbox folder) from overwriting each other's files.
func FileName(m store.Message) string {
	return fmt.Sprintf("cpis-%010d-%s-%s.xml", m.ID, m.Kind, m.MessageID)
}

// Deliver writes every undelivered outbox message to its LA's mailbox
// folder, Mailbox/<ODS>/in/, and marks it delivered; it returns how many it
// delivered. Without a mailbox folder it does nothing.
func (r *Runner) Deliver(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Mailbox == "" {
		return 0, nil
	}
	n := 0
	var skipped int64 // messages that cannot be delivered: after them
	for {
		msgs, err := r.Store.Undelivered(ctx, deliverBatch+int(skipped))
		if err != nil {
			return n, err
		}
		msgs = msgs[min(len(msgs), int(skipped)):]
		if len(msgs) == 0 {
			return n, nil
		}
		ids := make([]int64, 0, len(msgs))
		done := make([]store.Message, 0, len(msgs))
		for _, m := range msgs {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			if !safeFolder(m.LA) {
				// An ODS code no folder can be named after (a world file
				// can say anything): it stays in the outbox, for the HTTP
				// mailbox.
				r.log().Error("delivery", "la", m.LA, "err", "the ODS code cannot name a folder")
				skipped++
				continue
			}
			dir := filepath.Join(r.Mailbox, m.LA, "in")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return n, err
			}
			if err := writeAtomic(filepath.Join(dir, FileName(m)), m.Document); err != nil {
				return n, err
			}
			if r.afterDeliver != nil {
				if err := r.afterDeliver(m); err != nil {
					return n, err
				}
			}
			ids = append(ids, m.ID)
			done = append(done, m)
		}
		if err := r.Store.MarkDelivered(ctx, ids, r.now()); err != nil {
			return n, err
		}
		n += len(ids)
		for _, m := range done {
			// The key is left out: an inactive notification's names NHS
			// numbers, which logs never hold.
			r.log().Info("delivered", "la", m.LA, "kind", m.Kind, "file", FileName(m))
		}
		if len(msgs) < deliverBatch {
			return n, nil
		}
	}
}

// safeFolder reports whether an ODS code can name a folder under the
// mailbox without leaving it.
func safeFolder(ods string) bool {
	return ods != "" && !strings.HasPrefix(ods, ".") && !strings.ContainsAny(ods, `/\`+"\x00") && filepath.Base(ods) == ods
}

// writeAtomic writes data under a temporary name (a leading dot, as the
// mailbox convention says a reader must skip), syncs it, renames it into
// place and syncs the folder: a reader of in/ never sees half a document,
// and once delivery is recorded the file is there.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	// A temporary name of its own: two processes delivering the same
	// message at once each rename a whole file over the same name.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every file system syncs a folder
		d.Close()
	}
	return nil
}
