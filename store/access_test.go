package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/store"
)

var t0 = time.Date(2026, time.November, 22, 10, 0, 0, 0, time.UTC)

// person is the accessor of an SDS user, as Authorize returns it.
func person(userID string) cpis.Accessor {
	return cpis.Accessor{
		UserID:        userID,
		RoleProfileID: "1000" + userID,
		Name:          cpis.Name{Prefix: "Dr", Given: []string{"Pat", userID}, Family: "Tester"},
		JobRole:       cpis.JobRole{Code: "R0680", Name: "Midwife"},
		Org:           cpis.Org{ODS: "RKE", Name: "The Whittington Hospital NHS Trust"},
		ASID:          "200000000101",
	}
}

var msgSeq atomic.Int64

func event(nhs cpis.NHSNumber, acc cpis.Accessor, at time.Time) cpis.AccessEvent {
	return cpis.AccessEvent{
		ID:        fmt.Sprintf("MSG-%06d", msgSeq.Add(1)),
		NHSNumber: nhs,
		At:        at,
		Accessor:  acc,
		LAs:       []string{"V145"},
	}
}

// recorded returns the stored copy of the event with the message id.
func recorded(t *testing.T, db *store.DB, nhs cpis.NHSNumber, id string) cpis.AccessEvent {
	t.Helper()
	events, err := db.AccessEvents(ctx, nhs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("event %s not recorded", id)
	return cpis.AccessEvent{}
}

// CP-IS047: every access is recorded; only an accessor's first access to a
// record within 24 hours is shown. The cases run in order against one store.
func TestShownFollowsCPIS047(t *testing.T) {
	db, _ := open(t)
	const child, other = cpis.NHSNumber("9995260107"), cpis.NHSNumber("9995260115")
	paula, sam := person("200009876204"), person("200009876212")
	system := cpis.SystemAccessor(cpis.Author{System: true, Name: cpis.Name{Family: "Nurse Bell"}},
		cpis.Endpoint{ASID: "200000000102", ODS: "RRV", Name: "UCLH ED"})
	check := func(why string, nhs cpis.NHSNumber, acc cpis.Accessor, at time.Time, want bool) {
		t.Helper()
		ev := event(nhs, acc, at)
		got, err := db.RecordAccess(ctx, ev)
		if err != nil {
			t.Fatalf("%s: %v", why, err)
		}
		if got.Shown != want {
			t.Errorf("%s: RecordAccess returned shown = %v, want %v", why, got.Shown, want)
		}
		if stored := recorded(t, db, nhs, ev.ID); !reflect.DeepEqual(stored, got) {
			t.Errorf("%s: stored\n %+v\nreturned\n %+v", why, stored, got)
		}
	}
	h := time.Hour
	check("Paula's first access is shown", child, paula, t0, true)
	check("Paula again an hour later is recorded but not shown", child, paula, t0.Add(h), false)
	check("Sam's first access is shown while Paula's window is open", child, sam, t0.Add(2*h), true)
	check("Paula a second before 24 hours is not shown", child, paula, t0.Add(24*h-time.Second), false)
	check("Paula 24 hours after her shown access is shown", child, paula, t0.Add(24*h), true)
	check("the window runs from the shown access: Paula at 47 hours is not shown", child, paula, t0.Add(47*h), false)
	check("Paula at 48 hours is shown", child, paula, t0.Add(48*h), true)
	check("Paula's first access to another child is shown", other, paula, t0.Add(48*h+time.Minute), true)
	check("a system author naming a person is an accessor of its own", child, system, t0.Add(49*h), true)
	check("the same system and person within 24 hours is not shown", child, system, t0.Add(50*h), false)

	events, err := db.AccessEvents(ctx, child)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 9 {
		t.Errorf("recorded %d events for the child, want every one of 9", len(events))
	}
}

// CP-IS048: the history is the shown events, newest first, at most 25.
func TestHistoryNewestFirstAtMost25(t *testing.T) {
	db, _ := open(t)
	const nhs = cpis.NHSNumber("9995260182")
	for i := 0; i < 30; i++ {
		// Each user twice: the second access is not shown.
		acc := person(fmt.Sprintf("2000098760%02d", i))
		for _, at := range []time.Time{t0.Add(time.Duration(i) * time.Minute), t0.Add(time.Duration(i)*time.Minute + time.Second)} {
			if _, err := db.RecordAccess(ctx, event(nhs, acc, at)); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, err := db.Subject(ctx, nhs)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.History) != cpis.HistoryLimit {
		t.Fatalf("history holds %d events, want %d", len(s.History), cpis.HistoryLimit)
	}
	for i, e := range s.History {
		if !e.Shown {
			t.Errorf("history[%d] is not a shown event", i)
		}
		if i > 0 && !e.At.Before(s.History[i-1].At) {
			t.Errorf("history[%d] at %v is not older than history[%d] at %v", i, e.At, i-1, s.History[i-1].At)
		}
	}
	all, err := db.AccessEvents(ctx, nhs)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 60 {
		t.Errorf("recorded %d events, want 60", len(all))
	}
	if want := cpis.ThinHistory(all); !reflect.DeepEqual(s.History, want) {
		t.Errorf("Subject history differs from ThinHistory of every event")
	}
}

// Every field of an event survives the store, the instant to the
// nanosecond, in UTC whatever zone it was given in.
func TestAccessEventRoundTrip(t *testing.T) {
	db, _ := open(t)
	at := time.Date(2026, time.November, 22, 10, 0, 0, 123456789, cpis.London)
	ev := cpis.AccessEvent{
		ID:        "C0FFEE00-0000-4000-8000-000000000001",
		NHSNumber: "9995260182",
		At:        at,
		Accessor:  person("200009876204"),
		LAs:       []string{"V230", "V145"},
	}
	if _, err := db.RecordAccess(ctx, ev); err != nil {
		t.Fatal(err)
	}
	got := recorded(t, db, ev.NHSNumber, ev.ID)
	want := ev
	want.At = at.UTC()
	want.Shown = true
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored\n %+v\nwant\n %+v", got, want)
	}
	// A system accessor without user, and an event with no LA.
	sys := cpis.AccessEvent{ID: "M2", NHSNumber: "9995260182", At: t0.Add(time.Nanosecond),
		Accessor: cpis.Accessor{System: true, ASID: "200000000102", Name: cpis.Name{Family: "UCLH ED"}, Org: cpis.Org{ODS: "RRV"}}}
	if _, err := db.RecordAccess(ctx, sys); err != nil {
		t.Fatal(err)
	}
	sys.Shown = true
	if got := recorded(t, db, sys.NHSNumber, sys.ID); !reflect.DeepEqual(got, sys) {
		t.Errorf("stored\n %+v\nwant\n %+v", got, sys)
	}
}

// Names are stored as JSON lists; whatever they hold comes back as given.
func TestAccessorNamesRoundTrip(t *testing.T) {
	db, _ := open(t)
	for i, given := range [][]string{
		nil,
		{""},
		{"Zoë", "Åsa"},
		{`O"Neil`, `back\slash`},
		{`a","b`, "c"},
		{"<script>", "&amp;"},
		{"tab\there", "new\nline"},
		{" spaced ", "x"},
	} {
		acc := person(fmt.Sprint(i))
		acc.Name.Given = given
		ev := event("9995260182", acc, t0)
		ev.LAs = given // LA codes take the same path
		if _, err := db.RecordAccess(ctx, ev); err != nil {
			t.Fatal(err)
		}
		got := recorded(t, db, ev.NHSNumber, ev.ID)
		if !reflect.DeepEqual(got.Accessor.Name.Given, given) || !reflect.DeepEqual(got.LAs, given) {
			t.Errorf("given %q came back as %q, LAs %q", given, got.Accessor.Name.Given, got.LAs)
		}
		// The same through the history a query reads (CP-IS026).
		s, err := db.Subject(ctx, ev.NHSNumber)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.History) == 0 || !reflect.DeepEqual(s.History[0], got) {
			t.Errorf("given %q: the history shows %+v, recorded %+v", given, s.History, got)
		}
	}
}

