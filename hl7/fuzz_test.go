package hl7_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spinegw/hl7"
	"spinegw/internal/libxml2"
)

// FuzzParseQuery: whatever bytes arrive, parsing them, finding the query and
// reading it never panics, and a query ParseQuery accepts has what its checks
// promise.
func FuzzParseQuery(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := libxml2.Parse(data, libxml2.ParseOptions{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		defer doc.Free()
		hl7.ParseWrapper(doc.Root())
		n := findElement(doc.Root(), hl7.NS, hl7.InteractionQuery)
		if n == nil {
			return
		}
		q, err := hl7.ParseQuery(n)
		if err != nil {
			if len(q.NHSNumber) >= 10 && strings.Contains(err.Error(), q.NHSNumber) {
				t.Errorf("the refusal %q carries the NHS number", err)
			}
			return
		}
		if q.NHSNumber == "" || len(q.MessageID) != 36 || q.InteractionID != hl7.InteractionQuery {
			t.Errorf("accepted a query its checks should refuse: %#v", q)
		}
	})
}
