package cpis_test

import (
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
