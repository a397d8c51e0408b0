package cpis_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"spinegw/cpis"
)

// fakeStore is an in-memory cpis.Store. RecordAccess decides Shown with
// FirstInWindow as the contract asks, and Subject returns what has been
// recorded so far as the history.
type fakeStore struct {
	endpoints map[string]cpis.Endpoint
	users     map[string]cpis.User
	patients  map[cpis.NHSNumber]cpis.Patient
	records   map[cpis.NHSNumber][]cpis.Record
	events    []cpis.AccessEvent // every access recorded, in order

	userLookups int
	failUser    error // returned by User when set
	failSubject error // returned by Subject when set
	failRecord  error // returned by RecordAccess when set; nothing is stored then
}

var _ cpis.Store = (*fakeStore)(nil)

func (s *fakeStore) Endpoint(_ context.Context, asid string) (cpis.Endpoint, error) {
	ep, ok := s.endpoints[asid]
	if !ok {
		return cpis.Endpoint{}, cpis.Errorf(cpis.KindNotFound, "endpoint", "no such endpoint")
	}
	return ep, nil
}

func (s *fakeStore) User(_ context.Context, id string) (cpis.User, error) {
	s.userLookups++
	if s.failUser != nil {
		return cpis.User{}, s.failUser
	}
	u, ok := s.users[id]
	if !ok {
		return cpis.User{}, cpis.Errorf(cpis.KindNotFound, "user", "no such user")
	}
	return u, nil
}

func (s *fakeStore) Subject(_ context.Context, nhs cpis.NHSNumber) (cpis.Subject, error) {
	if s.failSubject != nil {
		return cpis.Subject{}, s.failSubject
	}
	subj := cpis.Subject{Records: s.records[nhs]}
	subj.Patient, subj.HasPatient = s.patients[nhs]
	for _, e := range s.events {
		if e.NHSNumber == nhs && e.Shown {
			subj.History = append(subj.History, e)
		}
	}
	sort.SliceStable(subj.History, func(i, j int) bool { return subj.History[i].At.After(subj.History[j].At) })
	return subj, nil
}

func (s *fakeStore) RecordAccess(_ context.Context, ev cpis.AccessEvent) (cpis.AccessEvent, error) {
	if s.failRecord != nil {
		return cpis.AccessEvent{}, s.failRecord
	}
	var last time.Time
	for _, e := range s.events {
		if e.NHSNumber == ev.NHSNumber && e.Shown && e.Accessor.Key() == ev.Accessor.Key() && e.At.After(last) {
			last = e.At
		}
	}
	ev.Shown = cpis.FirstInWindow(last, ev.At)
	ev.LAs = slices.Clone(ev.LAs)
	s.events = append(s.events, ev)
	return ev, nil
}

// The subjects of the query cases, all in the never-issued 999 range.
const (
	child     = "9990000018" // CPP at E10, LAC at E20 ended this year
	mother    = "9990000026" // only an unborn plan, at E10
	unknownTo = "9990000034" // known to PDS, nothing held
	expired   = "9990000042" // a CPP ended over 365 days ago
	noPDS     = "9990000050" // held by E30, unknown to PDS
	deleted   = "9990000069" // a CPP whose delete date is today
	adult     = "9990000077" // 19 years old: past 18y+365d
	twins     = "9990000085" // a CPP and an unborn plan at E10, a LAC at E20
)

// now is the clock of every query case: a Sunday morning in November.
var now = at("2026-11-22T10:00:00Z")

var (
	pas       = cpis.Endpoint{ASID: "200000000101", ODS: "RGT", Name: "CUH PAS"}
	edSystem  = cpis.Endpoint{ASID: "200000000202", ODS: "RGN", Name: "PETERBOROUGH ED"}
	patientOf = map[cpis.NHSNumber]cpis.Patient{
		child:     {NHSNumber: child, Name: cpis.Name{Given: []string{"Alex"}, Family: "Child"}, BirthDate: day("2015-05-05")},
		mother:    {NHSNumber: mother, Name: cpis.Name{Given: []string{"Mary"}, Family: "Mother"}, BirthDate: day("1995-03-03")},
		unknownTo: {NHSNumber: unknownTo, BirthDate: day("2016-01-01")},
		expired:   {NHSNumber: expired, BirthDate: day("2012-01-01")},
		deleted:   {NHSNumber: deleted, BirthDate: day("2014-01-01")},
		adult:     {NHSNumber: adult, BirthDate: day("2007-06-01")},
		twins:     {NHSNumber: twins, BirthDate: day("2009-09-09")},
	}
)

