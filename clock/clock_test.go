package clock_test

import (
	"sync"
	"testing"
	"time"

	"spinegw/clock"
	"spinegw/cpis"
)

var base = time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)

func frozen() cpis.Clock { return cpis.ClockFunc(func() time.Time { return base }) }

func TestAdvanceAndSetMoveForwardOnly(t *testing.T) {
	c := clock.New(frozen())
	if !c.Now().Equal(base) {
		t.Fatalf("now %v", c.Now())
	}
	got, err := c.Advance(72 * time.Hour)
	if err != nil || !got.Equal(base.Add(72*time.Hour)) || !c.Now().Equal(got) {
		t.Fatalf("advance: %v %v", got, err)
	}
	if _, err := c.Advance(-time.Second); err == nil {
		t.Error("moved back")
	}
	to := base.Add(100 * time.Hour)
	if got, err := c.Set(to); err != nil || !got.Equal(to) || !c.Now().Equal(to) {
		t.Fatalf("set: %v %v", got, err)
	}
	if _, err := c.Set(base); err == nil {
		t.Error("set back")
	}
	if got, err := c.Set(to); err != nil || !got.Equal(to) {
		t.Errorf("set to now: %v %v", got, err)
	}
	if c.Offset() != 100*time.Hour {
		t.Errorf("offset %v", c.Offset())
	}
}

// The offset rides on a running base clock: the time keeps flowing.
func TestOffsetFollowsTheBase(t *testing.T) {
	now := base
	c := clock.New(cpis.ClockFunc(func() time.Time { return now }))
	c.Advance(time.Hour)
	now = now.Add(time.Minute)
	if want := base.Add(time.Hour + time.Minute); !c.Now().Equal(want) {
		t.Errorf("now %v, want %v", c.Now(), want)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := clock.New(frozen())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() { defer wg.Done(); c.Advance(time.Second) }()
		go func() { defer wg.Done(); _ = c.Now() }()
	}
	wg.Wait()
	if !c.Now().Equal(base.Add(4 * time.Second)) {
		t.Errorf("now %v", c.Now())
	}
}
