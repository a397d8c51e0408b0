package bench

import (
	"math/rand/v2"
	"strconv"
)

// syntheticPrefix is the NHS number range that is never issued (wire
// reference §8), so generated numbers can never name a real person.
const syntheticPrefix = 999

// checkDigit returns the Modulus 11 check digit of the first nine digits
// (weights 10..2) and false when the nine digits can have none (the check
// comes out as 10).
func checkDigit(nine [9]byte) (byte, bool) {
	sum := 0
	for i, d := range nine {
		sum += int(d) * (10 - i)
	}
	c := 11 - sum%11
	switch c {
	case 11:
		return 0, true
	case 10:
		return 0, false
	}
	return byte(c), true
}

// NHSNumbers draws distinct valid NHS numbers in the 999 range.
type NHSNumbers struct {
	rng  *rand.Rand
	seen map[string]bool
}

// NewNHSNumbers returns a generator whose sequence depends only on seed, so
// the same world can be built twice.
func NewNHSNumbers(seed uint64) *NHSNumbers {
	return &NHSNumbers{rng: rand.New(rand.NewPCG(seed, 0x6e6873)), seen: map[string]bool{}}
}

// Next returns a number not returned before. The range holds about 900,000
// valid numbers, far more than a benchmark world needs.
func (g *NHSNumbers) Next() string {
	for {
		var nine [9]byte
		nine[0], nine[1], nine[2] = 9, 9, 9
		for i := 3; i < 9; i++ {
			nine[i] = byte(g.rng.IntN(10))
		}
		c, ok := checkDigit(nine)
		if !ok {
			continue
		}
		b := make([]byte, 0, 10)
		for _, d := range nine {
			b = append(b, '0'+d)
		}
		b = strconv.AppendInt(b, int64(c), 10)
		s := string(b)
		if g.seen[s] {
			continue
		}
		g.seen[s] = true
		return s
	}
}
