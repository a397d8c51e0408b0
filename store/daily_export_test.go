package store

import "time"

// FailDayBeforeCommit makes CommitDay fail inside its transaction, just
// before the commit, as a crash there would; restore undoes it.
func FailDayBeforeCommit() (restore func()) {
	dayFault = func(time.Time) error { return errInjected }
	return func() { dayFault = nil }
}
