package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/store"
)

func civil(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return cpis.Date(t.Date())
}

func instantAt(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// fakeRender stands in for the hl7 writer: the document names the LA and
// the numbers, so tests can read it.
func fakeRender(n cpis.InactiveNotification) (string, []byte, error) {
	s := n.Subjects[0]
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", fakeIDs)
	fakeIDs++
	return id, []byte(n.LA.ODS + ":" + string(s.Old) + ">" + string(s.New)), nil
}

var fakeIDs int

func access(nhs, user, when string, las ...string) cpis.AccessEvent {
	return cpis.AccessEvent{ID: "M-" + user + "-" + when, NHSNumber: cpis.NHSNumber(nhs), At: instantAt(when),
		Accessor: cpis.Accessor{UserID: user, RoleProfileID: "RP" + user, Name: cpis.Name{Given: []string{"A"}, Family: user},
			JobRole: cpis.JobRole{Code: "R0260", Name: "Registrar"}, Org: cpis.Org{ODS: "RKE", Name: "Whittington"}},
		LAs: las}
}

func TestDayInputReadsThePeriodAndTheAccessedRecordsOnly(t *testing.T) {
	db, _ := open(t)
	if err := db.MergeWorld(ctx, sample(t)); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []cpis.AccessEvent{
		access("9995260107", "U1", "2026-11-21T01:59:59Z", "V145", "V230"), // before the period
		access("9995260107", "U1", "2026-11-21T10:00:00Z", "V145", "V230"), // repeat within 24 hours: not shown
		access("9995260107", "U2", "2026-11-21T11:00:00Z", "V145", "V230"),
		access("9995260107", "U3", "2026-11-22T02:00:00Z", "V145"), // at the end: the next period's
	} {
		if _, err := db.RecordAccess(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	in, err := db.DayInput(ctx, instantAt("2026-11-21T02:00:00Z"), instantAt("2026-11-22T02:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	var holders []string
	for _, la := range in.Holders {
		holders = append(holders, la.ODS)
	}
	if got := strings.Join(holders, " "); got != "V145 V230" {
		t.Errorf("holders %q", got)
	}
	if len(in.Events) != 1 || in.Events[0].Accessor.UserID != "U2" || !in.Events[0].Shown {
		t.Errorf("events %+v, want U2's only", in.Events)
	}
	if len(in.Records) != 2 || in.Records[0].LA.ODS != "V145" || in.Records[1].LA.ODS != "V230" || in.Records[0].LA.Name == "" {
		t.Errorf("records %+v", in.Records)
	}
	if !in.Births["9995260107"].Equal(civil("2015-03-14")) {
		t.Errorf("births %v", in.Births)
	}
}

func TestCommitDayOnce(t *testing.T) {
	db, _ := open(t)
	run := store.DailyRun{Day: civil("2026-11-22"), From: instantAt("2026-11-21T02:00:00Z"), To: instantAt("2026-11-22T02:00:00Z"),
		NotifiedAt: instantAt("2026-11-22T02:00:01Z"), Notifications: 1}
	msg := func(id string) store.Message {
		return store.Message{Kind: store.KindAccess, LA: "V145", Key: "2026-11-22", MessageID: id, Document: []byte("<doc/>"), Created: run.To}
	}
	ok, err := db.CommitDay(ctx, run, []store.Message{msg("A")})
	if err != nil || !ok {
		t.Fatalf("first commit: %v %v", ok, err)
	}
	ok, err = db.CommitDay(ctx, run, []store.Message{msg("B")})
	if err != nil || ok {
		t.Fatalf("second commit of the day: %v %v, want false", ok, err)
	}
	got, err := db.Outbox(ctx, "V145")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].MessageID != "A" {
		t.Errorf("outbox %+v", got)
	}
	r, ok, err := db.DailyRun(ctx, run.Day)
	if err != nil || !ok || !r.To.Equal(run.To) || r.Notifications != 1 || !r.Purged.IsZero() {
		t.Errorf("daily run %+v %v %v", r, ok, err)
	}
}

// The outbox key is structural: a second notification of the same kind to
// the same LA for the same day is refused by the table, whoever writes it.
func TestOutboxKeyIsUnique(t *testing.T) {
	db, _ := open(t)
	day := store.DailyRun{Day: civil("2026-11-22"), From: instantAt("2026-11-21T02:00:00Z"), To: instantAt("2026-11-22T02:00:00Z"), NotifiedAt: instantAt("2026-11-22T02:00:00Z")}
	m := store.Message{Kind: store.KindAccess, LA: "V145", Key: "2026-11-22", MessageID: "A", Created: day.To}
	m2 := m
	m2.MessageID = "B"
	if _, err := db.CommitDay(ctx, day, []store.Message{m, m2}); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Outbox(ctx, "")
	if len(got) != 1 {
		t.Errorf("%d messages, want 1", len(got))
	}
}

func TestCommitDayFaultLeavesNothing(t *testing.T) {
	db, _ := open(t)
	restore := store.FailDayBeforeCommit()
	run := store.DailyRun{Day: civil("2026-11-22"), From: instantAt("2026-11-21T02:00:00Z"), To: instantAt("2026-11-22T02:00:00Z"), NotifiedAt: instantAt("2026-11-22T02:00:00Z")}
	_, err := db.CommitDay(ctx, run, []store.Message{{Kind: store.KindAccess, LA: "V145", Key: "2026-11-22", MessageID: "A", Created: run.To}})
	restore()
	if err == nil {
		t.Fatal("no error")
	}
	if got, _ := db.Outbox(ctx, ""); len(got) != 0 {
		t.Errorf("outbox %+v after a failed commit", got)
	}
	if _, ok, _ := db.DailyRun(ctx, run.Day); ok {
		t.Error("the day is marked done after a failed commit")
	}
}

func TestInboxAndAcknowledge(t *testing.T) {
	db, _ := open(t)
	run := store.DailyRun{Day: civil("2026-11-22"), From: instantAt("2026-11-21T02:00:00Z"), To: instantAt("2026-11-22T02:00:00Z"), NotifiedAt: instantAt("2026-11-22T02:00:00Z")}
	if _, err := db.CommitDay(ctx, run, []store.Message{
		{Kind: store.KindAccess, LA: "V145", Key: "2026-11-22", MessageID: "AAAA", Document: []byte("a"), Created: run.To},
		{Kind: store.KindAccess, LA: "V230", Key: "2026-11-22", MessageID: "BBBB", Document: []byte("b"), Created: run.To},
	}); err != nil {
		t.Fatal(err)
	}
	in, err := db.Inbox(ctx, "V145")
	if err != nil || len(in) != 1 || in[0].MessageID != "AAAA" {
		t.Fatalf("inbox %+v %v", in, err)
	}
	if _, err := db.InboxMessage(ctx, "V145", "BBBB"); cpis.KindOf(err) != cpis.KindNotFound {
		t.Errorf("another LA's message: %v, want not found", err)
	}
	m, err := db.InboxMessage(ctx, "V145", "aaaa")
	if err != nil || string(m.Document) != "a" {
		t.Errorf("message %+v %v", m, err)
	}
	if err := db.Acknowledge(ctx, "V145", "AAAA", run.To); err != nil {
		t.Fatal(err)
	}
	if err := db.Acknowledge(ctx, "V145", "AAAA", run.To.Add(time.Hour)); err != nil {
		t.Errorf("acknowledging twice: %v", err)
	}
	if err := db.Acknowledge(ctx, "V145", "BBBB", run.To); cpis.KindOf(err) != cpis.KindNotFound {
		t.Errorf("acknowledging another LA's message: %v", err)
	}
	if in, _ := db.Inbox(ctx, "V145"); len(in) != 0 {
		t.Errorf("an acknowledged message is still in the inbox: %+v", in)
	}
	if m, _ := db.InboxMessage(ctx, "V145", "AAAA"); !m.Acknowledged.Equal(run.To) {
		t.Errorf("acknowledged at %v, want the first acknowledgement", m.Acknowledged)
	}
	und, _ := db.Undelivered(ctx, 10)
	if len(und) != 2 {
		t.Fatalf("undelivered %d", len(und))
	}
	if err := db.MarkDelivered(ctx, []int64{und[0].ID}, run.To); err != nil {
		t.Fatal(err)
	}
	if und, _ := db.Undelivered(ctx, 10); len(und) != 1 || und[0].LA != "V230" {
		t.Errorf("undelivered after marking %+v", und)
	}
}

// CP-IS012, CP-IS023: a superseded number is notified to every LA holding
// records under it, once, in the transaction that supersedes it.
func TestSupersedeNotifiesEveryHoldingLAOnce(t *testing.T) {
	db, _ := open(t)
	if err := db.MergeWorld(ctx, sample(t)); err != nil {
		t.Fatal(err)
	}
	now := instantAt("2026-11-22T10:00:00Z")
	n, err := db.Supersede(ctx, "9995260107", "9995260182", now, fakeRender)
	if err != nil || n != 2 {
		t.Fatalf("supersede: %d %v, want 2 notifications", n, err)
	}
	got, _ := db.Outbox(ctx, "")
	var docs []string
	for _, m := range got {
		docs = append(docs, m.Kind+" "+m.Key+" "+string(m.Document))
	}
	if want := "inactive 9995260107>9995260182 V145:9995260107>9995260182|inactive 9995260107>9995260182 V230:9995260107>9995260182"; strings.Join(docs, "|") != want {
		t.Errorf("outbox\n got %s\nwant %s", strings.Join(docs, "|"), want)
	}
	if n, err := db.Supersede(ctx, "9995260107", "9995260182", now, fakeRender); err != nil || n != 0 {
		t.Errorf("superseding again: %d %v, want nothing new", n, err)
	}
	if n, err := db.EnqueueInactive(ctx, now, fakeRender); err != nil || n != 0 {
		t.Errorf("sweep after supersede: %d %v", n, err)
	}
	p, err := db.Patient(ctx, "9995260107")
	if err != nil || p.SupersededBy != "9995260182" {
		t.Errorf("patient %+v %v", p, err)
	}
}

func TestSupersedeAddsTheNewNumberToPDS(t *testing.T) {
	db, _ := open(t)
	if err := db.MergeWorld(ctx, sample(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Supersede(ctx, "9995260107", "9434765919", instantAt("2026-11-22T10:00:00Z"), fakeRender); err != nil {
		t.Fatal(err)
	}
	p, err := db.Patient(ctx, "9434765919")
	if err != nil || p.Name.Family != "Doyle" || !p.BirthDate.Equal(civil("2015-03-14")) || p.SupersededBy != "" {
		t.Errorf("new number in PDS: %+v %v", p, err)
	}
}

func TestSupersedeRefusals(t *testing.T) {
	db, _ := open(t)
	if err := db.MergeWorld(ctx, sample(t)); err != nil {
		t.Fatal(err)
	}
	now := instantAt("2026-11-22T10:00:00Z")
	for _, c := range []struct {
		name     string
		old, new cpis.NHSNumber
		kind     cpis.Kind
	}{
		{"PDS does not know the old number", "9434765919", "9995260107", cpis.KindNotFound},
		{"an invalid number", "1234567890", "9995260107", cpis.KindInvalid},
		{"by itself", "9995260107", "9995260107", cpis.KindInvalid},
	} {
		if _, err := db.Supersede(ctx, c.old, c.new, now, fakeRender); cpis.KindOf(err) != c.kind {
			t.Errorf("%s: %v, want kind %v", c.name, err, c.kind)
		}
	}
	// A failing renderer leaves PDS as it was: one transaction.
	_, err := db.Supersede(ctx, "9995260107", "9995260182", now, func(cpis.InactiveNotification) (string, []byte, error) {
		return "", nil, errors.New("render failed")
	})
	if err == nil {
		t.Fatal("no error")
	}
	if p, _ := db.Patient(ctx, "9995260107"); p.SupersededBy != "" {
		t.Errorf("superseded although its notifications failed")
	}
}

// CP-IS012, CP-IS023: a number PDS marks inactive with no replacement is
// notified, without a new number (key OLD>), to every LA holding records
// under it, once, in the transaction that marks it; the patient reads back
// inactive.
func TestInactivateNotifiesEveryHoldingLAOnce(t *testing.T) {
	db, _ := open(t)
	if err := db.MergeWorld(ctx, sample(t)); err != nil {
		t.Fatal(err)
	}
	now := instantAt("2026-11-22T10:00:00Z")
	if _, err := db.Inactivate(ctx, "9434765919", now, fakeRender); cpis.KindOf(err) != cpis.KindNotFound {
		t.Errorf("unknown number: %v", err)
	}
	n, err := db.Inactivate(ctx, "9995260107", now, fakeRender)
	if err != nil || n != 2 {
		t.Fatalf("inactivate: %d %v, want 2 notifications", n, err)
	}
	got, _ := db.Outbox(ctx, "")
	var docs []string
	for _, m := range got {
		docs = append(docs, m.Kind+" "+m.Key+" "+string(m.Document))
	}
	if want := "inactive 9995260107> V145:9995260107>|inactive 9995260107> V230:9995260107>"; strings.Join(docs, "|") != want {
		t.Errorf("outbox\n got %s\nwant %s", strings.Join(docs, "|"), want)
	}
	if n, err := db.Inactivate(ctx, "9995260107", now, fakeRender); err != nil || n != 0 {
		t.Errorf("inactivating again: %d %v, want nothing new", n, err)
	}
	if n, err := db.EnqueueInactive(ctx, now, fakeRender); err != nil || n != 0 {
		t.Errorf("sweep after inactivate: %d %v", n, err)
	}
	if p, err := db.Patient(ctx, "9995260107"); err != nil || !p.Inactive || p.SupersededBy != "" {
		t.Errorf("patient %+v %v", p, err)
	}
	if s, err := db.Subject(ctx, "9995260107"); err != nil || !s.Patient.Inactive || s.Patient.Sensitive {
		t.Errorf("subject patient %+v %v", s.Patient, err)
	}
}

// CP-IS012: a supersession that came with a world file is notified too.
func TestEnqueueInactiveFromWorld(t *testing.T) {
	db, _ := open(t)
	w := sample(t)
	if err := db.MergeWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	now := instantAt("2026-11-22T10:00:00Z")
	if n, err := db.EnqueueInactive(ctx, now, fakeRender); err != nil || n != 0 {
		t.Fatalf("nothing held under a superseded number yet: %d %v", n, err)
	}
	// V145 uploads under the superseded number 9995260123 (a world record:
	// uploads refuse it, CPR05).
	w2 := cpis.World{Records: []cpis.Record{{NHSNumber: "9995260123", LA: cpis.LocalAuthority{ODS: "V145"}, LocalID: "L-9",
		Plans: []cpis.Plan{{Type: cpis.CPP, Start: civil("2026-01-01")}}}}}
	if err := db.MergeWorld(ctx, w2); err != nil {
		t.Fatal(err)
	}
	if n, err := db.EnqueueInactive(ctx, now, fakeRender); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v, want 1", n, err)
	}
	if n, err := db.EnqueueInactive(ctx, now, fakeRender); err != nil || n != 0 {
		t.Fatalf("second sweep: %d %v, want 0", n, err)
	}
	got, _ := db.Outbox(ctx, "V145")
	if len(got) != 1 || got[0].Key != "9995260123>9995260115" || got[0].Records != 1 {
		t.Errorf("outbox %+v", got)
	}
}

func TestPurgeNeedsTheDayNotified(t *testing.T) {
	db, _ := open(t)
	if _, err := db.Purge(ctx, civil("2026-11-22"), instantAt("2026-11-22T02:00:00Z")); cpis.KindOf(err) != cpis.KindInvalid {
		t.Errorf("purge of a day not notified: %v", err)
	}
}
