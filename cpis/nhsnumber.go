package cpis

// NHSNumber is a ten-digit NHS number whose check digit is valid.
type NHSNumber string

// ValidNHSNumber reports whether s is ten digits with a valid Modulus 11
// check digit: weights 10..2 on the first nine digits, check = 11 - (sum mod
// 11), where 11 means 0 and 10 means the number can never be valid.
func ValidNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 10; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		if i < 9 {
			sum += int(c-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10:
		return false
	}
	return int(s[9]-'0') == check
}

// ParseNHSNumber checks s and returns it as an NHSNumber.
func ParseNHSNumber(s string) (NHSNumber, error) {
	if !ValidNHSNumber(s) {
		return "", Errorf(KindInvalid, "nhs number", "NHS number is not ten digits with a valid Modulus 11 check digit")
	}
	return NHSNumber(s), nil
}
