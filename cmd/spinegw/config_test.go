package main

import (
	"testing"
	"time"
)

func TestParseClock(t *testing.T) {
	wall := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		spec string
		want time.Time
	}{
		{"real", wall},
		{"", wall},
		{"2026-01-02T03:04:05Z", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"offset:72h", wall.Add(72 * time.Hour)},
		{"offset:30d", wall.AddDate(0, 0, 30)},
		{"offset:-2d12h", wall.Add(-60 * time.Hour)},
	} {
		clk, err := parseClock(c.spec, func() time.Time { return wall })
		if err != nil {
			t.Fatalf("%q: %v", c.spec, err)
		}
		if got := clk.Now(); !got.Equal(c.want) {
			t.Errorf("%q: %v, want %v", c.spec, got, c.want)
		}
	}
	for _, bad := range []string{"yesterday", "offset:", "offset:3x", "2026-13-01T00:00:00Z"} {
		if _, err := parseClock(bad, time.Now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1MiB": 1 << 20, "512KiB": 512 << 10, "1000": 1000, "2MB": 2000000} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "lots", "1TiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
