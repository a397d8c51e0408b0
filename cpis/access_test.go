package cpis_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
)

// t0 is the first access of every series.
var t0 = at("2026-11-22T09:00:00Z")

// workers are the accessors of the access-history cases: two SDS users and
// two people named by one system author.
var workers = map[string]cpis.Accessor{
	"jane": {UserID: jane, RoleProfileID: "P-MW", ASID: "200000000101"},
	"ann":  {UserID: ann, RoleProfileID: "P-GP", ASID: "200000000101"},
	"sam":  cpis.SystemAccessor(cpis.Author{System: true, Name: cpis.Name{Family: "Sam"}}, cpis.Endpoint{ASID: "200000000202", ODS: "RGN", Name: "ED"}),
	"kim":  cpis.SystemAccessor(cpis.Author{System: true, Name: cpis.Name{Family: "Kim"}}, cpis.Endpoint{ASID: "200000000202", ODS: "RGN", Name: "ED"}),
}

// accesses parses a series written "jane@0h ann@1h30m": who accessed the
// record, how long after t0.
func accesses(s string) []cpis.AccessEvent {
	var evs []cpis.AccessEvent
	for _, f := range strings.Fields(s) {
		who, off, _ := strings.Cut(f, "@")
		d, err := time.ParseDuration(off)
		acc, ok := workers[who]
		if err != nil || !ok {
			panic("bad access " + f)
		}
		evs = append(evs, cpis.AccessEvent{ID: f, NHSNumber: "9434765919", At: t0.Add(d), Accessor: acc})
	}
	return evs
}

