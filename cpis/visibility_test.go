package cpis_test

import (
	"fmt"
	"testing"
	"time"

	"spinegw/cpis"
)

// when is the situation a plan is looked at in: the civil date in England,
// the subject's date of birth (zero if PDS does not know it) and the viewer's
// job role.
type when struct {
	today, birth time.Time
	role         string
}

// today starts a situation: looked at on civil date s by a doctor (R8000
// Clinical Practitioner Access Role), no date of birth known.
func today(s string) when { return when{today: day(s), role: "R8000"} }

func (w when) born(s string) when  { w.birth = day(s); return w }
func (w when) as(role string) when { w.role = role; return w }

// outcome is what Visible should do with a plan.
type outcome struct {
	shown     bool
	end       time.Time
	checksEnd bool // whether the end date shown is part of the expectation
}

var (
	hidden   = outcome{}
	shown    = outcome{shown: true}
	notEnded = outcome{shown: true, checksEnd: true} // shown with no end date
)

// endedOn: shown, with end date s.
func endedOn(s string) outcome { return outcome{shown: true, end: day(s), checksEnd: true} }

func TestVisible(t *testing.T) {
	tests := []struct {
		name string
		plan cpis.Plan
		when when
		want outcome
	}{
		// CP-IS009: a delete date logically deletes the item on the date stated.
		{"CP-IS009 a delete date tomorrow leaves the plan shown", cpp(start("2025-01-01"), del("2026-11-23")), today("2026-11-22"), shown},
		{"CP-IS009 a delete date today hides the plan", cpp(start("2025-01-01"), del("2026-11-22")), today("2026-11-22"), hidden},
		{"CP-IS009 a delete date yesterday hides the plan", cpp(start("2025-01-01"), del("2026-11-21")), today("2026-11-22"), hidden},
		{"CP-IS009 a delete date today hides a LAC", lac(start("2025-01-01"), del("2026-11-22")), today("2026-11-22"), hidden},
		{"CP-IS009 a delete date yesterday hides a LAC", lac(start("2025-01-01"), del("2026-11-21")), today("2026-11-22"), hidden},
		{"CP-IS009 a delete date tomorrow leaves a LAC shown", lac(start("2025-01-01"), del("2026-11-23")), today("2026-11-22"), shown},
		{"CP-IS009 a delete date today hides an unborn plan even from a midwife", ucp(start("2026-09-01"), due("2027-01-10"), del("2026-11-22")), today("2026-11-22").as("R0680"), hidden},
		{"CP-IS009 a delete date tomorrow leaves an unborn plan shown to a midwife", ucp(start("2026-09-01"), due("2027-01-10"), del("2026-11-23")), today("2026-11-22").as("R0680"), shown},
		{"CP-IS009 a delete date hides an ended plan still inside its 365 days", cpp(start("2024-01-01"), end("2026-06-01"), del("2026-11-22")), today("2026-11-22"), hidden},
		{"CP-IS009 a delete date hides a child well under 18", cpp(start("2025-01-01"), del("2026-11-22")), today("2026-11-22").born("2020-05-05"), hidden},
		{"CP-IS009 a delete date later than end+365 does not extend the plan", cpp(start("2024-01-01"), end("2025-03-01"), del("2027-01-01")), today("2026-03-02"), hidden},

		// CP-IS010, CP-IS032: CPP and LAC stay available up to End Date+365 days.
		{"CP-IS010 a plan with no end date is shown", cpp(start("2020-01-01")), today("2026-11-22"), notEnded},
		{"CP-IS010 a plan ending in the future is shown with its end date", cpp(start("2025-01-01"), end("2027-01-01")), today("2026-11-22"), endedOn("2027-01-01")},
		{"CP-IS010 a plan ending today is shown", cpp(start("2025-01-01"), end("2026-11-22")), today("2026-11-22"), endedOn("2026-11-22")},
		{"CP-IS010 a CPP ended yesterday is still shown", cpp(start("2024-01-01"), end("2025-03-01")), today("2025-03-02"), endedOn("2025-03-01")},
		{"CP-IS010 a CPP on end+365, its last day, is shown", cpp(start("2024-01-01"), end("2025-03-01")), today("2026-03-01"), endedOn("2025-03-01")},
		{"CP-IS010 a CPP the day after end+365 is hidden", cpp(start("2024-01-01"), end("2025-03-01")), today("2026-03-02"), hidden},
		{"CP-IS010 a CPP long after end+365 is hidden", cpp(start("2020-01-01"), end("2021-03-01")), today("2026-03-02"), hidden},
		{"CP-IS032 a LAC on end+365, its last day, is shown", lac(start("2024-01-01"), end("2025-03-01")), today("2026-03-01"), endedOn("2025-03-01")},
		{"CP-IS032 a LAC the day after end+365 is hidden", lac(start("2024-01-01"), end("2025-03-01")), today("2026-03-02"), hidden},
		{"CP-IS010 365 days across 29 February 2024: end+365 is the last day", cpp(start("2022-01-01"), end("2023-06-01")), today("2024-05-31"), endedOn("2023-06-01")},
		{"CP-IS010 365 days across 29 February 2024: the anniversary is already hidden", cpp(start("2022-01-01"), end("2023-06-01")), today("2024-06-01"), hidden},
		{"CP-IS010 end+365 is the last day for a child of known age too", cpp(start("2024-01-01"), end("2025-03-01")), today("2026-03-01").born("2015-07-07"), endedOn("2025-03-01")},
		{"CP-IS010 the day after end+365 is hidden for a child of known age too", cpp(start("2024-01-01"), end("2025-03-01")), today("2026-03-02").born("2015-07-07"), hidden},

		// CP-IS011, CP-IS033: an unborn plan is deleted on reaching its due date+28 days.
		{"CP-IS011 an unborn plan before its due date is shown to a midwife", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("R0680"), endedOn("2026-05-10")},
		{"CP-IS011 an unborn plan on its due date is shown to a midwife", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-05-10").as("R0680"), shown},
		{"CP-IS011 an unborn plan on due+27, its last day, is shown to a midwife", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-06-06").as("R0680"), shown},
		{"CP-IS033 an unborn plan on reaching due+28 is deleted", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-06-07").as("R0680"), hidden},
		{"CP-IS033 an unborn plan the day after due+28 is hidden", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-06-08").as("R0680"), hidden},
		{"CP-IS011 an unborn plan is not kept for 365 days like a CPP", ucp(start("2025-01-01"), due("2025-05-10")), today("2026-01-01").as("R0680"), hidden},
		{"CP-IS033 an unborn plan without its mandatory due date has nothing to close it", ucp(start("2026-01-01")), today("2030-01-01").as("R0680"), notEnded},
		{"CP-IS033 the mother's age does not hide her unborn child's plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").born("1990-02-02").as("R0680"), shown},
		{"CP-IS033 the mother being under 18 does not end-date her unborn child's plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").born("2008-02-02").as("R0680"), endedOn("2026-05-10")},

		// CP-IS041, CP-IS087: unborn plans only for midwife job roles.
		{"CP-IS041 R0640 Midwife Consultant sees an unborn plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("R0640"), shown},
		{"CP-IS041 R0650 Midwife Specialist Practitioner sees an unborn plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("R0650"), shown},
		{"CP-IS041 R0660 Midwife Manager sees an unborn plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("R0660"), shown},
		{"CP-IS041 R0670 Midwife - Sister/Charge Nurse sees an unborn plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("R0670"), shown},
		{"CP-IS041 R0680 Midwife sees an unborn plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("R0680"), shown},
		{"CP-IS087 a midwife given as the SDS triplet S0010:G0020:R0680 sees an unborn plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("S0010:G0020:R0680"), shown},
		{"CP-IS087 a midwife given as the triplet S0010:G0020:R0640 sees an unborn plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("S0010:G0020:R0640"), shown},
		{"CP-IS041 R8000 Clinical Practitioner does not see an unborn plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("R8000"), hidden},
		{"CP-IS041 R0260 General Medical Practitioner does not see an unborn plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("R0260"), hidden},
		{"CP-IS041 no job role does not see an unborn plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as(""), hidden},
		{"CP-IS041 a non-midwife triplet S0010:G0020:R8000 does not see an unborn plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("S0010:G0020:R8000"), hidden},
		{"CP-IS041 a code next to the midwife range, R0690, does not see an unborn plan", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("R0690"), hidden},
		{"CP-IS087 the midwife R code must be the triplet's job role part, not its S part", ucp(start("2026-01-01"), due("2026-05-10")), today("2026-03-01").as("R0680:G0020:S0010"), hidden},
		{"CP-IS041 the midwife rule is for unborn plans only: R8000 sees a CPP", cpp(start("2026-01-01")), today("2026-03-01").as("R8000"), shown},
		{"CP-IS041 the midwife rule is for unborn plans only: no job role sees a LAC", lac(start("2026-01-01")), today("2026-03-01").as(""), shown},
		{"CP-IS041 a midwife sees a CPP as anyone does", cpp(start("2026-01-01")), today("2026-03-01").as("R0680"), shown},

		// CP-IS007: a child is up to 18 years and 365 days old.
		{"CP-IS007 a child on 18y+365d, the last day, is shown", cpp(start("2020-01-01")), today("2027-01-15").born("2008-01-15"), endedOn("2026-01-15")},
		{"CP-IS007 a child the day after 18y+365d: nothing is shown", cpp(start("2020-01-01")), today("2027-01-16").born("2008-01-15"), hidden},
		{"CP-IS007 a LAC on 18y+365d, the last day, is shown", lac(start("2020-01-01")), today("2027-01-15").born("2008-01-15"), endedOn("2026-01-15")},
		{"CP-IS007 a LAC the day after 18y+365d: nothing is shown", lac(start("2020-01-01")), today("2027-01-16").born("2008-01-15"), hidden},
		{"CP-IS007 a plan ended after the 18th birthday is still hidden after 18y+365d", cpp(start("2020-01-01"), end("2026-12-01")), today("2027-01-16").born("2008-01-15"), hidden},
		{"CP-IS007 a plan ending in the future is hidden after 18y+365d", lac(start("2020-01-01"), end("2030-01-01")), today("2027-01-16").born("2008-01-15"), hidden},
		{"CP-IS007 with 29 February in the nineteenth year, 18y+365d is the last day", cpp(start("2020-01-01")), today("2028-05-31").born("2009-06-01"), endedOn("2027-06-01")},
		{"CP-IS007 with 29 February in the nineteenth year, the 19th birthday is too late", cpp(start("2020-01-01")), today("2028-06-01").born("2009-06-01"), hidden},
		{"CP-IS007 born on 29 February: 18y+365d from 1 March is the last day", cpp(start("2020-01-01")), today("2027-03-01").born("2008-02-29"), endedOn("2026-03-01")},
		{"CP-IS007 born on 29 February: the day after 18y+365d nothing is shown", cpp(start("2020-01-01")), today("2027-03-02").born("2008-02-29"), hidden},

		// CP-IS030: reaching the 18th birthday end-dates a plan still held.
		{"CP-IS030 the day before the 18th birthday a CPP is not end-dated", cpp(start("2020-01-01")), today("2026-01-14").born("2008-01-15"), notEnded},
		{"CP-IS030 on the 18th birthday a CPP is end-dated on it", cpp(start("2020-01-01")), today("2026-01-15").born("2008-01-15"), endedOn("2026-01-15")},
		{"CP-IS030 the day after the 18th birthday a CPP shows the birthday as end date", cpp(start("2020-01-01")), today("2026-01-16").born("2008-01-15"), endedOn("2026-01-15")},
		{"CP-IS030 the day before the 18th birthday a LAC is not end-dated", lac(start("2020-01-01")), today("2026-01-14").born("2008-01-15"), notEnded},
		{"CP-IS030 on the 18th birthday a LAC is end-dated on it", lac(start("2020-01-01")), today("2026-01-15").born("2008-01-15"), endedOn("2026-01-15")},
		{"CP-IS030 born on 29 February: on 28 February of the 18th year not yet end-dated", cpp(start("2020-01-01")), today("2026-02-28").born("2008-02-29"), notEnded},
		{"CP-IS030 born on 29 February: end-dated on 1 March of the 18th year", cpp(start("2020-01-01")), today("2026-03-01").born("2008-02-29"), endedOn("2026-03-01")},
		{"CP-IS030 born on 29 February: a LAC end-dated on 1 March of the 18th year", lac(start("2020-01-01")), today("2026-03-02").born("2008-02-29"), endedOn("2026-03-01")},
		{"CP-IS030 end+365 after the 18th birthday end date is the 18y+365d last day", lac(start("2020-01-01")), today("2027-01-15").born("2008-01-15"), endedOn("2026-01-15")},
		{"CP-IS030 an end date before the 18th birthday is kept", cpp(start("2020-01-01"), end("2025-06-01")), today("2026-02-01").born("2008-01-15"), endedOn("2025-06-01")},
		{"CP-IS030 an end date before the 18th birthday still ends the plan at end+365", cpp(start("2020-01-01"), end("2025-06-01")), today("2026-06-02").born("2008-01-15"), hidden},
		{"CP-IS030 an end date beyond the 18th birthday is shown as given before it", cpp(start("2020-01-01"), end("2026-09-01")), today("2026-01-14").born("2008-01-15"), endedOn("2026-09-01")},
		{"CP-IS030 a plan still open at the 18th birthday is end-dated on it whatever later end date it had", cpp(start("2020-01-01"), end("2026-09-01")), today("2026-01-15").born("2008-01-15"), endedOn("2026-01-15")},
		{"CP-IS030 a plan ending on the 18th birthday keeps that end date", lac(start("2020-01-01"), end("2026-01-15")), today("2026-06-01").born("2008-01-15"), endedOn("2026-01-15")},

		// Unknown date of birth: the age rules cannot apply.
		{"CP-IS007 with no date of birth known, the age cut-off does not apply", cpp(start("2000-01-01")), today("2040-01-01"), notEnded},
		{"CP-IS030 with no date of birth known, no end date is invented", lac(start("2000-01-01")), today("2040-01-01"), notEnded},
		{"CP-IS010 with no date of birth known, end+365 still applies", cpp(start("2000-01-01"), end("2025-03-01")), today("2026-03-02"), hidden},

		// Anything else is not CP-IS information.
		{"an unknown plan type is never shown", plan("XYZ", start("2026-01-01")), today("2026-03-01").as("R0680"), hidden},
		{"an empty plan type is never shown", plan("", start("2026-01-01")), today("2026-03-01"), hidden},
	}
	check := func(p cpis.Plan, w when, want outcome) error {
		got, ok := cpis.Visible(p, w.birth, w.today, cpis.Viewer{JobRole: w.role})
		switch {
		case ok != want.shown:
			return fmt.Errorf("shown = %v, want %v", ok, want.shown)
		case !ok && got != (cpis.Plan{}):
			return fmt.Errorf("hidden plan returned as %+v", got)
		case ok && (got.Type != p.Type || !got.Start.Equal(p.Start) || !got.Delete.Equal(p.Delete)):
			return fmt.Errorf("shown as %+v, changed more than the end date of %+v", got, p)
		case want.checksEnd && !got.End.Equal(want.end):
			return fmt.Errorf("shown with end date %s, want %s", ymd(got.End), ymd(want.end))
		}
		return nil
	}
	for _, tt := range tests {
		if err := check(tt.plan, tt.when, tt.want); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func ymd(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.Format(time.DateOnly)
}

// CP-IS007, CP-IS030: for every date of birth over four years (every leap
// day among them), an open plan is not end-dated the day before the 18th
// birthday, is end-dated on it, is still shown on end+365 (the 18y+365d last
// day) and is gone the day after.
func TestVisibleOpenPlanAroundEighteenForEveryBirthDate(t *testing.T) {
	for birth := day("2006-01-01"); birth.Before(day("2010-01-01")); birth = birth.AddDate(0, 0, 1) {
		eighteen := cpis.EighteenthBirthday(birth)
		last := cpis.LastChildDay(birth)
		if want := eighteen.AddDate(0, 0, 365); !last.Equal(want) {
			t.Fatalf("born %s: last child day %s, want 18th birthday+365 %s", ymd(birth), ymd(last), ymd(want))
		}
		if y, m, d := birth.Date(); m == time.February && d == 29 {
			if want := cpis.Date(y+18, time.March, 1); !eighteen.Equal(want) {
				t.Fatalf("born %s: 18th birthday %s, want %s", ymd(birth), ymd(eighteen), ymd(want))
			}
		} else if eighteen.Month() != m || eighteen.Day() != d || eighteen.Year() != y+18 {
			t.Fatalf("born %s: 18th birthday %s", ymd(birth), ymd(eighteen))
		}
		for _, p := range []cpis.Plan{cpp(start("2005-01-01")), lac(start("2005-01-01"))} {
			v := cpis.Viewer{JobRole: "R8000"}
			if got, ok := cpis.Visible(p, birth, eighteen.AddDate(0, 0, -1), v); !ok || !got.End.IsZero() {
				t.Errorf("born %s, %s the day before 18: shown %v end %s, want shown, not end-dated", ymd(birth), p.Type, ok, ymd(got.End))
			}
			if got, ok := cpis.Visible(p, birth, eighteen, v); !ok || !got.End.Equal(eighteen) {
				t.Errorf("born %s, %s on the 18th birthday: shown %v end %s, want end-dated %s", ymd(birth), p.Type, ok, ymd(got.End), ymd(eighteen))
			}
			if got, ok := cpis.Visible(p, birth, last, v); !ok || !got.End.Equal(eighteen) {
				t.Errorf("born %s, %s on 18y+365d: shown %v end %s, want shown ended %s", ymd(birth), p.Type, ok, ymd(got.End), ymd(eighteen))
			}
			if _, ok := cpis.Visible(p, birth, last.AddDate(0, 0, 1), v); ok {
				t.Errorf("born %s, %s the day after 18y+365d: shown", ymd(birth), p.Type)
			}
		}
	}
}

// CP-IS021, CP-IS034, CP-IS035, CP-IS046: every local authority with a
// visible plan, each with its visible plans, in the order held.
func TestVisibleHoldings(t *testing.T) {
	const none = ""
	tests := []struct {
		name    string
		records []cpis.Record
		when    when
		want    string // LA[plan types] for each holding, or none
	}{
		{"CP-IS015 no record: nothing to show", nil, today("2026-03-01"), none},
		{"CP-IS021 one LA with one visible plan is shown", []cpis.Record{rec("E10", cpp(start("2025-01-01")))}, today("2026-03-01"), "E10[CPP]"},
		{"CP-IS034 another LA's plans are kept alongside", []cpis.Record{rec("E10", cpp(start("2025-01-01"))), rec("E20", lac(start("2025-06-01")))}, today("2026-03-01"), "E10[CPP] E20[LAC]"},
		{"CP-IS046 three LAs are shown in the order held", []cpis.Record{rec("E30", lac(start("2025-01-01"))), rec("E10", cpp(start("2025-01-01"))), rec("E20", cpp(start("2025-02-01")))}, today("2026-03-01"), "E30[LAC] E10[CPP] E20[CPP]"},
		{"CP-IS035 a CPP, an unborn CPP and a LAC at once, all shown to a midwife", []cpis.Record{rec("E10", cpp(start("2025-01-01")), ucp(start("2026-01-01"), due("2026-05-10")), lac(start("2025-02-01")))}, today("2026-03-01").as("R0680"), "E10[CPP UCP LAC]"},
		{"CP-IS035 a CPP, an unborn CPP and a LAC at once: the unborn plan hidden from a doctor", []cpis.Record{rec("E10", cpp(start("2025-01-01")), ucp(start("2026-01-01"), due("2026-05-10")), lac(start("2025-02-01")))}, today("2026-03-01").as("R8000"), "E10[CPP LAC]"},
		{"CP-IS035 two CPPs of one LA are both shown", []cpis.Record{rec("E10", cpp(start("2020-01-01"), end("2021-01-01")), cpp(start("2025-01-01")))}, today("2021-06-01"), "E10[CPP CPP]"},
		{"CP-IS021 an LA whose only plan is deleted is left out", []cpis.Record{rec("E10", cpp(start("2025-01-01"))), rec("E20", lac(start("2025-01-01"), del("2026-02-01")))}, today("2026-03-01"), "E10[CPP]"},
		{"CP-IS009 a deleted CPP goes while the same LA's LAC stays", []cpis.Record{rec("E10", cpp(start("2025-01-01"), del("2026-02-01")), lac(start("2025-01-01")))}, today("2026-03-01"), "E10[LAC]"},
		{"CP-IS010 an LA whose only plan ended over 365 days ago is left out", []cpis.Record{rec("E10", cpp(start("2020-01-01"), end("2024-01-01"))), rec("E20", lac(start("2025-01-01")))}, today("2026-03-01"), "E20[LAC]"},
		{"CP-IS041 an LA holding only an unborn plan is left out for a doctor", []cpis.Record{rec("E10", ucp(start("2026-01-01"), due("2026-05-10"))), rec("E20", cpp(start("2025-01-01")))}, today("2026-03-01"), "E20[CPP]"},
		{"CP-IS041 only an unborn plan, a doctor: nothing to show", []cpis.Record{rec("E10", ucp(start("2026-01-01"), due("2026-05-10")))}, today("2026-03-01").as("R8000"), none},
		{"CP-IS087 only an unborn plan, a midwife: it is shown", []cpis.Record{rec("E10", ucp(start("2026-01-01"), due("2026-05-10")))}, today("2026-03-01").as("R0660"), "E10[UCP]"},
		{"CP-IS007 every LA is left out once the child is over 18y+365d", []cpis.Record{rec("E10", cpp(start("2020-01-01"))), rec("E20", lac(start("2021-01-01")))}, today("2027-01-16").born("2008-01-15"), none},
		{"CP-IS046 an LA with no plans at all is left out", []cpis.Record{rec("E10"), rec("E20", lac(start("2025-01-01")))}, today("2026-03-01"), "E20[LAC]"},
	}
	check := func(records []cpis.Record, w when) string {
		return holdingsString(cpis.VisibleHoldings(records, w.birth, w.today, cpis.Viewer{JobRole: w.role}))
	}
	for _, tt := range tests {
		if got := check(tt.records, tt.when); got != tt.want {
			t.Errorf("%s: holdings %q, want %q", tt.name, got, tt.want)
		}
	}
}

// CP-IS030: the holdings carry the plans as shown, with the 18th birthday
// end date, and the LA as held (CP-IS008 display names come from it).
func TestVisibleHoldingsShowPlansAsShown(t *testing.T) {
	records := []cpis.Record{rec("E10", cpp(start("2020-01-01")), lac(start("2021-01-01"), end("2025-06-01")))}
	hs := cpis.VisibleHoldings(records, day("2008-01-15"), day("2026-02-01"), cpis.Viewer{})
	if len(hs) != 1 || len(hs[0].Plans) != 2 {
		t.Fatalf("holdings %+v", hs)
	}
	if got := hs[0].Plans[0].End; !got.Equal(day("2026-01-15")) {
		t.Errorf("open CPP of an 18-year-old shown ending %s, want the 18th birthday", ymd(got))
	}
	if got := hs[0].Plans[1].End; !got.Equal(day("2025-06-01")) {
		t.Errorf("ended LAC shown ending %s, want 2025-06-01", ymd(got))
	}
	if hs[0].LA != la("E10") {
		t.Errorf("LA %+v, want %+v", hs[0].LA, la("E10"))
	}
	if !records[0].Plans[0].End.IsZero() {
		t.Errorf("VisibleHoldings changed the record it was given")
	}
}

func TestHoldingHasUnbornHasChild(t *testing.T) {
	tests := []struct {
		name          string
		plans         []cpis.Plan
		unborn, child bool
	}{
		{"CP-IS033 an unborn plan alone: unborn, no child", []cpis.Plan{ucp()}, true, false},
		{"a CPP alone: a child, not unborn", []cpis.Plan{cpp()}, false, true},
		{"a LAC alone: a child, not unborn", []cpis.Plan{lac()}, false, true},
		{"CP-IS035 a CPP and an unborn plan: both", []cpis.Plan{cpp(), ucp()}, true, true},
		{"no plans: neither", nil, false, false},
	}
	for _, tt := range tests {
		h := cpis.Holding{LA: la("E10"), Plans: tt.plans}
		if h.HasUnborn() != tt.unborn || h.HasChild() != tt.child {
			t.Errorf("%s: HasUnborn %v HasChild %v", tt.name, h.HasUnborn(), h.HasChild())
		}
	}
}

// CP-IS009 and every date rule count civil dates in England: a delete date
// takes effect at midnight there, which in summer is 23:00 UTC the day
// before.
func TestToday(t *testing.T) {
	tests := []struct {
		name    string
		instant time.Time
		want    string
	}{
		{"late evening UTC in British Summer Time is already the next day in England", at("2026-07-01T23:30:00Z"), "2026-07-02"},
		{"23:00 UTC in British Summer Time is midnight in England", at("2026-07-01T23:00:00Z"), "2026-07-02"},
		{"22:59:59 UTC in British Summer Time is still the same day in England", at("2026-07-01T22:59:59Z"), "2026-07-01"},
		{"late evening UTC in winter is the same day in England (GMT)", at("2026-01-15T23:30:00Z"), "2026-01-15"},
		{"the evening before clocks go forward is still GMT", at("2026-03-28T23:30:00Z"), "2026-03-28"},
		{"the evening after clocks go forward is BST", at("2026-03-29T23:30:00Z"), "2026-03-30"},
		{"the evening before clocks go back is still BST", at("2026-10-24T23:30:00Z"), "2026-10-25"},
		{"the evening after clocks go back is GMT", at("2026-10-25T23:30:00Z"), "2026-10-25"},
		{"an instant written in another zone counts in England", at("2026-07-01T20:00:00-04:00"), "2026-07-02"},
		{"an instant just after midnight in England written in +02:00", at("2026-01-16T02:00:00+02:00"), "2026-01-16"},
	}
	for _, tt := range tests {
		got := cpis.Today(tt.instant)
		if !got.Equal(day(tt.want)) || got.Location() != time.UTC || got != cpis.Date(got.Date()) {
			t.Errorf("%s: Today(%s) = %s, want %s as midnight UTC", tt.name, tt.instant.Format(time.RFC3339), got, tt.want)
		}
	}
}

// CP-IS009: at 00:30 in England on the delete date (23:30 UTC the day
// before, in summer) the plan is already gone.
func TestDeleteDateTakesEffectAtMidnightInEngland(t *testing.T) {
	p := cpp(start("2025-01-01"), del("2026-07-02"))
	if _, ok := cpis.Visible(p, time.Time{}, cpis.Today(at("2026-07-01T22:30:00Z")), cpis.Viewer{}); !ok {
		t.Errorf("23:30 in England the day before the delete date: hidden, want shown")
	}
	if _, ok := cpis.Visible(p, time.Time{}, cpis.Today(at("2026-07-01T23:30:00Z")), cpis.Viewer{}); ok {
		t.Errorf("00:30 in England on the delete date: shown, want hidden")
	}
}
