package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
)

func sampleEvents(n int) []cpis.AccessEvent {
	t0 := time.Date(2026, time.November, 22, 10, 0, 0, 0, time.UTC)
	out := make([]cpis.AccessEvent, n)
	for i := range out {
		id := fmt.Sprintf("2000098762%02d", i)
		out[i] = cpis.AccessEvent{
			ID: fmt.Sprintf("C0FFEE00-0000-4000-8000-%012d", i), NHSNumber: "9995260107",
			At: t0.Add(-time.Duration(i) * time.Minute), Shown: true, LAs: []string{"V145", "V230"},
			Accessor: cpis.Accessor{UserID: id, RoleProfileID: "1000" + id,
				Name:    cpis.Name{Prefix: "Dr", Given: []string{"Pat", "Sam"}, Family: "Tester"},
				JobRole: cpis.JobRole{Code: "S0010:G0020:R0680", Name: "Midwife"},
				Org:     cpis.Org{ODS: "RKE", Name: "The Whittington Hospital NHS Trust"}, ASID: "200000000101"},
		}
	}
	return out
}

func encodeHistory(events []cpis.AccessEvent) string {
	var h []histEntry
	for i := range events {
		h = append(h, histEntry{at: events[i].At.UnixNano(), raw: string(appendHistoryEntry(nil, &events[i]))})
	}
	return string(joinHistory(nil, h))
}

func BenchmarkParseHistory(b *testing.B) {
	text := encodeHistory(sampleEvents(cpis.HistoryLimit))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := parseHistory(text, "9995260107"); err != nil {
			b.Fatal(err)
		}
	}
}

// Whatever a name or id holds, the summary gives it back as written, and
// the text is JSON that SQLite and encoding/json read the same way.
func TestHistoryRoundTrip(t *testing.T) {
	events := sampleEvents(3)
	odd := []string{"", `O"Neil`, `back\slash`, "tab\there", "new\nline", "Zoë", "\x00\x1f", "\u2028", `a","b`, "[x]", "\xff not UTF-8"}
	events[0].Accessor.Name.Given = odd
	events[0].LAs = nil
	events[1].Accessor.Name.Given = nil
	events[1].Accessor.Org.Name = `"[]\`
	events[2].Accessor.System = true
	events[2].ID = "{\"a\":[1,2]}"
	text := encodeHistory(events)
	got, err := parseHistory(text, "9995260107")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, events) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, events)
	}
	if !json.Valid([]byte(encodeHistory(sampleEvents(2)))) {
		t.Error("the summary of plain events is not JSON")
	}
	// What SQLite writes (migration 0002's backfill): escapes of its own.
	sqliteStyle := `[[1795341600000000000,"M\u0031","U","P","Dr",["A\/B","\ud83d\ude00"],"F","R0680","Midwife","RKE","Org",0,"200000000101",["V145"]]]`
	got, err = parseHistory(sqliteStyle, "9995260107")
	if err != nil {
		t.Fatal(err)
	}
	if g := got[0].Accessor.Name.Given; g[0] != "A/B" || g[1] != "😀" || got[0].ID != "M1" {
		t.Errorf("escapes decoded as %q, id %q", g, got[0].ID)
	}
}

func TestParseHistoryRefusesMalformed(t *testing.T) {
	good := encodeHistory(sampleEvents(2))
	one := `[1795341600000000000,"M","U","P","Dr",["A"],"F","R0680","Midwife","RKE","Org",0,"200000000101",["V145"]]`
	if _, err := parseHistory("["+one+"]", "9995260107"); err != nil {
		t.Fatalf("the well-formed case: %v", err)
	}
	// Malformed as a whole: neither split nor parsed.
	for _, bad := range []string{"", "[", "[[]", good[:len(good)-1], good + "x", "[" + one + "," + "]", `[["1"]]`, `[[1,"unterminated]]`} {
		if _, err := parseHistory(bad, "9995260107"); err == nil {
			t.Errorf("parsed %q", bad)
		}
		if _, err := splitHistory(bad); err == nil {
			t.Errorf("split %q", bad)
		}
	}
	// Elements of the wrong shape: refused when parsed.
	for _, bad := range []string{`[[1,"a"]]`, "[[]]", strings.Replace("["+one+"]", `"200000000101"`, `2`, 1),
		strings.Replace("["+one+"]", `,0,`, `,2,`, 1), strings.Replace("["+one+"]", `["A"]`, `"A"`, 1)} {
		if _, err := parseHistory(bad, "9995260107"); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}

// CP-IS048: newest first, at most 25; an event of the same instant as one
// recorded before it is the newer.
func TestInsertHistory(t *testing.T) {
	var h []histEntry
	for _, at := range []int64{5, 3, 9, 5, 1} {
		h = insertHistory(h, histEntry{at: at, raw: fmt.Sprintf("%d%d", at, len(h))})
	}
	var got []string
	for _, e := range h {
		got = append(got, e.raw)
	}
	if want := []string{"92", "53", "50", "31", "14"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
	h = nil
	for i := 0; i < 30; i++ {
		h = insertHistory(h, histEntry{at: int64(i)})
	}
	if len(h) != cpis.HistoryLimit || h[0].at != 29 || h[24].at != 5 {
		t.Errorf("kept %d from %d to %d", len(h), h[0].at, h[len(h)-1].at)
	}
	if h2 := insertHistory(h, histEntry{at: 2}); len(h2) != cpis.HistoryLimit || h2[24].at != 5 {
		t.Errorf("an event older than 25 shown ones entered the history")
	}
}
