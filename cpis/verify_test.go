package cpis_test

import (
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
)

func TestParseVerification(t *testing.T) {
	tests := []struct {
		in   string
		want cpis.Verification // "" for an error
	}{
		{"current", cpis.VerifyCurrent},
		{"cpis2015", cpis.VerifyCPIS2015},
		{"Current", cpis.VerifyCurrent},
		{" CPIS2015\n", cpis.VerifyCPIS2015},
		{"", ""},
		{"2015", ""},
		{"cpis-2015", ""},
		{"strict", ""},
		{"current cpis2015", ""},
	}
	for _, tt := range tests {
		got, err := cpis.ParseVerification(tt.in)
		switch {
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("ParseVerification(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.want == "" && (cpis.KindOf(err) != cpis.KindInvalid || got != ""):
			t.Errorf("ParseVerification(%q) = %q, %v; want a KindInvalid error", tt.in, got, err)
		case tt.want == "" && !strings.Contains(cpis.MessageOf(err), "current"):
			t.Errorf("ParseVerification(%q): message %q does not say what is accepted", tt.in, cpis.MessageOf(err))
		}
	}
}

// person is a name and date of birth as written in a case: given names
// separated by "|" (PDS holds them as separate fields; an upload's one given
// element may hold several words), "" for a missing part.
type person struct{ given, family, born string }

func (p person) name() cpis.Name {
	n := cpis.Name{Family: p.family}
	if p.given != "" {
		n.Given = strings.Split(p.given, "|")
	}
	return n
}

func (p person) birth() time.Time {
	if p.born == "" {
		return time.Time{}
	}
	return day(p.born)
}

func (p person) upload() cpis.UploadRecord {
	return cpis.UploadRecord{NHSNumber: nhsOliver, Name: p.name(), BirthDate: p.birth()}
}

func (p person) patient() cpis.Patient {
	return cpis.Patient{NHSNumber: nhsOliver, Name: p.name(), BirthDate: p.birth()}
}

const (
	verified    = true
	notVerified = false
)

// oliver is the PDS record most cases are verified against.
var oliver = person{"Oliver", "Hughes", "2015-06-12"}

// The matching guidance (2019, edited 2022): "date of birth must match 100%
// ... either the forename or family name must match 100%. Some minor
// variation is permissible in spelling for either the forename or family
// name (as long as the other name has already matched 100%)."
func TestVerifiedCurrent(t *testing.T) {
	tests := []struct {
		name string
		sent person
		pds  person
		want bool
	}{
		{"current: everything as PDS holds it verifies", person{"Oliver", "Hughes", "2015-06-12"}, oliver, verified},
		{"current: case does not count", person{"OLIVER", "hughes", "2015-06-12"}, oliver, verified},
		{"current: surrounding spaces and full stops do not count", person{"  Oliver ", "Hughes.", "2015-06-12"}, oliver, verified},
		{"current: two adjacent letters swapped in the forename are a minor variation", person{"Olvier", "Hughes", "2015-06-12"}, oliver, verified},
		{"current: a letter left out of the forename is a minor variation", person{"Olver", "Hughes", "2015-06-12"}, oliver, verified},
		{"current: a letter doubled in the forename is a minor variation", person{"Olliver", "Hughes", "2015-06-12"}, oliver, verified},
		{"current: a letter replaced in the family name is a minor variation", person{"Oliver", "Hughas", "2015-06-12"}, oliver, verified},
		{"current: a letter left out of the family name is a minor variation", person{"Oliver", "Hughs", "2015-06-12"}, oliver, verified},
		{"current: two letters swapped in the family name are a minor variation", person{"Oliver", "Hguhes", "2015-06-12"}, oliver, verified},
		{"current: a slip in both names is not verified", person{"Olvier", "Hughs", "2015-06-12"}, oliver, notVerified},
		{"current: two slips in the forename are not minor", person{"Olvire", "Hughes", "2015-06-12"}, oliver, notVerified},
		{"current: a twin's name two letters away is not verified (Olivia for Oliver)", person{"Olivia", "Hughes", "2015-06-12"}, oliver, notVerified},
		{"current: a twin's name two letters away is not verified (Alexandra for Alexander)", person{"Alexandra", "Hughes", "2015-06-12"}, person{"Alexander", "Hughes", "2015-06-12"}, notVerified},
		{"current: another child's forename is not verified", person{"Jack", "Hughes", "2015-06-12"}, oliver, notVerified},
		{"current: forename and family name swapped are not verified", person{"Hughes", "Oliver", "2015-06-12"}, oliver, notVerified},
		{"current: day and month swapped are not the same date of birth", person{"Oliver", "Hughes", "2015-12-06"}, oliver, notVerified},
		{"current: a date of birth a day out is not verified", person{"Oliver", "Hughes", "2015-06-13"}, oliver, notVerified},
		{"current: a date of birth a year out is not verified", person{"Oliver", "Hughes", "2016-06-12"}, oliver, notVerified},
		{"current: no date of birth sent is not verified", person{"Oliver", "Hughes", ""}, oliver, notVerified},
		{"current: no date of birth in PDS is not verified", person{"Oliver", "Hughes", "2015-06-12"}, person{"Oliver", "Hughes", ""}, notVerified},
		{"current: an initial is not a spelling variation", person{"O", "Hughes", "2015-06-12"}, oliver, notVerified},
		{"current: an initial with a full stop is not a spelling variation", person{"O.", "Hughes", "2015-06-12"}, oliver, notVerified},
		{"current: no forename sent is not verified", person{"", "Hughes", "2015-06-12"}, oliver, notVerified},
		{"current: no family name sent is not verified", person{"Oliver", "", "2015-06-12"}, oliver, notVerified},
		{"current: a forename of punctuation only is missing", person{"-", "Hughes", "2015-06-12"}, oliver, notVerified},
		{"current: a PDS record with no given name verifies nothing by forename", person{"Oliver", "Hughes", "2015-06-12"}, person{"", "Hughes", "2015-06-12"}, notVerified},
		{"current: 'Baby' for an unnamed newborn is not verified", person{"Baby", "Smith", "2026-01-02"}, person{"Susan", "Smith", "2026-01-02"}, notVerified},
		{"current: part of a hyphenated family name with the forename exact verifies", person{"Ruby", "Smith", "2014-02-03"}, person{"Ruby", "Smith-Jones", "2014-02-03"}, verified},
		{"current: the other part of a hyphenated family name verifies too", person{"Ruby", "Jones", "2014-02-03"}, person{"Ruby", "Smith-Jones", "2014-02-03"}, verified},
		{"current: a hyphenated family name with a space for the hyphen is the same name", person{"Rubi", "Smith Jones", "2014-02-03"}, person{"Ruby", "Smith-Jones", "2014-02-03"}, verified},
		{"current: a hyphenated family name in the other order verifies with the forename exact", person{"Ruby", "Jones-Smith", "2014-02-03"}, person{"Ruby", "Smith-Jones", "2014-02-03"}, verified},
		{"current: part of a hyphenated family name and a forename slip are not verified", person{"Rubi", "Smith", "2014-02-03"}, person{"Ruby", "Smith-Jones", "2014-02-03"}, notVerified},
		{"current: the first of several PDS given names is the forename", person{"Mary", "Khan", "2013-04-05"}, person{"Mary|Jane", "Khan", "2013-04-05"}, verified},
		{"current: two forenames in one field verify when the family name is exact", person{"Mary Jane", "Khan", "2013-04-05"}, person{"Mary|Jane", "Khan", "2013-04-05"}, verified},
		{"current: two forenames in one field with a family name slip are not verified", person{"Mary Jane", "Kahn", "2013-04-05"}, person{"Mary|Jane", "Khan", "2013-04-05"}, notVerified},
		{"current: the middle name alone is not the first forename", person{"Jane", "Khan", "2013-04-05"}, person{"Mary|Jane", "Khan", "2013-04-05"}, notVerified},
		{"current: a hyphenated forename with a space is the same name", person{"Mary Jane", "Kahn", "2013-04-05"}, person{"Mary-Jane", "Khan", "2013-04-05"}, verified},
		{"current: an apostrophe does not count", person{"Sean", "OBrien", "2016-07-08"}, person{"Sean", "O'Brien", "2016-07-08"}, verified},
		{"current: an apostrophe written as a space does not count", person{"Sean", "O Brien", "2016-07-08"}, person{"Seán", "O'Brien", "2016-07-08"}, verified},
		{"current: an accent dropped is a one-letter variation", person{"Zoe", "Martin", "2017-01-01"}, person{"Zoë", "Martin", "2017-01-01"}, verified},
		{"current: Mc for Mac is a one-letter variation", person{"Callum", "McDonald", "2012-09-09"}, person{"Callum", "MacDonald", "2012-09-09"}, verified},
		{"current: Jon for John is a one-letter variation", person{"Jon", "Smith", "2011-11-11"}, person{"John", "Smith", "2011-11-11"}, verified},
		{"current: Ann for Anne is a one-letter variation", person{"Ann", "Smith", "2011-11-11"}, person{"Anne", "Smith", "2011-11-11"}, verified},
		{"current: a two-letter name allows no slip (Al for Ali)", person{"Al", "Smith", "2011-11-11"}, person{"Ali", "Smith", "2011-11-11"}, notVerified},
		{"current: Mohammed for Muhammad is two letters away, not minor", person{"Mohammed", "Ahmed", "2011-11-11"}, person{"Muhammad", "Ahmed", "2011-11-11"}, notVerified},
		{"current: Mohamed for Mohammed is a one-letter variation", person{"Mohamed", "Ahmed", "2011-11-11"}, person{"Mohammed", "Ahmed", "2011-11-11"}, verified},
		{"current: a two-letter family name allows no slip (Lee for Li)", person{"Wei", "Lee", "2013-03-03"}, person{"Wei", "Li", "2013-03-03"}, notVerified},
		{"current: a family name of two letters must be exact", person{"Wei", "Li", "2013-03-03"}, person{"Wei", "Li", "2013-03-03"}, verified},
		{"current: a mother's details verify like a child's", person{"Sarah", "Mitchell", "1999-08-27"}, person{"Sarah|Louise", "Mitchell", "1999-08-27"}, verified},
	}
	for _, tt := range tests {
		if got := cpis.Verified(tt.sent.upload(), tt.pds.patient(), cpis.VerifyCurrent); got != tt.want {
			t.Errorf("%s: Verified(%+v against PDS %+v) = %v, want %v", tt.name, tt.sent, tt.pds, got, tt.want)
		}
	}
}

// CP-IS002 (2015): verified if the date of birth matches exactly; otherwise
// if two of its three parts match and the first three characters of the
// surname and the initial of the forename match, against all current names.
// Missing data means not verified.
func TestVerifiedCPIS2015(t *testing.T) {
	tests := []struct {
		name string
		sent person
		pds  person
		want bool
	}{
		{"CP-IS002 everything as PDS holds it verifies", person{"Oliver", "Hughes", "2015-06-12"}, oliver, verified},
		{"CP-IS002 an exact date of birth verifies whatever the names", person{"Jack", "Smith", "2015-06-12"}, oliver, verified},
		{"CP-IS002 an exact date of birth verifies with no names sent", person{"", "", "2015-06-12"}, oliver, verified},
		{"CP-IS002 the day out: year, month, 'Hug' and 'O' verify", person{"Olly", "Hugh", "2015-06-13"}, oliver, verified},
		{"CP-IS002 the month out: year, day, surname start and initial verify", person{"Oliver", "Hughes", "2015-07-12"}, oliver, verified},
		{"CP-IS002 the year out: month, day, surname start and initial verify", person{"Oliver", "Hughes", "2014-06-12"}, oliver, verified},
		{"CP-IS002 day and month swapped match in the year only: not verified", person{"Oliver", "Hughes", "2015-12-06"}, oliver, notVerified},
		{"CP-IS002 only the year matching is not verified", person{"Oliver", "Hughes", "2015-01-01"}, oliver, notVerified},
		{"CP-IS002 only the day matching is not verified", person{"Oliver", "Hughes", "2010-01-12"}, oliver, notVerified},
		{"CP-IS002 two parts with the surname's first three letters differing is not verified", person{"Oliver", "Hewes", "2015-06-13"}, oliver, notVerified},
		{"CP-IS002 two parts with the forename initial differing is not verified", person{"Jack", "Hughes", "2015-06-13"}, oliver, notVerified},
		{"CP-IS002 exactly three letters of surname are enough", person{"O", "Hug", "2015-06-13"}, oliver, verified},
		{"CP-IS002 a surname of two letters sent is not verified", person{"Oliver", "Hu", "2015-06-13"}, oliver, notVerified},
		{"CP-IS002 a two-letter surname held by PDS cannot match", person{"Wei", "Li", "2013-03-04"}, person{"Wei", "Li", "2013-03-03"}, notVerified},
		{"CP-IS002 no forename sent is not verified", person{"", "Hughes", "2015-06-13"}, oliver, notVerified},
		{"CP-IS002 no surname sent is not verified", person{"Oliver", "", "2015-06-13"}, oliver, notVerified},
		{"CP-IS002 case does not count", person{"oliver", "HUGHES", "2015-06-13"}, oliver, verified},
		{"CP-IS002 the initial matches against all current given names", person{"James", "Hughes", "2015-06-13"}, person{"Oliver|James", "Hughes", "2015-06-12"}, verified},
		{"CP-IS002 an initial none of the given names has is not verified", person{"Kit", "Hughes", "2015-06-13"}, person{"Oliver|James", "Hughes", "2015-06-12"}, notVerified},
		{"CP-IS002 an apostrophe does not count in the surname's first three", person{"Sean", "OBrien", "2016-07-09"}, person{"Sean", "O'Brien", "2016-07-08"}, verified},
		{"CP-IS002 the first part of a hyphenated surname starts it", person{"Ruby", "Smith", "2014-02-04"}, person{"Ruby", "Smith-Jones", "2014-02-03"}, verified},
		{"CP-IS002 the second part of a hyphenated surname does not start it", person{"Ruby", "Jones", "2014-02-04"}, person{"Ruby", "Smith-Jones", "2014-02-03"}, notVerified},
		{"CP-IS002 no date of birth sent is not verified", person{"Oliver", "Hughes", ""}, oliver, notVerified},
		{"CP-IS002 no date of birth in PDS is not verified", person{"Oliver", "Hughes", "2015-06-12"}, person{"Oliver", "Hughes", ""}, notVerified},
		{"CP-IS002 born on 29 February, a day out in the same month verifies with the names", person{"Leo", "Fisher", "2016-02-28"}, person{"Leo", "Fisher", "2016-02-29"}, verified},
	}
	for _, tt := range tests {
		if got := cpis.Verified(tt.sent.upload(), tt.pds.patient(), cpis.VerifyCPIS2015); got != tt.want {
			t.Errorf("%s: Verified(%+v against PDS %+v) = %v, want %v", tt.name, tt.sent, tt.pds, got, tt.want)
		}
	}
}

// The two profiles on the same details, and no profile at all.
func TestVerifiedProfilesDiffer(t *testing.T) {
	tests := []struct {
		name           string
		sent, pds      person
		current, p15   bool
		unknownProfile bool
	}{
		{"both: exact details", oliver, oliver, verified, verified, notVerified},
		{"2015 only: a day out with the name starts right", person{"Oliver", "Hughes", "2015-06-13"}, oliver, notVerified, verified, notVerified},
		{"2015 only: an exact date with other names", person{"Jack", "Smith", "2015-06-12"}, oliver, notVerified, verified, notVerified},
		{"neither: day and month swapped", person{"Oliver", "Hughes", "2015-12-06"}, oliver, notVerified, notVerified, notVerified},
	}
	for _, tt := range tests {
		r, p := tt.sent.upload(), tt.pds.patient()
		if got := cpis.Verified(r, p, cpis.VerifyCurrent); got != tt.current {
			t.Errorf("%s: current = %v, want %v", tt.name, got, tt.current)
		}
		if got := cpis.Verified(r, p, cpis.VerifyCPIS2015); got != tt.p15 {
			t.Errorf("%s: cpis2015 = %v, want %v", tt.name, got, tt.p15)
		}
		for _, v := range []cpis.Verification{"", "strict", "CURRENT"} {
			if got := cpis.Verified(r, p, v); got != tt.unknownProfile {
				t.Errorf("%s: profile %q = %v, want not verified", tt.name, v, got)
			}
		}
	}
}

// The guidance's "100% match" and "minor variation" on name pairs.
func TestSameNameAndMinorNameVariation(t *testing.T) {
	const (
		same  = "same"
		minor = "minor"
		other = "other"
	)
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{"identical names are the same", "Hughes", "Hughes", same},
		{"case does not count", "HUGHES", "hughes", same},
		{"spaces, hyphens, apostrophes and full stops do not count", "O'Brien-Smith.", "obrien smith", same},
		{"a double-barrelled name with a space for the hyphen is the same", "Smith Jones", "Smith-Jones", same},
		{"non-Latin letters are kept and compared", "Сергей", "сергей", same},
		{"an empty name is not the same as an empty name", "", "", other},
		{"a name of punctuation only is missing", "-'.", "-'.", other},
		{"a missing name is not the same as a name", "", "Hughes", other},
		{"a letter replaced is minor", "Smyth", "Smith", minor},
		{"a letter inserted is minor", "Jon", "John", minor},
		{"a letter deleted is minor", "Thompson", "Thomson", minor},
		{"two adjacent letters swapped are minor", "Hguhes", "Hughes", minor},
		{"the last two letters swapped are minor", "Hughse", "Hughes", minor},
		{"an accent dropped is one letter replaced", "Zoe", "Zoë", minor},
		{"a three-letter name may have a slip", "Amy", "Ami", minor},
		{"two letters replaced are not minor", "Oliver", "Olivia", other},
		{"a swap plus a replacement is not minor", "Hguhas", "Hughes", other},
		{"two letters inserted are not minor", "Ann", "Annie", other},
		{"a two-letter name allows no slip", "Li", "Lu", other},
		{"a two-letter name allows no insertion", "Al", "Ali", other},
		{"an initial is not minor", "J", "John", other},
		{"a wholly different name is not minor", "Jack", "Oliver", other},
		{"a missing name is not minor", "", "Oliver", other},
		{"one part of a double-barrelled name is minor", "Smith", "Smith-Jones", minor},
		{"the other part of a double-barrelled name is minor", "Jones", "Smith-Jones", minor},
		{"the parts in another order are minor", "Jones Smith", "Smith-Jones", minor},
		{"a first forename and the field holding a middle name too are minor", "Mary", "Mary Jane", minor},
		{"a part with a slip is not a part", "Smyth", "Smith-Jones", other},
		{"a one-letter part does not count as a part", "J", "J Smith", other},
		{"a part of neither name is not minor", "Brown", "Smith-Jones", other},
	}
	for _, tt := range tests {
		for _, pair := range [][2]string{{tt.a, tt.b}, {tt.b, tt.a}} {
			got := other
			switch {
			case cpis.SameName(pair[0], pair[1]):
				got = same
				if !cpis.MinorNameVariation(pair[0], pair[1]) {
					t.Errorf("%s: %q and %q are the same name but not a minor variation", tt.name, pair[0], pair[1])
				}
			case cpis.MinorNameVariation(pair[0], pair[1]):
				got = minor
			}
			if got != tt.want {
				t.Errorf("%s: %q against %q is %s, want %s", tt.name, pair[0], pair[1], got, tt.want)
			}
		}
	}
}