func TestFirstInWindow(t *testing.T) {
	const shownAgain, notShown = true, false
	tests := []struct {
		name      string
		lastShown time.Time
		access    time.Time
		want      bool
	}{
		{"CP-IS047 a worker's first access is shown", time.Time{}, t0, shownAgain},
		{"CP-IS047 an hour after the shown access is not shown", t0, t0.Add(time.Hour), notShown},
		{"CP-IS047 the same instant as the shown access is not shown", t0, t0, notShown},
		{"CP-IS047 a nanosecond short of 24 hours is not shown", t0, t0.Add(24*time.Hour - 1), notShown},
		{"CP-IS047 exactly 24 hours after the shown access starts a new period", t0, t0.Add(24 * time.Hour), shownAgain},
		{"CP-IS047 days later is shown", t0, t0.Add(72 * time.Hour), shownAgain},
		{"CP-IS047 24 hours are elapsed time: 12:00 BST to 11:30 GMT the next day is 24h30m", at("2026-10-24T12:00:00+01:00"), at("2026-10-25T11:30:00Z"), shownAgain},
		{"CP-IS047 24 hours are elapsed time: 12:00 GMT to 12:30 BST the next day is 23h30m", at("2026-03-28T12:00:00Z"), at("2026-03-29T12:30:00+01:00"), notShown},
		{"CP-IS047 an access stamped before the shown one is not a new period", t0, t0.Add(-time.Hour), notShown},
	}
	for _, tt := range tests {
		if got := cpis.FirstInWindow(tt.lastShown, tt.access); got != tt.want {
			t.Errorf("%s: FirstInWindow = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMarkShown(t *testing.T) {
	tests := []struct {
		name   string
		series string
		shown  string
	}{
		{"CP-IS047 no accesses, nothing shown", "", ""},
		{"CP-IS047 a single access is shown", "jane@0h", "jane@0h"},
		{"CP-IS047 same worker at 0h 1h 23h59m 24h 30h 48h: 0h, 24h and 48h are shown", "jane@0h jane@1h jane@23h59m jane@24h jane@30h jane@48h", "jane@0h jane@24h jane@48h"},
		{"CP-IS047 the period runs from the shown access, not the last hidden one", "jane@0h jane@23h jane@46h", "jane@0h jane@46h"},
		{"CP-IS047 accesses every hour for two days show one a day", "jane@0h jane@6h jane@12h jane@18h jane@24h jane@30h jane@36h jane@42h jane@48h", "jane@0h jane@24h jane@48h"},
		{"CP-IS047 two accesses at the same instant show once", "jane@0h jane@0h", "jane@0h"},
		{"CP-IS047 two workers interleaved each have their own first access", "jane@0h ann@1h jane@2h ann@3h jane@25h ann@26h", "jane@0h ann@1h jane@25h ann@26h"},
		{"CP-IS047 one worker's access does not hide another's", "jane@0h ann@0h jane@1h ann@1h", "jane@0h ann@0h"},
		{"CP-IS047 a system accessor is keyed apart from the SDS users", "sam@0h jane@1h sam@2h jane@3h", "sam@0h jane@1h"},
		{"CP-IS047 two people named by one system are two workers", "sam@0h kim@1h sam@2h kim@3h sam@24h", "sam@0h kim@1h sam@24h"},
		{"CP-IS047 events out of order are put in time order first", "jane@24h jane@1h jane@0h", "jane@0h jane@24h"},
	}
	check := func(series string) string {
		evs := accesses(series)
		for i := range evs {
			evs[i].Shown = !evs[i].Shown // whatever came in is decided afresh
		}
		cpis.MarkShown(evs)
		var out []string
		for i, e := range evs {
			if i > 0 && e.At.Before(evs[i-1].At) {
				return "not in time order: " + e.ID
			}
			if e.Shown {
				out = append(out, e.ID)
			}
		}
		return strings.Join(out, " ")
	}
	for _, tt := range tests {
		if got := check(tt.series); got != tt.shown {
			t.Errorf("%s: shown %q, want %q", tt.name, got, tt.shown)
		}
	}
}

// history is n events an hour apart, e01 the oldest, each shown unless its
// number is a multiple of hideEvery (0: all shown), in a shuffled order.
func history(n, hideEvery int) []cpis.AccessEvent {
	evs := make([]cpis.AccessEvent, n)
	for i := range evs {
		k := i + 1
		evs[i] = cpis.AccessEvent{ID: fmt.Sprintf("e%02d", k), At: t0.Add(time.Duration(k) * time.Hour), Accessor: workers["jane"], Shown: hideEvery == 0 || k%hideEvery != 0}
	}
	rand.New(rand.NewPCG(48, 47)).Shuffle(n, func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	return evs
}

// newest lists event ids from e<from> down to e<to>, skipping multiples of
// skip (0: none).
func newest(from, to, skip int) string {
	var ids []string
	for k := from; k >= to; k-- {
		if skip == 0 || k%skip != 0 {
			ids = append(ids, fmt.Sprintf("e%02d", k))
		}
	}
	return strings.Join(ids, " ")
}

func TestThinHistory(t *testing.T) {
	tests := []struct {
		name   string
		events []cpis.AccessEvent
		want   string
	}{
		{"CP-IS048 no events, no history", nil, ""},
		{"CP-IS048 one shown event is the history", history(1, 0), "e01"},
		{"CP-IS048 ten shown events, all of them, newest first", history(10, 0), newest(10, 1, 0)},
		{"CP-IS048 25 shown events, all of them, newest first", history(25, 0), newest(25, 1, 0)},
		{"CP-IS048 26 shown events, the 25 newest", history(26, 0), newest(26, 2, 0)},
		{"CP-IS048 40 shown events, the 25 newest, newest first", history(40, 0), newest(40, 16, 0)},
		{"CP-IS047 40 events, every fourth not shown: the 25 newest shown ones", history(40, 4), newest(40, 7, 4)},
		{"CP-IS047 40 events, every other not shown: all 20 shown ones", history(40, 2), newest(40, 1, 2)},
		{"CP-IS047 events recorded but not shown never appear", history(3, 1), ""},
	}
	check := func(events []cpis.AccessEvent) string {
		before := fmt.Sprint(events)
		var ids []string
		for _, e := range cpis.ThinHistory(events) {
			ids = append(ids, e.ID)
		}
		if fmt.Sprint(events) != before {
			return "ThinHistory changed its input"
		}
		return strings.Join(ids, " ")
	}
	for _, tt := range tests {
		if got := check(tt.events); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	if cpis.HistoryLimit != 25 {
		t.Errorf("CP-IS048 HistoryLimit = %d, want 25", cpis.HistoryLimit)
	}
	if cpis.HistoryWindow != 24*time.Hour {
		t.Errorf("CP-IS047 HistoryWindow = %v, want 24h", cpis.HistoryWindow)
	}
}

// CP-IS047 then CP-IS048, as a store applies them: a busy record accessed
// by two workers every hour for three days shows each worker once a day.
func TestMarkShownThenThinHistory(t *testing.T) {
	var series []string
	for h := range 72 {
		series = append(series, fmt.Sprintf("jane@%dh ann@%dh30m", h, h))
	}
	evs := accesses(strings.Join(series, " "))
	cpis.MarkShown(evs)
	var got []string
	for _, e := range cpis.ThinHistory(evs) {
		got = append(got, e.ID)
	}
	want := "ann@48h30m jane@48h ann@24h30m jane@24h ann@0h30m jane@0h"
	if strings.Join(got, " ") != want {
		t.Errorf("history %q, want %q", strings.Join(got, " "), want)
	}
}
