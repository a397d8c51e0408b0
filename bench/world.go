package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"spinegw/cpis"
)

// GatewayASID is the ASID the gateway under test is started with; queries
// name it as their receiver.
const GatewayASID = "990000000001"

// DefaultClock is the instant the gateway is started at. The synthetic
// world's plans are dated so that they are visible then.
var DefaultClock = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// Caller is one person at one sending system, ready to be named in a query.
type Caller struct {
	Endpoint cpis.Endpoint
	User     cpis.User
	Profile  cpis.RoleProfile
}

// Midwife reports whether the caller may see unborn plans (CP-IS041).
func (c Caller) Midwife() bool { return cpis.IsMidwife(c.Profile.JobRole.Code) }

// Viewer reports whether the caller's role profile grants B0107 (CP-IS042).
func (c Caller) Viewer() bool { return c.Profile.Has(cpis.ActivityViewCPIS) }

// Synthetic is a generated world and what the load generator needs to know
// about it to send queries with a known expected outcome.
type Synthetic struct {
	World cpis.World
	Mix   MixLists
}

// MixLists sorts the world's NHS numbers by the answer a query about them
// should get (the sidecar file of `spinegw-bench world`).
type MixLists struct {
	// Positive numbers have a CPP or LAC visible to every B0107 holder.
	Positive []string `json:"positive"`
	// Unborn numbers (a mother's) have only an unborn plan, shown to
	// midwives only (CP-IS041): positive for a midwife, negative otherwise.
	Unborn []string `json:"unborn"`
	// Negative numbers are valid and known to PDS, with no record.
	Negative []string `json:"negative"`
}

// Callers returns every user's role profile at the endpoint of the user's
// organisation.
func (s *Synthetic) Callers() []Caller {
	byODS := map[string]cpis.Endpoint{}
	for _, e := range s.World.Endpoints {
		byODS[e.ODS] = e
	}
	var out []Caller
	for _, u := range s.World.Users {
		for _, p := range u.RoleProfiles {
			out = append(out, Caller{Endpoint: byODS[p.Org.ODS], User: u, Profile: p})
		}
	}
	return out
}

// Counts of the directory: CP-IS086 asks for many concurrent users; 200
// viewers spread over 20 endpoints gives each endpoint several users so that
// access history per child fills up as it would in a busy service.
const (
	numEndpoints = 20
	numLAs       = 20
	numViewers   = 200 // users with B0107
	numMidwives  = 40  // of the viewers, job role R0680
	numRefused   = 20  // users without B0107
)

var jobRoles = []cpis.JobRole{
	{Code: "R8000", Name: "Clinical Practitioner Access Role"},
	{Code: "R8003", Name: "Health Professional Access Role"},
	{Code: "R8001", Name: "Nurse Access Role"},
	{Code: "R0260", Name: "General Medical Practitioner"},
}

var midwife = cpis.JobRole{Code: "R0680", Name: "Midwife"}

var (
	givenF   = []string{"Amelia", "Olivia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Freya", "Grace", "Sophia", "Ella", "Poppy"}
	givenM   = []string{"Oliver", "George", "Noah", "Arthur", "Leo", "Oscar", "Harry", "Jack", "Charlie", "Theo", "Henry", "Finley"}
	families = []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright", "Khan", "O'Brien", "Evans", "Walker", "Hughes"}
)

