package cpis

import "time"

// Retention windows, in days after the end date, during which an ended plan
// stays visible.
const (
	// CP-IS010, CP-IS032: CPP and LAC information stays available for 365 days
	// after its end date.
	EndedPlanDays = 365
	// CP-IS011, CP-IS033: an unborn child's plan is deleted on reaching the
	// end date (the expected due date) + 28 days, so due date + 27 is the
	// last day it is shown (also CP-SC013 and conformance criterion 8: no
	// information "at" End Date+28days).
	UnbornPlanDays = 28
)

// midwifeRoles are the job roles that may see unborn child protection plans
// (CP-IS041, CP-IS087).
var midwifeRoles = map[string]bool{
	"R0640": true, // Midwife Consultant
	"R0650": true, // Midwife Specialist Practitioner
	"R0660": true, // Midwife Manager
	"R0670": true, // Midwife - Sister/Charge Nurse
	"R0680": true, // Midwife
}

// IsMidwife reports whether the job role code (R code or SDS triplet) is one
// of the midwife roles of CP-IS041 and CP-IS087.
func IsMidwife(jobRole string) bool { return midwifeRoles[RCode(jobRole)] }

// EighteenthBirthday returns the date a child born on birth turns 18. A child
// born on 29 February turns 18 on 1 March in a non-leap year.
func EighteenthBirthday(birth time.Time) time.Time { return birth.AddDate(18, 0, 0) }

// LastChildDay is the last day on which a person born on birth is still a
// child for CP-IS: 18 years and 365 days old (CP-IS007).
func LastChildDay(birth time.Time) time.Time {
	return EighteenthBirthday(birth).AddDate(0, 0, EndedPlanDays)
}

// Viewer describes who is looking, as far as visibility depends on it.
type Viewer struct {
	JobRole string // R code or triplet; decides whether unborn plans are shown
}

// Visible decides whether plan p is visible on civil date today to viewer v,
// for a subject born on birth (zero if unknown). It returns the plan as it is
// to be shown: a CPP or LAC still open on the child's 18th birthday (no end
// date, or one after it) is shown end-dated on that birthday once it is
// reached (CP-IS030).
//
// Rules, in order:
//   - a delete date on or before today hides the plan (CP-IS009);
//   - unborn plans are shown only to midwife job roles (CP-IS041, CP-IS087) and
//     are gone on the due date + 28 days (CP-IS011, CP-IS033);
//   - nothing of a child older than 18 years and 365 days is shown (CP-IS007);
//   - CPP and LAC are shown until the end date + 365 days (CP-IS010, CP-IS032),
//     where a missing end date, or one after the 18th birthday, becomes the
//     18th birthday once reached (CP-IS030).
//
// A delete date and the unborn due date + 28 days take effect on the day
// itself; End Date + 365 days and 18 years + 365 days are the last days
// shown, and the day after them the plan is not.
func Visible(p Plan, birth, today time.Time, v Viewer) (Plan, bool) {
	if !p.Delete.IsZero() && !p.Delete.After(today) {
		return Plan{}, false
	}
	switch p.Type {
	case UCP:
		if !IsMidwife(v.JobRole) {
			return Plan{}, false
		}
		// The schema makes the due date mandatory; a plan without one has
		// no window to close it and stays visible.
		if !p.End.IsZero() && !today.Before(p.End.AddDate(0, 0, UnbornPlanDays)) {
			return Plan{}, false
		}
		return p, true
	case CPP, LAC:
		if !birth.IsZero() {
			if today.After(LastChildDay(birth)) {
				return Plan{}, false
			}
			// CP-IS030: a plan still held when the child turns 18 is end-dated
			// on the birthday, whether it had no end date or a later one.
			eighteen := EighteenthBirthday(birth)
			if (p.End.IsZero() || p.End.After(eighteen)) && !today.Before(eighteen) {
				p.End = eighteen
			}
		}
		if !p.End.IsZero() && today.After(p.End.AddDate(0, 0, EndedPlanDays)) {
			return Plan{}, false
		}
		return p, true
	}
	return Plan{}, false
}

// Holding is what one local authority holds for a subject, as shown.
type Holding struct {
	LA    LocalAuthority
	Plans []Plan // visible plans only, in the order held
}

// HasUnborn reports whether any plan of the holding is an unborn plan.
func (h Holding) HasUnborn() bool {
	for _, p := range h.Plans {
		if p.Type == UCP {
			return true
		}
	}
	return false
}

// HasChild reports whether any plan of the holding is a CPP or LAC.
func (h Holding) HasChild() bool {
	for _, p := range h.Plans {
		if p.Type != UCP {
			return true
		}
	}
	return false
}

// VisibleHoldings applies Visible to every plan of every record and keeps the
// local authorities with at least one visible plan (CP-IS021, CP-IS046).
func VisibleHoldings(records []Record, birth, today time.Time, v Viewer) []Holding {
	var out []Holding
	for _, r := range records {
		var plans []Plan
		for _, p := range r.Plans {
			if shown, ok := Visible(p, birth, today, v); ok {
				plans = append(plans, shown)
			}
		}
		if len(plans) > 0 {
			out = append(out, Holding{LA: r.LA, Plans: plans})
		}
	}
	return out
}
