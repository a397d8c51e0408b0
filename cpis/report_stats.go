package cpis

import (
	"slices"
	"time"
)

// Statistics is the CP-IS077 report: every figure the requirement lists,
// for a period and as of a day, each with its source.
type Statistics struct {
	Period Period
	AsOf   time.Time // the civil day "current" figures are counted on
	LA     string    // when set, the figures of that local authority only
	// Figures, in the order CP-IS077 lists them, then the service's own
	// figures (uploads, notifications).
	Figures []Figure
}

// Figure is one figure of a report. Value is nil when spinegw cannot
// derive the figure from what it stores (Source then says why).
type Figure struct {
	ID          string // stable name, e.g. "current_cpps"
	Requirement string // the requirement that asks for it
	LA          string // the local authority a per-LA figure is of
	Value       *int
	Source      string // what it counts, from which table
}

// Figure IDs of the statistics report.
const (
	FigProvidingLAs         = "providing_las"
	FigLAProvided           = "la_provided"
	FigCurrentNHSNumbers    = "current_nhs_numbers"
	FigCurrentLAs           = "current_las"
	FigCurrentCPPs          = "current_cpps"
	FigCurrentUCPs          = "current_unborn_cpps"
	FigCurrentLACs          = "current_lacs"
	FigPeriodCPPs           = "period_cpps"
	FigPeriodUCPs           = "period_unborn_cpps"
	FigPeriodLACs           = "period_lacs"
	FigPeriodQueries        = "period_queries_received"
	FigPeriodPositive       = "period_queries_answered_positive"
	FigLACurrentCPPs        = "la_current_cpps"
	FigLACurrentUCPs        = "la_current_unborn_cpps"
	FigLACurrentLACs        = "la_current_lacs"
	FigLAPeriodCPPs         = "la_period_cpps"
	FigLAPeriodUCPs         = "la_period_unborn_cpps"
	FigLAPeriodLACs         = "la_period_lacs"
	FigPeriodQueryOrgs      = "period_query_organisations"
	FigPeriodUploads        = "period_uploads"
	FigPeriodUploadAccepted = "period_upload_records_accepted"
	FigPeriodUploadRejected = "period_upload_records_rejected"
	FigPeriodAccessNotes    = "period_access_notifications"
	FigPeriodInactiveNotes  = "period_inactive_notifications"
)

// StatsTally counts the plan figures of CP-IS077 from the plans fed to it:
// the live records' plans (Held) and the plans the purge removed (Purged),
// each counted once by PlanKey.
type StatsTally struct {
	Period Period
	AsOf   time.Time

	seen        map[PlanKey]bool
	currentNHS  map[NHSNumber]bool
	currentLA   map[string]bool
	current     map[string]map[PlanType]int // by LA
	period      map[PlanType]int
	periodByLA  map[string]map[PlanType]int
	providerLAs map[string]bool
}

func (t *StatsTally) init() {
	if t.seen == nil {
		t.seen = map[PlanKey]bool{}
		t.currentNHS = map[NHSNumber]bool{}
		t.currentLA = map[string]bool{}
		t.current = map[string]map[PlanType]int{}
		t.period = map[PlanType]int{}
		t.periodByLA = map[string]map[PlanType]int{}
		t.providerLAs = map[string]bool{}
	}
}

// Held counts a plan the live records hold: it may be current, in the
// period, or both; its LA holds information, so it has provided some.
func (t *StatsTally) Held(nhs NHSNumber, la string, p Plan, birth time.Time) {
	t.init()
	t.providerLAs[la] = true
	if PlanCurrent(p, birth, t.AsOf) {
		t.currentNHS[nhs] = true
		t.currentLA[la] = true
		if t.current[la] == nil {
			t.current[la] = map[PlanType]int{}
		}
		t.current[la][p.Type]++
	}
	t.inPeriod(nhs, la, p, birth)
}

// Purged counts a plan the purge removed (record_history): never current,
// but it may have been in force in the period.
func (t *StatsTally) Purged(nhs NHSNumber, la string, p Plan, birth time.Time) {
	t.init()
	t.inPeriod(nhs, la, p, birth)
}

// Provided marks an LA as having provided information: an upload of it was
// accepted in part or whole.
func (t *StatsTally) Provided(la string) {
	t.init()
	t.providerLAs[la] = true
}

func (t *StatsTally) inPeriod(nhs NHSNumber, la string, p Plan, birth time.Time) {
	k := PlanKey{NHSNumber: nhs, LA: la, Type: p.Type, Start: p.Start}
	if t.seen[k] {
		return
	}
	t.seen[k] = true
	if PlanInPeriod(p, birth, t.Period) {
		t.period[p.Type]++
		if t.periodByLA[la] == nil {
			t.periodByLA[la] = map[PlanType]int{}
		}
		t.periodByLA[la][p.Type]++
	}
}

// ServiceCounts are the figures counted in the store directly, for the
// period.
type ServiceCounts struct {
	Positive         int // access events: positive answers to NHS Queries
	QueryOrgs        int // distinct organisations of those events
	Uploads          int // LA upload files received
	UploadAccepted   int
	UploadRejected   int
	AccessNotes      int // Access to Service Notifications created
	InactiveNotes    int // Inactive NHS Number Notifications created
	ProvidingUploads []string
}

func ptr(n int) *int { return &n }