// GenerateWorld builds a world of children CP-IS subjects (children with a
// CPP or LAC, and mothers with an unborn plan) around the clock instant, with
// about a fifth as many valid NHS numbers that PDS knows and no LA holds.
// The same seed gives the same world.
func GenerateWorld(children int, clock time.Time, seed uint64) *Synthetic {
	rng := rand.New(rand.NewPCG(seed, 0x776f726c64))
	nhs := NewNHSNumbers(seed)
	today := cpis.Today(clock)
	w := cpis.World{}
	s := &Synthetic{}

	for i := range numEndpoints {
		ods := fmt.Sprintf("R%c%d", 'A'+i/10, i%10)
		w.Endpoints = append(w.Endpoints, cpis.Endpoint{
			ASID: fmt.Sprintf("2000000001%02d", i+1),
			ODS:  ods,
			Name: fmt.Sprintf("Synthetic Urgent Care Trust %02d", i+1),
		})
	}
	for i := range numViewers + numRefused {
		ep := w.Endpoints[i%numEndpoints]
		role := jobRoles[i%len(jobRoles)]
		prefix, given := "Dr", givenM[i%len(givenM)]
		if i%2 == 0 {
			prefix, given = "Ms", givenF[i%len(givenF)]
		}
		activities := []string{cpis.ActivityViewCPIS, "B0264"}
		switch {
		case i >= numViewers:
			// Refused: an activity other than B0107 only (CP-IS042).
			activities = []string{"B0264"}
		case i < numMidwives:
			role, prefix, given = midwife, "Mrs", givenF[i%len(givenF)]
		}
		w.Users = append(w.Users, cpis.User{
			ID:      fmt.Sprintf("2000098%05d", i+1),
			Name:    cpis.Name{Prefix: prefix, Given: []string{given}, Family: families[i%len(families)]},
			Enabled: true,
			RoleProfiles: []cpis.RoleProfile{{
				ID:         fmt.Sprintf("1000776%05d", i+1),
				JobRole:    role,
				Org:        cpis.Org{ODS: ep.ODS, Name: ep.Name},
				Activities: activities,
			}},
		})
	}
	for i := range numLAs {
		w.LocalAuthorities = append(w.LocalAuthorities, cpis.LocalAuthority{
			ODS:            fmt.Sprintf("V%03d", 101+i),
			Name:           fmt.Sprintf("Synthetic Borough Council %02d", i+1),
			Emergency:      fmt.Sprintf("tel:0200000%04d", 2*i+1),
			Office:         fmt.Sprintf("tel:0200000%04d", 2*i+2),
			UploadsEnabled: true,
		})
	}

	// day returns a civil date uniformly in [from, to].
	day := func(from, to time.Time) time.Time {
		n := int(to.Sub(from).Hours()/24) + 1
		if n <= 1 {
			return from
		}
		return from.AddDate(0, 0, rng.IntN(n))
	}
	name := func(female bool) cpis.Name {
		g := givenM[rng.IntN(len(givenM))]
		if female {
			g = givenF[rng.IntN(len(givenF))]
		}
		return cpis.Name{Given: []string{g}, Family: families[rng.IntN(len(families))]}
	}
	gender := func(female bool) string {
		if female {
			return "female"
		}
		return "male"
	}
	// Every CPP or LAC must still be shown on the clock's day: the child is
	// under 18 and an ended plan ended within the last 365 days (CP-IS007,
	// CP-IS010, CP-IS032).
	childPlan := func(t cpis.PlanType, birth time.Time) cpis.Plan {
		from := birth
		if earliest := today.AddDate(-5, 0, 0); from.Before(earliest) {
			from = earliest
		}
		p := cpis.Plan{Type: t, Start: day(from, today.AddDate(0, 0, -7))}
		if rng.IntN(4) == 0 {
			endFrom := p.Start.AddDate(0, 0, 1)
			if lim := today.AddDate(0, 0, -300); endFrom.Before(lim) {
				endFrom = lim
			}
			p.End = day(endFrom, today.AddDate(0, 0, -1))
		}
		return p
	}
	la := func() cpis.LocalAuthority { return w.LocalAuthorities[rng.IntN(numLAs)] }

	for i := range children {
		n := nhs.Next()
		rec := cpis.Record{NHSNumber: cpis.NHSNumber(n), LA: la(), LocalID: fmt.Sprintf("LA-%06d", i+1)}
		var pat cpis.Patient
		switch r := rng.IntN(100); {
		case r < 15:
			// A mother with an unborn child protection plan; the due date
			// is ahead of the clock (CP-IS011, CP-IS033).
			birth := day(today.AddDate(-40, 0, 0), today.AddDate(-19, 0, 0))
			pat = cpis.Patient{NHSNumber: cpis.NHSNumber(n), Name: name(true), BirthDate: birth, Gender: "female"}
			start := day(today.AddDate(0, -6, 0), today.AddDate(0, 0, -7))
			rec.Plans = []cpis.Plan{{Type: cpis.UCP, Start: start, End: day(today.AddDate(0, 0, 7), today.AddDate(0, 5, 0))}}
			s.Mix.Unborn = append(s.Mix.Unborn, n)
		default:
			female := rng.IntN(2) == 0
			birth := day(today.AddDate(-17, 0, 0), today.AddDate(0, -1, 0))
			pat = cpis.Patient{NHSNumber: cpis.NHSNumber(n), Name: name(female), BirthDate: birth, Gender: gender(female)}
			t := cpis.CPP
			if r >= 60 {
				t = cpis.LAC
			}
			rec.Plans = []cpis.Plan{childPlan(t, birth)}
			if rng.IntN(10) == 0 {
				other := cpis.LAC
				if t == cpis.LAC {
					other = cpis.CPP
				}
				rec.Plans = append(rec.Plans, childPlan(other, birth))
			}
			s.Mix.Positive = append(s.Mix.Positive, n)
		}
		w.Patients = append(w.Patients, pat)
		w.Records = append(w.Records, rec)
		// Some subjects are held by two LAs (a child who moved): the
		// response then names both (CP-IS021).
		if rng.IntN(10) == 0 {
			second := rec
			for second.LA.ODS == rec.LA.ODS {
				second.LA = la()
			}
			second.LocalID = fmt.Sprintf("LB-%06d", i+1)
			second.Plans = []cpis.Plan{second.Plans[0]}
			w.Records = append(w.Records, second)
		}
	}
	negatives := max(children/5, 10)
	for range negatives {
		n := nhs.Next()
		female := rng.IntN(2) == 0
		birth := day(today.AddDate(-17, 0, 0), today.AddDate(0, -1, 0))
		w.Patients = append(w.Patients, cpis.Patient{NHSNumber: cpis.NHSNumber(n), Name: name(female), BirthDate: birth, Gender: gender(female)})
		s.Mix.Negative = append(s.Mix.Negative, n)
	}
	s.World = w
	return s
}