func TestRecordAccessRefusesInvalid(t *testing.T) {
	db, _ := open(t)
	for _, tc := range []struct {
		why string
		ev  cpis.AccessEvent
	}{
		{"an NHS number failing its check digit", event("9995260183", person("1"), t0)},
		{"no time", event("9995260182", person("1"), time.Time{})},
		{"a time out of range", event("9995260182", person("1"), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))},
	} {
		if _, err := db.RecordAccess(ctx, tc.ev); cpis.KindOf(err) != cpis.KindInvalid {
			t.Errorf("%s: err = %v, want invalid", tc.why, err)
		}
	}
}

// A caller whose context has ended before its event is queued is told so,
// and nothing is recorded.
func TestRecordAccessCancelled(t *testing.T) {
	db, _ := open(t)
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.RecordAccess(c, event("9995260182", person("1"), t0)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if events, _ := db.AccessEvents(ctx, "9995260182"); len(events) != 0 {
		t.Errorf("recorded %d events", len(events))
	}
}

// 160 concurrent clients, 20 queries each: every event is recorded, once.
func TestRecordAccessConcurrent(t *testing.T) {
	db, _ := open(t)
	const clients, each = 160, 20
	numbers := []cpis.NHSNumber{"9995260107", "9995260115", "9995260123", "9995260131", "9995260158"}
	var wg sync.WaitGroup
	errs := make(chan error, clients*each)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acc := person(fmt.Sprintf("3%011d", c))
			for i := 0; i < each; i++ {
				ev := event(numbers[(c+i)%len(numbers)], acc, t0.Add(time.Duration(i)*time.Millisecond))
				ev.ID = fmt.Sprintf("C%03d-%02d", c, i)
				if _, err := db.RecordAccess(ctx, ev); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ids := map[string]bool{}
	for _, nhs := range numbers {
		events, err := db.AccessEvents(ctx, nhs)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if ids[e.ID] {
				t.Errorf("event %s recorded twice", e.ID)
			}
			ids[e.ID] = true
		}
	}
	if len(ids) != clients*each {
		t.Errorf("recorded %d events, want %d", len(ids), clients*each)
	}
}

// Accesses by one accessor at one instant, from many goroutines at once and
// so committed together, see each other: exactly one is shown.
func TestConcurrentSameAccessorShownOnce(t *testing.T) {
	db, _ := open(t)
	const n = 160
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := db.RecordAccess(ctx, event("9995260182", person("200009876204"), t0)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	events, err := db.AccessEvents(ctx, "9995260182")
	if err != nil {
		t.Fatal(err)
	}
	shown := 0
	for _, e := range events {
		if e.Shown {
			shown++
		}
	}
	if len(events) != n || shown != 1 {
		t.Errorf("%d events, %d shown; want %d, 1", len(events), shown, n)
	}
}

// Under reads and writes from 160 clients at once the WAL is still
// checkpointed and restarted, not left to grow: checkpoints run on the
// writer's connection between its transactions (SQLite's autocheckpoint).
// A checkpointer on a connection of its own, tried to keep checkpoint
// fsyncs off the commit path, never found the WAL fully copied while the
// writer kept appending, and the WAL passed 200 MB in 5 seconds.
func TestWALStaysBoundedUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 3 seconds")
	}
	db, path := open(t)
	if err := db.MergeWorld(ctx, sample(t)); err != nil {
		t.Fatal(err)
	}
	stop := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	var n atomic.Int64
	for c := 0; c < 160; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acc := person(fmt.Sprintf("6%011d", c))
			for i := 0; time.Now().Before(stop); i++ {
				if _, err := db.Subject(ctx, "9995260107"); err != nil {
					t.Error(err)
					return
				}
				if _, err := db.RecordAccess(ctx, event("9995260107", acc, t0.Add(time.Duration(i)*time.Second))); err != nil {
					t.Error(err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	const limit = 64 << 20 // seen: 10-18 MB; the starved variant: 200 MB+
	if fi.Size() > limit {
		t.Errorf("WAL at %d MB after %d accesses, want at most %d MB", fi.Size()>>20, n.Load(), limit>>20)
	}
	t.Logf("%d accesses, WAL %d KB", n.Load(), fi.Size()>>10)
}

// Close commits every event already queued: a caller told nil has its
// event on disk, and a caller told of an error has none.
func TestCloseDrainsQueue(t *testing.T) {
	path := t.TempDir() + "/spinegw.db"
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := db.RecordAccess(ctx, event("9995260182", person(fmt.Sprint(i)), t0))
			if err == nil {
				ok.Add(1)
			} else if cpis.KindOf(err) != cpis.KindInternal {
				t.Errorf("err = %v", err)
			}
		}()
	}
	close(start)
	time.Sleep(time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := db.RecordAccess(ctx, event("9995260182", person("late"), t0)); err == nil {
		t.Error("RecordAccess after Close succeeded")
	}

	db, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	events, err := db.AccessEvents(ctx, "9995260182")
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(events)) != ok.Load() {
		t.Errorf("%d events on disk, %d callers told they were recorded", len(events), ok.Load())
	}
	t.Logf("%d of %d recorded before Close", ok.Load(), n)
}

// CP-IS047, CP-IS048: whatever order accesses arrive in, from however many
// callers, the history a query reads (the summary the writer keeps) is the
// 25 newest shown events recorded, newest first, exactly as recorded.
func TestHistorySummaryMatchesEvents(t *testing.T) {
	db, _ := open(t)
	numbers := []cpis.NHSNumber{"9995260107", "9995260115", "9995260182"}
	rng := rand.New(rand.NewPCG(1, 2))
	var accessors []cpis.Accessor
	for i := range 12 {
		accessors = append(accessors, person(fmt.Sprintf("2000098762%02d", i)))
	}
	accessors = append(accessors, cpis.SystemAccessor(cpis.Author{System: true, Name: cpis.Name{Given: []string{`"Q"`}, Family: "Nurse\\Bell"}},
		cpis.Endpoint{ASID: "200000000102", ODS: "RRV", Name: "UCLH ED"}))
	events := make([]cpis.AccessEvent, 400)
	for i := range events {
		// Distinct instants over three days, arriving in random order.
		at := t0.Add(time.Duration(rng.IntN(3*24*60))*time.Minute + time.Duration(i))
		events[i] = event(numbers[rng.IntN(len(numbers))], accessors[rng.IntN(len(accessors))], at)
		events[i].LAs = [][]string{nil, {"V145"}, {"V145", "V230"}}[rng.IntN(3)]
	}
	var wg sync.WaitGroup
	work := make(chan cpis.AccessEvent)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range work {
				if _, err := db.RecordAccess(ctx, ev); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for _, ev := range events {
		work <- ev
	}
	close(work)
	wg.Wait()

	for _, nhs := range numbers {
		all, err := db.AccessEvents(ctx, nhs)
		if err != nil {
			t.Fatal(err)
		}
		var want []cpis.AccessEvent
		for i := len(all) - 1; i >= 0 && len(want) < cpis.HistoryLimit; i-- {
			if all[i].Shown {
				want = append(want, all[i])
			}
		}
		s, err := db.Subject(ctx, nhs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s.History, want) {
			t.Errorf("%s: history of %d events differs from the %d newest shown of %d recorded", nhs, len(s.History), len(want), len(all))
		}
	}
}