// newStore is the world of the query cases, fresh for each case.
func newStore() *fakeStore {
	r := func(nhs, ods string, plans ...cpis.Plan) cpis.Record {
		x := rec(ods, plans...)
		x.NHSNumber = cpis.NHSNumber(nhs)
		return x
	}
	return &fakeStore{
		endpoints: map[string]cpis.Endpoint{pas.ASID: pas, edSystem.ASID: edSystem},
		users:     directory,
		patients:  patientOf,
		records: map[cpis.NHSNumber][]cpis.Record{
			child:   {r(child, "E10", cpp(start("2025-01-01"))), r(child, "E20", lac(start("2024-01-01"), end("2026-01-01")))},
			mother:  {r(mother, "E10", ucp(start("2026-08-01"), due("2026-12-20")))},
			expired: {r(expired, "E10", cpp(start("2020-01-01"), end("2025-11-01")))},
			noPDS:   {r(noPDS, "E30", cpp(start("2025-01-01")))},
			deleted: {r(deleted, "E10", cpp(start("2025-01-01"), del("2026-11-22")))},
			adult:   {r(adult, "E10", cpp(start("2020-01-01")))},
			twins:   {r(twins, "E10", cpp(start("2025-01-01")), ucp(start("2026-08-01"), due("2026-12-20"))), r(twins, "E20", lac(start("2025-02-01")))},
		},
	}
}

// query is an NHS Query about nhs from pas by a person author.
func query(nhs string, opts ...authorOpt) cpis.Query {
	return cpis.Query{MessageID: "MSG-" + nhs, Sender: pas, NHSNumber: nhs, Author: author(opts...)}
}

// systemQuery is an NHS Query about nhs from edSystem by a system author
// naming its user, with the job roles given.
func systemQuery(nhs string, jobRoles ...string) cpis.Query {
	a := cpis.Author{System: true, ASID: edSystem.ASID, SystemName: "ED Triage", Name: cpis.Name{Given: []string{"Sam"}, Family: "Clerk"}, JobRoles: jobRoles}
	return cpis.Query{MessageID: "MSG-SYS-" + nhs, Sender: edSystem, NHSNumber: nhs, Author: a}
}

// result is what Answer should do: answer with these holdings or refuse
// with this kind.
type result struct {
	positive bool
	holdings string
	kind     cpis.Kind
}

func answered(holdings string) result { return result{positive: true, holdings: holdings} }
func refused(k cpis.Kind) result      { return result{kind: k} }

