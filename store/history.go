package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"spinegw/cpis"
)

// The access_history summary (migration 0002): per NHS number, the
// cpis.HistoryLimit newest shown events as one JSON array, newest first.
// Each element is
//
//	[at, message_id, user_id, role_profile_id, name_prefix, [given...],
//	 name_family, job_role_code, job_role_name, org_ods, org_name, system,
//	 asid, [la_ods...]]
//
// The writer (writeAccess) splices new shown events in without decoding
// the others; Subject decodes it with the small parser below, whose common
// case (no escapes) takes strings as substrings of the row, allocating
// nothing per field.

var errHistory = errors.New("stored access history is malformed")

// nhsKey is the access_history key of an NHS number: its ten digits as an
// integer. Callers pass valid numbers only.
func nhsKey(nhs cpis.NHSNumber) int64 {
	var n int64
	for i := 0; i < len(nhs); i++ {
		n = n*10 + int64(nhs[i]-'0')
	}
	return n
}

// appendHistoryEntry appends ev as an access_history element.
func appendHistoryEntry(b []byte, ev *cpis.AccessEvent) []byte {
	a := &ev.Accessor
	b = append(b, '[')
	b = appendInt(b, ev.At.UnixNano())
	for _, s := range []string{ev.ID, a.UserID, a.RoleProfileID, a.Name.Prefix} {
		b = append(b, ',')
		b = appendJSONString(b, s)
	}
	b = append(b, ',')
	b = appendJSONStrings(b, a.Name.Given)
	for _, s := range []string{a.Name.Family, a.JobRole.Code, a.JobRole.Name, a.Org.ODS, a.Org.Name} {
		b = append(b, ',')
		b = appendJSONString(b, s)
	}
	b = append(b, ',', '0'+byte(boolValue(a.System)), ',')
	b = appendJSONString(b, a.ASID)
	b = append(b, ',')
	b = appendJSONStrings(b, ev.LAs)
	return append(b, ']')
}

func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n // instants before 1970 only; never math.MinInt64 (representable checks)
	}
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

func appendJSONStrings(b []byte, s []string) []byte {
	b = append(b, '[')
	for i, e := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, e)
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string: only what JSON requires is
// escaped (quote, backslash, control characters); anything else, UTF-8 or
// not, is copied as it is, and the parser below copies it back.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		if c == '"' || c == '\\' {
			b = append(b, '\\', c)
		} else {
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// histEntry is one element of a stored history, still encoded.
type histEntry struct {
	at  int64
	raw string
}

// splitHistory cuts a stored history into its elements, reading only each
// one's time.
func splitHistory(s string) ([]histEntry, error) {
	p := jsonScanner{s: s}
	if !p.byte('[') {
		return nil, errHistory
	}
	out := make([]histEntry, 0, cpis.HistoryLimit+1)
	if p.byte(']') {
		return out, nil
	}
	for {
		start := p.i
		if !p.byte('[') {
			return nil, errHistory
		}
		at, ok := p.int()
		if !ok || !p.skipRest() {
			return nil, errHistory
		}
		out = append(out, histEntry{at: at, raw: s[start:p.i]})
		if p.byte(']') {
			break
		}
		if !p.byte(',') {
			return nil, errHistory
		}
	}
	if p.i != len(s) {
		return nil, errHistory
	}
	return out, nil
}

// insertHistory puts a new shown event into a history, newest first: after
// every element newer than it (it is newer than an element of the same
// time, recorded before it), keeping at most cpis.HistoryLimit elements.
func insertHistory(h []histEntry, e histEntry) []histEntry {
	i := 0
	for i < len(h) && h[i].at > e.at {
		i++
	}
	if i >= cpis.HistoryLimit {
		return h // older than every event shown
	}
	h = append(h, histEntry{})
	copy(h[i+1:], h[i:])
	h[i] = e
	if len(h) > cpis.HistoryLimit {
		h = h[:cpis.HistoryLimit]
	}
	return h
}

func joinHistory(b []byte, h []histEntry) []byte {
	b = append(b, '[')
	for i, e := range h {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.raw...)
	}
	return append(b, ']')
}

// parseHistory decodes a stored history of the NHS number.
func parseHistory(s string, nhs cpis.NHSNumber) ([]cpis.AccessEvent, error) {
	p := jsonScanner{s: s}
	if !p.byte('[') {
		return nil, errHistory
	}
	if p.byte(']') {
		return nil, nil
	}
	out := make([]cpis.AccessEvent, 0, cpis.HistoryLimit)
	for {
		// Decoded in place: copying a finished event in would cost a write
		// barrier per pointer while the collector runs.
		out = append(out, cpis.AccessEvent{})
		if err := p.event(&out[len(out)-1], nhs); err != nil {
			return nil, err
		}
		if p.byte(']') {
			break
		}
		if !p.byte(',') {
			return nil, errHistory
		}
	}
	if p.i != len(s) {
		return nil, errHistory
	}
	return out, nil
}