// The world file's shape, as `spinegw world load` reads it.
type (
	yamlWorld struct {
		Endpoints        []yamlEndpoint `yaml:"endpoints"`
		Users            []yamlUser     `yaml:"users"`
		Patients         []yamlPatient  `yaml:"patients"`
		LocalAuthorities []yamlLA       `yaml:"local_authorities"`
		Records          []yamlRecord   `yaml:"records"`
	}
	yamlEndpoint struct {
		ASID string `yaml:"asid"`
		ODS  string `yaml:"ods"`
		Name string `yaml:"name"`
	}
	yamlName struct {
		Prefix string   `yaml:"prefix,omitempty"`
		Given  []string `yaml:"given"`
		Family string   `yaml:"family"`
	}
	yamlCode struct {
		Code string `yaml:"code"`
		Name string `yaml:"name"`
	}
	yamlOrg struct {
		ODS  string `yaml:"ods"`
		Name string `yaml:"name"`
	}
	yamlProfile struct {
		ID         string   `yaml:"id"`
		JobRole    yamlCode `yaml:"job_role"`
		Org        yamlOrg  `yaml:"org"`
		Activities []string `yaml:"activities"`
	}
	yamlUser struct {
		ID           string        `yaml:"id"`
		Name         yamlName      `yaml:"name"`
		Enabled      bool          `yaml:"enabled"`
		RoleProfiles []yamlProfile `yaml:"role_profiles"`
	}
	yamlPatient struct {
		NHSNumber string   `yaml:"nhs_number"`
		Given     []string `yaml:"given"`
		Family    string   `yaml:"family"`
		BirthDate string   `yaml:"birth_date"`
		Gender    string   `yaml:"gender"`
	}
	yamlTelecom struct {
		Emergency string `yaml:"emergency"`
		Office    string `yaml:"office,omitempty"`
	}
	yamlLA struct {
		ODS     string      `yaml:"ods"`
		Name    string      `yaml:"name"`
		Telecom yamlTelecom `yaml:"telecom"`
	}
	yamlPlan struct {
		Type  string `yaml:"type"`
		Start string `yaml:"start"`
		End   string `yaml:"end,omitempty"`
	}
	yamlRecord struct {
		NHSNumber string     `yaml:"nhs_number"`
		LA        string     `yaml:"la"`
		LocalID   string     `yaml:"local_id"`
		Plans     []yamlPlan `yaml:"plans"`
	}
)

