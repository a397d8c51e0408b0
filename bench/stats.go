package bench

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted: the smallest value such that at least p% of the values are less
// than or equal to it. Nearest rank always returns an observed latency,
// never an interpolation between two, which is what a latency target is
// about. It returns 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The epsilon keeps binary rounding from pushing an exact rank up one
	// (99.9% of 1000 computes as 999.0000000000001).
	rank := int(math.Ceil(p/100*float64(n) - 1e-9))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// Median returns the median of xs (the mean of the middle two for an even
// count), or NaN for none. Values that are NaN (a measurement that could not
// be made) are left out.
func Median(xs []float64) float64 {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}

func sortDurations(d []time.Duration) { slices.Sort(d) }
