package cpis_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"spinegw/cpis"
)

// An NHS number is ten digits whose last is a Modulus 11 check digit: weights
// 10..2 on the first nine, check = 11 - (sum mod 11), 11 means 0 and 10 means
// the number can never be issued.
func TestValidNHSNumber(t *testing.T) {
	const valid, invalid = true, false
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"a published valid number passes", "9434765919", valid},
		{"another published valid number passes", "9446245796", valid},
		{"a synthetic-range style valid number passes", "9000000084", valid},
		{"a check of 11 is written 0", "9990000050", valid},
		{"all zeros sums to 0, check 11 written 0", "0000000000", valid},
		{"repeated digits pass the check: rejecting them is policy, not Modulus 11", "1111111111", valid},
		{"a number from NHS samples whose prefix gives check 10 fails", "1234567895", invalid},
		{"a number from NHS samples with the wrong check digit fails", "9912003899", invalid},
		{"the right check digit of that sample passes", "9912003896", valid},
		{"check 10 can never be valid, last digit 0", "1234567890", invalid},
		{"check 10 can never be valid, last digit 1", "1234567891", invalid},
		{"check 10 can never be valid in the synthetic range", "9990000000", invalid},
		{"check 10 can never be valid in the synthetic range, last digit 9", "9990000009", invalid},
		{"one off the check digit fails", "9434765918", invalid},
		{"two digits swapped fail", "4934765919", invalid},
		{"nine digits fail", "943476591", invalid},
		{"eleven digits fail", "94347659190", invalid},
		{"a valid number with a leading space fails", " 9434765919", invalid},
		{"a valid number with a trailing newline fails", "9434765919\n", invalid},
		{"spaced as printed fails", "943 476 5919", invalid},
		{"a letter in place of a digit fails", "94347659A9", invalid},
		{"a letter as the check digit fails", "943476591X", invalid},
		{"a sign fails", "+434765919", invalid},
		{"ten non-digits fail", "abcdefghij", invalid},
		{"a non-ASCII digit fails", "943476591٩", invalid},
		{"empty fails", "", invalid},
	}
	check := func(in string, want bool) bool { return cpis.ValidNHSNumber(in) == want }
	for _, tt := range tests {
		if !check(tt.in, tt.want) {
			t.Errorf("%s: ValidNHSNumber(%q) = %v, want %v", tt.name, tt.in, !tt.want, tt.want)
		}
	}
}

func TestParseNHSNumber(t *testing.T) {
	n, err := cpis.ParseNHSNumber("9434765919")
	if err != nil || n != "9434765919" {
		t.Errorf("ParseNHSNumber(valid) = %q, %v", n, err)
	}
	for _, in := range []string{"", "1234567895", "9912003899", "943476591"} {
		n, err := cpis.ParseNHSNumber(in)
		if cpis.KindOf(err) != cpis.KindInvalid || n != "" {
			t.Errorf("ParseNHSNumber(%q) = %q, %v; want KindInvalid", in, n, err)
		}
		// The message is sent on the wire and logged: no patient data.
		if strings.Contains(cpis.MessageOf(err), in) && in != "" {
			t.Errorf("ParseNHSNumber(%q): message %q carries the number", in, cpis.MessageOf(err))
		}
	}
}

// For any nine-digit prefix exactly one of the ten possible last digits
// passes, the computed check digit, unless the check is 10, when none does.
func TestValidNHSNumberExactlyTheCheckDigitPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 48))
	prefixes := []string{"000000000", "999999999", "943476591", "123456789", "999000005"}
	for range 20000 {
		prefixes = append(prefixes, fmt.Sprintf("%09d", rng.IntN(1_000_000_000)))
	}
	var tens int
	for _, p := range prefixes {
		want, ok := modulus11(p)
		if !ok {
			tens++
		}
		for d := byte('0'); d <= '9'; d++ {
			got := cpis.ValidNHSNumber(p + string(d))
			if got != (ok && d == want) {
				t.Fatalf("ValidNHSNumber(%s%c) = %v; check digit of %s is %c (possible %v)", p, d, got, p, want, ok)
			}
		}
	}
	// About one prefix in eleven gives check 10: the sample must include them.
	if tens == 0 {
		t.Errorf("no sampled prefix had check digit 10")
	}
}

// modulus11 computes the check digit of a nine-digit prefix step by step as
// the wire reference (section 8) states the rule; ok is false when the check
// is 10 and no number with this prefix is valid.
func modulus11(prefix string) (digit byte, ok bool) {
	weights := []int{10, 9, 8, 7, 6, 5, 4, 3, 2}
	total := 0
	for i, w := range weights {
		total += w * int(prefix[i]-'0')
	}
	remainder := total % 11
	check := 11 - remainder
	if check == 11 {
		check = 0
	}
	if check == 10 {
		return 0, false
	}
	return byte('0' + check), true
}

// referenceValid is a plain reimplementation of the NHS number rule.
func referenceValid(s string) bool {
	if len(s) != 10 {
		return false
	}
	for _, r := range []byte(s) {
		if !strings.ContainsRune("0123456789", rune(r)) {
			return false
		}
	}
	d, ok := modulus11(s[:9])
	return ok && s[9] == d
}

func FuzzValidNHSNumber(f *testing.F) {
	for _, s := range []string{
		"9434765919", "9446245796", "9000000084", "1234567895", "9912003899",
		"", "0000000000", "943476591", "94347659190", "943476591٩", "943476591\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := cpis.ValidNHSNumber(s)
		if want := referenceValid(s); got != want {
			t.Errorf("ValidNHSNumber(%q) = %v, reference says %v", s, got, want)
		}
		n, err := cpis.ParseNHSNumber(s)
		if got != (err == nil) || (got && string(n) != s) {
			t.Errorf("ParseNHSNumber(%q) = %q, %v disagrees with ValidNHSNumber = %v", s, n, err, got)
		}
	})
}
