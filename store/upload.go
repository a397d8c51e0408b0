package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"spinegw/cpis"
)

// patientBatch is how many NHS numbers one PDS lookup statement asks for.
const patientBatch = 500

// uploadChunk is how many records one statement of ApplyUpload stores.
const uploadChunk = 256

const (
	sqlPriorUpload = `
SELECT digest, received_at, route, code, succeeded, failed, response
FROM uploads WHERE la_ods = ? AND file_id = ?`

	// CP-SC016: the (LA, file id) pair is unique; a second file with the
	// same pair inserts nothing, and ApplyUpload then stores nothing.
	sqlInsertUpload = `
INSERT INTO uploads (la_ods, file_id, digest, received_at, route, code, succeeded, failed, response)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (la_ods, file_id) DO NOTHING`

	// The LA's name and telephone numbers as its latest file gives them
	// are what responses show for it (CP-SC007, CP-IS021).
	sqlUploadLADetails = `UPDATE local_authorities SET name = ?, emergency = ?, office = ? WHERE ods = ?`
)

// ErrFileIDUsed is the cause of ApplyUpload's refusal of a file whose id
// its LA has used before (CP-SC016): errors.Is(err, ErrFileIDUsed).
var ErrFileIDUsed = errors.New("an upload with this file id from this local authority is already stored")

// Upload is a file already processed for an LA: what is kept to refuse a
// second file with the same id (CP-SC016) and to answer the same file sent
// again with the same FileResponse.
type Upload struct {
	LA         string // the sending LA's ODS code
	FileID     string
	Digest     string // hex SHA-256 of the file bytes
	ReceivedAt time.Time
	Route      string // how it came: mailbox, soap, cli
	Code       string // the file-level code answered (CPF01..CPF04)
	Succeeded  int
	Failed     int
	Response   []byte // the FileResponse sent
}

// Patients looks up PDS for many NHS numbers at once, for the checks of an
// upload's records (CP-IS002). Numbers PDS does not know are absent from
// the map; repeated numbers are looked up once.
func (db *DB) Patients(ctx context.Context, nhs []cpis.NHSNumber) (map[cpis.NHSNumber]cpis.Patient, error) {
	const op = "patients"
	out := make(map[cpis.NHSNumber]cpis.Patient, len(nhs))
	if len(nhs) == 0 {
		return out, nil
	}
	// Every batch uses the one statement of patientBatch placeholders,
	// prepared once: a short last batch is padded with its first number,
	// which IN (...) does not mind.
	args := make([]any, patientBatch)
	var (
		prefix, given, family, gender, superseded, number string
		birth, death                                      sql.NullString
		sensitive, inactive                               bool
	)
	for start := 0; start < len(nhs); start += patientBatch {
		batch := nhs[start:min(start+patientBatch, len(nhs))]
		for i := range args {
			if i < len(batch) {
				args[i] = string(batch[i])
			} else {
				args[i] = string(batch[0])
			}
		}
		rows, err := db.qPatients.QueryContext(ctx, args...)
		if err != nil {
			return nil, internal(op, err)
		}
		for rows.Next() {
			if err := rows.Scan(&number, &prefix, &given, &family, &birth, &gender, &superseded, &inactive, &sensitive, &death); err != nil {
				rows.Close()
				return nil, internal(op, err)
			}
			p, err := makePatient(cpis.NHSNumber(number), prefix, given, family, birth, gender, superseded, inactive, sensitive, death)
			if err != nil {
				rows.Close()
				return nil, internal(op, err)
			}
			out[p.NHSNumber] = p
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, internal(op, err)
		}
	}
	return out, nil
}

func sqlPatientsBatch() string {
	return `
SELECT nhs_number, name_prefix, name_given, name_family, birth_date, gender, superseded_by, inactive, sensitive, date_of_death
FROM patients WHERE nhs_number IN (?` + strings.Repeat(", ?", patientBatch-1) + `)`
}

