package store_test

import (
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/store"
)

// raw runs statements on the database file through a connection of the
// test's own, as someone with access to the file could.
func raw(t *testing.T, path string, stmts ...string) {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func verify(t *testing.T, db *store.DB, pub ed25519.PublicKey) store.AuditVerdict {
	t.Helper()
	v, err := db.VerifyAudit(ctx, pub)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// chained fills a store with a world and accesses and returns it, with its
// path and how many entries it holds.
func chained(t *testing.T) (*store.DB, string, int64) {
	t.Helper()
	db, path := open(t)
	w := sample(t)
	if err := db.MergeWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := db.RecordAccess(ctx, event("9995260107", person(fmt.Sprintf("2000098762%02d", i)), t0.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	return db, path, int64(1 + len(w.Records) + 10)
}

// CP-IS073, CP-IS074: a world load, each record it stores and each access
// is an entry; concurrent accesses are all chained, once each, without a gap.
func TestAuditChainsEveryWriteConcurrently(t *testing.T) {
	db, _, n := chained(t)
	const clients, each = 32, 10
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acc := person(fmt.Sprintf("4%011d", c))
			for i := range each {
				ev := event("9995260107", acc, t0.Add(time.Hour+time.Duration(i)*time.Second))
				ev.ID = fmt.Sprintf("AUD-%02d-%02d", c, i)
				if _, err := db.RecordAccess(ctx, ev); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	v := verify(t, db, nil)
	want := n + clients*each
	if !v.Intact || v.Entries != want || v.First != 1 || v.Last != want {
		t.Fatalf("verdict %+v, want intact with %d entries", v, want)
	}
	entries, err := db.AuditEntries(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	kinds := map[string]int{}
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d has seq %d", i+1, e.Seq)
		}
		kinds[e.Kind]++
		if e.Kind == cpis.AuditQuery {
			seen[e.Detail]++
			if e.NHSNumber != "9995260107" || e.User == "" || e.RoleProfile == "" || e.JobRole != "R0680" ||
				e.ASID != "200000000101" || e.Org != "RKE" || (e.Outcome != "shown" && e.Outcome != "not-shown") {
				t.Errorf("query entry lacks who/where/outcome: %+v", e)
			}
		}
	}
	for c := range clients {
		for i := range each {
			if id := fmt.Sprintf("message AUD-%02d-%02d", c, i); seen[id] != 1 {
				t.Errorf("%s audited %d times", id, seen[id])
			}
		}
	}
	if kinds[cpis.AuditWorld] != 1 || kinds[cpis.AuditRecord] != int(n-11) || kinds[cpis.AuditQuery] != 10+clients*each {
		t.Errorf("kinds %v", kinds)
	}
}

// Uploads, their records, notifications and PDS changes are chained too.
func TestAuditUploadNotificationPDS(t *testing.T) {
	db, _, n := chained(t)
	rec := cpis.Record{NHSNumber: "9995260107", LA: cpis.LocalAuthority{ODS: "V145"}, LocalID: "L-1",
		Plans: []cpis.Plan{{Type: cpis.CPP, Start: civil("2026-01-05")}}}
	u := store.Upload{LA: "V145", FileID: "F-AUD", Digest: "00", ReceivedAt: t0, Route: "cli", Code: "CPF01", Succeeded: 1}
	if err := db.ApplyUpload(ctx, u, []cpis.Record{rec}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Supersede(ctx, "9995260107", "9995260115", t0.Add(time.Minute), fakeRender); err != nil {
		t.Fatal(err)
	}
	entries, err := db.AuditEntries(ctx, n+1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Kind+"/"+e.Action+"/"+e.NHSNumber)
	}
	s := strings.Join(got, " ")
	for _, want := range []string{"upload/upload/", "record/replace/9995260107", "pds/supersede/9995260107", "notification/enqueue/9995260107"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %s in %s", want, s)
		}
	}
	if v := verify(t, db, nil); !v.Intact {
		t.Errorf("%+v", v)
	}
}

// verify names the first entry broken and what it looks like, for each
// kind of tampering done directly with SQL.
func TestAuditVerifyFindsTampering(t *testing.T) {
	for _, c := range []struct {
		name    string
		tamper  func(t *testing.T, path string)
		problem string
		seq     int64
	}{
		{"modified content", func(t *testing.T, path string) {
			raw(t, path, `UPDATE audit_log SET content = replace(content, '"detail":"', '"detail":"x') WHERE seq = 5`)
		}, store.AuditModified, 5},
		{"modified column", func(t *testing.T, path string) {
			raw(t, path, `UPDATE audit_log SET nhs_number = '9995260115' WHERE seq = 5`)
		}, store.AuditModified, 5},
		{"modified, hash recomputed", func(t *testing.T, path string) {
			rehash(t, path, 5, func(c string) string { return strings.Replace(c, `"detail":"`, `"detail":"x`, 1) })
		}, store.AuditModified, 5},
		{"deleted", func(t *testing.T, path string) {
			raw(t, path, `DELETE FROM audit_log WHERE seq = 5`)
		}, store.AuditDeleted, 5},
		{"inserted copy", func(t *testing.T, path string) {
			raw(t, path, `UPDATE audit_log SET seq = seq + 1000000 WHERE seq >= 5`,
				`UPDATE audit_log SET seq = seq - 1000000 + 1 WHERE seq >= 1000000`,
				`INSERT INTO audit_log SELECT 5, at, kind, nhs_number, content, prev_hash, hash FROM audit_log WHERE seq = 3`)
		}, store.AuditInserted, 5},
		{"inserted, made up with a good hash", func(t *testing.T, path string) {
			raw(t, path, `UPDATE audit_log SET seq = seq + 1000000 WHERE seq >= 5`,
				`UPDATE audit_log SET seq = seq - 1000000 + 1 WHERE seq >= 1000000`)
			forge(t, path, 5)
		}, store.AuditInserted, 5},
		{"appended copy", func(t *testing.T, path string) {
			raw(t, path, `INSERT INTO audit_log SELECT (SELECT max(seq) + 1 FROM audit_log), at, kind, nhs_number, content, prev_hash, hash
FROM audit_log WHERE seq = 3`)
		}, store.AuditInserted, 0},
		{"reordered", func(t *testing.T, path string) {
			raw(t, path, `UPDATE audit_log SET seq = -4 WHERE seq = 4`, `UPDATE audit_log SET seq = 4 WHERE seq = 5`,
				`UPDATE audit_log SET seq = 5 WHERE seq = -4`)
		}, store.AuditReordered, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, path, n := chained(t)
			if v := verify(t, db, nil); !v.Intact {
				t.Fatalf("before: %+v", v)
			}
			c.tamper(t, path)
			v := verify(t, db, nil)
			want := c.seq
			if want == 0 {
				want = n + 1
			}
			if v.Intact || v.Problem != c.problem || v.Seq != want {
				t.Errorf("verdict %+v, want %s at %d", v, c.problem, want)
			}
		})
	}
}

// rehash changes entry seq's content and stores the hash it now has, as a
// tamperer who knows the format would.
func rehash(t *testing.T, path string, seq int64, change func(string) string) {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var (
		content string
		prev    []byte
	)
	if err := conn.QueryRow(`SELECT content, prev_hash FROM audit_log WHERE seq = ?`, seq).Scan(&content, &prev); err != nil {
		t.Fatal(err)
	}
	content = change(content)
	if _, err := conn.Exec(`UPDATE audit_log SET content = ?, hash = ? WHERE seq = ?`, content,
		cpis.AuditHash(prev, []byte(content)), seq); err != nil {
		t.Fatal(err)
	}
}

// forge writes a well-formed entry at seq, chained to seq-1.
func forge(t *testing.T, path string, seq int64) {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var prev []byte
	if err := conn.QueryRow(`SELECT hash FROM audit_log WHERE seq = ?`, seq-1).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	e := cpis.AuditEntry{Seq: seq, At: t0, Kind: cpis.AuditAdmin, Action: "GET /forged", Outcome: "200"}
	content := e.Canonical()
	if _, err := conn.Exec(`INSERT INTO audit_log VALUES (?, ?, ?, '', ?, ?, ?)`, seq, t0.UnixNano(), e.Kind, string(content),
		prev, cpis.AuditHash(prev, content)); err != nil {
		t.Fatal(err)
	}
}

// prunedStore builds a chain, has the daily purge prune it on two days
// and returns it with the public key of its checkpoints. Seq 1-3 are admin
// actions of 2010, kept 8 years: past. Seq 4 is an access in 2016 to a
// child born 2015-03-14, kept to 2041: it stops the prune, so seq 5, an
// admin action of 2010, stays too. Seq 6 is the first prune's own entry,
// seq 7 an admin action, seq 8 the second prune's entry... of which there
// is none: a prune that removes nothing appends nothing.
func prunedStore(t *testing.T) (*store.DB, string, ed25519.PublicKey, []store.AuditPrune) {
	t.Helper()
	db, path := open(t)
	if err := db.MergeWorld(ctx, sample(t)); err != nil {
		t.Fatal(err)
	}
	// Start the chain with entries of our own times, and no record for
	// the purge to change.
	raw(t, path, `DELETE FROM audit_log`, `DELETE FROM records`)
	old := time.Date(2010, 1, 1, 12, 0, 0, 0, time.UTC)
	add := func(e cpis.AuditEntry) {
		if _, err := db.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		add(cpis.AuditEntry{At: old, Kind: cpis.AuditAdmin, Action: "GET /admin/overview", Outcome: "200"})
	}
	add(cpis.AuditEntry{At: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC), Kind: cpis.AuditQuery, NHSNumber: "9995260107"})
	add(cpis.AuditEntry{At: old, Kind: cpis.AuditAdmin, Action: "GET /admin/overview", Outcome: "200"})
	var out []store.AuditPrune
	for i, d := range []string{"2026-11-22", "2026-11-23"} {
		if i == 1 {
			add(cpis.AuditEntry{At: t0, Kind: cpis.AuditAdmin, Action: "POST /admin/world", Outcome: "200"})
		}
		day := civil(d)
		run := store.DailyRun{Day: day, From: day.Add(-22 * time.Hour), To: day.Add(2 * time.Hour), NotifiedAt: day.Add(2 * time.Hour)}
		if _, err := db.CommitDay(ctx, run, nil); err != nil {
			t.Fatal(err)
		}
		res, err := db.Purge(ctx, day, day.Add(2*time.Hour+time.Second))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Audit)
	}
	key, err := store.LoadAuditKey(store.AuditKeyPath(path), false)
	if err != nil {
		t.Fatal(err)
	}
	return db, path, key.Public().(ed25519.PublicKey), out
}

