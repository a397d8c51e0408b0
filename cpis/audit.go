package cpis

import "time"

// Why the daily cycle purges a plan from the live tables: the rule of
// Visible that closed its last window. The purge keeps the reason in the
// audit trace it leaves (CP-IS075).
const (
	ExpiredDeleteDate = "delete-date"  // CP-IS009: the LA's delete date was reached
	ExpiredUnbornDue  = "due-date+28"  // CP-IS011, CP-IS033: an unborn plan on its due date + 28 days
	ExpiredAdult      = "age-18y+365d" // CP-IS007: the child is older than 18 years and 365 days
	ExpiredEndDate    = "end-date+365" // CP-IS010, CP-IS032: a CPP or LAC past its end date + 365 days
	ExpiredOther      = "other"        // none of the above: a plan type Visible never shows
)

// ExpiryReason returns why plan p is expired on civil date today (one of the
// Expired* constants), or "" when it is not: Expired decides, this only
// names the rule, checked in the order Visible applies them.
func ExpiryReason(p Plan, birth, today time.Time) string {
	if !Expired(p, birth, today) {
		return ""
	}
	switch {
	case !p.Delete.IsZero() && !p.Delete.After(today):
		return ExpiredDeleteDate
	case p.Type == UCP:
		return ExpiredUnbornDue
	case (p.Type == CPP || p.Type == LAC) && !birth.IsZero() && today.After(LastChildDay(birth)):
		return ExpiredAdult
	case p.Type == CPP || p.Type == LAC:
		return ExpiredEndDate
	}
	return ExpiredOther
}

// Audit retention (CP-IS076): the audit information from which it can be
// derived that a record existed (CP-IS075) is kept until the child's 26th
// birthday, or until 8 years after the child's death.
const (
	AuditYearsAfterBirth = 26
	AuditYearsAfterDeath = 8
)

// AuditUntil returns the first civil date on which the audit trace of a
// purged plan may itself be deleted (CP-IS076), or the zero time when it
// must be kept with no end in sight (the child's birth date is unknown).
//
//   - A child who has died: 8 years after the death, whether that falls
//     before or after the 26th birthday (the medical-records rule CP-IS076
//     follows: a deceased patient's record is kept for 8 years).
//   - Otherwise the child's 26th birthday.
//   - An unborn child's plan is held under the mother's NHS number
//     (CP-IS033), so neither the birth nor the death on that number is the
//     child's: the due date (the plan's end date, CP-IS011) stands for the
//     birth; a plan without one uses its start date plus a year, as a
//     pregnancy ends within a year of the plan starting.
func AuditUntil(p Plan, birth, death time.Time) time.Time {
	if p.Type == UCP {
		born := p.End
		if born.IsZero() {
			if p.Start.IsZero() {
				return time.Time{}
			}
			born = p.Start.AddDate(1, 0, 0)
		}
		return born.AddDate(AuditYearsAfterBirth, 0, 0)
	}
	if !death.IsZero() {
		return death.AddDate(AuditYearsAfterDeath, 0, 0)
	}
	if birth.IsZero() {
		return time.Time{}
	}
	return birth.AddDate(AuditYearsAfterBirth, 0, 0)
}
