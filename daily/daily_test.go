package daily_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/daily"
	"spinegw/store"
)

var errCrash = errors.New("the process dies here")

// The children of most tests: A held by V145 and V230 (CP-IS034), B by V145
// alone. E10 holds a child nobody looks at.
var (
	childA = nhs(1)
	childB = nhs(2)
	childQ = nhs(3)
)

func standard(t *testing.T) *env {
	e := newEnv(t)
	e.child(childA, "2015-03-14")
	e.child(childB, "2012-11-02")
	e.child(childQ, "2019-01-01")
	e.holds("V145", childA, lac(start("2024-02-01")))
	e.holds("V230", childA, cpp(start("2025-09-01")))
	e.holds("V145", childB, cpp(start("2025-01-01")))
	e.holds("E10", childQ, cpp(start("2025-01-01")))
	e.load()
	return e
}

// CP-IS025, CP-IS022, CP-IS047: once a day every LA holding records is told
// who accessed which of its children in the 24 hours before the run, first
// access per worker per 24 hours only.
func TestADayWithAccesses(t *testing.T) {
	e := standard(t)
	e.access(childA, "U1", "2026-11-21T09:00:00Z", "V145", "V230")
	e.access(childA, "U1", "2026-11-21T10:00:00Z", "V145", "V230") // same worker within 24 hours: not notified again
	e.access(childA, "U2", "2026-11-21T11:00:00Z", "V145", "V230")
	e.access(childB, "U3", "2026-11-22T01:59:59Z", "V145")
	res := e.runDay("2026-11-22")
	if !res.Notified || res.Notifications != 3 || res.Accesses != 5 {
		t.Errorf("result %+v", res)
	}
	if _, err := e.r.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	expect(t, "delivered", e.delivered(),
		"access E10: none",
		"access V145: "+string(childA)+"(U1,U2) "+string(childB)+"(U3)",
		"access V230: "+string(childA)+"(U1,U2)",
	)
}

// CP-IS025: an LA none of whose children was accessed still gets a
// notification, with zero records, confirming it.
func TestADayWithoutAccesses(t *testing.T) {
	e := standard(t)
	e.access(childA, "U1", "2026-11-21T01:59:59Z", "V145", "V230") // the day before's period
	e.access(childA, "U2", "2026-11-22T02:00:00Z", "V145", "V230") // the next day's period
	e.runDay("2026-11-22")
	expect(t, "outbox", e.outbox(),
		"2026-11-22 access E10: none",
		"2026-11-22 access V145: none",
		"2026-11-22 access V230: none",
	)
	// ... and the accesses are notified on their own days, once each.
	e.runDay("2026-11-23")
	expect(t, "outbox", e.outbox(),
		"2026-11-22 access E10: none",
		"2026-11-22 access V145: none",
		"2026-11-22 access V230: none",
		"2026-11-23 access E10: none",
		"2026-11-23 access V145: "+string(childA)+"(U2)",
		"2026-11-23 access V230: "+string(childA)+"(U2)",
	)
}

// CP-IS023: an access to a child held by two LAs is notified to each; only
// to those whose plans it returned.
func TestAChildHeldByTwoLAs(t *testing.T) {
	e := standard(t)
	e.access(childA, "U1", "2026-11-21T09:00:00Z", "V145", "V230")
	e.access(childA, "U2", "2026-11-21T09:30:00Z", "V230") // V145's plan was not shown to U2
	e.runDay("2026-11-22")
	expect(t, "outbox", e.outbox(),
		"2026-11-22 access E10: none",
		"2026-11-22 access V145: "+string(childA)+"(U1)",
		"2026-11-22 access V230: "+string(childA)+"(U1,U2)",
	)
}

// CP-IS009, CP-IS010, CP-IS029: notifications go on until the whole record
// is logically deleted or past its window, and stop then.
func TestAccessesAfterTheRecordIsGoneAreNotNotified(t *testing.T) {
	e := newEnv(t)
	deleted, ended, mixed, alive := nhs(10), nhs(11), nhs(12), nhs(13)
	for _, n := range []cpis.NHSNumber{deleted, ended, mixed, alive} {
		e.child(n, "2014-06-01")
	}
	e.holds("V145", deleted, cpp(del("2026-11-22")))      // CP-IS009: deleted on the run's day
	e.holds("V145", ended, cpp(end("2025-11-21")))        // CP-IS010: end + 365 = 2026-11-21, the day before
	e.holds("V145", mixed, cpp(del("2026-11-01")), lac()) // CP-IS009 example 1: the LAC keeps the record notified
	e.holds("V145", alive, cpp(end("2025-11-22")))        // end + 365 = the run's day: still shown
	e.load()
	for _, n := range []cpis.NHSNumber{deleted, ended, mixed, alive} {
		e.access(n, "U1", "2026-11-21T12:00:00Z", "V145")
	}
	e.runDay("2026-11-22")
	expect(t, "outbox", e.outbox(), "2026-11-22 access V145: "+string(mixed)+"(U1) "+string(alive)+"(U1)")
}

