package cpis

import (
	"sort"
	"time"
)

// AccessNotification is one local authority's daily Access to Service
// Notification (REPC_MT000004GB01): who looked at which of its children in
// the 24 hours it covers (CP-IS022, CP-IS025, CP-IS037, CP-IS070).
type AccessNotification struct {
	LA       LocalAuthority
	From, To time.Time // the period covered: [From, To)
	// Records are the LA's children whose information was returned in the
	// period, in NHS number order. None is a notification too: it confirms
	// that no child of the LA was accessed (CP-IS025).
	Records []NotifiedRecord
}

// NotifiedRecord is one child of an Access to Service Notification.
type NotifiedRecord struct {
	NHSNumber NHSNumber
	LocalID   string // the LA's own child id (CP-IS051 allows it here)
	FileID    string // the LA upload file the record came from
	// Accesses are the first access per accessor within 24 hours
	// (CP-IS047), oldest first, with who, where and when (CP-IS022).
	Accesses []AccessEvent
}

// AccessNotifications builds the day's notifications, one for every local
// authority holding records (CP-IS025), from the access events of the period
// [from, to). An access is notified to each LA whose plans it returned
// (CP-IS023); only accesses marked Shown are notified (CP-IS047). A record
// whose plans have all been logically deleted or are past their windows at
// to is no longer notified (CP-IS009, CP-IS010, CP-IS029).
func AccessNotifications(holders []LocalAuthority, records []Record, events []AccessEvent, birth func(NHSNumber) time.Time, from, to time.Time) []AccessNotification {
	type key struct {
		la  string
		nhs NHSNumber
	}
	live := map[key]Record{}
	today := Today(to.Add(-time.Nanosecond))
	for _, r := range records {
		var b time.Time
		if birth != nil {
			b = birth(r.NHSNumber)
		}
		for _, p := range r.Plans {
			if !Expired(p, b, today) {
				live[key{r.LA.ODS, r.NHSNumber}] = r
				break
			}
		}
	}
	byLA := map[string]map[NHSNumber]*NotifiedRecord{}
	for _, ev := range events {
		if !ev.Shown || ev.At.Before(from) || !ev.At.Before(to) {
			continue
		}
		for _, la := range ev.LAs {
			r, ok := live[key{la, ev.NHSNumber}]
			if !ok {
				continue
			}
			if byLA[la] == nil {
				byLA[la] = map[NHSNumber]*NotifiedRecord{}
			}
			nr := byLA[la][ev.NHSNumber]
			if nr == nil {
				nr = &NotifiedRecord{NHSNumber: ev.NHSNumber, LocalID: r.LocalID, FileID: r.FileID}
				byLA[la][ev.NHSNumber] = nr
			}
			nr.Accesses = append(nr.Accesses, ev)
		}
	}
	out := make([]AccessNotification, 0, len(holders))
	for _, la := range holders {
		n := AccessNotification{LA: la, From: from, To: to}
		for _, nr := range byLA[la.ODS] {
			sort.SliceStable(nr.Accesses, func(i, j int) bool { return nr.Accesses[i].At.Before(nr.Accesses[j].At) })
			n.Records = append(n.Records, *nr)
		}
		sort.Slice(n.Records, func(i, j int) bool { return n.Records[i].NHSNumber < n.Records[j].NHSNumber })
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LA.ODS < out[j].LA.ODS })
	return out
}

// InactiveNotification is an Inactive NHS Number Notification
// (REPC_MT000005GB01) to one local authority (CP-IS012, CP-IS023).
type InactiveNotification struct {
	LA       LocalAuthority
	At       time.Time
	Subjects []InactiveSubject
}

// InactiveSubject is one NHS number the LA holds records under that PDS no
// longer treats as active.
type InactiveSubject struct {
	Old     NHSNumber
	New     NHSNumber // the replacing number, when PDS knows it
	FileID  string    // the upload file the LA's record came from
	LocalID string
}

// Expired reports whether a plan has passed out of every window on civil
// date today: what the daily cycle purges from the live tables. It is the
// complement of Visible to a viewer who may see everything (a midwife):
// a delete date reached (CP-IS009), CPP or LAC past end + 365 days
// (CP-IS010, CP-IS032), UCP on or past due date + 28 days (CP-IS011,
// CP-IS033), a child over 18 years and 365 days (CP-IS007).
func Expired(p Plan, birth, today time.Time) bool {
	_, ok := Visible(p, birth, today, Viewer{JobRole: "R0680"})
	return !ok
}

// EndDatedAt18 returns the plan with the end date CP-IS030 gives it once the
// child has turned 18, and whether that changed anything: the daily cycle
// persists it.
func EndDatedAt18(p Plan, birth, today time.Time) (Plan, bool) {
	if p.Type == UCP || birth.IsZero() {
		return p, false
	}
	shown, ok := Visible(p, birth, today, Viewer{JobRole: "R0680"})
	if !ok || shown.End.Equal(p.End) {
		return p, false
	}
	return shown, true
}

// StaleCPPYears is how long a CPP may run with neither end nor delete date
// before it is reported (CP-IS080).
const StaleCPPYears = 2

// StaleCPP reports whether a CPP has had neither an end date nor a delete
// date for two years or more since it started (CP-IS080).
func StaleCPP(p Plan, today time.Time) bool {
	return p.Type == CPP && p.End.IsZero() && p.Delete.IsZero() && !p.Start.IsZero() &&
		!today.Before(p.Start.AddDate(StaleCPPYears, 0, 0))
}
