// Package synth generates synthetic CP-IS data for tests and benchmarks: an
// LA Upload (File, REPC_MT000002GB01) of any size, together with the world
// (PDS patients and the sending local authority) that gives every record a
// known answer.
//
// The records mirror the England cohort of CP-IS083 (about 230,000 subjects:
// 84,000 looked-after children, 50,000 children on a child protection plan,
// 1,000 unborn children on a plan held under the mother's NHS number, and
// 95,000 whose plan ended within the last twelve months), with some
// children on both a CPP and a LAC, and some plans carrying a delete date
// (CP-IS009). Children are 0 to 17 years old, mothers 16 to 45.
//
// A chosen share of the records is made to fail each record check, so that
// the answer to every record is known in advance (the codes are those of
// cpis.CheckRecord):
//
//   - Unknown: a valid NHS number PDS does not hold (CPR01);
//   - Sensitive: the PDS record is flagged sensitive (CPR02);
//   - NotVerified: PDS holds the number with another date of birth (year,
//     month and day all differ) and other names (another initial, another
//     first three letters of the family name), which verifies under neither
//     profile of cpis.Verified (CPR03);
//   - OldStyle: an old-style (pre-1996, alphanumeric) NHS number (CPR04).
//     The schema enumerates only the new-style NHS number root and the local
//     identifier root for a Child's or Mother's id, so a number sent under
//     the old-style root 2.16.840.1.113883.2.1.3.2.4.3 would make the whole
//     file invalid; the old-style number is sent under the NHS number root,
//     where CheckRecord refuses anything but ten digits as old-style;
//   - Superseded: PDS has replaced the number with a new one, which PDS also
//     holds (CPR05);
//   - MissingData: an unborn child's record without the mother's given name
//     or without her family name (CPR07). The schema makes the date of birth
//     and the UCP end date mandatory, but admits an empty name part, which
//     CP-SC012 forbids.
//
// Every other record succeeds (CPR06): PDS holds the number with the same
// date of birth and names, not sensitive and not superseded, so it verifies
// under both profiles. Some successful records send the family name in
// capitals, as many LA systems do; names compare without case.
//
// NHS numbers are in the never-issued 999 range (wire reference §8), unique
// within a file and its world. Everything is dated relative to
// Options.Today, and the same Options give the same bytes.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"

	"spinegw/cpis"
)

// DefaultToday is the civil date files are written on when Options.Today is
// zero: fixed, so that generated files and tests do not change with the
// calendar.
var DefaultToday = cpis.Date(2026, time.November, 22)

// Options describes one upload file.
type Options struct {
	Records int    // records in the file, at least 1
	LA      string // the sending local authority's ODS code
	LAName  string
	Seed    int64
	FileID  string // "" gives LA-YYYYMMDD-SEED
	// Today is the civil date the file is written on; every date in the file
	// is relative to it. Zero means DefaultToday.
	Today time.Time

	// Share of records made to fail each check (0..1 each, at most 1 in
	// all); the rest succeed. Each share is rounded to a whole number of
	// records.
	Unknown, Sensitive, NotVerified, OldStyle, Superseded, MissingData float64
}

// DefaultOptions is an average LA's file (1,500 records) with a realistic
// mix of failures: 1% of each kind.
func DefaultOptions() Options {
	return Options{
		Records: 1500,
		LA:      "V999",
		LAName:  "Synthetic Borough Council",
		Seed:    1,
		Unknown: 0.01, Sensitive: 0.01, NotVerified: 0.01, OldStyle: 0.01, Superseded: 0.01, MissingData: 0.01,
	}
}

// maxRecords keeps a file within the valid NHS numbers of the 999 range
// (about 909,000) with room for the superseded records' new numbers.
const maxRecords = 800_000

// The telephone numbers of the synthetic LA: Ofcom's drama range, which is
// never allocated.
const (
	emergencyTel = "tel:02079460000"
	officeTel    = "tel:02079460001"
)

