package conformance

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"spinegw/internal/libxml2"
)

// CompareXML compares a reply with an expected response (response.xml) and
// returns one line per difference, each naming where it is by a path of
// {namespace URI}local-name steps, empty when they match. Prefixes,
// namespace declarations, attribute order, the XML declaration, comments
// and whitespace-only text between elements are not part of a document's
// meaning and are never compared. Both may be SOAP envelopes or bare HL7
// documents (a notification fetched from a mailbox).
//
// What a fresh answer legitimately varies is ignored, and only that
// (IgnoredValue):
//
//   - the text of wsa:MessageID and wsa:RelatesTo (the reply's own id, and
//     the request's, which a client may renew);
//   - the value attribute of the HL7 elements creationTime, effectiveTime
//     and time (when the message was made, when an access happened);
//   - the root or extension attribute of an HL7 id element when both sides
//     hold a UUID there (message, query, acknowledgement, FileResponse and
//     notification ids, CP-IS019): a UUID replaced by anything else, and
//     every id that is not a UUID (NHS numbers, ASIDs, ODS codes, SDS
//     ids), is still compared.
//
// Everything else, birthTime and plan dates included, must be equal.
func CompareXML(want, got []byte) []string {
	wd, err := parseForCompare(want)
	if err != nil {
		return []string{"expected response: " + err.Error()}
	}
	gd, err := parseForCompare(got)
	if err != nil {
		return []string{"reply: " + err.Error()}
	}
	var diffs []string
	compareElement(wd.Root(), gd.Root(), "/"+short(wd.Root()), &diffs)
	return diffs
}

// MaxDiffs bounds the differences CompareXML reports for one document.
const MaxDiffs = 20

// parseForCompare parses with libxml2 first, the gatekeeper for anything
// untrusted (no DTD, no entities, bounded size), then with etree for the
// tree walk.
func parseForCompare(b []byte) (*etree.Document, error) {
	doc, err := libxml2.Parse(b, libxml2.ParseOptions{MaxBytes: 16 << 20})
	if err != nil {
		return nil, fmt.Errorf("not well-formed XML: %v", err)
	}
	doc.Free()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(b); err != nil {
		return nil, err
	}
	if d.Root() == nil {
		return nil, fmt.Errorf("no root element")
	}
	return d, nil
}

const (
	nsWSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsHL7 = "urn:hl7-org:v3"
	nsXML = "http://www.w3.org/2000/xmlns/"
)

