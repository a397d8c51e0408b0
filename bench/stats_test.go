package bench

import (
	"math"
	"testing"
	"time"
)

func TestPercentileIsNearestRank(t *testing.T) {
	var ten []time.Duration
	for i := 1; i <= 10; i++ {
		ten = append(ten, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"p50 of ten is the fifth", ten, 50, 5 * time.Millisecond},
		{"p51 of ten rounds up to the sixth", ten, 51, 6 * time.Millisecond},
		{"p90 of ten is the ninth", ten, 90, 9 * time.Millisecond},
		{"p95 of ten is the tenth", ten, 95, 10 * time.Millisecond},
		{"p99 of ten is the largest", ten, 99, 10 * time.Millisecond},
		{"p100 is the largest", ten, 100, 10 * time.Millisecond},
		{"a tiny percentile is the smallest", ten, 0.1, 1 * time.Millisecond},
		{"one value is every percentile", ten[:1], 99, 1 * time.Millisecond},
		{"no values give zero", nil, 50, 0},
	} {
		if got := Percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPercentileOfThousand(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 1000; i++ {
		d = append(d, time.Duration(i)*time.Microsecond)
	}
	for p, want := range map[float64]time.Duration{50: 500, 95: 950, 99: 990, 99.9: 999} {
		if got := Percentile(d, p); got != want*time.Microsecond {
			t.Errorf("p%v = %v, want %v", p, got, want*time.Microsecond)
		}
	}
}

func TestMedian(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5}, 5},
		{[]float64{nan, 1, 9, nan, 4}, 4}, // unmeasured values left out
	} {
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
	if got := Median([]float64{nan}); !math.IsNaN(got) {
		t.Errorf("Median of nothing measured = %v, want NaN", got)
	}
}
