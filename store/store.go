// Package store keeps spinegw's state in SQLite: the directory (SDS
// endpoints, users, role profiles), PDS demographics, the local authorities,
// the CP-IS records they hold, every access to them and the LA upload files
// processed. *DB implements cpis.Store.
//
// Connections follow what was measured on this platform: one writer
// connection taking immediate transactions (deferred read-then-write
// transactions fail with "database is locked" under concurrency), a pool of
// query-only readers that never block the writer (WAL), no shared cache.
// Access events, written on every positive query, go through one writer
// goroutine that commits whatever is waiting in one transaction (group
// commit), so that concurrent queries share commits instead of queueing for
// the single writer one by one.
//
// The query path reads as little as it can, because every query takes it:
//
//   - The directory (endpoints, users and their role profiles), read on
//     every query and changed only by a world merge, is held in memory,
//     swapped whole and handed out as copies. Staleness bound: a merge by
//     this process is seen by every lookup that starts after MergeWorld
//     returns; a change committed by another process (spinegw world load
//     against the file a gateway serves, or any write to the directory
//     tables, which triggers count in directory_version) is seen by every
//     lookup that starts more than 500 ms after the commit. Checking costs
//     one single-row read per 500 ms, not per query.
//   - A query's subject (patient, every LA's record, the access history) is
//     one statement, so one snapshot, with no explicit transaction. The
//     history is a summary row per NHS number that the access writer keeps
//     in the transaction recording each shown event (migration 0002).
//   - Access events are decided and inserted per batch: one statement looks
//     up the batch's last shown accesses, multi-row inserts write it.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"spinegw/cpis"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the SQLite store. It is safe for concurrent use.
type DB struct {
	write *sql.DB // one connection: every write, in an immediate transaction
	read  *sql.DB // query-only connections, deferred (snapshot) transactions

	// Read statements, prepared once; database/sql prepares each lazily on
	// every pooled connection and keeps it.
	qDirVersion, qLA, qPatient, qPatients, qSubject, qEvents, qPriorUpload *sql.Stmt
	// Write statements of the access writer.
	wLastShown, wGetHistory, wPutHistory, wPutRecords *sql.Stmt
	wInsertEvents                                     [len(insertChunks)]*sql.Stmt
	enc                                               accessEncoder // the access writer's buffers

	dir dirCache

	queue            chan *accessRequest
	writerDone       chan struct{}
	batches, batched atomic.Int64 // group commits made, events they held: for benchmarks
	uploadLock       atomic.Int64 // how long the last ApplyUpload held the write lock (ns): for benchmarks
	mu               sync.RWMutex // guards closed against sends on a closed queue
	closed           bool
	closeOnce        sync.Once
	closeErr         error
}

var _ cpis.Store = (*DB)(nil)

// dsn builds the go-sqlite3 data source name for path. Every connection
// gets WAL, synchronous=NORMAL (durable against a process crash; a commit
// does not wait for fsync), a busy timeout and foreign keys; pragmas run
// with db.Exec would reach only one pooled connection.
func dsn(path string, extra string) string {
	// A file: URI: '%', '?' and '#' in the path must be escaped.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "5000")
	q.Set("_foreign_keys", "on")
	return "file:" + escaped + "?" + q.Encode() + "&" + extra
}

// Open opens the store at path, creating the file if needed, applies any
// migrations not yet applied, and checks that the database really is in WAL
// mode (the concurrency design depends on it). path must name a file: an
// in-memory database cannot be in WAL mode.
func Open(path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db := &DB{
		queue:      make(chan *accessRequest, queueSize),
		writerDone: make(chan struct{}),
		dir:        dirCache{epoch: time.Now()},
	}
	if db.write, err = sql.Open("sqlite3", dsn(abs, "_txlock=immediate")); err != nil {
		return nil, fmt.Errorf("store: open writer: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	fail := func(err error) (*DB, error) {
		db.closeHandles()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}

	// The DSN asks for WAL; verify it took (it cannot for some file systems
	// and for in-memory databases).
	var mode string
	if err := db.write.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail(fmt.Errorf("read journal_mode: %w", err))
	}
	if !strings.EqualFold(mode, "wal") {
		return fail(fmt.Errorf("journal_mode is %q, not wal", mode))
	}
	if err := migrate(db.write); err != nil {
		return fail(err)
	}

	// Readers take deferred transactions: BEGIN IMMEDIATE would take the
	// write lock and queue every read behind the writer. query_only makes a
	// write through the read pool an error instead of a lock-up.
	if db.read, err = sql.Open("sqlite3", dsn(abs, "_txlock=deferred&_query_only=on")); err != nil {
		return fail(fmt.Errorf("open readers: %w", err))
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	db.read.SetMaxOpenConns(readers)
	db.read.SetMaxIdleConns(readers) // the default of 2 would close and reopen connections, losing their statements

	if err := db.prepare(); err != nil {
		return fail(err)
	}
	if err := db.refreshDirectory(context.Background()); err != nil {
		return fail(err)
	}
	go db.writeAccessLoop()
	return db, nil
}

// Close waits for every access event already queued to be committed, then
// closes the database. RecordAccess calls made after Close fail.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.mu.Lock()
		db.closed = true
		close(db.queue)
		db.mu.Unlock()
		<-db.writerDone
		db.closeErr = db.closeHandles()
	})
	return db.closeErr
}

