package hl7_test

import (
	"testing"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/internal/libxml2"
)

// BenchmarkParseQuery reads a parsed query (the walk the gateway does per
// request); "with parse" adds libxml2's parse of the SOAP-wrapped bytes.
func BenchmarkParseQuery(b *testing.B) {
	data := readTestdata(b, "soap-env.xml")
	b.Run("walk", func(b *testing.B) {
		n := queryElement(b, data)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := hl7.ParseQuery(n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("with parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			doc, err := libxml2.Parse(data, libxml2.ParseOptions{MaxBytes: 1 << 20})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := hl7.ParseQuery(findElement(doc.Root(), hl7.NS, hl7.InteractionQuery)); err != nil {
				b.Fatal(err)
			}
			doc.Free()
		}
	})
}

// BenchmarkQueryResponse builds the golden response (two LAs, four plans,
// three accesses) and one with the full 25 accesses of CP-IS048.
func BenchmarkQueryResponse(b *testing.B) {
	full := fullAnswer()
	long := fullAnswer()
	for len(long.History) < cpis.HistoryLimit {
		long.History = append(long.History, long.History[len(long.History)%3])
	}
	for _, bc := range []struct {
		name string
		a    cpis.Answer
	}{{"history 3", full}, {"history 25", long}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := hl7.QueryResponse(fixedReply, personQuery, bc.a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkQueryFailure(b *testing.B) {
	f := hl7.NotFound()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := hl7.QueryFailure(fixedReply, personQuery, f); err != nil {
			b.Fatal(err)
		}
	}
}
