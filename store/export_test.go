package store

import "errors"

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