// PriorUpload returns the upload with that file id from that LA, if any
// (CP-SC016 uniqueness; a file sent again is answered as the first time).
func (db *DB) PriorUpload(ctx context.Context, la, fileID string) (Upload, bool, error) {
	const op = "prior upload"
	u := Upload{LA: la, FileID: fileID}
	var at int64
	err := db.qPriorUpload.QueryRowContext(ctx, la, fileID).Scan(&u.Digest, &at, &u.Route, &u.Code, &u.Succeeded, &u.Failed, &u.Response)
	if errors.Is(err, sql.ErrNoRows) {
		return Upload{}, false, nil
	}
	if err != nil {
		return Upload{}, false, internal(op, err)
	}
	u.ReceivedAt = instant(at)
	return u, true, nil
}

// uploadFault, when set by a test, is called after each chunk of records
// stored; an error it returns fails ApplyUpload there, mid-way.
var uploadFault func(chunk int) error

// ApplyUpload stores, in one immediate transaction, every record of the
// file, each replacing everything u.LA holds for its NHS number, plans and
// all (CP-IS020), leaving other LAs' records alone (CP-IS034), and the
// Upload itself: all of it or, on any error, none of it. The records are
// the valid ones, already checked; each must name u.LA. Their LA's name and
// telephone numbers, the file's, become the LA's (CP-SC007, CP-IS021).
//
// If u.LA has already used u.FileID, it stores nothing and returns an
// error of kind KindInvalid whose cause is ErrFileIDUsed (CP-SC016).
//
// Every record is checked, ordered and encoded before the transaction
// begins, so that the write lock, which access events wait for, is held for
// little more than SQLite's own work: less than a bare insert of the same
// rows one statement each (BenchmarkApplyUpload230k). The write lock is
// still held for that long: a query's access event committing meanwhile
// waits for it. The audit entries, one per record (CP-IS075), are chained
// inside the same transaction and about double that time: 2.6-3 s against
// 0.9-1.2 s without them for the largest file (230,000 records).
func (db *DB) ApplyUpload(ctx context.Context, u Upload, records []cpis.Record) error {
	const op = "upload"
	if err := checkUpload(u, records); err != nil {
		return err
	}
	chunks := uploadArgs(records, u.LA, u.FileID)
	response := u.Response
	if response == nil {
		response = []byte{} // an empty document rather than NULL
	}

	began := time.Now()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return internal(op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, sqlInsertUpload, u.LA, u.FileID, u.Digest, u.ReceivedAt.UnixNano(), u.Route, u.Code,
		u.Succeeded, u.Failed, response)
	if err != nil {
		return internal(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal(op, err)
	} else if n == 0 {
		return &cpis.Error{Kind: cpis.KindInvalid, Op: op, Msg: "file id already used", Err: ErrFileIDUsed}
	}
	if len(records) > 0 && records[0].LA.Name != "" {
		la := records[0].LA
		if _, err := tx.ExecContext(ctx, sqlUploadLADetails, la.Name, la.Emergency, la.Office, u.LA); err != nil {
			return internal(op, err)
		}
	}
	if len(chunks) > 0 {
		put := tx.StmtContext(ctx, db.wPutRecords)
		for i, args := range chunks {
			st := put
			if n := (len(args) - 2) / 3; n != uploadChunk { // the last chunk
				if st, err = tx.PrepareContext(ctx, sqlPutRecords(n)); err != nil {
					return internal(op, err)
				}
				defer st.Close()
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return uploadStoreError(err)
			}
			if uploadFault != nil {
				if err := uploadFault(i); err != nil {
					return internal(op, err)
				}
			}
		}
	}
	if err := uploadAudit(ctx, tx, u, records); err != nil {
		return internal(op, err)
	}
	if err := tx.Commit(); err != nil {
		return internal(op, err)
	}
	db.uploadLock.Store(int64(time.Since(began)))
	return nil
}

// uploadStoreError names the one failure a caller can cause: records of an
// LA the store does not know.
func uploadStoreError(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		return &cpis.Error{Kind: cpis.KindInvalid, Op: "upload", Msg: "the local authority is not known", Err: err}
	}
	return internal("upload", err)
}

