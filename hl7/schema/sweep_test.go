package schema

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The sweep is the systematic half of the differential test: for every
// element of every valid instance it removes the element, repeats it, nils
// it, puts text or an unexpected child in it, adds each attribute HL7
// classes and data types know, and for every attribute present drops it,
// empties it and disturbs its value. Each variant is validated against both
// schema sets and must get the same verdict. Where the hand-written corpus
// states intent, the sweep looks for the corners nobody thought of.

// element is one element of a document with its attributes as written.
type element struct {
	sp     span
	path   string
	attrs  []xml.Attr
	parent int // index of the parent element, -1 for the root
}

func elements(doc []byte) ([]element, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var out []element
	var stack []int
	var names []string
	for {
		before := int(d.InputOffset())
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		after := int(d.InputOffset())
		switch t := tok.(type) {
		case xml.StartElement:
			names = append(names, t.Name.Local)
			sp := span{start: before, startEnd: after}
			sp.selfClosing = bytes.HasSuffix(doc[before:after], []byte("/>"))
			var attrs []xml.Attr
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				attrs = append(attrs, a)
			}
			parent := -1
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			out = append(out, element{sp: sp, path: strings.Join(names, "/"), attrs: attrs, parent: parent})
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			names = names[:len(names)-1]
			out[i].sp.end = after
		}
	}
	return out, nil
}

// sweepAttrs are attributes to try on every element, with a plausible value.
var sweepAttrs = [][2]string{
	{"nullFlavor", "NI"}, {"nullFlavor", "MSK"}, {"nullFlavor", "XX"}, {"updateMode", "added"},
	{"classCode", "OBS"}, {"moodCode", "EVN"}, {"typeCode", "AUT"}, {"typeCode", "XX"},
	{"determinerCode", "INSTANCE"}, {"type", "Act"}, {"typeID", "1.2"}, {"realmCode", "UK"},
	{"root", "1.2.3"}, {"root", "ABCDEF01-2345-4678-89AB-CDEF01234567"}, {"extension", "x"},
	{"assigningAuthorityName", "x"}, {"displayable", "true"}, {"code", "x"},
	{"codeSystem", "1.2.3"}, {"codeSystemName", "x"}, {"codeSystemVersion", "1"},
	{"displayName", "x"}, {"value", "20240101"}, {"value", "1"}, {"value", "tel:1"},
	{"use", "WP"}, {"use", "L"}, {"inclusive", "true"}, {"operator", "I"}, {"unit", "1"},
	{"partType", "GIV"}, {"qualifier", "CL"}, {"representation", "TXT"},
	{"mediaType", "text/plain"}, {"language", "en"}, {"compression", "GZ"},
	{"integrityCheck", "AAEC"}, {"integrityCheckAlgorithm", "SHA-1"}, {"isNotOrdered", "false"},
	{"inverted", "false"}, {"contextConductionInd", "true"}, {"templateId", "1.2"},
}

// sweepValues disturbs an attribute value.
func sweepValues(v string) []string {
	out := []string{"", " " + v, v + " ", v + "x", strings.ToLower(v), strings.ToUpper(v), "x y"}
	if len(v) > 1 {
		out = append(out, v[:len(v)-1])
	}
	seen := map[string]bool{v: true}
	var uniq []string
	for _, s := range out {
		if !seen[s] {
			seen[s] = true
			uniq = append(uniq, s)
		}
	}
	return uniq
}

func escapeAttr(v string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(v))
	return strings.ReplaceAll(b.String(), `"`, "&quot;")
}

var attrREs = map[string]*regexp.Regexp{}

func attrRE(name string) *regexp.Regexp {
	re, ok := attrREs[name]
	if !ok {
		re = attrPattern(name)
		attrREs[name] = re
	}
	return re
}

func withAttr(doc []byte, e element, name, value string) []byte {
	tag := string(doc[e.sp.start:e.sp.startEnd])
	attr := fmt.Sprintf(` %s="%s"`, name, escapeAttr(value))
	re := attrRE(name)
	if re.MatchString(tag) {
		tag = re.ReplaceAllLiteralString(tag, attr)
	} else {
		cut := len(tag) - 1
		if e.sp.selfClosing {
			cut--
		}
		tag = tag[:cut] + attr + tag[cut:]
	}
	return splice(doc, e.sp.start, e.sp.startEnd, tag)
}

func withoutAttr(doc []byte, e element, name string) []byte {
	tag := string(doc[e.sp.start:e.sp.startEnd])
	re := attrRE(name)
	return splice(doc, e.sp.start, e.sp.startEnd, re.ReplaceAllLiteralString(tag, ""))
}

