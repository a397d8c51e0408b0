package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"

	"spinegw/cpis"
)

// What a broken chain looks like at the first entry found wrong.
const (
	AuditModified   = "modified"   // an entry's content, hash or columns no longer agree
	AuditDeleted    = "deleted"    // entries missing: a gap in seq, or the end short of a head checkpoint
	AuditInserted   = "inserted"   // an entry that is not part of the chain as written
	AuditReordered  = "reordered"  // an entry out of its place
	AuditCheckpoint = "checkpoint" // a checkpoint whose signature fails, or that the chain does not match
)

// ErrAuditNoKey is VerifyAudit's error when the trail has signed
// checkpoints and no key was given to check them.
var ErrAuditNoKey = errors.New("the audit trail has signed checkpoints and no key was given to check them")

// AuditVerdict is the outcome of VerifyAudit.
type AuditVerdict struct {
	Intact      bool
	Entries     int64 // entries held
	First, Last int64 // their seq (0 when none)
	// Pruned is the latest 'pruned' checkpoint the walk started from
	// (Seq 0: none); Heads how many 'head' checkpoints were checked.
	Pruned cpis.AuditCheckpoint
	Heads  int
	// When broken: the first problem found, what it looks like (one of the
	// Audit* kinds), the entry concerned and what is wrong.
	Problem string
	Seq     int64
	Message string
}

func (v *AuditVerdict) broken(kind string, seq int64, format string, args ...any) {
	v.Intact, v.Problem, v.Seq, v.Message = false, kind, seq, fmt.Sprintf(format, args...)
}