func TestServiceAnswer(t *testing.T) {
	tests := []struct {
		name  string
		query cpis.Query
		want  result
	}{
		// CP-IS015, CP-IS044: a positive trace returns every LA's visible plans.
		{"CP-IS044 a GP asking about a child with plans at two LAs gets both", query(child, user(ann), profiles("P-GP")), answered("E10[CPP] E20[LAC]")},
		{"CP-IS046 a midwife asking about the same child gets the same", query(child, user(jane), profiles("P-MW")), answered("E10[CPP] E20[LAC]")},
		{"CP-IS035 a midwife sees a CPP, an unborn plan and a LAC together", query(twins, user(jane), profiles("P-MW")), answered("E10[CPP UCP] E20[LAC]")},
		{"CP-IS041 a GP sees the CPP and LAC but not the unborn plan beside them", query(twins, user(ann), profiles("P-GP")), answered("E10[CPP] E20[LAC]")},
		{"CP-IS087 a midwife asking about a mother gets the unborn plan", query(mother, user(jane), profiles("P-MW")), answered("E10[UCP]")},
		{"CP-IS087 a midwife manager asking about a mother gets the unborn plan", query(mother, user(jane), profiles("P-MW-2")), answered("E10[UCP]")},
		{"CP-IS041 a GP asking about a mother whose only plan is unborn: not found", query(mother, user(ann), profiles("P-GP")), refused(cpis.KindNotFound)},
		{"CP-IS041 a nurse asking about a mother whose only plan is unborn: not found", query(mother, user(bob), profiles("P-BOB")), refused(cpis.KindNotFound)},
		{"CP-IS015 a record held though PDS does not know the number is a positive trace", query(noPDS, user(ann), profiles("P-GP")), answered("E30[CPP]")},

		// CP-IS015: negative traces.
		{"CP-IS015 nothing held for the number: not found", query(unknownTo, user(ann), profiles("P-GP")), refused(cpis.KindNotFound)},
		{"CP-IS015 a number unknown everywhere: not found", query("9990000093", user(ann), profiles("P-GP")), refused(cpis.KindNotFound)},
		{"CP-IS010 a CPP ended over 365 days ago: not found", query(expired, user(ann), profiles("P-GP")), refused(cpis.KindNotFound)},
		{"CP-IS009 a CPP whose delete date is today: not found", query(deleted, user(ann), profiles("P-GP")), refused(cpis.KindNotFound)},
		{"CP-IS007 a person past 18 years and 365 days: not found", query(adult, user(ann), profiles("P-GP")), refused(cpis.KindNotFound)},

		// The NHS number is checked first.
		{"CP-IS044 an NHS number with a wrong check digit is invalid", query("9912003899", user(ann), profiles("P-GP")), refused(cpis.KindInvalid)},
		{"CP-IS044 an NHS number whose check would be 10 is invalid", query("1234567895", user(ann), profiles("P-GP")), refused(cpis.KindInvalid)},
		{"CP-IS044 an empty NHS number is invalid", query("", user(ann), profiles("P-GP")), refused(cpis.KindInvalid)},
		{"CP-IS044 an NHS number with spaces is invalid", query("999 000 0018", user(ann), profiles("P-GP")), refused(cpis.KindInvalid)},
		{"CP-IS044 an invalid number is invalid whoever asks", query("9912003899", user(ghost), profiles("P-X")), refused(cpis.KindInvalid)},

		// CP-IS042, CP-IS054, CP-IS056, CP-IS059: RBAC before anything is traced.
		{"CP-IS054 a role profile without B0107 is refused", query(child, user(jane), profiles("P-MW-ADMIN")), refused(cpis.KindUnauthorized)},
		{"CP-IS059 a disabled user is refused", query(child, user(dis), profiles("P-DIS")), refused(cpis.KindUnauthorized)},
		{"CP-IS042 a user unknown to SDS is refused", query(child, user(ghost), profiles("P-MW")), refused(cpis.KindUnauthorized)},
		{"CP-IS042 another user's role profile is refused", query(child, user(jane), profiles("P-GP")), refused(cpis.KindUnauthorized)},
		{"CP-IS042 a claimed job role not the profile's is refused", query(mother, user(ann), profiles("P-GP"), claims("R0680")), refused(cpis.KindUnauthorized)},
		{"CP-IS042 two user ids in one message are refused", query(child, user(jane), alsoUser(ann), profiles("P-MW")), refused(cpis.KindUnauthorized)},
		{"CP-IS056 refusal does not reveal that nothing is held", query(unknownTo, user(dis), profiles("P-DIS")), refused(cpis.KindUnauthorized)},

		// CP-NHS006, CP-NHS019: a system author vouches for its user.
		{"CP-NHS019 a system author is answered", systemQuery(child), answered("E10[CPP] E20[LAC]")},
		{"CP-IS087 a system author naming a midwife gets the unborn plan", systemQuery(mother, "S0010:G0020:R0680"), answered("E10[UCP]")},
		{"CP-IS041 a system author naming no job role does not get the unborn plan", systemQuery(mother), refused(cpis.KindNotFound)},
		{"CP-IS044 a system author with an invalid number is invalid", systemQuery("9912003899"), refused(cpis.KindInvalid)},
	}
	check := func(q cpis.Query) (result, error) {
		store := newStore()
		svc := &cpis.Service{Store: store, Clock: cpis.ClockFunc(func() time.Time { return now })}
		ans, err := svc.Answer(context.Background(), q)
		if q.Author.System && store.userLookups != 0 {
			return result{}, fmt.Errorf("system author looked up in SDS")
		}
		if err != nil {
			// CP-IS068 applies to answers: refused and negative queries
			// record nothing.
			if len(store.events) != 0 {
				return result{}, fmt.Errorf("refused (%v) but recorded %+v", err, store.events)
			}
			if !reflect.DeepEqual(ans, cpis.Answer{}) {
				return result{}, fmt.Errorf("refused (%v) with an answer %+v", err, ans)
			}
			return refused(cpis.KindOf(err)), nil
		}
		if err := checkPositive(store, q, ans); err != nil {
			return result{}, err
		}
		return answered(holdingsString(ans.Holdings)), nil
	}
	for _, tt := range tests {
		got, err := check(tt.query)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
		} else if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// checkPositive checks what every positive answer owes: its access event is
// committed before Answer returns (CP-IS068), under the SDS identity
// (CP-IS036, CP-IS038), naming the LAs whose plans were returned (CP-IS023),
// and the history is the earlier accesses only.
func checkPositive(store *fakeStore, q cpis.Query, ans cpis.Answer) error {
	if len(store.events) != 1 {
		return fmt.Errorf("answered with %d access events recorded, want 1", len(store.events))
	}
	ev := store.events[0]
	if !reflect.DeepEqual(ev, ans.Event) {
		return fmt.Errorf("recorded %+v, answer carries %+v", store.events[0], ans.Event)
	}
	var las []string
	for _, h := range ans.Holdings {
		las = append(las, h.LA.ODS)
	}
	if !slices.Equal(ev.LAs, las) {
		return fmt.Errorf("event names LAs %v, holdings are %v", ev.LAs, las)
	}
	if ev.ID != q.MessageID || string(ev.NHSNumber) != q.NHSNumber || !ev.At.Equal(now) || !ans.At.Equal(now) || string(ans.NHSNumber) != q.NHSNumber {
		return fmt.Errorf("event %+v / answer at %v for query %+v at %v", ev, ans.At, q, now)
	}
	acc := ev.Accessor
	if acc.ASID != q.Sender.ASID || acc.System != q.Author.System {
		return fmt.Errorf("accessor %+v for a query from %s", acc, q.Sender.ASID)
	}
	if !q.Author.System {
		u := directory[q.Author.UserID]
		rp, _ := u.Profile(q.Author.RoleProfileIDs[0])
		want := cpis.Accessor{UserID: u.ID, RoleProfileID: rp.ID, Name: u.Name, JobRole: rp.JobRole, Org: rp.Org, ASID: q.Sender.ASID}
		if !reflect.DeepEqual(acc, want) {
			return fmt.Errorf("accessor %+v, want the SDS identity %+v", acc, want)
		}
	}
	if len(ans.History) != 0 {
		return fmt.Errorf("first access answered with history %+v", ans.History)
	}
	if p, ok := patientOf[ans.NHSNumber]; ok != (ans.Patient.NHSNumber != "") || (ok && !reflect.DeepEqual(p, ans.Patient)) {
		return fmt.Errorf("answer patient %+v, PDS has %+v", ans.Patient, p)
	}
	return nil
}

// clockAt is a clock the test moves.
type clockAt struct{ t time.Time }

func (c *clockAt) Now() time.Time { return c.t }

// CP-IS047, CP-IS048, CP-IS068: each answer shows the earlier accesses, never
// its own; a worker's accesses within 24 hours show once, and the answer
// carries the store's decision for its own access.
func TestServiceAnswerHistory(t *testing.T) {
	store := newStore()
	clock := &clockAt{t: now}
	svc := &cpis.Service{Store: store, Clock: clock}
	ask := func(after time.Duration, q cpis.Query) ([]string, bool) {
		t.Helper()
		clock.t = now.Add(after)
		q.MessageID = fmt.Sprintf("%s+%v", q.MessageID, after)
		ans, err := svc.Answer(context.Background(), q)
		if err != nil {
			t.Fatalf("query at +%v: %v", after, err)
		}
		last := store.events[len(store.events)-1]
		if ans.Event.ID != q.MessageID || last.ID != q.MessageID {
			t.Fatalf("query at +%v: its event was not the last recorded", after)
		}
		if !reflect.DeepEqual(ans.Event, last) {
			t.Errorf("query at +%v: the answer carries %+v, the store recorded %+v", after, ans.Event, last)
		}
		var ids []string
		for _, e := range ans.History {
			if e.ID == q.MessageID {
				t.Errorf("query at +%v: history includes the current access", after)
			}
			ids = append(ids, e.ID)
		}
		return ids, ans.Event.Shown
	}
	gp := query(child, user(ann), profiles("P-GP"))
	mw := query(child, user(jane), profiles("P-MW"))
	steps := []struct {
		name  string
		after time.Duration
		q     cpis.Query
		want  []string
		shown bool
	}{
		{"CP-IS068 the GP's first access has no history, and is shown", 0, gp, nil, true},
		{"CP-IS047 the GP's second access, within 24h of the first, is not shown", time.Hour, gp, []string{"MSG-9990000018+0s"}, false},
		{"CP-IS047 the midwife's first access is shown", 2 * time.Hour, mw, []string{"MSG-9990000018+0s"}, true},
		{"CP-IS047 the GP's third access, at 3h, is not shown either", 3 * time.Hour, gp, []string{"MSG-9990000018+2h0m0s", "MSG-9990000018+0s"}, false},
		{"CP-IS047 the GP's access at 25h, 24h after the first shown, is shown again", 25 * time.Hour, gp, []string{"MSG-9990000018+2h0m0s", "MSG-9990000018+0s"}, true},
		{"CP-IS047 the midwife's access exactly 24h after hers is shown; CP-IS048 newest first", 26 * time.Hour, mw, []string{"MSG-9990000018+25h0m0s", "MSG-9990000018+2h0m0s", "MSG-9990000018+0s"}, true},
	}
	for _, s := range steps {
		got, shown := ask(s.after, s.q)
		if !slices.Equal(got, s.want) {
			t.Errorf("%s: history %q, want %q", s.name, got, s.want)
		}
		if shown != s.shown {
			t.Errorf("%s: Answer.Event.Shown = %v, want %v", s.name, shown, s.shown)
		}
	}
	// CP-IS047: every access is recorded, shown or not.
	if len(store.events) != len(steps) {
		t.Errorf("%d access events recorded for %d answers", len(store.events), len(steps))
	}
}

// CP-IS048: however many earlier accesses, an answer shows the 25 newest.
func TestServiceAnswerHistoryIsLimitedTo25(t *testing.T) {
	store := newStore()
	for i := range 40 {
		acc := cpis.Accessor{UserID: fmt.Sprintf("U%02d", i)}
		store.events = append(store.events, cpis.AccessEvent{ID: fmt.Sprintf("e%02d", i+1), NHSNumber: child, At: now.Add(time.Duration(i-40) * time.Hour), Accessor: acc, Shown: true})
	}
	svc := &cpis.Service{Store: store, Clock: cpis.ClockFunc(func() time.Time { return now })}
	ans, err := svc.Answer(context.Background(), query(child, user(ann), profiles("P-GP")))
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.History) != 25 || ans.History[0].ID != "e40" || ans.History[24].ID != "e16" {
		t.Errorf("history of %d from %s to %s, want 25 from e40 to e16", len(ans.History), ans.History[0].ID, ans.History[len(ans.History)-1].ID)
	}
}

