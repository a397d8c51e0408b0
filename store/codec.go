package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"

	"spinegw/cpis"
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
	if t, ok := civilDate(s.String); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("stored date %q is not YYYY-MM-DD", s.String)
}

// civilDate parses 'YYYY-MM-DD' without time.Parse: dates are read on every
// query (plans, birth dates) and only ever stored in this one shape.
func civilDate(s string) (time.Time, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := cpis.Date(y, time.Month(m), d)
	if t.Day() != d { // 2026-02-30 would normalise to March
		return time.Time{}, false
	}
	return t, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Instants are nanoseconds since the Unix epoch, UTC: exact, and ordered
// the same in an index as in time.
func instant(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// representable reports whether t survives the round trip through UnixNano
// (years 1678 to 2262).
func representable(t time.Time) bool { return instant(t.UnixNano()).Equal(t) }

// Lists of strings (given names, LA codes) are JSON arrays; an empty list
// reads back as nil, so that values compare equal however they were built.
// Written by hand (appendJSONString), not with encoding/json: one is
// written on every access event.
func stringsValue(s []string) string {
	if len(s) == 0 {
		return "[]"
	}
	n := 2 + 3*len(s)
	for _, e := range s {
		n += len(e)
	}
	b := appendJSONStrings(make([]byte, 0, n), s)
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is not used again: no copy needed
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

// planRank orders plan types as responses show them (CP-IS035): CPP, LAC,
// UCP.
func planRank(t cpis.PlanType) int {
	switch t {
	case cpis.CPP:
		return 0
	case cpis.LAC:
		return 1
	default:
		return 2
	}
}

// planOrder is the order plans are stored and returned in: type, then start
// date, then as given.
func planOrder(a, b cpis.Plan) int {
	if r := planRank(a.Type) - planRank(b.Type); r != 0 {
		return r
	}
	return a.Start.Compare(b.Start)
}

// appendPlans appends the records.plans value for plans (migration 0004): a
// JSON array of [type, start, end, delete], dates YYYY-MM-DD or null, in
// display order. Types must be valid and dates representable as
// YYYY-MM-DD (years 0-9999): the callers check both first. Written by hand,
// not encoding/json: an upload writes 230,000 of them in one transaction.
func appendPlans(b []byte, plans []cpis.Plan) []byte {
	if !slices.IsSortedFunc(plans, planOrder) {
		plans = slices.Clone(plans)
		slices.SortStableFunc(plans, planOrder)
	}
	b = append(b, '[')
	for i, p := range plans {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `["`...)
		b = append(b, p.Type...)
		b = append(b, `",`...)
		b = appendDate(b, p.Start)
		b = append(b, ',')
		b = appendDate(b, p.End)
		b = append(b, ',')
		b = appendDate(b, p.Delete)
		b = append(b, ']')
	}
	return append(b, ']')
}

func appendDate(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.DateOnly)
	return append(b, '"')
}

// storableDate reports whether t fits 'YYYY-MM-DD'.
func storableDate(t time.Time) bool {
	y := t.UTC().Year()
	return t.IsZero() || 0 <= y && y <= 9999
}

// parsePlans reads a records.plans value. The shape appendPlans writes is
// read directly; anything else (a value written by hand with SQL's JSON
// functions, say) goes through encoding/json.
func parsePlans(s string) ([]cpis.Plan, error) {
	if s == "[]" {
		return nil, nil
	}
	if plans, ok := parsePlansFast(s); ok {
		return plans, nil
	}
	var raw [][]*string
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("stored plans: %w", err)
	}
	plans := make([]cpis.Plan, 0, len(raw))
	for _, r := range raw {
		if len(r) != 4 || r[0] == nil || r[1] == nil {
			return nil, fmt.Errorf("stored plans: an element is not [type, start, end, delete]")
		}
		p := cpis.Plan{Type: planType(*r[0])}
		if !p.Type.Valid() {
			return nil, fmt.Errorf("stored plans: type %q", *r[0])
		}
		for i, d := range []*time.Time{&p.Start, &p.End, &p.Delete} {
			if r[i+1] == nil {
				continue
			}
			t, ok := civilDate(*r[i+1])
			if !ok {
				return nil, fmt.Errorf("stored plans: date %q", *r[i+1])
			}
			*d = t
		}
		plans = append(plans, p)
	}
	if len(plans) == 0 {
		return nil, nil
	}
	return plans, nil
}

func parsePlansFast(s string) ([]cpis.Plan, bool) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	body := s[1 : len(s)-1]
	plans := make([]cpis.Plan, 0, strings.Count(body, "],")+1)
	for len(body) > 0 {
		// ["CPP","2025-01-01",null,null]
		if len(body) < 6 || body[0] != '[' || body[1] != '"' || body[5] != '"' {
			return nil, false
		}
		p := cpis.Plan{Type: planType(body[2:5])}
		if !p.Type.Valid() {
			return nil, false
		}
		body = body[6:]
		for _, d := range []*time.Time{&p.Start, &p.End, &p.Delete} {
			if len(body) == 0 || body[0] != ',' {
				return nil, false
			}
			body = body[1:]
			switch {
			case strings.HasPrefix(body, "null"):
				body = body[4:]
			case len(body) >= 12 && body[0] == '"' && body[11] == '"':
				t, ok := civilDate(body[1:11])
				if !ok {
					return nil, false
				}
				*d = t
				body = body[12:]
			default:
				return nil, false
			}
		}
		if p.Start.IsZero() || len(body) == 0 || body[0] != ']' {
			return nil, false
		}
		body = body[1:]
		if len(body) > 0 {
			if body[0] != ',' {
				return nil, false
			}
			body = body[1:]
		}
		plans = append(plans, p)
	}
	if len(plans) == 0 {
		return nil, true
	}
	return plans, true
}

// planType returns the constant for a stored type, so that a plan does not
// keep the row's string alive.
func planType(s string) cpis.PlanType {
	switch s {
	case "CPP":
		return cpis.CPP
	case "LAC":
		return cpis.LAC
	case "UCP":
		return cpis.UCP
	}
	return cpis.PlanType(s)
}
