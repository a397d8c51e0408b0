package store

import (
	"errors"
	"time"

	"spinegw/cpis"
)

// AccessBatches returns how many group commits the access writer has made
// and how many events they held.
func (db *DB) AccessBatches() (commits, events int64) {
	return db.batches.Load(), db.batched.Load()
}

// FailUploadAfterChunk makes ApplyUpload fail after storing its n-th chunk
// of records (from 0), inside its transaction; restore undoes it.
func FailUploadAfterChunk(n int) (restore func()) {
	uploadFault = func(chunk int) error {
		if chunk == n {
			return errInjected
		}
		return nil
	}
	return func() { uploadFault = nil }
}

var errInjected = errors.New("injected failure")

// LastUploadLock is how long the last ApplyUpload held the write lock,
// from BEGIN to COMMIT.
func (db *DB) LastUploadLock() time.Duration { return time.Duration(db.uploadLock.Load()) }

// PlansText is the records.plans value of plans.
func PlansText(plans []cpis.Plan) string { return string(appendPlans(nil, plans)) }