// Sources of the figures, for the report and docs/reports.md.
const (
	srcProviders = "records held now; uploads with a record accepted"
	srcCurrent   = "records (+ PDS birth date): plans in force on as_of"
	srcPeriod    = "records + record_history (purged): plans in force on a day of the period, each once"
	srcQueries   = "NOT DERIVABLE: negative and refused queries are not stored"
	srcPositive  = "access_events in the period (each positive answer is one)"
	srcOrgs      = "access_events in the period: distinct org ODS codes (positive answers only)"
	srcUploads   = "uploads received in the period"
	srcAccepted  = "uploads in the period: records accepted (CPR06)"
	srcRejected  = "uploads in the period: records refused"
	srcAccessN   = "outbox: Access to Service Notifications created in the period"
	srcInactiveN = "outbox: Inactive NHS Number Notifications created in the period"
)

// Statistics builds the CP-IS077 report from the tally and the service
// counts. las are every known LA's ODS code: the per-LA figures list each
// LA that provided information or holds current plans, in ODS order.
func (t *StatsTally) Statistics(la string, c ServiceCounts) Statistics {
	t.init()
	for _, o := range c.ProvidingUploads {
		t.providerLAs[o] = true
	}
	s := Statistics{Period: t.Period, AsOf: t.AsOf, LA: la}
	add := func(id, req, la string, v *int, src string) {
		s.Figures = append(s.Figures, Figure{ID: id, Requirement: req, LA: la, Value: v, Source: src})
	}
	providers := make([]string, 0, len(t.providerLAs))
	for o := range t.providerLAs {
		providers = append(providers, o)
	}
	slices.Sort(providers)
	add(FigProvidingLAs, "CP-IS077", "", ptr(len(providers)), srcProviders)
	for _, o := range providers {
		add(FigLAProvided, "CP-IS077", o, ptr(1), srcProviders)
	}
	var cpp, ucp, lac int
	for _, byType := range t.current {
		cpp += byType[CPP]
		ucp += byType[UCP]
		lac += byType[LAC]
	}
	add(FigCurrentNHSNumbers, "CP-IS077", "", ptr(len(t.currentNHS)), "records (+ PDS birth date): distinct NHS numbers with a plan in force on as_of (UCP: the mother's)")
	add(FigCurrentLAs, "CP-IS077", "", ptr(len(t.currentLA)), "records (+ PDS birth date): distinct LAs with a plan in force on as_of")
	add(FigCurrentCPPs, "CP-IS077", "", ptr(cpp), srcCurrent)
	add(FigCurrentUCPs, "CP-IS077", "", ptr(ucp), srcCurrent)
	add(FigCurrentLACs, "CP-IS077", "", ptr(lac), srcCurrent)
	add(FigPeriodCPPs, "CP-IS077", "", ptr(t.period[CPP]), srcPeriod)
	add(FigPeriodUCPs, "CP-IS077", "", ptr(t.period[UCP]), srcPeriod)
	add(FigPeriodLACs, "CP-IS077", "", ptr(t.period[LAC]), srcPeriod)
	add(FigPeriodQueries, "CP-IS077", "", nil, srcQueries)
	add(FigPeriodPositive, "CP-IS077", "", ptr(c.Positive), srcPositive)
	// Per LA: every LA with a plan in force today or in the period, the
	// current figures and the period's.
	las := make([]string, 0, len(t.current)+len(t.periodByLA))
	for o := range t.current {
		las = append(las, o)
	}
	for o := range t.periodByLA {
		if t.current[o] == nil {
			las = append(las, o)
		}
	}
	slices.Sort(las)
	for _, o := range las {
		add(FigLACurrentCPPs, "CP-IS077", o, ptr(t.current[o][CPP]), srcCurrent)
		add(FigLACurrentUCPs, "CP-IS077", o, ptr(t.current[o][UCP]), srcCurrent)
		add(FigLACurrentLACs, "CP-IS077", o, ptr(t.current[o][LAC]), srcCurrent)
		add(FigLAPeriodCPPs, "CP-IS077", o, ptr(t.periodByLA[o][CPP]), srcPeriod)
		add(FigLAPeriodUCPs, "CP-IS077", o, ptr(t.periodByLA[o][UCP]), srcPeriod)
		add(FigLAPeriodLACs, "CP-IS077", o, ptr(t.periodByLA[o][LAC]), srcPeriod)
	}
	add(FigPeriodQueryOrgs, "CP-IS077", "", ptr(c.QueryOrgs), srcOrgs)
	add(FigPeriodUploads, "CP-IS081", "", ptr(c.Uploads), srcUploads)
	add(FigPeriodUploadAccepted, "CP-IS081", "", ptr(c.UploadAccepted), srcAccepted)
	add(FigPeriodUploadRejected, "CP-IS081", "", ptr(c.UploadRejected), srcRejected)
	add(FigPeriodAccessNotes, "CP-IS025", "", ptr(c.AccessNotes), srcAccessN)
	add(FigPeriodInactiveNotes, "CP-IS012", "", ptr(c.InactiveNotes), srcInactiveN)
	return s
}

// Value returns the figure with the id (and LA, for a per-LA figure), and
// whether the report has it.
func (s Statistics) Value(id, la string) (*int, bool) {
	for _, f := range s.Figures {
		if f.ID == id && f.LA == la {
			return f.Value, true
		}
	}
	return nil, false
}