// ID returns the id the File carries: FileID, or LA-YYYYMMDD-SEED.
func (o Options) ID() string {
	if o.FileID != "" {
		return o.FileID
	}
	return fmt.Sprintf("%s-%s-%d", o.LA, o.today().Format("20060102"), o.Seed)
}

func (o Options) today() time.Time {
	if o.Today.IsZero() {
		return DefaultToday
	}
	y, m, d := o.Today.Date()
	return cpis.Date(y, m, d)
}

// LocalAuthority returns the sending local authority as the world holds it.
func (o Options) LocalAuthority() cpis.LocalAuthority {
	return cpis.LocalAuthority{ODS: o.LA, Name: o.LAName, Emergency: emergencyTel, Office: officeTel, UploadsEnabled: true}
}

// counts returns how many records fail each check, in the order of the
// fail kinds.
func (o Options) counts() ([numFails]int, error) {
	var n [numFails]int
	shares := [numFails]float64{o.Unknown, o.Sensitive, o.NotVerified, o.OldStyle, o.Superseded, o.MissingData}
	sum, total := 0.0, 0
	for k, s := range shares {
		if math.IsNaN(s) || s < 0 || s > 1 {
			return n, fmt.Errorf("synth: the share of %s records must be between 0 and 1", failKind(k+1))
		}
		sum += s
		n[k] = int(math.Round(s * float64(o.Records)))
		total += n[k]
	}
	if sum > 1+1e-9 || total > o.Records {
		return n, fmt.Errorf("synth: the failure shares add up to more than every record")
	}
	return n, nil
}

func (o Options) check() error {
	switch {
	case o.Records < 1:
		return fmt.Errorf("synth: a file holds at least one record")
	case o.Records > maxRecords:
		return fmt.Errorf("synth: at most %d records fit in the synthetic NHS number range", maxRecords)
	case !isODS(o.LA):
		return fmt.Errorf("synth: the LA's ODS code must be letters and digits")
	case o.LAName == "":
		return fmt.Errorf("synth: the LA needs a name")
	}
	_, err := o.counts()
	return err
}

func isODS(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// failKind is what a record is made to fail; none succeeds.
type failKind uint8

const (
	none failKind = iota
	unknown
	sensitive
	notVerified
	oldStyle
	superseded
	missingData
	numKinds
)

const numFails = int(numKinds) - 1

func (k failKind) String() string {
	return [...]string{"successful", "unknown", "sensitive", "not verified", "old-style", "superseded", "missing data"}[k]
}

// code is the record-level answer a record of this kind gets.
func (k failKind) code() string {
	return [...]string{cpis.CPR06, cpis.CPR01, cpis.CPR02, cpis.CPR03, cpis.CPR04, cpis.CPR05, cpis.CPR07}[k]
}

// cohort is the kind of subject a record is about.
type cohort uint8

const (
	lacOpen cohort = iota // looked after now
	cppOpen               // on a child protection plan now
	ucpOpen               // unborn child on a plan, under the mother's number
	ended                 // a CPP or LAC that ended within the last year
)

// cohortWeights are CP-IS083's England figures, in thousands of subjects.
var cohortWeights = [...]int{lacOpen: 84, cppOpen: 50, ucpOpen: 1, ended: 95}

// Shares of records with each trait, in percent (of their cohort, for the
// first four).
const (
	lacWithCPP     = 10  // looked-after children whose CPP ended as they came into care
	cppWithLAC     = 3   // children on a CPP and looked after at once
	endedCPP       = 55  // of the ended, a CPP (the rest a LAC, or both)
	endedBoth      = 5   // of the ended, a CPP and a LAC
	withDelete     = 0.5 // records whose plan carries a delete date (CP-IS009)
	familyInCaps   = 5   // successful records sending the family name in capitals
	withoutLocalID = 2   // records without the LA's own identifier (it is optional)
)

// generator makes the records of one file in order.
type generator struct {
	o       Options
	today   time.Time
	rng     *rand.Rand
	nhs     numbers
	fails   []failKind // by position - 1
	cohorts int        // sum of cohortWeights
}

func newGenerator(o Options) (*generator, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	counts, _ := o.counts()
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x73796e7468))
	g := &generator{o: o, today: o.today(), rng: rng, nhs: newNumbers(rng)}
	// Each kind gets exactly its count, spread through the file by a
	// shuffle, so that a test can count them and a failure is not bunched
	// at one end of the file.
	g.fails = make([]failKind, o.Records)
	i := 0
	for k, n := range counts {
		for range n {
			g.fails[i] = failKind(k + 1)
			i++
		}
	}
	rng.Shuffle(len(g.fails), func(a, b int) { g.fails[a], g.fails[b] = g.fails[b], g.fails[a] })
	for _, w := range cohortWeights {
		g.cohorts += w
	}
	return g, nil
}

