package cpis

import (
	"time"
)

// The reports CP-IS077 to CP-IS081 ask of the service: their period rule,
// the rules that decide what a figure counts, and the shapes they are
// rendered from. The store reads what they are derived from; nothing here
// reads it.

// Period is the span of civil days in England a report covers: From is the
// first day included, To the first day NOT included (half-open, so that
// consecutive periods meet exactly). Operators give both ends inclusive
// (--from 2026-10-01 --to 2026-10-31); ParsePeriod converts.
type Period struct {
	From, To time.Time // civil dates (midnight UTC)
}

// Start and End are the instants the period covers, [Start, End): midnight
// in England on From and on To.
func (p Period) Start() time.Time { return londonMidnight(p.From) }
func (p Period) End() time.Time   { return londonMidnight(p.To) }

// Last is the last day included.
func (p Period) Last() time.Time { return p.To.AddDate(0, 0, -1) }

func londonMidnight(d time.Time) time.Time {
	y, m, dd := d.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, London)
}

// LastFullMonth is the default period of a report: the last calendar month
// in England that has ended at now (run on 22 November: 1-31 October).
func LastFullMonth(now time.Time) Period {
	t := Today(now)
	first := Date(t.Year(), t.Month(), 1)
	return Period{From: first.AddDate(0, -1, 0), To: first}
}

// ParsePeriod reads a period given as inclusive civil dates YYYY-MM-DD,
// either possibly empty:
//   - neither: LastFullMonth(now);
//   - from only: from up to and including today;
//   - to only: the first day of to's month up to and including to;
//   - from after to: an error of KindInvalid.
func ParsePeriod(from, to string, now time.Time) (Period, error) {
	if from == "" && to == "" {
		return LastFullMonth(now), nil
	}
	var p Period
	var err error
	if from != "" {
		if p.From, err = ParseDay(from); err != nil {
			return Period{}, err
		}
	}
	last := Today(now)
	if to != "" {
		if last, err = ParseDay(to); err != nil {
			return Period{}, err
		}
	}
	if from == "" {
		p.From = Date(last.Year(), last.Month(), 1)
	}
	p.To = last.AddDate(0, 0, 1)
	if !p.From.Before(p.To) {
		return Period{}, Errorf(KindInvalid, "report period", "the period ends (%s) before it starts (%s)",
			last.Format(time.DateOnly), p.From.Format(time.DateOnly))
	}
	return p, nil
}

// ParseDay reads a civil date YYYY-MM-DD, of a year from 1900 to 2199
// (instants are stored as nanoseconds since 1970, which reach 1678-2262).
func ParseDay(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, Errorf(KindInvalid, "report period", "%q is not a date YYYY-MM-DD", s)
	}
	if t.Year() < 1900 || t.Year() > 2199 {
		return time.Time{}, Errorf(KindInvalid, "report period", "%q is out of range (years 1900 to 2199)", s)
	}
	return Date(t.Date()), nil
}

// everyone sees every plan type: the viewer the report rules apply
// visibility as (a midwife may see unborn plans too).
var everyone = Viewer{JobRole: "R0680"}

// PlanCurrent reports whether plan p, of a subject born on birth (zero if
// unknown), is in force on civil day day: what CP-IS077's "total current
// numbers" count. In force means started on or before the day, not yet
// logically deleted (CP-IS009), within the service's windows (CP-IS007,
// CP-IS011, CP-IS033), and for a CPP or LAC not ended before the day, its
// end date being the 18th birthday once reached when it had none or a later
// one (CP-IS030). An unborn plan's end is its due date, not an end: it is
// in force until due date + 28 days (CP-IS011). A CPP or LAC ended but still
// shown (end + 365 days, CP-IS010) is held, not current.
func PlanCurrent(p Plan, birth, day time.Time) bool {
	if p.Start.After(day) {
		return false
	}
	shown, ok := Visible(p, birth, day, everyone)
	if !ok {
		return false
	}
	return shown.Type == UCP || shown.End.IsZero() || !shown.End.Before(day)
}

// PlanInPeriod reports whether plan p was in force on at least one day of
// the period (PlanCurrent on some day of it): CP-IS077's "total number of
// CPPs (Unborn CPPs, LACs) within a definable period of time".
func PlanInPeriod(p Plan, birth time.Time, per Period) bool {
	if !p.Start.Before(per.To) {
		return false
	}
	// The first day in force is the later of the start and the period's
	// first day; the plan is in force on some day of the period iff it is
	// in force on that day or, for plans whose windows only close, never:
	// every rule of PlanCurrent after the start closes a plan for good.
	first := per.From
	if p.Start.After(first) {
		first = p.Start
	}
	return PlanCurrent(p, birth, first)
}

// PlanKey identifies a plan across the live records and the purge's audit
// trace, so that a plan both still held and recorded as end-dated, or
// purged and sent again, is counted once.
type PlanKey struct {
	NHSNumber NHSNumber
	LA        string
	Type      PlanType
	Start     time.Time
}

// StaleSince is the first day on which CPP p counts as stale under CP-IS080
// (StaleCPP): two years after its start.
func StaleSince(p Plan) time.Time { return p.Start.AddDate(StaleCPPYears, 0, 0) }
