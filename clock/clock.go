// Package clock is the gateway's adjustable clock: the time every rule
// reads (cpis.Clock), built from the --clock setting, which testers can move
// forward while the gateway runs (POST /admin/clock) so that retention and
// daily cycles can be exercised without waiting for them.
package clock

import (
	"fmt"
	"sync"
	"time"

	"spinegw/cpis"
)

// Adjustable is a base clock plus an offset that only grows. It is safe for
// concurrent use: queries, uploads and the daily cycle read it while the
// admin listener moves it.
type Adjustable struct {
	base   cpis.Clock
	mu     sync.Mutex
	offset time.Duration
}

var _ cpis.Clock = (*Adjustable)(nil)

// New returns a clock reading base, moved by nothing yet.
func New(base cpis.Clock) *Adjustable { return &Adjustable{base: base} }

// Now returns the base clock's time plus the offset.
func (c *Adjustable) Now() time.Time {
	c.mu.Lock()
	d := c.offset
	c.mu.Unlock()
	return c.base.Now().Add(d)
}

// Advance moves the clock forward by d and returns the new time. Time never
// goes back: what the gateway did at a time (access events, runs) must stay
// in its past, so a negative d is an error.
func (c *Adjustable) Advance(d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("the clock only moves forward: %v", d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	return c.base.Now().Add(c.offset), nil
}

// Set moves the clock forward to t and returns the new time; a t before the
// clock's now is an error.
func (c *Adjustable) Set(t time.Time) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.base.Now().Add(c.offset)
	if t.Before(now) {
		return time.Time{}, fmt.Errorf("the clock only moves forward: %s is before its now, %s",
			t.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	c.offset += t.Sub(now)
	return now.Add(t.Sub(now)), nil
}

// Offset returns how far the clock has been moved.
func (c *Adjustable) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}
