package schema

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Document edits for the differential corpus. Each edit locates elements by
// a path of local names (the last names of the element's ancestor chain,
// prefixes ignored, "a/b" = a b whose parent is an a) and rewrites the bytes
// of the original document around them, so everything the edit does not
// touch (prefixes, namespace declarations, whitespace, comments) stays as
// written. An edit that finds nothing to change is an error: a mutation that
// silently leaves the document valid would prove nothing.

// span is an element's position in the document: its start tag
// [start, startEnd) and its whole extent [start, end).
type span struct {
	start, startEnd, end int
	selfClosing          bool
}

// find returns the spans of the elements matching path, in document order.
func find(doc []byte, path string) ([]span, error) {
	want := strings.Split(path, "/")
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	type open struct {
		name string
		sp   span
		hit  bool
	}
	var stack []open
	var out []span
	for {
		before := d.InputOffset()
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
			o := open{name: t.Name.Local, sp: span{start: int(before), startEnd: after}}
			o.sp.selfClosing = bytes.HasSuffix(doc[o.sp.start:o.sp.startEnd], []byte("/>"))
			if len(stack)+1 >= len(want) {
				o.hit = t.Name.Local == want[len(want)-1]
				for i := 2; o.hit && i <= len(want); i++ {
					o.hit = stack[len(stack)-i+1].name == want[len(want)-i]
				}
			}
			stack = append(stack, o)
		case xml.EndElement:
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if o.hit {
				o.sp.end = after
				out = append(out, o.sp)
			}
		}
	}
	// Closing order is not document order for nested matches.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].start < out[j-1].start; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// edit rewrites a document; it fails when there is nothing to rewrite.
type edit func(doc []byte) ([]byte, error)

