package daily

import (
	"time"

	"spinegw/store"
)

// SetAfterNotify makes RunDay call f once a day's notifications are
// committed, before its purge: an error from f stops the run there, as a
// crash would.
func (r *Runner) SetAfterNotify(f func(day time.Time) error) { r.afterNotify = f }

// SetAfterDeliver makes Deliver call f once a message's file is written,
// before it is marked delivered.
func (r *Runner) SetAfterDeliver(f func(m store.Message) error) { r.afterDeliver = f }
