package upload

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"time"

	"spinegw/cpis"
)

// digest fingerprints what a file says, not how its bytes are laid out: the
// header and every record, field by field. The same file sent by mailbox and
// by SOAP (where it arrives re-serialised out of the envelope) has the same
// digest, so a resubmission by another route is recognised (CP-SC016).
type digest struct {
	h   hash.Hash
	buf []byte
}

func newDigest() *digest { return &digest{h: sha256.New()} }

func (d *digest) str(s string) {
	d.buf = binary.AppendUvarint(d.buf[:0], uint64(len(s)))
	d.buf = append(d.buf, s...)
	d.h.Write(d.buf)
}

func (d *digest) num(n int64) {
	d.buf = binary.AppendVarint(d.buf[:0], n)
	d.h.Write(d.buf)
}

func (d *digest) date(t time.Time) {
	if t.IsZero() {
		d.num(0)
		return
	}
	d.num(t.Unix())
}

func (d *digest) header(u cpis.Upload) {
	d.str(u.FileID)
	d.date(u.CreationTime)
	d.num(int64(u.Quantity))
	d.str(u.LA.ODS)
	d.str(u.LA.Name)
	d.num(int64(len(u.Telecoms)))
	for _, t := range u.Telecoms {
		d.str(t.Use)
		d.str(t.Value)
	}
}

func (d *digest) record(r cpis.UploadRecord) {
	d.num(int64(r.Position))
	d.str(r.NHSNumber)
	flags := int64(0)
	if r.OldStyle {
		flags |= 1
	}
	if r.Unborn {
		flags |= 2
	}
	d.num(flags)
	d.str(r.LocalID)
	d.str(r.Name.Prefix)
	d.num(int64(len(r.Name.Given)))
	for _, g := range r.Name.Given {
		d.str(g)
	}
	d.str(r.Name.Family)
	d.date(r.BirthDate)
	d.num(int64(len(r.Plans)))
	for _, p := range r.Plans {
		d.str(string(p.Type))
		d.date(p.Start)
		d.date(p.End)
		d.date(p.Delete)
	}
}

func (d *digest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }
