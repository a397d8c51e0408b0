package daily_test

import (
	"crypto/ed25519"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/store"
)

// CP-IS076: the daily cycle prunes the audit trail, a prefix at a time,
// and leaves it verifiable from the signed checkpoint: the purge's own
// entries are chained, and a day far enough ahead prunes the world load's
// entry (no NHS number: 8 years) but stops at the first entry about a child
// (an adult's number at the time: 27 years).
func TestDailyCyclePrunesTheAuditTrail(t *testing.T) {
	e := newEnv(t)
	e.child(childA, "2000-11-23")
	e.holds("V145", childA, cpp(del("2026-11-01")))
	e.load() // entry 1: the load (wall clock), entry 2: the record
	e.access(childA, "U1", "2026-11-20T10:00:00Z", "V145")
	res := e.runDay("2026-11-21")
	if res.Purge.Audit.Pruned != 0 || res.Purge.Audit.Head == 0 {
		t.Fatalf("first day: %+v", res.Purge.Audit)
	}
	key, err := store.LoadAuditKey(store.AuditKeyPath(e.path), false)
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	entries, err := e.db.AuditEntries(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, x := range entries {
		kinds[x.Kind+"/"+x.Action]++
	}
	if kinds["world/merge"] != 1 || kinds["record/world"] != 1 || kinds["query/query"] != 1 ||
		kinds["notification/enqueue"] != 1 || kinds["purge/purged"] != 1 || kinds["purge/removed"] != 1 {
		t.Errorf("entries by kind %v", kinds)
	}
	if v, err := e.db.VerifyAudit(ctx, pub); err != nil || !v.Intact || v.Heads != 1 {
		t.Fatalf("after the first day: %+v %v", v, err)
	}

	later := cpis.Today(time.Now()).AddDate(cpis.AuditYearsNoSubject, 0, 1).Format(time.DateOnly)
	res = e.runDay(later)
	if res.Purge.Audit.Pruned != 1 || res.Purge.Audit.Through != 1 {
		t.Fatalf("on %s: %+v, want the world load's entry pruned alone", later, res.Purge.Audit)
	}
	v, err := e.db.VerifyAudit(ctx, pub)
	if err != nil || !v.Intact || v.First != 2 || v.Pruned.Seq != 1 || v.Heads != 2 {
		t.Fatalf("after the prune: %+v %v", v, err)
	}
}