// checkUpload refuses, before any write, what must not be stored. Messages
// point at records by position, never by NHS number.
func checkUpload(u Upload, records []cpis.Record) error {
	bad := func(format string, args ...any) error {
		return cpis.Errorf(cpis.KindInvalid, "upload", format, args...)
	}
	switch {
	case u.LA == "":
		return bad("the upload names no local authority")
	case u.FileID == "":
		return bad("the upload has no file id")
	case u.ReceivedAt.IsZero() || !representable(u.ReceivedAt):
		return bad("the upload's time is missing or out of range")
	case u.Succeeded < 0 || u.Failed < 0:
		return bad("negative record counts")
	}
	if len(records) == 0 {
		return nil
	}
	la := records[0].LA
	for i, r := range records {
		if r.LA != la {
			if r.LA.ODS != la.ODS {
				return bad("records[%d]: the record is not the uploading local authority's", i)
			}
			return bad("records[%d]: the local authority's details differ from the first record's", i)
		}
		if !cpis.ValidNHSNumber(string(r.NHSNumber)) {
			return bad("records[%d]: the NHS number is not valid", i)
		}
		for j, p := range r.Plans {
			if !p.Type.Valid() {
				return bad("records[%d].plans[%d]: the plan type is not CPP, LAC or UCP", i, j)
			}
			if p.Start.IsZero() {
				return bad("records[%d].plans[%d]: no start date", i, j)
			}
			if !storableDate(p.Start) || !storableDate(p.End) || !storableDate(p.Delete) {
				return bad("records[%d].plans[%d]: a date is outside the years 0-9999", i, j)
			}
		}
	}
	if la.ODS != u.LA {
		return bad("records[0]: the record is not the uploading local authority's")
	}
	return nil
}

// sqlPutRecords stores n records of one upload: ?1 is the LA, ?2 the file
// id, then each record's NHS number, local id and plans. Bound values
// rather than one JSON array taken apart by SQLite: ->> parses its
// argument on every call, and the write lock was held 30-50% longer.
// INSERT OR REPLACE on the key (nhs_number, la_ods) replaces what this LA
// held for the number (CP-IS020) and no other LA's record (CP-IS034).
func sqlPutRecords(n int) string {
	var b strings.Builder
	b.WriteString("INSERT OR REPLACE INTO records (nhs_number, la_ods, local_id, file_id, plans) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(?%d, ?1, ?%d, ?2, ?%d)", 3+3*i, 4+3*i, 5+3*i)
	}
	return b.String()
}

// uploadArgs is the arguments of the sqlPutRecords statements storing the
// records, uploadChunk records each, in NHS number order: an LA's file
// lists its children in its own order, and inserting them in key order
// touches each B-tree page once instead of at random (2.7-3.1 s against
// 0.4-0.8 s under the write lock for 230,000 records on the reference
// machine). Of
// two records of one number the later in the file still comes later, and
// wins (CP-IS020): the position breaks ties.
func uploadArgs(records []cpis.Record, la, fileID string) [][]any {
	type keyed struct {
		nhs int64 // the number's digits (checked): ordered as the strings
		pos int
	}
	order := make([]keyed, len(records))
	for i := range records {
		order[i] = keyed{nhsKey(records[i].NHSNumber), i}
	}
	slices.SortFunc(order, func(a, b keyed) int {
		if c := cmp.Compare(a.nhs, b.nhs); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	chunks := make([][]any, 0, (len(records)+uploadChunk-1)/uploadChunk)
	var b []byte
	for start := 0; start < len(order); start += uploadChunk {
		part := order[start:min(start+uploadChunk, len(order))]
		args := make([]any, 0, 2+3*len(part))
		args = append(args, la, fileID)
		for _, k := range part {
			r := &records[k.pos]
			b = appendPlans(b[:0], r.Plans)
			args = append(args, string(r.NHSNumber), r.LocalID, string(b))
		}
		chunks = append(chunks, args)
	}
	return chunks
}