// Each retention boundary on both sides: on the day of the run, a plan one
// day inside its window is kept and one day outside is purged from the live
// tables (CP-IS007, CP-IS009, CP-IS010, CP-IS011, CP-IS032, CP-IS033).
func TestRetentionBoundaries(t *testing.T) {
	const today = "2026-11-22"
	cases := []struct {
		name   string
		birth  string
		plan   cpis.Plan
		purged bool
		reason string
	}{
		{"CP-IS009 delete date today: purged", "2014-01-01", cpp(del("2026-11-22")), true, cpis.ExpiredDeleteDate},
		{"CP-IS009 delete date tomorrow: kept", "2014-01-01", cpp(del("2026-11-23")), false, ""},
		{"CP-IS010 CPP ended 366 days ago: purged", "2014-01-01", cpp(end("2025-11-21")), true, cpis.ExpiredEndDate},
		{"CP-IS010 CPP ended 365 days ago: kept", "2014-01-01", cpp(end("2025-11-22")), false, ""},
		{"CP-IS032 LAC ended 366 days ago: purged", "2014-01-01", lac(end("2025-11-21")), true, cpis.ExpiredEndDate},
		{"CP-IS032 LAC ended 365 days ago: kept", "2014-01-01", lac(end("2025-11-22")), false, ""},
		{"CP-IS033 UCP due 28 days ago: purged", "1995-01-01", ucp(due("2026-10-25")), true, cpis.ExpiredUnbornDue},
		{"CP-IS033 UCP due 27 days ago: kept", "1995-01-01", ucp(due("2026-10-26")), false, ""},
		{"CP-IS007 18 years and 366 days old: purged", "2007-11-20", lac(), true, cpis.ExpiredAdult},
		{"CP-IS007 18 years and 365 days old: kept", "2007-11-22", lac(), false, ""},
	}
	e := newEnv(t)
	for i, c := range cases {
		e.child(nhs(100+i), c.birth)
		e.holds("V145", nhs(100+i), c.plan)
	}
	e.load()
	res := e.runDay(today)
	purged := 0
	for i, c := range cases {
		n := nhs(100 + i)
		got := e.plans("V145", n)
		if c.purged != (got == "none") {
			t.Errorf("%s: holds %q", c.name, got)
		}
		hist, err := e.db.RecordHistory(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if !c.purged {
			for _, h := range hist {
				if h.Event == "purged" {
					t.Errorf("%s: history %+v", c.name, hist)
				}
			}
			continue
		}
		purged++
		// CP-IS075: it stays derivable that the record existed, which LA
		// held it and what it was, and why it went.
		if len(hist) != 1 || hist[0].Event != "purged" || hist[0].Reason != c.reason || hist[0].LA != "V145" ||
			hist[0].Plan.Type != c.plan.Type || !hist[0].Day.Equal(day(today)) || hist[0].FileID != "V145-FILE-1" {
			t.Errorf("%s: history %+v", c.name, hist)
		}
	}
	if res.Purge.Plans != purged || res.Purge.Records != purged {
		t.Errorf("purge %+v, want %d plans and records", res.Purge, purged)
	}
}

// CP-IS009 example 1: a plan purged, the record stays with the rest.
func TestPurgeKeepsTheRestOfTheRecord(t *testing.T) {
	e := newEnv(t)
	e.child(childA, "2015-03-14")
	e.holds("V145", childA, cpp(start("2025-01-01"), del("2026-11-01")), lac(start("2024-02-01")))
	e.load()
	e.runDay("2026-11-22")
	if got := e.plans("V145", childA); got != "LAC 2024-02-01.." {
		t.Errorf("holds %q", got)
	}
}

// CP-IS030: a CPP or LAC still held on the child's 18th birthday is end-dated
// on it, and the end date is persisted by the run of that day, not before.
func TestEighteenthBirthdayEndDateIsPersisted(t *testing.T) {
	e := newEnv(t)
	e.child(childA, "2008-11-22")
	e.holds("V145", childA, cpp(start("2024-01-01")), lac(start("2025-01-01"), end("2027-06-30")))
	e.load()
	e.runDay("2026-11-21")
	if got := e.plans("V145", childA); got != "CPP 2024-01-01.., LAC 2025-01-01..2027-06-30" {
		t.Errorf("the day before the birthday: %q", got)
	}
	res := e.runDay("2026-11-22")
	if got := e.plans("V145", childA); got != "CPP 2024-01-01..2026-11-22, LAC 2025-01-01..2026-11-22" {
		t.Errorf("on the birthday: %q", got)
	}
	if res.Purge.EndDated != 2 {
		t.Errorf("end dated %d", res.Purge.EndDated)
	}
	hist, _ := e.db.RecordHistory(ctx, childA)
	if len(hist) != 2 || hist[0].Event != "end-dated" || !hist[0].NewEnd.Equal(day("2026-11-22")) || !hist[1].Plan.End.Equal(day("2027-06-30")) {
		t.Errorf("history %+v", hist)
	}
	// CP-IS030: then the end date rules apply: shown until end + 365.
	e.runDay("2027-11-22")
	if got := e.plans("V145", childA); got == "none" {
		t.Errorf("purged on end + 365")
	}
	e.runDay("2027-11-23")
	if got := e.plans("V145", childA); got != "none" {
		t.Errorf("the day after end + 365: %q", got)
	}
}

// CP-IS076: the audit trace of a purged record is dropped on the child's
// 26th birthday, not before.
func TestAuditTraceKeptUntilThe26thBirthday(t *testing.T) {
	e := newEnv(t)
	e.child(childA, "2000-11-23")
	e.holds("V145", childA, cpp(del("2026-11-01")))
	e.load()
	e.runDay("2026-11-21")
	if hist, _ := e.db.RecordHistory(ctx, childA); len(hist) != 1 || !hist[0].KeepUntil.Equal(day("2026-11-23")) {
		t.Fatalf("history %+v", hist)
	}
	e.runDay("2026-11-22")
	if hist, _ := e.db.RecordHistory(ctx, childA); len(hist) != 1 {
		t.Errorf("dropped the day before the 26th birthday")
	}
	res := e.runDay("2026-11-23")
	if hist, _ := e.db.RecordHistory(ctx, childA); len(hist) != 0 || res.Purge.HistoryDropped != 1 {
		t.Errorf("kept on the 26th birthday: %+v", hist)
	}
}

// CP-IS080: CPPs with neither end nor delete date two years after their
// start are counted by each run and can be listed.
func TestStaleCPPsAreQueryable(t *testing.T) {
	e := newEnv(t)
	stale, fresh, ended := nhs(20), nhs(21), nhs(22)
	for _, n := range []cpis.NHSNumber{stale, fresh, ended} {
		e.child(n, "2016-01-01")
	}
	e.holds("V145", stale, cpp(start("2024-11-22")))
	e.holds("V145", fresh, cpp(start("2024-11-23")))
	e.holds("V230", ended, cpp(start("2020-01-01"), end("2026-06-01")))
	e.load()
	res := e.runDay("2026-11-22")
	if res.Purge.StaleCPPs != 1 {
		t.Errorf("stale count %d", res.Purge.StaleCPPs)
	}
	got, err := e.db.StaleCPPs(ctx, day("2026-11-22"))
	if err != nil || len(got) != 1 || got[0].NHSNumber != stale || got[0].LA != "V145" {
		t.Errorf("stale CPPs %+v %v", got, err)
	}
	run, _, _ := e.db.DailyRun(ctx, day("2026-11-22"))
	if run.Purge.StaleCPPs != 1 {
		t.Errorf("stored stale count %d", run.Purge.StaleCPPs)
	}
}

// CP-IS012, CP-IS023: when PDS supersedes a number, every LA holding records
// under it is sent an Inactive NHS Number Notification naming the new one.
func TestSupersededNumberIsNotifiedToEachHoldingLA(t *testing.T) {
	e := standard(t)
	newNumber := nhs(50)
	e.now = at("2026-11-22T15:00:00Z")
	n, err := e.r.Supersede(ctx, childA, newNumber)
	if err != nil || n != 2 {
		t.Fatalf("supersede: %d %v", n, err)
	}
	if _, err := e.r.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	expect(t, "delivered", e.delivered(),
		"inactive V145: "+string(childA)+">"+string(newNumber),
		"inactive V230: "+string(childA)+">"+string(newNumber),
	)
	// Once: neither a second supersession nor the sweep sends it again.
	if n, err := e.r.Supersede(ctx, childA, newNumber); err != nil || n != 0 {
		t.Errorf("again: %d %v", n, err)
	}
	e.tick("2026-11-22T15:00:05Z")
	if got := e.delivered(); len(got) != 2+3 { // the day's access notifications have been run by the tick
		t.Errorf("delivered %d:\n%s", len(got), lines(got))
	}
}

// CP-IS012, CP-IS023: when PDS marks a number inactive with no replacement,
// every LA holding records under it is sent one Inactive NHS Number
// Notification for it, without a new number (no replacedBy), once, however
// often the command and the sweep run.
func TestInactiveNumberWithoutReplacementIsNotifiedToEachHoldingLAOnce(t *testing.T) {
	e := standard(t)
	e.now = at("2026-11-22T15:00:00Z")
	n, err := e.r.Inactivate(ctx, childA)
	if err != nil || n != 2 {
		t.Fatalf("inactivate: %d %v", n, err)
	}
	if _, err := e.r.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	expect(t, "delivered", e.delivered(), // validated against REPC_MT000005GB01
		"inactive V145: "+string(childA)+">",
		"inactive V230: "+string(childA)+">",
	)
	msgs, err := e.db.Outbox(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if bytes.Contains(m.Document, []byte("replacedBy")) {
			t.Errorf("%s: a notification without replacement names one:\n%s", m.LA, m.Document)
		}
	}
	if n, err := e.r.Inactivate(ctx, childA); err != nil || n != 0 {
		t.Errorf("again: %d %v", n, err)
	}
	e.tick("2026-11-22T15:00:05Z")
	e.tick("2026-11-23T15:00:05Z")
	var inactive []string
	for _, s := range e.delivered() {
		if strings.HasPrefix(s, "inactive") {
			inactive = append(inactive, s)
		}
	}
	expect(t, "inactive notifications after more runs", inactive,
		"inactive V145: "+string(childA)+">",
		"inactive V230: "+string(childA)+">",
	)
}

// CP-IS012: a number a world file marks inactive is notified by the sweep,
// once; with superseded_by too, the supersession wins.
func TestInactiveNumberFromAWorldFileIsNotified(t *testing.T) {
	e := standard(t)
	newNumber := nhs(52)
	e.world.Patients = []cpis.Patient{
		{NHSNumber: childB, Name: cpis.Name{Family: "B"}, BirthDate: day("2012-11-02"), Inactive: true},
		{NHSNumber: childQ, Name: cpis.Name{Family: "Q"}, BirthDate: day("2019-01-01"), Inactive: true, SupersededBy: newNumber},
	}
	e.load()
	e.tick("2026-11-22T15:00:00Z")
	e.tick("2026-11-22T16:00:00Z")
	var inactive []string
	for _, s := range e.delivered() {
		if strings.HasPrefix(s, "inactive") {
			inactive = append(inactive, s)
		}
	}
	expect(t, "inactive notifications", inactive,
		"inactive E10: "+string(childQ)+">"+string(newNumber),
		"inactive V145: "+string(childB)+">",
	)
}

// CP-IS012: a supersession that comes with a world file is notified by the
// scheduler's sweep.
func TestSupersessionFromAWorldFileIsNotified(t *testing.T) {
	e := standard(t)
	newNumber := nhs(51)
	e.world.Patients = []cpis.Patient{{NHSNumber: childB, Name: cpis.Name{Family: "B"}, BirthDate: day("2012-11-02"), SupersededBy: newNumber}}
	e.load()
	e.tick("2026-11-22T15:00:00Z")
	var inactive []string
	for _, s := range e.delivered() {
		if strings.HasPrefix(s, "inactive") {
			inactive = append(inactive, s)
		}
	}
	expect(t, "inactive notifications", inactive, "inactive V145: "+string(childB)+">"+string(newNumber))
}

// RunDue runs every day that has fallen due, in order: a clock moved forward
// three days gets three days of notifications, each access in its own day's.
func TestRunDueCatchesUpInOrder(t *testing.T) {
	e := standard(t)
	got := e.tick("2026-11-22T02:00:00Z") // the first run of a new store: the day due
	if len(got) != 1 || !got[0].Day.Equal(day("2026-11-22")) {
		t.Fatalf("first tick ran %+v", got)
	}
	e.access(childB, "U1", "2026-11-22T12:00:00Z", "V145")
	e.access(childB, "U2", "2026-11-24T12:00:00Z", "V145")
	if got := e.tick("2026-11-25T01:59:59Z"); len(got) != 2 || !got[0].Day.Equal(day("2026-11-23")) || !got[1].Day.Equal(day("2026-11-24")) {
		t.Fatalf("catch-up ran %+v", got)
	}
	if got := e.tick("2026-11-25T01:59:59Z"); len(got) != 0 {
		t.Errorf("ran %d days again", len(got))
	}
	e.tick("2026-11-25T02:00:00Z")
	var v145 []string
	for _, s := range e.outbox() {
		if strings.Contains(s, "V145") {
			v145 = append(v145, s)
		}
	}
	expect(t, "V145's notifications", v145,
		"2026-11-22 access V145: none",
		"2026-11-23 access V145: "+string(childB)+"(U1)",
		"2026-11-24 access V145: none",
		"2026-11-25 access V145: "+string(childB)+"(U2)",
	)
}

// The periods of consecutive days meet exactly, also where the clocks
// change: 25 hours in October, 23 in March (CP-IS025: no access falls
// between two days or into both).
func TestPeriodsAcrossClockChanges(t *testing.T) {
	runAt, _ := daily.ParseRunAt("02:00")
	r := &daily.Runner{RunAt: runAt}
	for _, c := range []struct {
		day   string
		hours float64
	}{{"2026-10-25", 25}, {"2026-03-29", 23}, {"2026-11-22", 24}, {"2026-06-01", 24}} {
		from, to := r.Period(day(c.day))
		if got := to.Sub(from).Hours(); got != c.hours {
			t.Errorf("%s: %v hours, want %v", c.day, got, c.hours)
		}
		_, prevTo := r.Period(day(c.day).AddDate(0, 0, -1))
		if !prevTo.Equal(from) {
			t.Errorf("%s: starts at %v, the day before ended at %v", c.day, from, prevTo)
		}
	}
	if got := r.RunTime(day("2026-06-01")); !got.Equal(at("2026-06-01T01:00:00Z")) {
		t.Errorf("02:00 in summer is %v", got)
	}
	if got := r.DueDay(at("2026-06-01T00:59:59Z")); !got.Equal(day("2026-05-31")) {
		t.Errorf("due day before the run: %v", got)
	}
	if got := r.DueDay(at("2026-06-01T01:00:00Z")); !got.Equal(day("2026-06-01")) {
		t.Errorf("due day at the run: %v", got)
	}
}

func TestParseRunAt(t *testing.T) {
	for s, ok := range map[string]bool{"02:00": true, "23:59": true, "00:00": true, "2:00": true,
		"24:00": false, "02:60": false, "0200": false, "02:0": false, "": false, "ab:cd": false} {
		if _, err := daily.ParseRunAt(s); (err == nil) != ok {
			t.Errorf("%q: %v", s, err)
		}
	}
}

// Crash and restart: the process dies after the day's notifications are
// committed, before the purge and before delivery. The restarted gateway
// does not notify the day again, purges it, and delivers what was committed:
// each LA gets exactly one notification for the day.
func TestCrashAfterCommitBeforeDelivery(t *testing.T) {
	e := standard(t)
	e.access(childA, "U1", "2026-11-21T09:00:00Z", "V145", "V230")
	e.r.SetAfterNotify(func(time.Time) error { return errCrash })
	e.now = at("2026-11-22T02:00:01Z")
	if _, err := e.r.Tick(ctx, e.now); !errors.Is(err, errCrash) {
		t.Fatalf("tick: %v", err)
	}
	if got := e.delivered(); len(got) != 0 {
		t.Fatalf("delivered before the crash: %v", got)
	}
	e.restart()
	days := e.tick("2026-11-22T02:00:05Z")
	if len(days) != 1 || days[0].Notified || days[0].Notifications != 3 {
		t.Errorf("after the restart: %+v", days)
	}
	e.tick("2026-11-22T02:00:10Z")
	expect(t, "delivered", e.delivered(),
		"access E10: none",
		"access V145: "+string(childA)+"(U1)",
		"access V230: "+string(childA)+"(U1)",
	)
	run, _, _ := e.db.DailyRun(ctx, day("2026-11-22"))
	if run.Purged.IsZero() {
		t.Error("the day was never purged")
	}
}

// Crash during delivery: a file written, the process dies before it is
// marked delivered. The redelivery writes the same file again: one file.
func TestCrashDuringDelivery(t *testing.T) {
	e := standard(t)
	e.now = at("2026-11-22T02:00:01Z")
	if _, err := e.r.RunDue(ctx, e.now); err != nil {
		t.Fatal(err)
	}
	e.r.SetAfterDeliver(func(store.Message) error { return errCrash })
	if _, err := e.r.Deliver(ctx); !errors.Is(err, errCrash) {
		t.Fatalf("deliver: %v", err)
	}
	if got := e.delivered(); len(got) != 1 {
		t.Fatalf("before the crash: %d files", len(got))
	}
	e.restart()
	for range 2 {
		if _, err := e.r.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, "delivered", e.delivered(), "access E10: none", "access V145: none", "access V230: none")
	if und, _ := e.db.Undelivered(ctx, 10); len(und) != 0 {
		t.Errorf("undelivered %d", len(und))
	}
}

// Two processes (a serving gateway and spinegw run-daily) run the same days
// at once: each LA still gets one notification per day.
func TestTwoProcessesRunTheSameDays(t *testing.T) {
	e := standard(t)
	e.access(childA, "U1", "2026-11-21T09:00:00Z", "V145", "V230")
	e.tick("2026-11-20T02:00:00Z") // the store's first day
	other, err := store.Open(e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	runners := []*daily.Runner{e.r, {Store: other, Clock: e.r.Clock, RunAt: e.r.RunAt, Mailbox: e.mailbox}}
	var wg sync.WaitGroup
	errs := make([]error, len(runners))
	for i, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = r.Tick(ctx, at("2026-11-23T03:00:00Z"))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	e.tick("2026-11-23T03:00:01Z")
	count := map[string]int{}
	for _, s := range e.outbox() {
		count[s[:10]+" "+strings.Fields(s)[2]]++
	}
	if len(count) != 4*3 {
		t.Errorf("%d (day, LA) pairs, want 12: %v", len(count), count)
	}
	for k, n := range count {
		if n != 1 {
			t.Errorf("%s: %d notifications", k, n)
		}
	}
	files := 0
	filepath.WalkDir(e.mailbox, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	if files != 12 {
		t.Errorf("%d files delivered, want 12", files)
	}
}

// Running a day again, or every due day again, changes nothing.
func TestRunningADayAgainChangesNothing(t *testing.T) {
	e := standard(t)
	e.access(childA, "U1", "2026-11-21T09:00:00Z", "V145", "V230")
	first := e.runDay("2026-11-22")
	again := e.runDay("2026-11-22")
	if again.Notified || again.Notifications != first.Notifications || again.Accesses != first.Accesses {
		t.Errorf("again: %+v, first %+v", again, first)
	}
	if got := e.outbox(); len(got) != 3 {
		t.Errorf("outbox %v", got)
	}
}

// Delivery names a file after its outbox row, in the LA's in/ folder.
func TestDeliveryFileNames(t *testing.T) {
	e := standard(t)
	e.runDay("2026-11-22")
	if _, err := e.r.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	msgs, _ := e.db.Outbox(ctx, "V145")
	if len(msgs) != 1 || msgs[0].Delivered.IsZero() {
		t.Fatalf("V145's outbox %+v", msgs)
	}
	want := filepath.Join(e.mailbox, "V145", "in", fmt.Sprintf("cpis-%010d-access-%s.xml", msgs[0].ID, msgs[0].MessageID))
	if _, err := os.Stat(want); err != nil {
		t.Error(err)
	}
}

// Catching up several days purges once, on the last: the live tables end as
// a purge every day would have left them (CP-IS009, CP-IS010).
func TestCatchUpPurgesOnTheLastDay(t *testing.T) {
	e := standard(t)
	gone := nhs(30)
	e.child(gone, "2014-01-01")
	e.holds("V145", gone, cpp(del("2026-11-23")))
	e.load()
	e.tick("2026-11-22T02:00:00Z")
	if got := e.plans("V145", gone); got == "none" {
		t.Fatal("purged before its delete date")
	}
	days := e.tick("2026-11-25T02:00:00Z")
	if len(days) != 3 || days[0].Purged || days[1].Purged || !days[2].Purged || days[2].Purge.Plans != 1 {
		t.Errorf("days %+v", days)
	}
	if got := e.plans("V145", gone); got != "none" {
		t.Errorf("holds %q after the catch-up", got)
	}
	hist, _ := e.db.RecordHistory(ctx, gone)
	if len(hist) != 1 || hist[0].Reason != cpis.ExpiredDeleteDate || !hist[0].Day.Equal(day("2026-11-25")) {
		t.Errorf("history %+v", hist)
	}
}