// jsonScanner reads the fixed shapes above. It accepts what encoding/json
// and SQLite's json functions write (the migration's backfill is SQLite's):
// whitespace between tokens, any escape in strings.
type jsonScanner struct {
	s    string
	i    int
	pool []string // backing array of the string lists read (see strs)
}

func (p *jsonScanner) ws() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\t' || p.s[p.i] == '\r') {
		p.i++
	}
}

// byte consumes c if it is next.
func (p *jsonScanner) byte(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c { // what this store writes: no whitespace
		p.i++
		return true
	}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonScanner) int() (int64, bool) {
	if p.i < len(p.s) && (p.s[p.i] < '0' || p.s[p.i] > '9') {
		p.ws()
	}
	neg := p.i < len(p.s) && p.s[p.i] == '-'
	if neg {
		p.i++
	}
	start := p.i
	var n int64
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' && p.i-start < 19 {
		n = n*10 + int64(p.s[p.i]-'0')
		p.i++
	}
	if p.i == start || p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// str reads a string: a substring of the row when it has no escapes.
func (p *jsonScanner) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	rest := p.s[start:]
	// Most strings here are short codes and ids: one pass looking for the
	// closing quote and for a backslash at once.
	j := 0
	for j < len(rest) && rest[j] != '"' && rest[j] != '\\' {
		j++
	}
	if j == len(rest) {
		return "", false
	}
	if rest[j] == '"' {
		p.i = start + j + 1
		return rest[:j], true
	}
	// Escapes: find the closing quote past them, then let encoding/json
	// decode the token (any JSON escape, surrogate pairs included).
	for ; j < len(rest); j++ {
		switch rest[j] {
		case '\\':
			j++
		case '"':
			var out string
			if err := json.Unmarshal([]byte(p.s[start-1:start+j+1]), &out); err != nil {
				return "", false
			}
			p.i = start + j + 1
			return out, true
		}
	}
	return "", false
}

// strs reads an array of strings; an empty one is nil. The slices of one
// history share one backing array, cut with full slice expressions so that
// a caller appending to one copies it.
func (p *jsonScanner) strs() ([]string, bool) {
	if !p.byte('[') {
		return nil, false
	}
	if p.byte(']') {
		return nil, true
	}
	start := len(p.pool)
	for {
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		if len(p.pool) == cap(p.pool) {
			// A new backing array: earlier slices keep the old one.
			grown := make([]string, len(p.pool)-start, max(4*cpis.HistoryLimit, 2*(len(p.pool)-start+1)))
			copy(grown, p.pool[start:])
			p.pool, start = grown, 0
		}
		p.pool = append(p.pool, s)
		if p.byte(']') {
			return p.pool[start:len(p.pool):len(p.pool)], true
		}
		if !p.byte(',') {
			return nil, false
		}
	}
}

// skipRest moves past the end of the array whose opening bracket and
// first element have been read.
func (p *jsonScanner) skipRest() bool {
	depth := 1
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '"':
			if _, ok := p.str(); !ok {
				return false
			}
			continue
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				p.i++
				return true
			}
		}
		p.i++
	}
	return false
}

func (p *jsonScanner) event(e *cpis.AccessEvent, nhs cpis.NHSNumber) error {
	e.NHSNumber, e.Shown = nhs, true
	a := &e.Accessor
	var at, system int64
	ok := p.byte('[')
	// Written out rather than as a table of closures: this runs for every
	// event of every query, and closures would allocate.
	next := func() bool {
		ok = ok && p.byte(',')
		return ok
	}
	if ok {
		at, ok = p.int()
	}
	if next() {
		e.ID, ok = p.str()
	}
	if next() {
		a.UserID, ok = p.str()
	}
	if next() {
		a.RoleProfileID, ok = p.str()
	}
	if next() {
		a.Name.Prefix, ok = p.str()
	}
	if next() {
		a.Name.Given, ok = p.strs()
	}
	if next() {
		a.Name.Family, ok = p.str()
	}
	if next() {
		a.JobRole.Code, ok = p.str()
	}
	if next() {
		a.JobRole.Name, ok = p.str()
	}
	if next() {
		a.Org.ODS, ok = p.str()
	}
	if next() {
		a.Org.Name, ok = p.str()
	}
	if next() {
		system, ok = p.int()
		ok = ok && (system == 0 || system == 1)
	}
	if next() {
		a.ASID, ok = p.str()
	}
	if next() {
		e.LAs, ok = p.strs()
	}
	if !ok || !p.byte(']') {
		return fmt.Errorf("%w at byte %d", errHistory, p.i)
	}
	e.At = instant(at)
	a.System = system == 1
	return nil
}
