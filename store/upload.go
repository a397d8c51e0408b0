package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"

	"spinegw/cpis"
)

// patientBatch is how many NHS numbers one PDS lookup statement asks for.
const patientBatch = 500

// uploadChunk is how many records one statement of ApplyUpload stores.
const uploadChunk = 4096

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

	// One statement per chunk of records, each element of the JSON array
	// ?1 being [nhs_number, local_id, plans]: the rows are taken apart by
	// SQLite itself, so the write lock is held for SQLite's work only, not
	// for a round trip through database/sql per record. INSERT OR REPLACE
	// on the key (nhs_number, la_ods) replaces what this LA held for the
	// number (CP-IS020) and no other LA's record (CP-IS034).
	sqlPutUploadChunk = `
INSERT OR REPLACE INTO records (nhs_number, la_ods, local_id, file_id, plans)
SELECT j.value ->> 0, ?2, j.value ->> 1, ?3, j.value -> 2 FROM json_each(?1) AS j`
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
		sensitive                                         bool
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
			if err := rows.Scan(&number, &prefix, &given, &family, &birth, &gender, &superseded, &sensitive, &death); err != nil {
				rows.Close()
				return nil, internal(op, err)
			}
			p, err := makePatient(cpis.NHSNumber(number), prefix, given, family, birth, gender, superseded, sensitive, death)
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
SELECT nhs_number, name_prefix, name_given, name_family, birth_date, gender, superseded_by, sensitive, date_of_death
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
// Every record is checked and encoded before the transaction begins, so
// the write lock, which access events wait for, is held only for SQLite's
// own work: about as long as a bare insert of the same rows.
func (db *DB) ApplyUpload(ctx context.Context, u Upload, records []cpis.Record) error {
	const op = "upload"
	if err := checkUpload(u, records); err != nil {
		return err
	}
	chunks := encodeUploadRecords(records)
	response := u.Response
	if response == nil {
		response = []byte{} // an empty document rather than NULL
	}

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
		put, err := tx.PrepareContext(ctx, sqlPutUploadChunk)
		if err != nil {
			return internal(op, err)
		}
		defer put.Close()
		for i, c := range chunks {
			if _, err := put.ExecContext(ctx, c, u.LA, u.FileID); err != nil {
				return uploadStoreError(err)
			}
			if uploadFault != nil {
				if err := uploadFault(i); err != nil {
					return internal(op, err)
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return internal(op, err)
	}
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
		if !utf8.ValidString(r.LocalID) {
			return bad("records[%d]: the local id is not UTF-8", i)
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

// encodeUploadRecords turns the records into the JSON arrays sqlPutUploadChunk
// takes, uploadChunk records each.
func encodeUploadRecords(records []cpis.Record) []string {
	chunks := make([]string, 0, (len(records)+uploadChunk-1)/uploadChunk)
	var b []byte
	for start := 0; start < len(records); start += uploadChunk {
		b = append(b[:0], '[')
		for i, r := range records[start:min(start+uploadChunk, len(records))] {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `["`...)
			b = append(b, r.NHSNumber...) // ten digits: checked
			b = append(b, `",`...)
			b = appendJSONString(b, r.LocalID)
			b = append(b, ',')
			b = appendPlans(b, r.Plans)
			b = append(b, ']')
		}
		b = append(b, ']')
		chunks = append(chunks, string(b))
	}
	return chunks
}
