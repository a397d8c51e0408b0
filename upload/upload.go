// Package upload is the pipeline that takes a CP-IS Local Authority Upload
// (File, REPC_MT000002GB01) and answers it with an Acknowledgement Response
// (FileResponse, REPC_MT000003GB01), whichever way the file came: a mailbox
// folder, SOAP, or the command line. One pipeline, so the same file gets the
// same answer (apart from ids and times) by every route.
//
// The file is streamed: it is validated against its schema while it is read,
// its records are checked against PDS in batches as they arrive, and only a
// compact form of each record is kept, so the whole England cohort in one
// file fits in a small, bounded amount of memory.
package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/internal/libxml2"
	"spinegw/store"
)

// Store is the persistence the pipeline needs.
type Store interface {
	LocalAuthority(ctx context.Context, ods string) (cpis.LocalAuthority, error)
	Patients(ctx context.Context, nhs []cpis.NHSNumber) (map[cpis.NHSNumber]cpis.Patient, error)
	PriorUpload(ctx context.Context, la, fileID string) (store.Upload, bool, error)
	ApplyUpload(ctx context.Context, u store.Upload, records []cpis.Record) error
}

// Routes a file can come by.
const (
	RouteMailbox = "mailbox"
	RouteSOAP    = "soap"
	RouteCLI     = "cli"
)

// Source says how a file came, for the checks that depend on it.
type Source struct {
	Route string
	// Folder is the LA folder a mailbox file was found in: the file's
	// sending LA must be that LA.
	Folder string
	// Sender is the endpoint that sent the file over SOAP: it must belong
	// to the file's LA (CP-SC025).
	Sender *cpis.Endpoint
}

// Service processes uploads.
type Service struct {
	Store        Store
	Schema       *libxml2.Schema // the File schema
	Clock        cpis.Clock
	Verification cpis.Verification
	// MaxDepth bounds element nesting in upload files.
	MaxDepth int
}

// Result is the answer to one file.
type Result struct {
	cpis.UploadResult
	Response []byte // the FileResponse document
	// Replayed is true when the file had been processed before with the
	// same content and the original FileResponse is sent again.
	Replayed bool
	Stored   bool // records (or at least the file's registration) were committed
}

// batchSize is how many records are checked against PDS at once.
const batchSize = 2000

// checker checks records in batches as they stream in and keeps only what
// is needed afterwards: the valid records to store and the outcomes of the
// failed ones.
type checker struct {
	ctx          context.Context
	svc          *Service
	pending      []cpis.UploadRecord
	valid        []cpis.Record
	failed       []cpis.RecordOutcome
	received     int
	lastPosition int
	// succeeded counts accepted records; valid can be shorter when records
	// of one NHS number are merged.
	succeeded int
	la        cpis.LocalAuthority // filled once the header is known
	fileID    string
	headerOK  error // a problem with the file's LA data fails every record (CPR07)
	seen      map[cpis.NHSNumber]seenRecord
	// The checking goroutine: batches in, done closed when it has finished;
	// werr is its first error. Only it touches valid, failed, succeeded,
	// seen and echo until finish returns.
	batches chan []cpis.UploadRecord
	done    chan struct{}
	werr    error
	// echo keeps failed records so the FileResponse can send them back.
	echo map[echoKey]cpis.UploadRecord
}

type echoKey struct {
	position int
	nhs      string
	unborn   bool
}

// maxEcho bounds how many failed records are kept to be sent back in the
// FileResponse: a file in which everything fails still needs no more memory
// than this; failures beyond it are reported by code and position only.
const maxEcho = 20000

func (c *checker) add(r cpis.UploadRecord) error {
	// A record about a child and the child's own unborn child comes as two
	// parts with the same position: it counts once and is judged as one.
	newRecord := c.received == 0 || r.Position != c.lastPosition
	if newRecord {
		c.received++
		c.lastPosition = r.Position
		if len(c.pending) >= batchSize {
			c.send()
		}
	}
	c.pending = append(c.pending, r)
	return nil
}

