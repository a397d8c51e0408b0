package libxml2

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

const xsdNamespace = "http://www.w3.org/2001/XMLSchema"

// dropProhibitedAttrTypes returns src without the xs:simpleType children of
// xs:attribute elements that have use="prohibited", and how many it removed.
//
// libxml2 2.9 refuses such a schema ("attribute use prohibited ... the
// content must be annotation?"), and the official NHS CP-IS set has 102 of
// them. Removing them changes nothing: a prohibited attribute may not appear,
// so its type is never used. Everything else is kept byte for byte (only the
// cut ranges differ), so line numbers in later errors stay close to the
// published files. Names are matched by namespace URI, so any prefix (xs:,
// xsd:, default namespace) works.
func dropProhibitedAttrTypes(src []byte) ([]byte, int, error) {
	d := xml.NewDecoder(bytes.NewReader(src))
	d.CharsetReader = passThroughASCIICompatible
	// One entry per open element: is it an xs:attribute use="prohibited"?
	var stack []bool
	type cut struct{ from, to int64 }
	var cuts []cut
	cutFrom, cutDepth := int64(-1), 0
	for {
		before := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			parentProhibited := len(stack) > 0 && stack[len(stack)-1]
			if cutFrom < 0 && parentProhibited && t.Name.Space == xsdNamespace && t.Name.Local == "simpleType" {
				cutFrom, cutDepth = before, len(stack)
			}
			stack = append(stack, t.Name.Space == xsdNamespace && t.Name.Local == "attribute" && attrValueOf(t, "use") == "prohibited")
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if cutFrom >= 0 && len(stack) == cutDepth {
				cuts = append(cuts, cut{cutFrom, d.InputOffset()})
				cutFrom = -1
			}
		}
	}
	if len(cuts) == 0 {
		return src, 0, nil
	}
	out := make([]byte, 0, len(src))
	var last int64
	for _, c := range cuts {
		out = append(out, src[last:c.from]...)
		last = c.to
	}
	out = append(out, src[last:]...)
	return out, len(cuts), nil
}

func attrValueOf(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// passThroughASCIICompatible lets the decoder read files declared as ASCII or
// Latin-1 (dt/NarrativeBlock.xsd says encoding="ASCII"). The bytes are not
// converted: markup is ASCII in all of them, the cuts fall on markup, and the
// output keeps the original bytes, so only the offsets matter and they stay
// exact. A non-ASCII byte that is not valid UTF-8 makes the decoder fail,
// and the caller then copies the file unchanged.
func passThroughASCIICompatible(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "ascii", "us-ascii", "iso-8859-1", "iso_8859-1", "latin1", "latin-1", "windows-1252":
		return input, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}
