package cpis

import (
	"strings"
	"time"
	"unicode"
)

// ParseVerification reads a verification profile name: "current" or
// "cpis2015", in any case, surrounding space ignored. Anything else, the
// empty string included, is an *Error of KindInvalid: the configuration
// layer owns the default, so that a misspelt profile is refused rather than
// silently replaced.
func ParseVerification(s string) (Verification, error) {
	switch v := Verification(strings.ToLower(strings.TrimSpace(s))); v {
	case VerifyCurrent, VerifyCPIS2015:
		return v, nil
	}
	return "", Errorf(KindInvalid, "verification", "unknown verification profile %q: want %q or %q", s, VerifyCurrent, VerifyCPIS2015)
}

// Verified reports whether the details an LA uploaded (the child's, or for
// an unborn child the mother's, given name, family name and date of birth)
// verify the NHS number of PDS patient p under profile v (CP-IS002,
// CP-IS006, wire reference §9). The NHS number itself has already matched:
// p is the patient PDS holds under it.
//
// Missing data never verifies, under either profile: a date of birth that is
// zero on either side verifies nothing, and a name with no letter or digit
// matches no name (under cpis2015 an exact date of birth needs no name, so
// there missing names matter only when the dates differ). An unknown profile
// verifies nothing, so a misconfiguration rejects records (CPR03) instead of
// storing unverified ones.
//
// VerifyCPIS2015 (CP-IS002, 2015): verified if the dates of birth are the
// same civil date. Otherwise verified if two of the three parts (year, month,
// day) match, and the first three letters of the family names match, and the
// initial of the uploaded forename is the initial of one of the patient's
// given names ("matched against all current names"). Names are compared
// after normalising (see SameName); a family name with fewer than three
// letters on either side cannot match ("if 3 characters are not available for
// the Surname ... NOT verified").
//
// VerifyCurrent (NHS number matching guidance 2019, edited 2022): the dates
// of birth are the same civil date, and either
//   - the forename is the same name (SameName) and the family name the same
//     or a minor variation of it (MinorNameVariation), or
//   - the family name is the same name and the forename the same or a minor
//     variation of it.
//
// The uploaded forename is every given name sent, in order; the patient's is
// the first given name PDS holds, because the guidance compares "the first
// forename" and warns that several names in one forename field prevent a
// 100% match "because PDS handles these as separate fields". Such a field
// is still a minor variation (its words include the first given name), so
// it verifies when the family name is exact, as the guidance describes.
func Verified(r UploadRecord, p Patient, v Verification) bool {
	switch v {
	case VerifyCurrent:
		if !sameDate(r.BirthDate, p.BirthDate) {
			return false
		}
		fore, pdsFore := forename(r.Name), firstGiven(p.Name)
		fam, pdsFam := r.Name.Family, p.Name.Family
		return (SameName(fore, pdsFore) && MinorNameVariation(fam, pdsFam)) ||
			(SameName(fam, pdsFam) && MinorNameVariation(fore, pdsFore))
	case VerifyCPIS2015:
		if r.BirthDate.IsZero() || p.BirthDate.IsZero() {
			return false
		}
		if sameDate(r.BirthDate, p.BirthDate) {
			return true
		}
		return twoOfThreeDateParts(r.BirthDate, p.BirthDate) &&
			sameSurnameStart(r.Name.Family, p.Name.Family) &&
			initialAmong(forename(r.Name), p.Name.Given)
	}
	return false
}

// SameName reports whether two names are the same name, the guidance's "100%
// match": equal once each is reduced to its letters and digits, lower-cased
// (so case, spaces, hyphens, apostrophes and full stops do not count:
// "O'Brien" is "OBRIEN", "Smith-Jones" is "smith jones"). A name with no
// letter or digit is missing and is not the same as anything.
func SameName(a, b string) bool {
	na := normaliseName(a)
	return na != "" && na == normaliseName(b)
}

