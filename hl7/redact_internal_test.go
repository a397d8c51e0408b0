package hl7

import "testing"

func TestRedactNHSNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"":                                      "",
		"no digits":                             "no digits",
		"line 12: value '9990000026' refused":   "line 12: value '**********' refused",
		"9990000026":                            "**********",
		"a 9990000026 b 9990000018":             "a ********** b **********",
		"ASID '200000000101' kept":              "ASID '200000000101' kept",
		"nine 999000002 and eleven 99900000261": "nine 999000002 and eleven 99900000261",
		"x9990000026y":                          "x**********y",
	} {
		if got := redactNHSNumbers(in); got != want {
			t.Errorf("redactNHSNumbers(%q) = %q, want %q", in, got, want)
		}
	}
}