// CP-IS076: the daily purge prunes the longest prefix of the chain past
// retention, leaves a signed checkpoint, and the rest still verifies.
func TestAuditPruneKeepsTheChainVerifiable(t *testing.T) {
	db, path, pub, res := prunedStore(t)
	if r := res[0]; r.Pruned != 3 || r.Through != 3 || r.Head != 6 {
		t.Errorf("first prune %+v, want 3 entries through 3, head 6 (the prune's own entry)", r)
	}
	if r := res[1]; r.Pruned != 0 || r.Through != 3 || r.Head != 7 {
		t.Errorf("second prune %+v, want nothing pruned, head 7", r)
	}
	if fi, err := os.Stat(store.AuditKeyPath(path)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	v := verify(t, db, pub)
	if !v.Intact || v.First != 4 || v.Last != 7 || v.Entries != 4 || v.Pruned.Seq != 3 || v.Pruned.Count != 3 || v.Heads != 2 {
		t.Fatalf("after prune: %+v", v)
	}
	entries, err := db.AuditEntries(ctx, 6, 6)
	if err != nil || len(entries) != 1 || entries[0].Action != "audit-prune" {
		t.Errorf("the prune's own entry: %+v %v", entries, err)
	}
	// A verifier with another key refuses the checkpoints.
	other, _, _ := ed25519.GenerateKey(nil)
	if v := verify(t, db, other); v.Intact || v.Problem != store.AuditCheckpoint {
		t.Errorf("another key: %+v", v)
	}
	if _, err := db.VerifyAudit(ctx, nil); err == nil {
		t.Error("checkpoints verified without a key")
	}
}

// After pruning, removing entries from the end, putting a pruned entry
// back, changing the first entry kept or a checkpoint is found.
func TestAuditVerifyAfterPrune(t *testing.T) {
	for _, c := range []struct {
		name    string
		stmt    string
		problem string
		seq     int64
	}{
		{"the end cut off", `DELETE FROM audit_log WHERE seq >= 6`, store.AuditDeleted, 6},
		{"a pruned entry put back", `INSERT INTO audit_log SELECT 2, at, kind, nhs_number, content, prev_hash, hash FROM audit_log WHERE seq = 5`,
			store.AuditInserted, 2},
		{"the first entry kept changed", `UPDATE audit_log SET content = replace(content, '9995260107', '9995260115') WHERE seq = 4`,
			store.AuditModified, 4},
		{"a checkpoint changed", `UPDATE audit_checkpoints SET count = 2 WHERE kind = 'pruned'`, store.AuditCheckpoint, 3},
		{"a head checkpoint's entry changed, hash recomputed", "", store.AuditModified, 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, path, pub, _ := prunedStore(t)
			if c.stmt != "" {
				raw(t, path, c.stmt)
			} else {
				rehash(t, path, 7, func(s string) string { return strings.Replace(s, "POST", "GET", 1) })
			}
			if v := verify(t, db, pub); v.Intact || v.Problem != c.problem || v.Seq != c.seq {
				t.Errorf("verdict %+v, want %s at %d", v, c.problem, c.seq)
			}
		})
	}
}