// start runs the checks on a goroutine of their own, so that PDS lookups and
// record checks of one batch overlap with reading and validating the next:
// on two cores the whole cohort takes the longer of the two, not their sum.
func (c *checker) start() {
	c.batches = make(chan []cpis.UploadRecord, 2)
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		for b := range c.batches {
			if c.werr == nil {
				c.werr = c.check(b)
			}
		}
	}()
}

// send hands the pending batch to the checking goroutine.
func (c *checker) send() {
	if len(c.pending) > 0 {
		select {
		case c.batches <- c.pending:
		case <-c.done:
		}
		c.pending = make([]cpis.UploadRecord, 0, batchSize)
	}
}

// finish checks what is still pending and waits for every check to be done;
// its error is the first the checks met. It may be called more than once.
func (c *checker) finish() error {
	if c.batches != nil {
		c.send()
		close(c.batches)
		<-c.done
		c.batches = nil
	}
	return c.werr
}

// check judges one batch of records.
func (c *checker) check(batch []cpis.UploadRecord) error {
	nhs := make([]cpis.NHSNumber, 0, len(batch))
	for _, r := range batch {
		if cpis.ValidNHSNumber(r.NHSNumber) {
			nhs = append(nhs, cpis.NHSNumber(r.NHSNumber))
		}
	}
	pds, err := c.svc.Store.Patients(c.ctx, nhs)
	if err != nil {
		return err
	}
	lookup := func(n cpis.NHSNumber) (cpis.Patient, bool) {
		p, ok := pds[n]
		return p, ok
	}
	for i := 0; i < len(batch); {
		j := i + 1
		for j < len(batch) && batch[j].Position == batch[i].Position {
			j++
		}
		c.judge(batch[i:j], lookup)
		i = j
	}
	return nil
}

// judge decides one record of the file, given as its parts: it succeeds if
// every part does, and is answered with the first failing part's outcome
// otherwise; a record is stored whole or not at all.
func (c *checker) judge(parts []cpis.UploadRecord, lookup func(cpis.NHSNumber) (cpis.Patient, bool)) {
	for _, r := range parts {
		var o cpis.RecordOutcome
		if c.headerOK != nil {
			o = cpis.RecordOutcome{Position: r.Position, LocalID: r.LocalID, NHSNumber: r.NHSNumber, Code: cpis.CPR07, Detail: cpis.MessageOf(c.headerOK)}
		} else {
			o = cpis.CheckRecord(r, lookup, c.svc.Verification)
		}
		if !o.Success() {
			c.failed = append(c.failed, o)
			if len(c.echo) < maxEcho {
				c.echo[echoKey{r.Position, r.NHSNumber, r.Unborn}] = r
			}
			return
		}
	}
	c.succeeded++
	for _, r := range parts {
		c.keep(r, cpis.RecordFromUpload(r, cpis.NHSNumber(r.NHSNumber), c.la, c.fileID))
	}
}

// keep adds a valid record. A mother can be sent twice in one file: once as
// a child (her own CPP or LAC) and once as the mother of an unborn child
// (UCP), as an unborn record carries only unborn plans. Both are what the LA
// holds for her NHS number, so their plans are merged; a child may hold CPP,
// LAC and UCP at once (CP-IS035). Any other repeat of an NHS number in one
// file replaces the earlier record, as a later file would (CP-IS020).
func (c *checker) keep(r cpis.UploadRecord, rec cpis.Record) {
	if c.seen == nil {
		c.seen = map[cpis.NHSNumber]seenRecord{}
	}
	prev, ok := c.seen[rec.NHSNumber]
	switch {
	case !ok:
		c.seen[rec.NHSNumber] = seenRecord{index: len(c.valid), unborn: r.Unborn}
		c.valid = append(c.valid, rec)
	case prev.unborn != r.Unborn && !prev.merged:
		merged := &c.valid[prev.index]
		merged.Plans = append(merged.Plans, rec.Plans...)
		if merged.LocalID == "" || !r.Unborn {
			merged.LocalID = rec.LocalID
		}
		prev.merged = true
		c.seen[rec.NHSNumber] = prev
	default:
		c.valid[prev.index] = rec
		c.seen[rec.NHSNumber] = seenRecord{index: prev.index, unborn: r.Unborn}
	}
}

