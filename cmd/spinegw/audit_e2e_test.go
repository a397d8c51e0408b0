package main_test

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// auditedStore loads the conformance world into a new store with the real
// binary and returns the store's path, its WAL checkpointed into the main
// file so that the entries' bytes are there.
func auditedStore(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "audit.db")
	if out, code := spinegw(t, nil, "world", "load", "../../conformance/world.yaml", "--db", db); code != 0 {
		t.Fatalf("world load: exit %d: %s", code, out)
	}
	out, code := spinegw(t, nil, "audit", "verify", "--db", db)
	if code != 0 || !strings.Contains(out, "audit chain intact") || !strings.Contains(out, "seq 1 to") {
		t.Fatalf("before: exit %d: %s", code, out)
	}
	conn, err := sql.Open("sqlite3", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	return db
}

// flip changes one byte of the file at off.
func flip(t *testing.T, path string, off int, to byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{to}, int64(off)); err != nil {
		t.Fatal(err)
	}
}

// CP-IS074, issue 6: a one-byte change made directly in the database file,
// to the content of entry 1 (the world load's), is caught: audit verify
// exits non-zero naming the entry.
func TestAuditVerifyCatchesOneByteInTheFile(t *testing.T) {
	db := auditedStore(t)
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	// The world entry's detail, "N endpoints, ...": found once in the file.
	mark := []byte(` endpoints, `)
	if n := bytes.Count(data, mark); n != 1 {
		t.Fatalf("%q found %d times in the file, want once", mark, n)
	}
	off := bytes.Index(data, mark) - 1
	digit := data[off]
	if digit < '0' || digit > '9' {
		t.Fatalf("byte before %q is %q, not a digit", mark, digit)
	}
	flip(t, db, off, '0'+(digit-'0'+1)%10)

	out, code := spinegw(t, nil, "audit", "verify", "--db", db)
	if code != 1 || !strings.Contains(out, "BROKEN: entry 1 modified") {
		t.Fatalf("exit %d, want 1 naming entry 1 modified: %s", code, out)
	}
}

// A byte flipped where SQLite sees it as corruption (the b-tree page type
// of the schema's page) is a broken verdict too.
func TestAuditVerifyCorruptFileIsBroken(t *testing.T) {
	db := auditedStore(t)
	flip(t, db, 100, 0xFF)
	out, code := spinegw(t, nil, "audit", "verify", "--db", db)
	if code != 1 || !strings.Contains(out, "BROKEN") {
		t.Fatalf("exit %d, want 1 and BROKEN: %s", code, out)
	}
}

// No database: the check cannot be made (2), and no file is created.
func TestAuditVerifyNoDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "none.db")
	out, code := spinegw(t, nil, "audit", "verify", "--db", db)
	if code != 2 || !strings.Contains(out, "cannot verify") {
		t.Fatalf("exit %d: %s", code, out)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("verify created the database")
	}
}
