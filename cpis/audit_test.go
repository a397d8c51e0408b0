package cpis_test

import (
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
)

// The purge names the rule that closed a plan's last window.
func TestExpiryReason(t *testing.T) {
	for _, c := range []struct {
		name  string
		p     cpis.Plan
		birth string
		today string
		want  string
	}{
		{"CP-IS009 a delete date reached", cpp(start("2026-01-01"), del("2026-11-22")), "", "2026-11-22", cpis.ExpiredDeleteDate},
		{"CP-IS009 the delete date wins over an end date long past", lac(start("2020-01-01"), end("2021-01-01"), del("2022-01-01")), "", "2026-11-22", cpis.ExpiredDeleteDate},
		{"CP-IS033 an unborn plan on due + 28", ucp(start("2026-01-01"), due("2026-10-25")), "", "2026-11-22", cpis.ExpiredUnbornDue},
		{"CP-IS007 a child past 18y + 365d", cpp(start("2020-01-01")), "2007-11-20", "2026-11-22", cpis.ExpiredAdult},
		{"CP-IS010 a CPP past end + 365", cpp(start("2024-01-01"), end("2025-11-21")), "", "2026-11-22", cpis.ExpiredEndDate},
		{"not expired: no reason", cpp(start("2024-01-01"), end("2025-11-22")), "", "2026-11-22", ""},
	} {
		var b time.Time
		if c.birth != "" {
			b = day(c.birth)
		}
		if got := cpis.ExpiryReason(c.p, b, day(c.today)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// CP-IS076: the audit trace of a purged record is kept until the child's
// 26th birthday or 8 years after the child's death.
func TestAuditUntil(t *testing.T) {
	for _, c := range []struct {
		name         string
		p            cpis.Plan
		birth, death string
		want         string
	}{
		{"CP-IS076 a living child: the 26th birthday", cpp(start("2020-01-01")), "2008-05-10", "", "2034-05-10"},
		{"CP-IS076 a child who died: 8 years after the death", lac(start("2020-01-01")), "2008-05-10", "2021-03-01", "2029-03-01"},
		{"CP-IS076 a death late in life still gives 8 years", cpp(start("2020-01-01")), "2008-05-10", "2030-01-01", "2038-01-01"},
		{"CP-IS076 an unborn child: 26 years from the due date", ucp(start("2026-01-01"), due("2026-09-01")), "1990-01-01", "", "2052-09-01"},
		{"CP-IS076 an unborn child: the mother's death is not the child's", ucp(start("2026-01-01"), due("2026-09-01")), "1990-01-01", "2026-10-01", "2052-09-01"},
		{"CP-IS076 an unborn plan without due date: start + 1 year stands for the birth", ucp(start("2026-01-01")), "", "", "2053-01-01"},
		{"unknown birth date: kept with no end", cpp(start("2020-01-01")), "", "", ""},
	} {
		var b, d time.Time
		if c.birth != "" {
			b = day(c.birth)
		}
		if c.death != "" {
			d = day(c.death)
		}
		want := time.Time{}
		if c.want != "" {
			want = day(c.want)
		}
		if got := cpis.AuditUntil(c.p, b, d); !got.Equal(want) {
			t.Errorf("%s: %v, want %v", c.name, got, want)
		}
	}
}

// CP-IS076: how long each audit entry is kept, by what PDS knows of its
// NHS number when the prune runs.
func TestAuditEntryUntil(t *testing.T) {
	for _, c := range []struct {
		name         string
		nhs, at      string
		birth, death string
		want         string
	}{
		{"an admin action, no NHS number: 8 years", "", "2026-11-22", "", "", "2034-11-22"},
		{"CP-IS076 a living child: the 26th birthday", "9995260107", "2026-11-22", "2015-03-14", "", "2041-03-14"},
		{"CP-IS076 a child who died: 8 years after the death", "9995260107", "2026-11-22", "2015-03-14", "2025-01-10", "2034-11-22"},
		{"CP-IS076 8 years after a death, later than the floor", "9995260107", "2020-01-01", "2015-03-14", "2027-06-01", "2035-06-01"},
		{"CP-IS076 a death after the 26th birthday still gives 8 years", "9995260107", "2026-11-22", "2010-03-14", "2040-01-01", "2048-01-01"},
		{"an 18-year-old: never under 8 years from the entry", "9995260107", "2026-11-22", "2007-12-01", "", "2034-11-22"},
		{"CP-IS033 an adult's number (an unborn plan): 27 years", "9995260107", "2026-11-22", "1990-01-01", "", "2053-11-22"},
		{"birth unknown: 27 years", "9995260107", "2026-11-22", "", "", "2053-11-22"},
	} {
		var b, d time.Time
		if c.birth != "" {
			b = day(c.birth)
		}
		if c.death != "" {
			d = day(c.death)
		}
		e := cpis.AuditEntry{Seq: 1, At: day(c.at).Add(10 * time.Hour), Kind: cpis.AuditQuery, NHSNumber: c.nhs}
		if got := cpis.AuditEntryUntil(e, b, d); !got.Equal(day(c.want)) {
			t.Errorf("%s: %v, want %s", c.name, got, c.want)
		}
	}
}

// The canonical encoding is fixed byte for byte (docs/audit.md): a change
// here breaks every chain already written.
func TestAuditCanonical(t *testing.T) {
	e := cpis.AuditEntry{Seq: 42, At: time.Date(2026, 11, 22, 3, 4, 5, 600, time.UTC), Kind: cpis.AuditQuery,
		Action: "query", Outcome: "shown", NHSNumber: "9995260107", User: "200009876204", RoleProfile: "100077650987",
		JobRole: "R0680", ASID: "200000000101", Org: "RKE", Detail: "message \"M1\"\n\\ é <&>\x01"}
	want := `{"action":"query","asid":"200000000101","at":"2026-11-22T03:04:05.000000600Z",` +
		`"detail":"message \"M1\"\u000a\\ é <&>\u0001","job_role":"R0680","kind":"query","nhs":"9995260107",` +
		`"org":"RKE","outcome":"shown","role_profile":"100077650987","seq":42,"user":"200009876204"}`
	got := e.Canonical()
	if string(got) != want {
		t.Fatalf("canonical:\n%s\nwant\n%s", got, want)
	}
	back, err := cpis.ParseAuditEntry(got)
	if err != nil {
		t.Fatal(err)
	}
	if !back.At.Equal(e.At) || back.Detail != e.Detail || back.Seq != 42 || back.User != e.User {
		t.Errorf("round trip: %+v", back)
	}
	// The same entry spelled otherwise is refused: white space, key order,
	// an escape canonical form does not use, an unknown key.
	for _, bad := range []string{
		strings.Replace(want, `"seq":42`, `"seq": 42`, 1),
		strings.Replace(want, `"action":"query","asid":"200000000101"`, `"asid":"200000000101","action":"query"`, 1),
		strings.Replace(want, `é`, `\u00e9`, 1),
		strings.Replace(want, `"seq":42`, `"seq":42,"x":"y"`, 1),
		strings.Replace(want, `"seq":42`, `"seq":43`, 1)[:len(want)-1],
	} {
		if _, err := cpis.ParseAuditEntry([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	// The hash covers the previous hash and the content.
	zero := make([]byte, cpis.AuditHashSize)
	h1 := cpis.AuditHash(zero, got)
	if len(h1) != 32 || string(h1) == string(cpis.AuditHash(h1, got)) {
		t.Error("the hash does not depend on the previous hash")
	}
}

// FuzzParseAuditEntry: whatever bytes a database file holds, parsing never
// panics, and what parses is exactly the canonical encoding of what it
// parses to (one spelling per entry).
func FuzzParseAuditEntry(f *testing.F) {
	f.Add([]byte(`{"action":"query","at":"2026-11-22T03:04:05.000000600Z","kind":"query","nhs":"9995260107","seq":1}`))
	f.Add([]byte(`{"at":"2026-11-22T03:04:05.000000000Z","detail":"a\u000ab\\\"","kind":"admin","seq":42}`))
	f.Add([]byte(`{"seq":1}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := cpis.ParseAuditEntry(b)
		if err != nil {
			return
		}
		if got := e.Canonical(); string(got) != string(b) {
			t.Fatalf("parsed %q, canonical %q", b, got)
		}
	})
}