type seenRecord struct {
	index          int
	unborn, merged bool
}

// fileError is a file-level failure: answered with CPF01, nothing stored.
type fileError struct{ reason string }

func (e *fileError) Error() string { return e.reason }

func fileErr(format string, args ...any) error {
	return &fileError{reason: fmt.Sprintf(format, args...)}
}

// Process reads one upload file from r and answers it. Only errors of the
// gateway itself (the store failing) come back as an error; everything wrong
// with the file is answered in the FileResponse.
func (s *Service) Process(ctx context.Context, src Source, r io.Reader) (Result, error) {
	now := s.Clock.Now()
	digest := newDigest()
	c := &checker{ctx: ctx, svc: s, echo: map[echoKey]cpis.UploadRecord{}}
	c.start()
	defer c.finish()
	var up cpis.Upload
	headerSeen := false
	issues, err := hl7.ReadUpload(r, s.Schema,
		func(u cpis.Upload) error {
			up, headerSeen = u, true
			digest.header(u)
			return s.header(ctx, src, c, u)
		},
		func(rec cpis.UploadRecord) error {
			digest.record(rec)
			return c.add(rec)
		})
	var fe *fileError
	switch {
	case errors.As(err, &fe):
	case err != nil && (cpis.KindOf(err) == cpis.KindInternal || cpis.KindOf(err) == cpis.KindAddressing):
		// The gateway failing, or a sender not allowed to send: not an
		// answer about the file.
		return Result{}, err
	case err != nil:
		err = fileErr("the file is not acceptable XML: %s", cpis.MessageOf(err))
	case len(issues) > 0:
		err = fileErr("the file fails the schema: %s", joinIssues(issues))
	case !headerSeen:
		err = fileErr("the file has no header")
	case up.Quantity != c.received:
		err = fileErr("transmissionQuantity is %d but the file holds %d records", up.Quantity, c.received)
	}
	if werr := c.finish(); werr != nil {
		return Result{}, werr
	}
	res := Result{UploadResult: cpis.UploadResult{FileID: up.FileID, LA: c.la, Quantity: c.received, ReceivedAt: now}}
	if res.LA.ODS == "" {
		res.LA = s.describeLA(ctx, up.LA, src)
	}
	if errors.As(err, &fe) {
		res.Code, res.Detail = cpis.CPF01, fe.reason
		res.Response, err = s.respond(now, res.UploadResult, nil)
		return res, err
	}
	sum := digest.sum()
	prior, found, err := s.Store.PriorUpload(ctx, c.la.ODS, up.FileID)
	if err != nil {
		return Result{}, err
	}
	if found {
		return s.replay(now, res, prior, sum)
	}
	res.Outcomes = c.failed
	res.Succeeded = c.succeeded
	res.Failed = len(c.failed)
	res.Code = cpis.FileCodeCounts(res.Succeeded, res.Failed)
	res.Response, err = s.respond(now, res.UploadResult, c.echoed)
	if err != nil {
		return Result{}, err
	}
	reg := store.Upload{LA: c.la.ODS, FileID: up.FileID, Digest: sum, ReceivedAt: now, Route: src.Route,
		Code: res.Code, Succeeded: res.Succeeded, Failed: res.Failed, Response: res.Response}
	if err := s.Store.ApplyUpload(ctx, reg, c.valid); err != nil {
		if errors.Is(err, store.ErrFileIDUsed) {
			// Another route committed the same file id first.
			prior, found, perr := s.Store.PriorUpload(ctx, c.la.ODS, up.FileID)
			if perr == nil && found {
				return s.replay(now, res, prior, sum)
			}
		}
		return Result{}, err
	}
	res.Stored = true
	return res, nil
}

