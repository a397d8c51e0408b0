package bench

import (
	"strings"
	"testing"

	"spinegw/cpis"
)

func TestNHSNumbersAreValidAndNeverIssued(t *testing.T) {
	g := NewNHSNumbers(7)
	seen := map[string]bool{}
	for range 20000 {
		n := g.Next()
		if !cpis.ValidNHSNumber(n) {
			t.Fatalf("%s fails the Modulus 11 check", n)
		}
		if !strings.HasPrefix(n, "999") {
			t.Fatalf("%s is outside the never-issued 999 range", n)
		}
		if seen[n] {
			t.Fatalf("%s returned twice", n)
		}
		seen[n] = true
	}
}

func TestNHSNumbersDependOnlyOnSeed(t *testing.T) {
	a, b := NewNHSNumbers(3), NewNHSNumbers(3)
	for range 100 {
		if x, y := a.Next(), b.Next(); x != y {
			t.Fatalf("same seed, different numbers: %s, %s", x, y)
		}
	}
}

func TestCheckDigit(t *testing.T) {
	digits := func(s string) (d [9]byte) {
		for i := range d {
			d[i] = s[i] - '0'
		}
		return d
	}
	for _, tc := range []struct {
		nine  string
		check byte
		ok    bool
	}{
		{"943476591", 9, true}, // 9434765919, wire reference §8
		{"944624579", 6, true}, // 9446245796
		{"900000008", 4, true}, // 9000000084
		{"999000005", 0, true}, // sum 253 = 11 x 23: check 11 means 0
		{"123456789", 0, false},
	} {
		c, ok := checkDigit(digits(tc.nine))
		if ok != tc.ok || (ok && c != tc.check) {
			t.Errorf("checkDigit(%s) = %d, %v; want %d, %v", tc.nine, c, ok, tc.check, tc.ok)
		}
	}
}