// CP-IS068: no answer goes out without its access event committed.
func TestServiceAnswerFailures(t *testing.T) {
	boom := errors.New("disk full")
	tests := []struct {
		name  string
		fault func(*fakeStore)
		q     cpis.Query
	}{
		{"CP-IS068 recording the access fails: no answer", func(s *fakeStore) { s.failRecord = boom }, query(child, user(ann), profiles("P-GP"))},
		{"CP-IS068 recording a system author's access fails: no answer", func(s *fakeStore) { s.failRecord = boom }, systemQuery(child)},
		{"CP-IS042 SDS cannot be read: an error, not a refusal", func(s *fakeStore) { s.failUser = boom }, query(child, user(ann), profiles("P-GP"))},
		{"CP-IS015 the records cannot be read: an error, not a negative trace", func(s *fakeStore) { s.failSubject = boom }, query(child, user(ann), profiles("P-GP"))},
	}
	for _, tt := range tests {
		store := newStore()
		tt.fault(store)
		svc := &cpis.Service{Store: store, Clock: cpis.ClockFunc(func() time.Time { return now })}
		ans, err := svc.Answer(context.Background(), tt.q)
		switch {
		case !errors.Is(err, boom):
			t.Errorf("%s: err %v, want the store's failure", tt.name, err)
		case cpis.KindOf(err) != cpis.KindInternal:
			t.Errorf("%s: kind %v, want internal", tt.name, cpis.KindOf(err))
		case !reflect.DeepEqual(ans, cpis.Answer{}):
			t.Errorf("%s: answered %+v", tt.name, ans)
		case len(store.events) != 0:
			t.Errorf("%s: recorded %+v", tt.name, store.events)
		}
	}
}

// CP-NHS018, CP-SC025: only accredited endpoints may send.
func TestServiceCheckSender(t *testing.T) {
	svc := &cpis.Service{Store: newStore(), Clock: cpis.ClockFunc(func() time.Time { return now })}
	if ep, err := svc.CheckSender(context.Background(), pas.ASID); err != nil || ep != pas {
		t.Errorf("accredited endpoint: %+v, %v", ep, err)
	}
	if _, err := svc.CheckSender(context.Background(), "999999999999"); cpis.KindOf(err) != cpis.KindAddressing {
		t.Errorf("unknown ASID: %v, want KindAddressing", err)
	}
	boom := errors.New("connection reset")
	broken := &brokenEndpoints{fakeStore: newStore(), err: boom}
	svc.Store = broken
	if _, err := svc.CheckSender(context.Background(), pas.ASID); !errors.Is(err, boom) || cpis.KindOf(err) == cpis.KindAddressing {
		t.Errorf("store failure: %v, want the failure itself, not an addressing refusal", err)
	}
}

type brokenEndpoints struct {
	*fakeStore
	err error
}

func (b *brokenEndpoints) Endpoint(context.Context, string) (cpis.Endpoint, error) {
	return cpis.Endpoint{}, b.err
}
