package libxml2

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentUse runs parse, validation against one shared Schema, XPath
// and navigation from many goroutines, valid and invalid documents mixed, so
// that per-thread error state leaking between goroutines would show up as a
// wrong result. Run it under -race.
func TestConcurrentUse(t *testing.T) {
	s := qupc(t)
	valid := readTestdata(t, "QUPC_IN000006GB01.xml")
	invalid := []byte(strings.Replace(string(valid), `<acceptAckCode code="NE"/>`, "", 1))
	hostile := []byte(billionLaughs())

	const goroutines, iterations = 8, 500
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < iterations; i++ {
				if err := oneRound(s, g, i, valid, invalid, hostile); err != nil {
					errs <- fmt.Errorf("goroutine %d iteration %d: %w", g, i, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func oneRound(s *Schema, g, i int, valid, invalid, hostile []byte) error {
	switch (g + i) % 4 {
	case 0, 1:
		d, err := Parse(valid, ParseOptions{MaxBytes: 1 << 20})
		if err != nil {
			return err
		}
		defer d.Free()
		if errs := s.ValidateElement(d.Root()); errs != nil {
			return fmt.Errorf("valid instance: %v", errs)
		}
		v, err := d.XPathString("//hl7:person.NHSnumber/hl7:value/@extension", hl7Prefixes)
		if err != nil || v != "9434765919" {
			return fmt.Errorf("xpath: %q %v", v, err)
		}
		nodes, err := d.XPath("//hl7:device/hl7:id", hl7Prefixes)
		if err != nil || len(nodes) != 2 || nodes[1].Attr("extension") != "200000001179" {
			return fmt.Errorf("xpath nodes: %v %v", nodes, err)
		}
		if _, err := d.XPath("//nope:x", hl7Prefixes); err == nil {
			return fmt.Errorf("unbound prefix accepted")
		}
	case 2:
		d, err := Parse(invalid, ParseOptions{})
		if err != nil {
			return err
		}
		defer d.Free()
		errs := s.ValidateElement(d.Root())
		if len(errs) != 1 || errs[0].Line != 10 || !strings.Contains(errs[0].Msg, "acceptAckCode") {
			return fmt.Errorf("invalid instance: %v", errs)
		}
	case 3:
		d, err := Parse(hostile, ParseOptions{})
		if d != nil || err.(*ParseError).Kind != DoctypeForbidden {
			d.Free()
			return fmt.Errorf("billion laughs: %v", err)
		}
		_, err = Parse([]byte("<a>\n<b></a>"), ParseOptions{})
		if pe := err.(*ParseError); pe.Kind != NotWellFormed || pe.Line != 2 {
			return fmt.Errorf("mismatched tags: %v", pe)
		}
	}
	return nil
}