// pick returns the nth match of path (nth < 0: all matches, last first, so
// that rewriting one does not move the others).
func pick(doc []byte, path string, nth int) ([]span, error) {
	all, err := find(doc, path)
	if err != nil {
		return nil, err
	}
	if nth >= len(all) || len(all) == 0 {
		return nil, fmt.Errorf("%s[%d]: %d matches", path, nth, len(all))
	}
	if nth >= 0 {
		return []span{all[nth]}, nil
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all, nil
}

func splice(doc []byte, from, to int, with string) []byte {
	out := make([]byte, 0, len(doc)+len(with))
	out = append(out, doc[:from]...)
	out = append(out, with...)
	return append(out, doc[to:]...)
}

// remove deletes the nth element matching path (all of them if nth < 0).
func remove(path string, nth int) edit {
	return func(doc []byte) ([]byte, error) {
		sps, err := pick(doc, path, nth)
		for _, s := range sps {
			doc = splice(doc, s.start, s.end, "")
		}
		return doc, err
	}
}

// repeat writes the nth element matching path times more times right after itself.
func repeat(path string, nth, times int) edit {
	return func(doc []byte) ([]byte, error) {
		sps, err := pick(doc, path, nth)
		if err != nil {
			return nil, err
		}
		s := sps[0]
		return splice(doc, s.end, s.end, strings.Repeat(string(doc[s.start:s.end]), times)), nil
	}
}

// duplicate writes the nth element matching path twice.
func duplicate(path string, nth int) edit { return repeat(path, nth, 1) }

func attrPattern(name string) *regexp.Regexp {
	return regexp.MustCompile(`\s` + regexp.QuoteMeta(name) + `\s*=\s*("[^"]*"|'[^']*')`)
}

// setAttr sets (adds or replaces) attribute name on the nth element matching path.
func setAttr(path string, nth int, name, value string) edit {
	return func(doc []byte) ([]byte, error) {
		sps, err := pick(doc, path, nth)
		for _, s := range sps {
			tag := string(doc[s.start:s.startEnd])
			attr := fmt.Sprintf(` %s="%s"`, name, value)
			if re := attrPattern(name); re.MatchString(tag) {
				tag = re.ReplaceAllLiteralString(tag, attr)
			} else {
				cut := len(tag) - 1
				if s.selfClosing {
					cut--
				}
				tag = tag[:cut] + attr + tag[cut:]
			}
			doc = splice(doc, s.start, s.startEnd, tag)
		}
		return doc, err
	}
}

// dropAttr removes attribute name from the nth element matching path.
func dropAttr(path string, nth int, name string) edit {
	return func(doc []byte) ([]byte, error) {
		sps, err := pick(doc, path, nth)
		for _, s := range sps {
			tag := string(doc[s.start:s.startEnd])
			re := attrPattern(name)
			if !re.MatchString(tag) {
				return nil, fmt.Errorf("%s[%d] has no %s", path, nth, name)
			}
			doc = splice(doc, s.start, s.startEnd, re.ReplaceAllLiteralString(tag, ""))
		}
		return doc, err
	}
}

// prepend inserts xml as the first content of the nth element matching path.
func prepend(path string, nth int, content string) edit {
	return func(doc []byte) ([]byte, error) {
		sps, err := pick(doc, path, nth)
		if err != nil {
			return nil, err
		}
		s := sps[0]
		if !s.selfClosing {
			return splice(doc, s.startEnd, s.startEnd, content), nil
		}
		tag := string(doc[s.start:s.startEnd])
		name := strings.Fields(strings.TrimPrefix(tag, "<"))[0]
		name = strings.TrimSuffix(name, "/>")
		open := strings.TrimSuffix(strings.TrimSuffix(tag, "/>"), " ") + ">"
		return splice(doc, s.start, s.startEnd, open+content+"</"+name+">"), nil
	}
}

// after inserts xml right after the nth element matching path.
func after(path string, nth int, content string) edit {
	return func(doc []byte) ([]byte, error) {
		sps, err := pick(doc, path, nth)
		if err != nil {
			return nil, err
		}
		return splice(doc, sps[0].end, sps[0].end, content), nil
	}
}

// before inserts xml right before the nth element matching path.
func before(path string, nth int, content string) edit {
	return func(doc []byte) ([]byte, error) {
		sps, err := pick(doc, path, nth)
		if err != nil {
			return nil, err
		}
		return splice(doc, sps[0].start, sps[0].start, content), nil
	}
}

// swap exchanges the first elements matching a and b (a must come first).
func swap(a, b string) edit {
	return func(doc []byte) ([]byte, error) {
		sa, err := pick(doc, a, 0)
		if err != nil {
			return nil, err
		}
		sb, err := pick(doc, b, 0)
		if err != nil {
			return nil, err
		}
		x, y := sa[0], sb[0]
		if x.end > y.start {
			return nil, fmt.Errorf("swap %s/%s: not disjoint in order", a, b)
		}
		out := string(doc[:x.start]) + string(doc[y.start:y.end]) + string(doc[x.end:y.start]) +
			string(doc[x.start:x.end]) + string(doc[y.end:])
		return []byte(out), nil
	}
}

// rename gives the nth element matching path a new local name, keeping its prefix.
func rename(path string, nth int, local string) edit {
	return func(doc []byte) ([]byte, error) {
		sps, err := pick(doc, path, nth)
		if err != nil {
			return nil, err
		}
		s := sps[0]
		tag := string(doc[s.start:s.startEnd])
		old := strings.TrimSuffix(strings.Fields(strings.TrimPrefix(tag, "<"))[0], "/>")
		old = strings.TrimSuffix(old, ">")
		repl := local
		if i := strings.IndexByte(old, ':'); i >= 0 {
			repl = old[:i+1] + local
		}
		if !s.selfClosing {
			closeTag := "</" + old + ">"
			endAt := bytes.LastIndex(doc[:s.end], []byte(closeTag))
			if endAt < 0 {
				return nil, fmt.Errorf("rename %s: no end tag", path)
			}
			doc = splice(doc, endAt, endAt+len(closeTag), "</"+repl+">")
		}
		return splice(doc, s.start+1, s.start+1+len(old), repl), nil
	}
}

// replace rewrites the first occurrence of old (a plain text edit).
func replace(old, repl string) edit {
	return func(doc []byte) ([]byte, error) {
		if !bytes.Contains(doc, []byte(old)) {
			return nil, fmt.Errorf("text %q not found", old)
		}
		return bytes.Replace(doc, []byte(old), []byte(repl), 1), nil
	}
}

// chain applies edits in order.
func chain(es ...edit) edit {
	return func(doc []byte) ([]byte, error) {
		var err error
		for _, e := range es {
			if doc, err = e(doc); err != nil {
				return nil, err
			}
		}
		return doc, nil
	}
}

const xsiNS = "http://www.w3.org/2001/XMLSchema-instance"

// nilled replaces the nth element matching path by an empty element marked
// xsi:nil="true", keeping its attributes.
func nilled(path string, nth int) edit {
	return func(doc []byte) ([]byte, error) {
		sps, err := pick(doc, path, nth)
		if err != nil {
			return nil, err
		}
		s := sps[0]
		tag := strings.TrimSuffix(strings.TrimSuffix(string(doc[s.start:s.startEnd]), ">"), "/")
		return splice(doc, s.start, s.end, tag+` xmlns:xsi="`+xsiNS+`" xsi:nil="true"/>`), nil
	}
}

// extract makes the nth element matching path the whole document, carrying
// over the namespace declarations of the original root element.
func extract(path string, nth int) edit {
	return func(doc []byte) ([]byte, error) {
		sps, err := pick(doc, path, nth)
		if err != nil {
			return nil, err
		}
		root, err := rootName(doc)
		if err != nil {
			return nil, err
		}
		roots, err := find(doc, root)
		if err != nil || len(roots) == 0 {
			return nil, fmt.Errorf("extract: no root")
		}
		rootTag := string(doc[roots[0].start:roots[0].startEnd])
		decls := regexp.MustCompile(`\sxmlns(:[\w.-]+)?\s*=\s*("[^"]*"|'[^']*')`).FindAllString(rootTag, -1)
		s := sps[0]
		frag := string(doc[s.start:s.end])
		cut := s.startEnd - s.start - 1
		if s.selfClosing {
			cut--
		}
		return []byte(frag[:cut] + strings.Join(decls, "") + frag[cut:]), nil
	}
}
