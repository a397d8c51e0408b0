package cpis_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
)

// The daily cycle purges exactly what no viewer may see any more.
func TestExpired(t *testing.T) {
	for _, c := range []struct {
		name  string
		p     cpis.Plan
		birth string
		today string
		want  bool
	}{
		{"CP-IS009 a delete date reached expires the plan", cpp(start("2026-01-01"), del("2026-11-22")), "", "2026-11-22", true},
		{"CP-IS009 a delete date to come keeps it", cpp(start("2026-01-01"), del("2026-11-23")), "", "2026-11-22", false},
		{"CP-IS010 a CPP on end+365 is kept", cpp(start("2024-01-01"), end("2025-11-22")), "", "2026-11-22", false},
		{"CP-IS010 a CPP the day after end+365 expires", cpp(start("2024-01-01"), end("2025-11-21")), "", "2026-11-22", true},
		{"CP-IS032 a LAC the day after end+365 expires", lac(start("2024-01-01"), end("2025-11-21")), "", "2026-11-22", true},
		{"CP-IS033 a UCP on reaching due+28 expires", ucp(start("2026-01-01"), due("2026-10-25")), "", "2026-11-22", true},
		{"CP-IS033 a UCP the day before due+28 is kept", ucp(start("2026-01-01"), due("2026-10-26")), "", "2026-11-22", false},
		{"CP-IS007 a child over 18y+365d has every CPP expired", cpp(start("2020-01-01")), "2007-11-20", "2026-11-22", true},
		{"CP-IS007 a child on 18y+365d keeps it", cpp(start("2020-01-01")), "2007-11-22", "2026-11-22", false},
		{"an open CPP of a young child is kept", cpp(start("2020-01-01")), "2015-01-01", "2026-11-22", false},
	} {
		var b time.Time
		if c.birth != "" {
			b = day(c.birth)
		}
		if got := cpis.Expired(c.p, b, day(c.today)); got != c.want {
			t.Errorf("%s: Expired = %v", c.name, got)
		}
	}
}

// CP-IS030: the daily cycle persists the 18th-birthday end date.
func TestEndDatedAt18(t *testing.T) {
	for _, c := range []struct {
		name    string
		p       cpis.Plan
		birth   string
		today   string
		changed bool
		end     string
	}{
		{"CP-IS030 an open CPP is end-dated on the 18th birthday once reached", cpp(start("2020-01-01")), "2008-05-10", "2026-05-10", true, "2026-05-10"},
		{"CP-IS030 not the day before the birthday", cpp(start("2020-01-01")), "2008-05-10", "2026-05-09", false, ""},
		{"CP-IS030 a LAC ending after the birthday is brought back to it", lac(start("2020-01-01"), end("2027-01-01")), "2008-05-10", "2026-06-01", true, "2026-05-10"},
		{"CP-IS030 a plan that ended before 18 is unchanged", cpp(start("2020-01-01"), end("2025-01-01")), "2008-05-10", "2026-06-01", false, "2025-01-01"},
		{"CP-IS030 never for an unborn plan", ucp(start("2026-01-01"), due("2027-01-01")), "2008-05-10", "2026-06-01", false, "2027-01-01"},
		{"unknown birth date: nothing to do", cpp(start("2020-01-01")), "", "2026-06-01", false, ""},
	} {
		var b time.Time
		if c.birth != "" {
			b = day(c.birth)
		}
		got, changed := cpis.EndDatedAt18(c.p, b, day(c.today))
		if changed != c.changed {
			t.Errorf("%s: changed = %v", c.name, changed)
		}
		want := time.Time{}
		if c.end != "" {
			want = day(c.end)
		}
		if !got.End.Equal(want) {
			t.Errorf("%s: end %v, want %v", c.name, got.End, want)
		}
	}
}

