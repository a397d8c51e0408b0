package cpis

import (
	"sort"
	"time"
)

// HistoryLimit is the most access events a query response shows (CP-IS048).
const HistoryLimit = 25

// HistoryWindow is the period within which only a user's first access to a
// record is shown (CP-IS047).
const HistoryWindow = 24 * time.Hour

// AccessEvent is one access to the CP-IS information of an NHS number.
type AccessEvent struct {
	ID        string // the query message id
	NHSNumber NHSNumber
	At        time.Time
	Accessor  Accessor
	LAs       []string // the local authorities whose visible plans were returned (CP-IS023)
	// Shown marks the first access by this accessor within 24 hours
	// (CP-IS047): only those are shown in query responses and notifications.
	// Every access is recorded whatever its value.
	Shown bool
}

// FirstInWindow reports whether an access at t is the accessor's first
// within 24 hours, given the time of that accessor's latest shown access to
// the same NHS number (zero if none) (CP-IS047).
func FirstInWindow(lastShown, t time.Time) bool {
	return lastShown.IsZero() || !t.Before(lastShown.Add(HistoryWindow))
}

// ThinHistory applies CP-IS047 and CP-IS048 to recorded events: only shown
// events, newest first, at most 25.
func ThinHistory(events []AccessEvent) []AccessEvent {
	out := make([]AccessEvent, 0, len(events))
	for _, e := range events {
		if e.Shown {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	if len(out) > HistoryLimit {
		out = out[:HistoryLimit]
	}
	return out
}

// MarkShown sets Shown on a chronological series of events of one NHS
// number, as the store does one event at a time (CP-IS047).
func MarkShown(events []AccessEvent) {
	sort.SliceStable(events, func(i, j int) bool { return events[i].At.Before(events[j].At) })
	last := map[string]time.Time{}
	for i := range events {
		k := events[i].Accessor.Key()
		events[i].Shown = FirstInWindow(last[k], events[i].At)
		if events[i].Shown {
			last[k] = events[i].At
		}
	}
}

// HideDisabled applies CP-IS059 to a history about to be shown to another
// user: once a user administrator disables a user account, "contact
// details for that user shall no longer be available to other users". The
// entries of a disabled SDS user stay (the access happened, CP-IS047) with
// their time, job role, role profile and organisation, but without the
// person's name. disabled reports whether the SDS user of an id is
// disabled now; system authors' entries are left as they are. It changes
// events in place.
func HideDisabled(events []AccessEvent, disabled func(userID string) bool) {
	for i := range events {
		a := &events[i].Accessor
		if a.System || a.UserID == "" || a.Name.IsZero() {
			continue
		}
		if disabled(a.UserID) {
			a.Name = Name{}
		}
	}
}
