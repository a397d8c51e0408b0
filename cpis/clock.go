package cpis

import (
	"time"
	_ "time/tzdata" // CP-IS dates are English civil dates wherever the gateway runs
)

// London is the time zone in which CP-IS civil dates (start, end, delete,
// birth) are interpreted: a delete date takes effect at 00:00 in England.
var London = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// Clock tells the time. Every rule takes its time from one; nothing in the
// core reads the wall clock.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

func (f ClockFunc) Now() time.Time { return f() }

// Date returns the civil date y-m-d as midnight UTC, the representation of
// every CP-IS date.
func Date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Today returns the civil date in England at instant t.
func Today(t time.Time) time.Time {
	y, m, d := t.In(London).Date()
	return Date(y, m, d)
}