// MinorNameVariation reports whether two names are the same (SameName) or
// differ only by what the NHS number matching guidance calls "minor
// variation ... in spelling". The guidance does not define it; here it is
// one of:
//   - one slip of spelling: after normalising as SameName does, both names
//     have at least three letters and one letter is inserted, deleted or
//     replaced, or two adjacent letters are swapped (an optimal string
//     alignment, restricted Damerau-Levenshtein, distance of 1): "Jon" and
//     "John", "Smyth" and "Smith", "Hguhes" and "Hughes";
//   - a part of a name with several parts: the words of one name (split at
//     spaces and hyphens, each of at least two letters) are all words of the
//     other, as with a double-barrelled family name given in part or in
//     another order ("Smith" and "Smith-Jones", "Jones Smith" and
//     "Smith-Jones") or a forename field holding a middle name too ("Mary"
//     and "Mary Jane").
//
// One edit, not two, and none for names of one or two letters, because the
// other name and the date of birth are all that stand between a record and
// the wrong child: twins share both, and their forenames are often a letter
// or two apart (Oliver and Olivia, Alexander and Alexandra are two edits
// apart; Louis and Louise, one, is a risk the guidance itself accepts).
// Initials are not a spelling variation: "J" is not a minor variation of
// "John". The relation is symmetric.
func MinorNameVariation(a, b string) bool {
	na, nb := normaliseName(a), normaliseName(b)
	if na == "" || nb == "" {
		return false
	}
	if na == nb {
		return true
	}
	ra, rb := []rune(na), []rune(nb)
	if min(len(ra), len(rb)) >= 3 && osaDistance(ra, rb, 1) <= 1 {
		return true
	}
	wa, wb := nameWords(a), nameWords(b)
	return wordsWithin(wa, wb) || wordsWithin(wb, wa)
}

// forename is the forename as uploaded: every given name sent, in order.
func forename(n Name) string { return strings.Join(n.Given, " ") }

// firstGiven is a PDS patient's first given name.
func firstGiven(n Name) string {
	if len(n.Given) == 0 {
		return ""
	}
	return n.Given[0]
}

// normaliseName keeps the letters and digits of s, lower-cased.
func normaliseName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// nameWords splits a name at white space and dashes and normalises each
// word, dropping those left empty.
func nameWords(s string) []string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) })
	words := make([]string, 0, len(fields))
	for _, f := range fields {
		if w := normaliseName(f); w != "" {
			words = append(words, w)
		}
	}
	return words
}

// wordsWithin reports whether every word of small, each of at least two
// letters, is a word of big. A single word matching a single word is not
// "within" (that is SameName or a spelling slip), so small must have fewer
// words than big or big must have several.
func wordsWithin(small, big []string) bool {
	if len(small) == 0 || len(big) < 2 {
		return false
	}
	in := make(map[string]bool, len(big))
	for _, w := range big {
		in[w] = true
	}
	for _, w := range small {
		if len([]rune(w)) < 2 || !in[w] {
			return false
		}
	}
	return true
}

// osaDistance is the optimal string alignment distance between a and b: the
// fewest insertions, deletions, substitutions and swaps of two adjacent
// runes turning a into b, where no substring is edited twice. It stops
// early and returns limit+1 once the distance is known to exceed limit, so a
// pair of long names costs no more than the band around the diagonal.
func osaDistance(a, b []rune, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	// Three rows of the dynamic programme: two back (for swaps), previous, current.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
			rowMin = min(rowMin, d)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit+1)
}

// sameDate reports whether two dates of birth, both known, are the same
// civil date. Dates are compared as written (year, month, day in their own
// location), the representation of every CP-IS date.
func sameDate(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return false
	}
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// twoOfThreeDateParts reports whether at least two of year, month and day
// are equal (CP-IS002: "a single 'part' being YYYY, MM or DD"). A date with
// its day and month swapped matches in the year only.
func twoOfThreeDateParts(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	n := 0
	for _, eq := range []bool{ay == by, am == bm, ad == bd} {
		if eq {
			n++
		}
	}
	return n >= 2
}

// sameSurnameStart reports whether both family names have at least three
// letters or digits and their first three are the same (CP-IS002).
func sameSurnameStart(a, b string) bool {
	ra, rb := []rune(normaliseName(a)), []rune(normaliseName(b))
	return len(ra) >= 3 && len(rb) >= 3 && string(ra[:3]) == string(rb[:3])
}

// initialAmong reports whether the uploaded forename's initial is the
// initial of one of the patient's given names (CP-IS002: "matched against
// all current names").
func initialAmong(fore string, given []string) bool {
	f := []rune(normaliseName(fore))
	if len(f) == 0 {
		return false
	}
	for _, g := range given {
		if r := []rune(normaliseName(g)); len(r) > 0 && r[0] == f[0] {
			return true
		}
	}
	return false
}