// closeHandles closes statements and pools, readers first: the last
// connection to close checkpoints the WAL into the database file.
func (db *DB) closeHandles() error {
	var errs []error
	for _, s := range []*sql.Stmt{db.qDirVersion, db.qLA, db.qPatient, db.qPatients, db.qSubject, db.qEvents, db.qPriorUpload,
		db.wLastShown, db.wGetHistory, db.wPutHistory, db.wPutRecords,
		db.wInsertEvents[0], db.wInsertEvents[1], db.wInsertEvents[2], db.wInsertEvents[3]} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// migrate applies, in order, the embedded migrations the database has not
// had yet, each in its own immediate transaction together with the schema
// version it reaches (PRAGMA user_version): a failed migration leaves the
// previous version whole, and two processes opening a new file at once do
// not both apply the same migration (the version is read under the write
// lock).
func migrate(db *sql.DB) error {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	// Files are named NNNN_what.sql, numbered from 1 without gaps: the
	// number is the schema version the file brings the database to.
	for i, e := range entries {
		n, _, ok := strings.Cut(e.Name(), "_")
		if v, err := strconv.Atoi(n); !ok || err != nil || v != i+1 {
			return fmt.Errorf("migration %s: want number %04d", e.Name(), i+1)
		}
	}
	for i, e := range entries {
		if err := applyMigration(db, e.Name(), i+1, len(entries)); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(db *sql.DB, name string, version, latest int) error {
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	defer tx.Rollback()
	var current int
	if err := tx.QueryRow("PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read user_version: %w", err)
	}
	switch {
	case current > latest:
		return fmt.Errorf("schema version %d is newer than this program's %d", current, latest)
	case current >= version:
		return nil // applied before
	}
	body, err := migrations.ReadFile("migrations/" + name)
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if _, err := tx.Exec(string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
		return fmt.Errorf("migration %s: set user_version: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", name, err)
	}
	return nil
}

func (db *DB) prepare() error {
	for _, s := range []struct {
		stmt **sql.Stmt
		pool *sql.DB
		sql  string
	}{
		{&db.qDirVersion, db.read, sqlDirectoryVersion},
		{&db.qLA, db.read, sqlLocalAuthority},
		{&db.qPatient, db.read, sqlPatient},
		{&db.qPatients, db.read, sqlPatientsBatch()},
		{&db.qSubject, db.read, sqlSubject},
		{&db.qEvents, db.read, sqlEvents},
		{&db.qPriorUpload, db.read, sqlPriorUpload},
		{&db.wLastShown, db.write, sqlLastShown},
		{&db.wInsertEvents[0], db.write, sqlInsertEvents(insertChunks[0])},
		{&db.wInsertEvents[1], db.write, sqlInsertEvents(insertChunks[1])},
		{&db.wInsertEvents[2], db.write, sqlInsertEvents(insertChunks[2])},
		{&db.wInsertEvents[3], db.write, sqlInsertEvents(insertChunks[3])},
		{&db.wGetHistory, db.write, sqlGetHistory},
		{&db.wPutRecords, db.write, sqlPutRecords(uploadChunk)},
		{&db.wPutHistory, db.write, sqlPutHistory},
	} {
		stmt, err := s.pool.Prepare(s.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", s.sql, err)
		}
		*s.stmt = stmt
	}
	return nil
}

// internal wraps a database failure: the wire answer says only "internal",
// the log gets the cause.
func internal(op string, err error) error {
	return &cpis.Error{Kind: cpis.KindInternal, Op: op, Err: err}
}
