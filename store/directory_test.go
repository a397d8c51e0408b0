package store_test

import (
	"database/sql"
	"reflect"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/store"
)

// The directory is served from memory: what a caller does to the user it
// got must not reach the next caller.
func TestUserIsACopy(t *testing.T) {
	db, _ := open(t)
	w := sample(t)
	if err := db.MergeWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	sam := w.Users[1]
	got, err := db.User(ctx, sam.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Name.Given[0] = "Mallory"
	got.Name.Given = append(got.Name.Given, "extra")
	got.RoleProfiles[0].Activities[0] = "B9999"
	got.RoleProfiles[0].Activities = append(got.RoleProfiles[0].Activities, "B0001")
	got.RoleProfiles[1].ID = "stolen"
	again, err := db.User(ctx, sam.ID)
	if err != nil || !reflect.DeepEqual(again, sam) {
		t.Errorf("after the caller changed its copy: %+v, %v\nwant %+v", again, err, sam)
	}
}

// A merge by this process is seen by the next lookup, with no wait.
func TestDirectorySeesOwnMergeAtOnce(t *testing.T) {
	db, _ := open(t)
	if _, err := db.Endpoint(ctx, "200000000101"); cpis.KindOf(err) != cpis.KindNotFound {
		t.Fatalf("empty store: %v", err)
	}
	w := sample(t)
	if err := db.MergeWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	if ep, err := db.Endpoint(ctx, "200000000101"); err != nil || ep != w.Endpoints[0] {
		t.Errorf("Endpoint right after MergeWorld = %+v, %v", ep, err)
	}
	jo := w.Users[2]
	jo.Enabled = true
	if err := db.MergeWorld(ctx, cpis.World{Users: []cpis.User{jo}}); err != nil {
		t.Fatal(err)
	}
	if u, err := db.User(ctx, jo.ID); err != nil || !u.Enabled {
		t.Errorf("User right after MergeWorld = %+v, %v", u, err)
	}
}

// A change committed by another process (spinegw world load against the
// file a gateway serves), or by hand with SQL, is seen within the
// staleness bound of the package doc: 500 ms.
func TestDirectorySeesOtherProcessWithinBound(t *testing.T) {
	gateway, path := open(t)
	w := sample(t)
	if err := gateway.MergeWorld(ctx, w); err != nil {
		t.Fatal(err)
	}
	// The gateway has looked: its copy is fresh now.
	if _, err := gateway.Endpoint(ctx, "200000000101"); err != nil {
		t.Fatal(err)
	}

	// "world load" from another process: a store of its own on the file.
	loader, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	added := cpis.Endpoint{ASID: "200000000999", ODS: "RAL", Name: "Royal Free ED"}
	if err := loader.MergeWorld(ctx, cpis.World{Endpoints: []cpis.Endpoint{added}}); err != nil {
		t.Fatal(err)
	}
	loader.Close()
	committed := time.Now()
	waitFor(t, committed, "an endpoint merged by another process", func() bool {
		ep, err := gateway.Endpoint(ctx, added.ASID)
		return err == nil && ep == added
	})

	// An operator disabling a user with the sqlite3 shell.
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE users SET enabled = 0 WHERE id = ?`, w.Users[0].ID); err != nil {
		t.Fatal(err)
	}
	committed = time.Now()
	waitFor(t, committed, "a user disabled with SQL", func() bool {
		u, err := gateway.User(ctx, w.Users[0].ID)
		return err == nil && !u.Enabled
	})
	if _, err := raw.Exec(`DELETE FROM role_profile_activities WHERE role_profile_id = ?`, w.Users[1].RoleProfiles[0].ID); err != nil {
		t.Fatal(err)
	}
	committed = time.Now()
	waitFor(t, committed, "a role profile's activities removed with SQL", func() bool {
		u, err := gateway.User(ctx, w.Users[1].ID)
		return err == nil && len(u.RoleProfiles[0].Activities) == 0
	})
}

// waitFor polls until ok, failing if that takes longer than the staleness
// bound (with slack for a loaded machine) after the commit.
func waitFor(t *testing.T, committed time.Time, what string, ok func() bool) {
	t.Helper()
	const bound, slack = 500 * time.Millisecond, 1500 * time.Millisecond
	for !ok() {
		if time.Since(committed) > bound+slack {
			t.Errorf("%s not seen %v after the commit", what, time.Since(committed))
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%s seen after %v", what, time.Since(committed).Round(time.Millisecond))
}