func civil(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// MarshalWorld renders w in the world file format.
func MarshalWorld(w cpis.World) ([]byte, error) {
	var y yamlWorld
	for _, e := range w.Endpoints {
		y.Endpoints = append(y.Endpoints, yamlEndpoint{ASID: e.ASID, ODS: e.ODS, Name: e.Name})
	}
	for _, u := range w.Users {
		yu := yamlUser{ID: u.ID, Enabled: u.Enabled, Name: yamlName{Prefix: u.Name.Prefix, Given: u.Name.Given, Family: u.Name.Family}}
		for _, p := range u.RoleProfiles {
			yu.RoleProfiles = append(yu.RoleProfiles, yamlProfile{
				ID:         p.ID,
				JobRole:    yamlCode{Code: p.JobRole.Code, Name: p.JobRole.Name},
				Org:        yamlOrg{ODS: p.Org.ODS, Name: p.Org.Name},
				Activities: p.Activities,
			})
		}
		y.Users = append(y.Users, yu)
	}
	for _, p := range w.Patients {
		y.Patients = append(y.Patients, yamlPatient{
			NHSNumber: string(p.NHSNumber), Given: p.Name.Given, Family: p.Name.Family,
			BirthDate: civil(p.BirthDate), Gender: p.Gender,
		})
	}
	for _, la := range w.LocalAuthorities {
		y.LocalAuthorities = append(y.LocalAuthorities, yamlLA{ODS: la.ODS, Name: la.Name, Telecom: yamlTelecom{Emergency: la.Emergency, Office: la.Office}})
	}
	for _, r := range w.Records {
		yr := yamlRecord{NHSNumber: string(r.NHSNumber), LA: r.LA.ODS, LocalID: r.LocalID}
		for _, p := range r.Plans {
			yr.Plans = append(yr.Plans, yamlPlan{Type: string(p.Type), Start: civil(p.Start), End: civil(p.End)})
		}
		y.Records = append(y.Records, yr)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&y); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// SidecarPath is where the mix lists of the world file at path go:
// world.yaml gives world.mix.json.
func SidecarPath(path string) string {
	if i := strings.LastIndexByte(path, '.'); i > strings.LastIndexByte(path, '/') {
		path = path[:i]
	}
	return path + ".mix.json"
}

// WriteWorld writes the world file to path and its mix lists beside it.
func (s *Synthetic) WriteWorld(path string) error {
	b, err := MarshalWorld(s.World)
	if err != nil {
		return fmt.Errorf("render world: %w", err)
	}
	header := fmt.Sprintf("# Synthetic CP-IS world: %d subjects, NHS numbers in the never-issued 999 range.\n", len(s.Mix.Positive)+len(s.Mix.Unborn))
	if err := os.WriteFile(path, append([]byte(header), b...), 0o644); err != nil {
		return fmt.Errorf("write world: %w", err)
	}
	j, err := json.MarshalIndent(s.Mix, "", " ")
	if err != nil {
		return fmt.Errorf("render mix lists: %w", err)
	}
	if err := os.WriteFile(SidecarPath(path), append(j, '\n'), 0o644); err != nil {
		return fmt.Errorf("write mix lists: %w", err)
	}
	return nil
}
