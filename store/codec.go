package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Civil dates are stored as 'YYYY-MM-DD' and read back as midnight UTC, the
// representation of every CP-IS date (cpis.Date); the zero time is NULL.
func dateValue(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.DateOnly)
}

func parseDate(s sql.NullString) (time.Time, error) {
	if !s.Valid || s.String == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored date: %w", err)
	}
	return t, nil
}

// Instants are nanoseconds since the Unix epoch, UTC: exact, and ordered
// the same in an index as in time.
func instant(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// representable reports whether t survives the round trip through UnixNano
// (years 1678 to 2262).
func representable(t time.Time) bool { return instant(t.UnixNano()).Equal(t) }

// Lists of strings (given names, LA codes) are JSON arrays; an empty list
// reads back as nil, so that values compare equal however they were built.
func stringsValue(s []string) (string, error) {
	if len(s) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(s)
	return string(b), err
}

func parseStrings(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	// Fast path, on every history row: a JSON array of strings without a
	// backslash has no escapes, so a quote only ever delimits a string and
	// the array splits on the separators. encoding/json (reflection) was a
	// tenth of Subject's time.
	if len(s) >= 4 && strings.HasPrefix(s, `["`) && strings.HasSuffix(s, `"]`) && !strings.ContainsRune(s, '\\') {
		out := strings.Split(s[2:len(s)-2], `","`)
		ok := true
		for _, e := range out {
			if strings.ContainsRune(e, '"') {
				ok = false // not the simple shape (e.g. spaces after commas): decode properly
				break
			}
		}
		if ok {
			return out, nil
		}
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("stored list: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func boolValue(b bool) int {
	if b {
		return 1
	}
	return 0
}