// record is one generated record: what the file says, the answer it should
// get, and what PDS must hold for that answer.
type record struct {
	cpis.UploadRecord
	kind     failKind
	patients []cpis.Patient
}

// next makes the record at position pos (1-based).
func (g *generator) next(pos int) record {
	kind := g.fails[pos-1]
	var co cohort
	if kind == missingData {
		// Only a mother's record has names whose absence is an error
		// (CP-SC012); a child's missing name is "not verified".
		co = ucpOpen
	} else {
		co = g.cohort()
	}
	r := record{kind: kind}
	u := &r.UploadRecord
	u.Position = pos
	if g.rng.IntN(100) >= withoutLocalID {
		u.LocalID = fmt.Sprintf("%s-%07d", g.o.LA, pos)
	}
	female := g.rng.IntN(2) == 0
	if co == ucpOpen {
		u.Unborn, female = true, true
		u.BirthDate = g.dayBetween(g.today.AddDate(-46, 0, 1), g.today.AddDate(-16, 0, 0))
	} else {
		latest := g.today
		if co == ended {
			latest = g.today.AddDate(0, 0, -2)
		}
		u.BirthDate = g.dayBetween(g.today.AddDate(-18, 0, 1), latest)
	}
	u.Name = g.name(female)
	u.Plans = g.plans(co, u.BirthDate)
	if g.rng.Float64()*100 < withDelete {
		p := &u.Plans[g.rng.IntN(len(u.Plans))]
		p.Delete = g.dayBetween(g.today.AddDate(0, 0, -14), g.today.AddDate(0, 0, 14))
	}

	if kind == oldStyle {
		u.NHSNumber = oldStyleNumber(pos)
		return r
	}
	u.NHSNumber = g.nhs.next()
	gender := "male"
	if female {
		gender = "female"
	}
	pds := cpis.Patient{NHSNumber: cpis.NHSNumber(u.NHSNumber), Name: u.Name, BirthDate: u.BirthDate, Gender: gender}
	pds.Name.Given = append([]string(nil), u.Name.Given...)
	switch kind {
	case none:
		if g.rng.IntN(100) < familyInCaps {
			u.Name.Family = strings.ToUpper(u.Name.Family)
		}
	case unknown:
		return r
	case sensitive:
		pds.Sensitive = true
	case notVerified:
		pds.BirthDate = otherDate(u.BirthDate)
		pds.Name = g.otherName(u.Name, female)
	case superseded:
		current := pds
		current.NHSNumber = cpis.NHSNumber(g.nhs.next())
		pds.SupersededBy = current.NHSNumber
		r.patients = append(r.patients, pds, current)
		return r
	case missingData:
		if g.rng.IntN(2) == 0 {
			u.Name.Given = []string{""}
		} else {
			u.Name.Family = ""
		}
	}
	r.patients = append(r.patients, pds)
	return r
}

func (g *generator) cohort() cohort {
	n := g.rng.IntN(g.cohorts)
	for c, w := range cohortWeights {
		if n < w {
			return cohort(c)
		}
		n -= w
	}
	return ended
}