// fuzzDate turns fuzz integers into a civil date, or none for year 0.
func fuzzDate(y uint16, m, d uint8) time.Time {
	if y == 0 {
		return time.Time{}
	}
	return cpis.Date(1900+int(y%200), time.Month(1+m%12), 1+int(d%31))
}

// Verified on any names and dates: never panics; is the same whichever
// side the details are on (one given name each); the current rule is
// stricter than the 2015 one; details verify against themselves when
// complete; and no date of birth never verifies.
func FuzzVerified(f *testing.F) {
	f.Add("Oliver", "Hughes", uint16(115), uint8(5), uint8(11), "Olvier", "Hughes", uint16(115), uint8(5), uint8(11))
	f.Add("Mary Jane", "Khan", uint16(113), uint8(3), uint8(4), "Mary", "Khan", uint16(113), uint8(3), uint8(4))
	f.Add("Ruby", "Smith", uint16(114), uint8(1), uint8(2), "Ruby", "Smith-Jones", uint16(114), uint8(1), uint8(3))
	f.Add("", "", uint16(0), uint8(0), uint8(0), "O", "Hu", uint16(1), uint8(1), uint8(1))
	f.Add("Zoë", "O'Brien", uint16(117), uint8(0), uint8(0), "Zoe", "OBrien", uint16(117), uint8(0), uint8(0))
	f.Add("\xff\xfe", "Сергей", uint16(99), uint8(11), uint8(30), "-", "сергей", uint16(99), uint8(11), uint8(29))
	f.Fuzz(func(t *testing.T, g1, f1 string, y1 uint16, m1, d1 uint8, g2, f2 string, y2 uint16, m2, d2 uint8) {
		a := person{given: g1, family: f1}
		b := person{given: g2, family: f2}
		ra := cpis.UploadRecord{Name: cpis.Name{Given: []string{g1}, Family: f1}, BirthDate: fuzzDate(y1, m1, d1)}
		rb := cpis.UploadRecord{Name: cpis.Name{Given: []string{g2}, Family: f2}, BirthDate: fuzzDate(y2, m2, d2)}
		pa := cpis.Patient{Name: ra.Name, BirthDate: ra.BirthDate}
		pb := cpis.Patient{Name: rb.Name, BirthDate: rb.BirthDate}
		for _, v := range []cpis.Verification{cpis.VerifyCurrent, cpis.VerifyCPIS2015} {
			ab, ba := cpis.Verified(ra, pb, v), cpis.Verified(rb, pa, v)
			if ab != ba {
				t.Errorf("%s: %+v against %+v is %v, the other way round %v", v, a, b, ab, ba)
			}
			if ab && (ra.BirthDate.IsZero() || rb.BirthDate.IsZero()) {
				t.Errorf("%s: verified with a date of birth missing: %+v, %+v", v, ra, rb)
			}
		}
		if cpis.Verified(ra, pb, cpis.VerifyCurrent) && !cpis.Verified(ra, pb, cpis.VerifyCPIS2015) {
			t.Errorf("%+v against %+v: verified under current but not under cpis2015", a, b)
		}
		complete := !ra.BirthDate.IsZero() && cpis.SameName(g1, g1) && cpis.SameName(f1, f1)
		if complete && !cpis.Verified(ra, pa, cpis.VerifyCurrent) {
			t.Errorf("%+v does not verify against itself under current", a)
		}
		if !ra.BirthDate.IsZero() && !cpis.Verified(ra, pa, cpis.VerifyCPIS2015) {
			t.Errorf("%+v does not verify against itself under cpis2015", a)
		}
		for _, pair := range [][2]string{{g1, g2}, {f1, f2}} {
			same, minor := cpis.SameName(pair[0], pair[1]), cpis.MinorNameVariation(pair[0], pair[1])
			if same != cpis.SameName(pair[1], pair[0]) || minor != cpis.MinorNameVariation(pair[1], pair[0]) {
				t.Errorf("%q and %q: SameName or MinorNameVariation is not symmetric", pair[0], pair[1])
			}
			if same && !minor {
				t.Errorf("%q and %q: the same name but not a minor variation", pair[0], pair[1])
			}
		}
	})
}