func withContent(doc []byte, e element, content string) []byte {
	if !e.sp.selfClosing {
		return splice(doc, e.sp.startEnd, e.sp.startEnd, content)
	}
	tag := string(doc[e.sp.start:e.sp.startEnd])
	name := strings.TrimSuffix(strings.Fields(strings.TrimPrefix(tag, "<"))[0], "/>")
	open := strings.TrimSuffix(strings.TrimSuffix(tag, "/>"), " ") + ">"
	return splice(doc, e.sp.start, e.sp.startEnd, open+content+"</"+name+">")
}

func prefixOf(doc []byte, e element) string {
	tag := string(doc[e.sp.start+1 : e.sp.startEnd])
	name := strings.TrimSuffix(strings.Fields(tag)[0], "/>")
	name = strings.TrimSuffix(name, ">")
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return name[:i+1]
	}
	return ""
}

type variant struct {
	name string
	doc  []byte
}

// sweepVariants lists every variant of doc.
func sweepVariants(doc []byte) ([]variant, error) {
	els, err := elements(doc)
	if err != nil {
		return nil, err
	}
	var out []variant
	addv := func(name string, d []byte) { out = append(out, variant{name, d}) }
	for i, e := range els {
		id := fmt.Sprintf("%d:%s", i, e.path)
		if i > 0 {
			addv(id+" removed", splice(doc, e.sp.start, e.sp.end, ""))
			addv(id+" repeated", splice(doc, e.sp.end, e.sp.end, string(doc[e.sp.start:e.sp.end])))
			tag := strings.TrimSuffix(strings.TrimSuffix(string(doc[e.sp.start:e.sp.startEnd]), ">"), "/")
			addv(id+" nil", splice(doc, e.sp.start, e.sp.end, tag+` xmlns:xsi="`+xsiNS+`" xsi:nil="true"/>`))
		}
		for j := i + 1; j < len(els); j++ {
			if els[j].parent == e.parent {
				n := els[j]
				addv(id+" swapped with next sibling", []byte(string(doc[:e.sp.start])+string(doc[n.sp.start:n.sp.end])+
					string(doc[e.sp.end:n.sp.start])+string(doc[e.sp.start:e.sp.end])+string(doc[n.sp.end:])))
				break
			}
		}
		p := prefixOf(doc, e)
		addv(id+" text", withContent(doc, e, "x"))
		addv(id+" whitespace and comment", withContent(doc, e, "\n  <!-- c -->\n"))
		addv(id+" originalText", withContent(doc, e, "<"+p+"originalText>x</"+p+"originalText>"))
		addv(id+" unknown child", withContent(doc, e, "<"+p+"zz/>"))
		addv(id+" id child", withContent(doc, e, "<"+p+"id root=\"1.2\"/>"))
		present := map[string]bool{}
		for _, a := range e.attrs {
			present[a.Name.Local] = true
		}
		for _, a := range sweepAttrs {
			if present[a[0]] {
				continue
			}
			addv(fmt.Sprintf("%s +@%s=%s", id, a[0], a[1]), withAttr(doc, e, a[0], a[1]))
		}
		for _, a := range e.attrs {
			if a.Name.Space != "" {
				continue
			}
			addv(fmt.Sprintf("%s -@%s", id, a.Name.Local), withoutAttr(doc, e, a.Name.Local))
			for _, v := range sweepValues(a.Value) {
				addv(fmt.Sprintf("%s @%s=%q", id, a.Name.Local, v), withAttr(doc, e, a.Name.Local, v))
			}
		}
	}
	return out, nil
}

func TestDifferentialSweep(t *testing.T) {
	needOfficial(t)
	if testing.Short() {
		t.Skip("sweep skipped in -short mode")
	}
	bases := baseDocs(t)
	names := make([]string, 0, len(bases))
	for n := range bases {
		names = append(names, n)
	}
	sort.Strings(names)
	total, agree, valid := 0, 0, 0
	var differ []string
	for _, n := range names {
		doc := bases[n]
		root, err := rootName(doc)
		if err != nil {
			t.Fatal(err)
		}
		entry, _ := Entry(root)
		ours, official := schemasFor(t, entry)
		vs, err := sweepVariants(doc)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for _, v := range vs {
			total++
			r := verdicts(t, v.doc, official, ours)
			oe, we := r[0], r[1]
			if (len(oe) == 0) == (len(we) == 0) {
				agree++
				if len(oe) == 0 {
					valid++
				}
				continue
			}
			differ = append(differ, fmt.Sprintf("%s %s: official %v ours %v", n, v.name, oe, we))
		}
	}
	for _, d := range differ {
		t.Error(d)
	}
	t.Logf("sweep: %d variants, %d verdicts agree (%d valid, %d invalid)", total, agree, valid, agree-valid)
}