// plans makes the information items of a subject born on birth, dated so
// that they are what the cohort says on g.today.
func (g *generator) plans(co cohort, birth time.Time) []cpis.Plan {
	t := g.today
	switch co {
	case ucpOpen:
		// The expected due date is the end date (CP-SC013), ahead of today;
		// the plan started during the pregnancy.
		due := t.AddDate(0, 0, 1+g.rng.IntN(210))
		start := g.dayBetween(latest(due.AddDate(0, 0, -245), t.AddDate(0, 0, -245)), t)
		return []cpis.Plan{{Type: cpis.UCP, Start: start, End: due}}
	case lacOpen:
		lac := cpis.Plan{Type: cpis.LAC, Start: g.dayBetween(latest(birth, t.AddDate(-10, 0, 0)), t)}
		if g.rng.IntN(100) < lacWithCPP {
			// The CPP ended as the child came into care.
			cpp := cpis.Plan{Type: cpis.CPP, Start: g.dayBetween(latest(birth, lac.Start.AddDate(-2, 0, 0)), lac.Start)}
			cpp.End = g.dayBetween(cpp.Start, lac.Start)
			return []cpis.Plan{lac, cpp}
		}
		return []cpis.Plan{lac}
	case cppOpen:
		cpp := cpis.Plan{Type: cpis.CPP, Start: g.dayBetween(latest(birth, t.AddDate(-3, 0, 0)), t)}
		if g.rng.IntN(100) < cppWithLAC {
			lac := cpis.Plan{Type: cpis.LAC, Start: g.dayBetween(cpp.Start, t)}
			return []cpis.Plan{lac, cpp}
		}
		return []cpis.Plan{cpp}
	}
	// Ended within the last twelve months (shown for 365 days, CP-IS010).
	endedPlan := func(typ cpis.PlanType) cpis.Plan {
		end := g.dayBetween(latest(birth, t.AddDate(0, 0, -364)), t.AddDate(0, 0, -1))
		return cpis.Plan{Type: typ, Start: g.dayBetween(latest(birth, end.AddDate(-3, 0, 0)), end), End: end}
	}
	switch n := g.rng.IntN(100); {
	case n < endedBoth:
		return []cpis.Plan{endedPlan(cpis.LAC), endedPlan(cpis.CPP)}
	case n < endedBoth+endedCPP:
		return []cpis.Plan{endedPlan(cpis.CPP)}
	}
	return []cpis.Plan{endedPlan(cpis.LAC)}
}

