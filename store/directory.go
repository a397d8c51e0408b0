package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"spinegw/cpis"
)

// directoryTTL bounds how stale the in-memory directory may be after
// another process changes the database: see the package doc.
const directoryTTL = 500 * time.Millisecond

const (
	sqlDirectoryVersion = `SELECT version FROM directory_version WHERE id = 1`

	sqlAllEndpoints = `SELECT asid, ods, name FROM endpoints`

	// Users with their role profiles and activities, in the order given
	// (role_profiles.seq, role_profile_activities.seq).
	sqlAllUsers = `
SELECT u.id, u.name_prefix, u.name_given, u.name_family, u.enabled,
       rp.id, rp.job_role_code, rp.job_role_name, rp.org_ods, rp.org_name, a.activity
FROM users u
LEFT JOIN role_profiles rp ON rp.user_id = u.id
LEFT JOIN role_profile_activities a ON a.role_profile_id = rp.id
ORDER BY u.id, rp.seq, a.seq`
)

// directory is one immutable snapshot of SDS as the store holds it: the
// maps are never written after load, and callers get copies.
type directory struct {
	version   int64
	endpoints map[string]cpis.Endpoint
	users     map[string]cpis.User
}

// dirCache is the in-memory directory, swapped whole.
type dirCache struct {
	snap    atomic.Pointer[directory]
	checked atomic.Int64 // monotonic nanoseconds (since dirCache.epoch) of the last version check
	epoch   time.Time
	mu      sync.Mutex // one version check or reload at a time
}

// directory returns the current snapshot, first checking, at most once per
// directoryTTL, whether another process has changed the directory since it
// was loaded. The check is one single-row read; a reload happens only when
// the version moved.
func (db *DB) directory(ctx context.Context) (*directory, error) {
	c := &db.dir
	now := int64(time.Since(c.epoch))
	if now-c.checked.Load() < int64(directoryTTL) {
		return c.snap.Load(), nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now-c.checked.Load() < int64(directoryTTL) {
		return c.snap.Load(), nil // another caller checked while this one waited
	}
	var version int64
	if err := db.qDirVersion.QueryRowContext(ctx).Scan(&version); err != nil {
		return nil, fmt.Errorf("read directory version: %w", err)
	}
	if cur := c.snap.Load(); cur != nil && cur.version == version {
		c.checked.Store(now)
		return cur, nil
	}
	if err := db.reloadDirectoryLocked(ctx, now); err != nil {
		return nil, err
	}
	return c.snap.Load(), nil
}

// refreshDirectory reloads the directory now: after a merge by this
// process, whose caller expects to see it at once.
func (db *DB) refreshDirectory(ctx context.Context) error {
	c := &db.dir
	c.mu.Lock()
	defer c.mu.Unlock()
	return db.reloadDirectoryLocked(ctx, int64(time.Since(c.epoch)))
}

// reloadDirectoryLocked reads the whole directory in one read transaction,
// so that the version and the rows are of one snapshot, and installs it.
// If it fails, the next lookup tries again.
func (db *DB) reloadDirectoryLocked(ctx context.Context, now int64) error {
	c := &db.dir
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // read only: nothing to commit
	d, err := loadDirectory(ctx, tx)
	if err != nil {
		c.checked.Store(-int64(directoryTTL)) // stale: the next lookup checks again
		return fmt.Errorf("load directory: %w", err)
	}
	c.snap.Store(d)
	c.checked.Store(now)
	return nil
}

func loadDirectory(ctx context.Context, tx *sql.Tx) (*directory, error) {
	d := &directory{endpoints: map[string]cpis.Endpoint{}, users: map[string]cpis.User{}}
	if err := tx.QueryRowContext(ctx, sqlDirectoryVersion).Scan(&d.version); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, sqlAllEndpoints)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var ep cpis.Endpoint
		if err := rows.Scan(&ep.ASID, &ep.ODS, &ep.Name); err != nil {
			rows.Close()
			return nil, err
		}
		d.endpoints[ep.ASID] = ep
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = tx.QueryContext(ctx, sqlAllUsers)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var u *cpis.User
	flush := func() {
		if u != nil {
			d.users[u.ID] = *u
		}
	}
	for rows.Next() {
		var (
			id, prefix, given, family   string
			enabled                     bool
			rpID, code, jrName, ods, on sql.NullString
			activity                    sql.NullString
		)
		if err := rows.Scan(&id, &prefix, &given, &family, &enabled,
			&rpID, &code, &jrName, &ods, &on, &activity); err != nil {
			return nil, err
		}
		if u == nil || u.ID != id {
			flush()
			u = &cpis.User{ID: id, Name: cpis.Name{Prefix: prefix, Family: family}, Enabled: enabled}
			if u.Name.Given, err = parseStrings(given); err != nil {
				return nil, err
			}
		}
		if !rpID.Valid {
			continue // a user without role profiles
		}
		if n := len(u.RoleProfiles); n == 0 || u.RoleProfiles[n-1].ID != rpID.String {
			u.RoleProfiles = append(u.RoleProfiles, cpis.RoleProfile{
				ID:      rpID.String,
				JobRole: cpis.JobRole{Code: code.String, Name: jrName.String},
				Org:     cpis.Org{ODS: ods.String, Name: on.String},
			})
		}
		if activity.Valid {
			rp := &u.RoleProfiles[len(u.RoleProfiles)-1]
			rp.Activities = append(rp.Activities, activity.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	flush()
	return d, nil
}

// cloneUser deep-copies a cached user, so that a caller changing what it
// got cannot change the cache: the strings of its slices in one allocation,
// its role profiles in another.
func cloneUser(u cpis.User) cpis.User {
	n := len(u.Name.Given)
	for _, rp := range u.RoleProfiles {
		n += len(rp.Activities)
	}
	var strs []string
	if n > 0 {
		strs = make([]string, 0, n)
	}
	take := func(s []string) []string {
		if s == nil {
			return nil
		}
		start := len(strs)
		strs = append(strs, s...)
		return strs[start:len(strs):len(strs)] // full slice: an append by the caller copies
	}
	out := u
	out.Name.Given = take(u.Name.Given)
	if u.RoleProfiles != nil {
		out.RoleProfiles = make([]cpis.RoleProfile, len(u.RoleProfiles))
		for i, rp := range u.RoleProfiles {
			rp.Activities = take(rp.Activities)
			out.RoleProfiles[i] = rp
		}
	}
	return out
}

// Endpoint returns the accredited system with the ASID, or an error of kind
// KindNotFound. It reads the in-memory directory.
func (db *DB) Endpoint(ctx context.Context, asid string) (cpis.Endpoint, error) {
	const op = "endpoint"
	d, err := db.directory(ctx)
	if err != nil {
		return cpis.Endpoint{}, internal(op, err)
	}
	ep, ok := d.endpoints[asid]
	if !ok {
		return cpis.Endpoint{}, cpis.Errorf(cpis.KindNotFound, op, "no endpoint has the ASID")
	}
	return ep, nil
}

// User returns the SDS user with the id, with its role profiles and their
// activities in the order given, or an error of kind KindNotFound. It reads
// the in-memory directory and returns a copy.
func (db *DB) User(ctx context.Context, id string) (cpis.User, error) {
	const op = "user"
	d, err := db.directory(ctx)
	if err != nil {
		return cpis.User{}, internal(op, err)
	}
	u, ok := d.users[id]
	if !ok {
		return cpis.User{}, cpis.Errorf(cpis.KindNotFound, op, "no SDS user has the id")
	}
	return cloneUser(u), nil
}