// replay answers a file id seen before: the original FileResponse again if
// the content is identical (idempotent resubmission), else a refusal
// (CP-SC016: file ids are unique for an LA).
func (s *Service) replay(now time.Time, res Result, prior store.Upload, digest string) (Result, error) {
	if prior.Digest == digest {
		res.Response, res.Replayed = prior.Response, true
		res.Code, res.Succeeded, res.Failed = prior.Code, prior.Succeeded, prior.Failed
		return res, nil
	}
	res.Code = cpis.CPF01
	res.Detail = fmt.Sprintf("file id %s was already used by this local authority for a different file (CP-SC016)", res.FileID)
	res.Outcomes, res.Succeeded, res.Failed = nil, 0, 0
	var err error
	res.Response, err = s.respond(now, res.UploadResult, nil)
	return res, err
}

// header applies the file-level checks that need the sending LA.
func (s *Service) header(ctx context.Context, src Source, c *checker, u cpis.Upload) error {
	c.fileID = u.FileID
	if u.LA.ODS == "" {
		return fileErr("the file names no sending local authority")
	}
	if src.Folder != "" && !strings.EqualFold(src.Folder, u.LA.ODS) {
		return fileErr("the file is from local authority %s but was put in the mailbox of %s", u.LA.ODS, src.Folder)
	}
	la, err := s.Store.LocalAuthority(ctx, u.LA.ODS)
	if err != nil {
		if cpis.KindOf(err) == cpis.KindNotFound {
			return fileErr("local authority %s is not known to CP-IS", u.LA.ODS)
		}
		return err
	}
	if !la.UploadsEnabled {
		return fileErr("uploads from local authority %s are switched off (CP-SC014)", u.LA.ODS)
	}
	if src.Sender != nil && !strings.EqualFold(src.Sender.ODS, la.ODS) {
		return cpis.Errorf(cpis.KindAddressing, "upload", "the sending endpoint is not registered for local authority %s (CP-SC025)", la.ODS)
	}
	// The LA's name and telephone numbers as the file gives them are what
	// the records carry (CP-SC007, CP-IS021).
	c.la = cpis.LocalAuthority{ODS: la.ODS, Name: u.LA.Name, Emergency: u.LA.Emergency, Office: u.LA.Office, UploadsEnabled: true}
	if c.la.Name == "" {
		c.la.Name = la.Name
	}
	c.headerOK = cpis.CheckUploadHeader(u)
	return nil
}

// describeLA gives the FileResponse a recipient even when the file could not
// be read far enough to name one.
func (s *Service) describeLA(ctx context.Context, fromFile cpis.LocalAuthority, src Source) cpis.LocalAuthority {
	for _, ods := range []string{fromFile.ODS, src.Folder} {
		if ods == "" {
			continue
		}
		if la, err := s.Store.LocalAuthority(ctx, ods); err == nil {
			return la
		}
	}
	if fromFile.ODS != "" {
		return fromFile
	}
	return cpis.LocalAuthority{ODS: src.Folder}
}

// echoed finds a failed record to send back.
func (c *checker) echoed(o cpis.RecordOutcome) (cpis.UploadRecord, bool) {
	for _, unborn := range []bool{false, true} {
		if r, ok := c.echo[echoKey{o.Position, o.NHSNumber, unborn}]; ok {
			return r, true
		}
	}
	return cpis.UploadRecord{}, false
}

func (s *Service) respond(now time.Time, res cpis.UploadResult, echo func(cpis.RecordOutcome) (cpis.UploadRecord, bool)) ([]byte, error) {
	var b bytes.Buffer
	err := hl7.WriteFileResponse(&b, hl7.FileReply{ResponseID: strings.ToUpper(uuid.NewString()), CreationTime: now, Record: echo}, res)
	return b.Bytes(), err
}

func joinIssues(issues []hl7.Issue) string {
	var parts []string
	for i, is := range issues {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(issues)-5))
			break
		}
		parts = append(parts, is.String())
	}
	return strings.Join(parts, "; ")
}