// CheckRecord on any record: never panics, answers one of CPR01..CPR07,
// carries the record as sent, gives a new number exactly for CPR05, asks
// PDS only for records that could be stored, stores only new-style valid
// numbers, and agrees with Verified on CPR03 and CPR06.
func FuzzCheckRecord(f *testing.F) {
	f.Add(nhsOliver, false, false, "C", "Oliver", "Hughes", uint16(115), uint8(5), uint8(11), int16(0), int16(10), byte(0))
	f.Add(nhsSarah, false, true, "U", "Sarah", "Mitchell", uint16(99), uint8(7), uint8(26), int16(0), int16(150), byte(0))
	f.Add(nhsMerged, false, false, "CL", "Oliver", "Hughes", uint16(115), uint8(5), uint8(11), int16(0), int16(-1), byte(1))
	f.Add("RGT0012345", true, false, "CCL", "", "", uint16(0), uint8(0), uint8(0), int16(5), int16(-5), byte(2))
	f.Add(nhsBadCheckDigit, false, true, "UX", "Sarah", "", uint16(99), uint8(7), uint8(26), int16(-3), int16(0), byte(3))
	f.Add(nhsSensitive, false, false, "L", "Amelia", "Khan", uint16(112), uint8(10), uint8(2), int16(0), int16(0), byte(4))
	f.Fuzz(func(t *testing.T, number string, oldStyle, unborn bool, types, given, family string, y uint16, m, d uint8, startOff, endOff int16, flags byte) {
		r := cpis.UploadRecord{
			Position: 7, NHSNumber: number, OldStyle: oldStyle, LocalID: "L-" + number, Unborn: unborn,
			Name: cpis.Name{Given: []string{given}, Family: family}, BirthDate: fuzzDate(y, m, d),
		}
		base := day("2025-01-01")
		for i, c := range []byte(types) {
			p := cpis.Plan{Type: map[byte]cpis.PlanType{'C': cpis.CPP, 'L': cpis.LAC, 'U': cpis.UCP}[c]}
			if flags&(1<<(i%8)) == 0 {
				p.Start = base.AddDate(0, 0, int(startOff))
			}
			if endOff != 0 {
				p.End = p.Start.AddDate(0, 0, int(endOff))
			}
			r.Plans = append(r.Plans, p)
		}
		v := []cpis.Verification{cpis.VerifyCurrent, cpis.VerifyCPIS2015, "", "other"}[flags%4]
		calls := 0
		var seen cpis.Patient
		var found bool
		lookup := func(n cpis.NHSNumber) (cpis.Patient, bool) {
			calls++
			seen, found = uploadPDS[n]
			if !found && flags&0x80 != 0 {
				// A PDS that knows every number, as the details sent.
				seen, found = cpis.Patient{NHSNumber: n, Name: r.Name, BirthDate: r.BirthDate}, true
			}
			return seen, found
		}
		got := cpis.CheckRecord(r, lookup, v)
		switch got.Code {
		case cpis.CPR01, cpis.CPR02, cpis.CPR03, cpis.CPR04, cpis.CPR05, cpis.CPR06, cpis.CPR07:
		default:
			t.Fatalf("code %q", got.Code)
		}
		if got.Position != r.Position || got.LocalID != r.LocalID || got.NHSNumber != r.NHSNumber {
			t.Errorf("outcome %+v does not carry the record as sent", got)
		}
		if (got.Code == cpis.CPR05) != (got.NewNHSNumber != "") {
			t.Errorf("code %s with new number %q", got.Code, got.NewNHSNumber)
		}
		if (got.Code == cpis.CPR06) != (got.Detail == "") {
			t.Errorf("code %s with detail %q", got.Code, got.Detail)
		}
		local := got.Code == cpis.CPR04 || got.Code == cpis.CPR07
		if (local && calls != 0) || (!local && calls != 1) {
			t.Errorf("code %s after %d PDS lookups", got.Code, calls)
		}
		if got.Success() && (oldStyle || !cpis.ValidNHSNumber(number) || len(r.Plans) == 0) {
			t.Errorf("stored %+v", r)
		}
		if got.Code == cpis.CPR06 || got.Code == cpis.CPR03 {
			if want := got.Code == cpis.CPR06; cpis.Verified(r, seen, v) != want {
				t.Errorf("code %s but Verified = %v", got.Code, !want)
			}
		}
		if again := cpis.CheckRecord(r, lookup, v); again != got {
			t.Errorf("answered %+v, then %+v", got, again)
		}
	})
}