var uuidRE = regexp.MustCompile(`^(uuid:)?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// IgnoredValue reports whether the value of attribute attr ("" for the
// element's text) of element {ns}local is one a fresh answer may vary,
// given the expected and actual values. See CompareXML.
func IgnoredValue(ns, local, attr, want, got string) bool {
	switch {
	case ns == nsWSA && attr == "" && (local == "MessageID" || local == "RelatesTo"):
		return true
	case ns == nsHL7 && attr == "value" && (local == "creationTime" || local == "effectiveTime" || local == "time"):
		return true
	case ns == nsHL7 && (attr == "root" || attr == "extension") && local == "id":
		return uuidRE.MatchString(want) && uuidRE.MatchString(got)
	}
	return false
}

func name(e *etree.Element) string {
	return "{" + e.NamespaceURI() + "}" + e.Tag
}

// short is a readable step: the local name, HL7 elements bare, others with
// the prefix Namespaces binds to their namespace URI (whatever prefix the
// document used), or {URI} for a namespace it does not bind.
func short(e *etree.Element) string {
	ns := e.NamespaceURI()
	if ns == "" || ns == nsHL7 {
		return e.Tag
	}
	for p, uri := range Namespaces {
		if uri == ns {
			return p + ":" + e.Tag
		}
	}
	return "{" + ns + "}" + e.Tag
}

type attr struct{ ns, local, value string }

// attrs are an element's attributes by namespace URI and local name,
// namespace declarations left out, in a stable order.
func attrs(e *etree.Element) []attr {
	var out []attr
	for _, a := range e.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		ns := ""
		if a.Space != "" {
			ns = a.NamespaceURI()
			if a.Space == "xml" {
				ns = "http://www.w3.org/XML/1998/namespace"
			}
		}
		out = append(out, attr{ns, a.Key, a.Value})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ns != out[j].ns {
			return out[i].ns < out[j].ns
		}
		return out[i].local < out[j].local
	})
	return out
}

// text is an element's own character data, trimmed.
func text(e *etree.Element) string {
	var b strings.Builder
	for _, t := range e.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// compareElement compares w (expected) with g (actual); here is w's path.
func compareElement(w, g *etree.Element, here string, diffs *[]string) {
	if len(*diffs) >= MaxDiffs {
		return
	}
	add := func(format string, args ...any) {
		if len(*diffs) == MaxDiffs-1 {
			*diffs = append(*diffs, "... further differences not shown")
			return
		}
		if len(*diffs) < MaxDiffs {
			*diffs = append(*diffs, fmt.Sprintf(format, args...))
		}
	}
	if name(w) != name(g) {
		add("%s: element %s, want %s", here, name(g), name(w))
		return
	}
	ns, local := w.NamespaceURI(), w.Tag
	wa, ga := attrs(w), attrs(g)
	gm := map[string]string{}
	for _, a := range ga {
		gm[a.ns+" "+a.local] = a.value
	}
	wm := map[string]bool{}
	for _, a := range wa {
		key := a.ns + " " + a.local
		wm[key] = true
		gv, ok := gm[key]
		switch {
		case !ok:
			add("%s/@%s: missing, want %q", here, a.local, a.value)
		case gv != a.value && !IgnoredValue(ns, local, a.local, a.value, gv):
			add("%s/@%s: %q, want %q", here, a.local, gv, a.value)
		}
	}
	for _, a := range ga {
		if !wm[a.ns+" "+a.local] {
			add("%s/@%s: unexpected attribute %q", here, a.local, a.value)
		}
	}
	wt, gt := text(w), text(g)
	if wt != gt && !IgnoredValue(ns, local, "", wt, gt) {
		add("%s: text %q, want %q", here, gt, wt)
	}
	wc, gc := w.ChildElements(), g.ChildElements()
	// Pair the children by the longest common subsequence of their names,
	// so that one element missing or inserted is reported as that, not as
	// every later sibling differing. Repeated names are numbered so that a
	// path points at one element.
	seen := map[string]int{}
	wi, gi := 0, 0
	for _, p := range alignChildren(wc, gc) {
		for ; wi < p[0]; wi++ {
			add("%s: missing element %s (child %d)", here, short(wc[wi]), wi+1)
		}
		for ; gi < p[1]; gi++ {
			add("%s: unexpected element %s (child %d)", here, short(gc[gi]), gi+1)
		}
		if p[0] == len(wc) {
			break
		}
		k := name(wc[wi])
		seen[k]++
		step := here + "/" + short(wc[wi])
		if seen[k] > 1 {
			step += "[" + strconv.Itoa(seen[k]) + "]"
		}
		compareElement(wc[wi], gc[gi], step, diffs)
		wi, gi = wi+1, gi+1
	}
}

// alignChildren returns the index pairs of a longest common subsequence of
// the two lists' element names, then the pair (len(w), len(g)).
func alignChildren(w, g []*etree.Element) [][2]int {
	n, m := len(w), len(g)
	// l[i][j]: LCS length of w[i:] and g[j:].
	l := make([][]int, n+1)
	for i := range l {
		l[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case name(w[i]) == name(g[j]):
				l[i][j] = l[i+1][j+1] + 1
			case l[i+1][j] >= l[i][j+1]:
				l[i][j] = l[i+1][j]
			default:
				l[i][j] = l[i][j+1]
			}
		}
	}
	var pairs [][2]int
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case name(w[i]) == name(g[j]):
			pairs = append(pairs, [2]int{i, j})
			i, j = i+1, j+1
		case l[i+1][j] >= l[i][j+1]:
			i++
		default:
			j++
		}
	}
	return append(pairs, [2]int{n, m})
}
