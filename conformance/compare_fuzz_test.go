package conformance_test

import (
	"os"
	"strings"
	"testing"

	"spinegw/conformance"
)

// CompareXML reads replies from any endpoint: it must never panic, must
// find a well-formed document equal to itself, and must report a
// difference between a reply and an expected response it does not match.
func FuzzCompareXML(f *testing.F) {
	for _, name := range conformance.ResponseCases {
		b, err := os.ReadFile("cases/" + name + "/response.xml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<a xmlns="urn:hl7-org:v3"><id root="1"/><b>t</b></a>`))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE a><a/>`))
	want, err := os.ReadFile("cases/positive-cpp/response.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, got []byte) {
		d := conformance.CompareXML(want, got)
		if len(d) > conformance.MaxDiffs {
			t.Fatalf("%d differences", len(d))
		}
		self := conformance.CompareXML(got, got)
		if len(self) == 1 && strings.HasPrefix(self[0], "expected response: ") {
			// Not XML: the reply is refused as such.
			if len(d) != 1 || !strings.HasPrefix(d[0], "reply: ") {
				t.Fatalf("a reply that does not parse: %v", d)
			}
			return
		}
		if len(self) != 0 {
			t.Fatalf("a document differs from itself: %v", self)
		}
	})
}