// VerifyAudit walks the audit trail in one snapshot and reports the first
// modified, deleted, inserted or reordered entry (docs/audit.md). Every
// checkpoint's signature is checked with pub; the walk starts from the
// latest 'pruned' checkpoint, and every 'head' checkpoint must match the
// entry it pins. It returns an error only when it could not read the
// trail (SQLite reporting corruption is such an error: the caller must
// count it as broken too).
func (db *DB) VerifyAudit(ctx context.Context, pub ed25519.PublicKey) (AuditVerdict, error) {
	v := AuditVerdict{Intact: true}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return v, err
	}
	defer tx.Rollback()

	// Checkpoints, oldest first.
	var heads []cpis.AuditCheckpoint
	rows, err := tx.QueryContext(ctx, `SELECT id, kind, seq, hash, count, at, signature FROM audit_checkpoints ORDER BY id`)
	if err != nil {
		return v, err
	}
	for rows.Next() {
		var (
			id, atNS int64
			cp       cpis.AuditCheckpoint
			sig      []byte
		)
		if err := rows.Scan(&id, &cp.Kind, &cp.Seq, &cp.Hash, &cp.Count, &atNS, &sig); err != nil {
			rows.Close()
			return v, err
		}
		cp.At = instant(atNS)
		if pub == nil {
			rows.Close()
			return v, ErrAuditNoKey
		}
		if !ed25519.Verify(pub, cp.Signed(), sig) {
			rows.Close()
			v.broken(AuditCheckpoint, cp.Seq, "checkpoint %d (%s, seq %d): the signature does not verify", id, cp.Kind, cp.Seq)
			return v, nil
		}
		if cp.Kind == "pruned" {
			if cp.Seq < v.Pruned.Seq {
				rows.Close()
				v.broken(AuditCheckpoint, cp.Seq, "checkpoint %d: pruned through %d after an earlier one through %d", id, cp.Seq, v.Pruned.Seq)
				return v, nil
			}
			v.Pruned = cp
		} else {
			heads = append(heads, cp)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, err
	}
	pinned := map[int64][]byte{} // seq -> hash every head checkpoint at or after the start pins
	for _, h := range heads {
		if h.Seq > v.Pruned.Seq {
			pinned[h.Seq] = h.Hash
		}
	}

	prevSeq, prevHash := v.Pruned.Seq, v.Pruned.Hash
	if prevSeq == 0 {
		prevHash = make([]byte, cpis.AuditHashSize)
	}
	rows, err = tx.QueryContext(ctx, `SELECT seq, at, kind, nhs_number, content, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		return v, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq, atNS          int64
			kind, nhs          string
			content, prev, sum []byte
		)
		if err := rows.Scan(&seq, &atNS, &kind, &nhs, &content, &prev, &sum); err != nil {
			return v, err
		}
		if v.Entries == 0 {
			v.First = seq
		}
		v.Entries++
		v.Last = seq
		if seq <= prevSeq {
			v.broken(AuditInserted, seq, "entry %d lies within the prefix pruned through %d", seq, prevSeq)
			return v, nil
		}
		if !bytes.Equal(prev, prevHash) {
			if err := classifyLink(ctx, tx, &v, seq, prevSeq, prevHash, prev, content, sum); err != nil {
				return v, err
			}
			return v, nil
		}
		if seq != prevSeq+1 {
			v.broken(AuditModified, seq, "entry %d follows entry %d as written but is numbered %d", seq, prevSeq, seq)
			return v, nil
		}
		e, err := cpis.ParseAuditEntry(content)
		switch {
		case err != nil:
			v.broken(AuditModified, seq, "entry %d: %v", seq, err)
		case e.Seq != seq:
			v.broken(AuditModified, seq, "entry %d: its content says seq %d", seq, e.Seq)
		case e.At.UnixNano() != atNS || e.Kind != kind || e.NHSNumber != nhs:
			v.broken(AuditModified, seq, "entry %d: its at, kind or nhs_number column disagrees with its content", seq)
		case !bytes.Equal(cpis.AuditHash(prev, content), sum):
			// A well-formed entry whose hash is not its own: changed, or
			// slipped in with a made-up hash. If the next entry links to
			// this one's predecessor, this one was inserted.
			var next int64
			err := tx.QueryRowContext(ctx, `SELECT seq FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1`, seq).Scan(&next)
			var nextPrev []byte
			if err == nil {
				err = tx.QueryRowContext(ctx, `SELECT prev_hash FROM audit_log WHERE seq = ?`, next).Scan(&nextPrev)
			}
			if err == nil && bytes.Equal(nextPrev, prevHash) {
				v.broken(AuditInserted, seq, "entry %d is not in the chain: entry %d links past it to entry %d", seq, next, prevSeq)
			} else {
				v.broken(AuditModified, seq, "entry %d: its content does not hash to its stored hash", seq)
			}
		}
		if !v.Intact {
			return v, nil
		}
		if want, ok := pinned[seq]; ok && !bytes.Equal(want, sum) {
			v.broken(AuditModified, seq, "entry %d: not the entry the head checkpoint signed", seq)
			return v, nil
		}
		prevSeq, prevHash = seq, sum
	}
	if err := rows.Err(); err != nil {
		return v, err
	}
	for _, h := range heads {
		if h.Seq > prevSeq {
			v.broken(AuditDeleted, prevSeq+1, "entries %d to %d are missing from the end: a signed checkpoint saw the chain reach %d",
				prevSeq+1, h.Seq, h.Seq)
			return v, nil
		}
		v.Heads++
	}
	return v, nil
}

// classifyLink names what it looks like when entry seq does not link to
// the entry before it (prevSeq, prevHash), linking to hash link instead.
func classifyLink(ctx context.Context, tx *sql.Tx, v *AuditVerdict, seq, prevSeq int64, prevHash, link, content, sum []byte) error {
	var target int64
	err := tx.QueryRowContext(ctx, `SELECT seq FROM audit_log WHERE hash = ? ORDER BY seq LIMIT 1`, link).Scan(&target)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	found := err == nil
	// A copy of an entry still in its place: the entry at the seq its
	// content claims has the very same hash.
	copied := false
	claimed := int64(-1)
	if e, err := cpis.ParseAuditEntry(content); err == nil && e.Seq != seq {
		claimed = e.Seq
		var orig []byte
		err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE seq = ?`, claimed).Scan(&orig)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		copied = bytes.Equal(orig, sum)
	}
	switch {
	case found && target > seq:
		v.broken(AuditReordered, seq, "entry %d is out of order: it follows entry %d as written", seq, target)
	case found && copied:
		v.broken(AuditInserted, seq, "entry %d is a copy of entry %d put in the chain again", seq, claimed)
	case found:
		v.broken(AuditInserted, target+1, "entries %d to %d are not in the chain: entry %d links to entry %d", target+1, prevSeq, seq, target)
	case seq > prevSeq+1:
		v.broken(AuditDeleted, prevSeq+1, "entries %d to %d are missing: entry %d links to an entry no longer there", prevSeq+1, seq-1, seq)
	case bytes.Equal(cpis.AuditHash(prevHash, content), sum):
		v.broken(AuditModified, seq, "entry %d: its prev_hash column was changed", seq)
	case v.Pruned.Seq == prevSeq && prevSeq > 0:
		v.broken(AuditCheckpoint, seq, "entry %d does not link to the checkpoint of the prefix pruned through %d", seq, prevSeq)
	default:
		v.broken(AuditModified, prevSeq, "entry %d: its hash is not the one entry %d links to (changed, hash recomputed)", prevSeq, seq)
	}
	return nil
}