// dayBetween returns a civil date uniformly in [from, to] (from if to is
// before it).
func (g *generator) dayBetween(from, to time.Time) time.Time {
	n := int(to.Sub(from).Hours()/24+0.5) + 1
	if n <= 1 {
		return from
	}
	return from.AddDate(0, 0, g.rng.IntN(n))
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (g *generator) name(female bool) cpis.Name {
	given := givenMale
	if female {
		given = givenFemale
	}
	return cpis.Name{Given: []string{given[g.rng.IntN(len(given))]}, Family: families[g.rng.IntN(len(families))]}
}

// otherName returns names that verify nothing against n: a given name with
// another initial and a family name with other first three letters
// (CP-IS002), so neither is the same or a minor variation of n's.
func (g *generator) otherName(n cpis.Name, female bool) cpis.Name {
	given := givenMale
	if female {
		given = givenFemale
	}
	out := cpis.Name{}
	for i := g.rng.IntN(len(given)); ; i = (i + 1) % len(given) {
		if initial(given[i]) != initial(n.Given[0]) {
			out.Given = []string{given[i]}
			break
		}
	}
	for i := g.rng.IntN(len(families)); ; i = (i + 1) % len(families) {
		if prefix3(families[i]) != prefix3(n.Family) {
			out.Family = families[i]
			break
		}
	}
	return out
}

// otherDate returns a date whose year, month and day all differ from d's,
// so that not even two of its three parts match (CP-IS002).
func otherDate(d time.Time) time.Time {
	y, m, day := d.Date()
	return cpis.Date(y-1, m%12+1, day%28+1)
}

// oldStyleNumber is a legacy alphanumeric NHS number: letters for the
// registration area, then digits, as numbers issued before 1996 were. The
// letters make it impossible for it to be mistaken for a new-style number.
func oldStyleNumber(pos int) string {
	const letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
	b := []byte{letters[pos%len(letters)], letters[(pos/len(letters))%len(letters)], letters[(pos/len(letters)/len(letters))%len(letters)]}
	return fmt.Sprintf("%s%06d", b, pos%1_000_000)
}

// numbers hands out distinct valid NHS numbers of the 999 range in a
// scrambled order: the i-th number's six digits after 999 are a keyed
// permutation of i (a four-round Feistel network on its two halves of
// three digits), so they are distinct without a set of those already given,
// which for the whole England cohort would cost more than the rest of the
// generator, and look random rather than counted.
type numbers struct {
	keys [4]uint32
	i    uint32
}

func newNumbers(rng *rand.Rand) numbers {
	var n numbers
	for k := range n.keys {
		n.keys[k] = rng.Uint32()
	}
	return n
}

// permute maps 0..999999 onto itself one to one.
func (n *numbers) permute(x uint32) uint32 {
	l, r := x/1000, x%1000
	for _, k := range n.keys {
		h := (r ^ k) * 0x9e3779b1 // multiplicative hash, wrapping
		h ^= h >> 15
		l, r = r, (l+h%1000)%1000
	}
	return l*1000 + r
}

// next returns the next number. The generator stops well before the range
// runs out (maxRecords), so it never does.
func (n *numbers) next() string {
	for {
		x := n.permute(n.i)
		n.i++
		var b [10]byte
		b[0], b[1], b[2] = '9', '9', '9'
		sum := 9*10 + 9*9 + 9*8
		for j := 8; j >= 3; j-- {
			d := x % 10
			x /= 10
			b[j] = byte('0' + d)
			sum += int(d) * (10 - j)
		}
		check := 11 - sum%11
		if check == 10 {
			continue // no valid number has these nine digits
		}
		if check == 11 {
			check = 0
		}
		b[9] = byte('0' + check)
		return string(b[:])
	}
}

// initial is the first letter of a name, lower case.
func initial(s string) string { return prefix(s, 1) }

// prefix3 is the first three letters of a family name as CP-IS002 compares
// them: letters and digits only, lower case.
func prefix3(s string) string { return prefix(s, 3) }

func prefix(s string, n int) string {
	out := make([]rune, 0, n)
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToLower(r))
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}

// Names common in England, with apostrophes, hyphens and letters outside
// ASCII, so that the reader's text handling and the verifier's name
// comparison see what real files hold.
var (
	givenFemale = []string{"Amelia", "Olivia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Freya", "Grace", "Sophia",
		"Ella", "Poppy", "Evie", "Charlotte", "Willow", "Florence", "Sienna", "Daisy", "Zoë", "Chloé", "Siân",
		"Aoife", "Nia", "Maryam", "Aisha", "Hannah", "Ruby", "Emily", "Phoebe", "Harper"}
	givenMale = []string{"Oliver", "George", "Noah", "Arthur", "Leo", "Oscar", "Harry", "Jack", "Charlie", "Theo",
		"Henry", "Finley", "Muhammad", "Alfie", "Freddie", "Archie", "Thomas", "Isaac", "Joshua", "Rory", "Dylan",
		"Ethan", "Reuben", "Ibrahim", "Kai", "Logan", "Zachary", "Jenson", "Elijah", "Samuel"}
	families = []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
		"Wright", "Khan", "O'Brien", "Evans", "Walker", "Hughes", "Robinson", "Thompson", "White", "Edwards",
		"Green", "Hall", "Wood", "Harris", "Lewis", "Martin", "Jackson", "Clarke", "Clark", "Turner", "Hill",
		"Scott", "Cooper", "Morris", "Ward", "Moore", "King", "Watson", "Baker", "Harrison", "Morgan", "Ahmed",
		"Ali", "Hussain", "Begum", "Kaur", "Singh", "Nowak", "Kowalski", "Murphy", "Kelly", "Smith-Jones",
		"Fernández", "Okafor", "Mensah", "Nguyen", "Chen", "Ferreira", "Popescu", "Da Silva", "Lloyd"}
)