// CP-IS080: a CPP with neither end nor delete date for two years is stale.
func TestStaleCPP(t *testing.T) {
	for _, c := range []struct {
		name string
		p    cpis.Plan
		want bool
	}{
		{"CP-IS080 two years without end or delete date is stale", cpp(start("2024-11-22")), true},
		{"CP-IS080 a day short of two years is not", cpp(start("2024-11-23")), false},
		{"CP-IS080 an end date given is not stale", cpp(start("2020-01-01"), end("2030-01-01")), false},
		{"CP-IS080 a delete date given is not stale", cpp(start("2020-01-01"), del("2030-01-01")), false},
		{"CP-IS080 only CPPs are reported", lac(start("2020-01-01")), false},
	} {
		if got := cpis.StaleCPP(c.p, day("2026-11-22")); got != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}

func accessBy(user, nhs, when string, shown bool, las ...string) cpis.AccessEvent {
	return cpis.AccessEvent{NHSNumber: cpis.NHSNumber(nhs), At: at(when), Shown: shown, LAs: las,
		Accessor: cpis.Accessor{UserID: user, Name: cpis.Name{Family: user}}}
}

// render is "LA: nhs(users) nhs(users) | LA: ..." for one-line expectations.
func render(ns []cpis.AccessNotification) string {
	var parts []string
	for _, n := range ns {
		var recs []string
		for _, r := range n.Records {
			var users []string
			for _, a := range r.Accesses {
				users = append(users, a.Accessor.UserID)
			}
			recs = append(recs, fmt.Sprintf("%s(%s)", r.NHSNumber, strings.Join(users, ",")))
		}
		parts = append(parts, n.LA.ODS+": "+strings.Join(recs, " "))
	}
	return strings.Join(parts, " | ")
}

func TestAccessNotifications(t *testing.T) {
	const a, b = "9434765919", "9446245796"
	holders := []cpis.LocalAuthority{la("E1"), la("E2"), la("E3")}
	records := []cpis.Record{
		{NHSNumber: a, LA: la("E1"), FileID: "F1", Plans: []cpis.Plan{cpp(start("2026-01-01"))}},
		{NHSNumber: a, LA: la("E2"), FileID: "F2", Plans: []cpis.Plan{lac(start("2026-01-01"))}},
		{NHSNumber: b, LA: la("E1"), FileID: "F3", Plans: []cpis.Plan{cpp(start("2026-01-01"), del("2026-11-22"))}},
	}
	from, to := at("2026-11-21T02:00:00Z"), at("2026-11-22T02:00:00Z")
	for _, c := range []struct {
		name   string
		events []cpis.AccessEvent
		want   string
	}{
		{"CP-IS025 every LA holding records gets a notification, even with no access", nil, "E1:  | E2:  | E3: "},
		{"CP-IS023 an access to a child of two LAs is notified to each", []cpis.AccessEvent{accessBy("u1", a, "2026-11-21T10:00:00Z", true, "E1", "E2")}, "E1: 9434765919(u1) | E2: 9434765919(u1) | E3: "},
		{"CP-IS023 only to the LAs whose plans the access returned", []cpis.AccessEvent{accessBy("u1", a, "2026-11-21T10:00:00Z", true, "E2")}, "E1:  | E2: 9434765919(u1) | E3: "},
		{"CP-IS047 only the first access per user per 24 hours", []cpis.AccessEvent{accessBy("u1", a, "2026-11-21T10:00:00Z", true, "E1"), accessBy("u1", a, "2026-11-21T11:00:00Z", false, "E1"), accessBy("u2", a, "2026-11-21T12:00:00Z", true, "E1")}, "E1: 9434765919(u1,u2) | E2:  | E3: "},
		{"CP-IS025 only accesses in the 24 hours covered", []cpis.AccessEvent{accessBy("u1", a, "2026-11-21T01:59:59Z", true, "E1"), accessBy("u2", a, "2026-11-22T02:00:00Z", true, "E1")}, "E1:  | E2:  | E3: "},
		{"CP-IS009 a record deleted by the end of the period is not notified", []cpis.AccessEvent{accessBy("u1", b, "2026-11-21T10:00:00Z", true, "E1")}, "E1:  | E2:  | E3: "},
	} {
		got := render(cpis.AccessNotifications(holders, records, c.events, nil, from, to))
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	// The notified record names the upload file it came from.
	ns := cpis.AccessNotifications(holders, records, []cpis.AccessEvent{accessBy("u1", a, "2026-11-21T10:00:00Z", true, "E2")}, nil, from, to)
	if ns[1].Records[0].FileID != "F2" {
		t.Errorf("file id %q, want F2", ns[1].Records[0].FileID)
	}
}
