package libxml2

/*
#cgo pkg-config: libxml-2.0
#include <stdlib.h>
#include "binding.h"
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

func init() {
	C.gw_init()
}

// defaultMaxDepth is libxml2's own nesting cap without XML_PARSE_HUGE; a
// larger MaxDepth could never take effect, so it is also the ceiling.
const defaultMaxDepth = 256

// ParseOptions are the limits applied to hostile input.
type ParseOptions struct {
	// MaxBytes refuses larger input before libxml2 sees it; 0 means no limit.
	MaxBytes int
	// MaxDepth is the deepest element nesting accepted (the root element is
	// depth 1); 0 means 256, and values above 256 are capped at 256.
	MaxDepth int
}

// ErrorKind classifies why a document was refused.
type ErrorKind int

const (
	// NotWellFormed: the input is not namespace-well-formed XML.
	NotWellFormed ErrorKind = iota + 1
	// DoctypeForbidden: the input has a DOCTYPE.
	DoctypeForbidden
	// TooLarge: the input is longer than ParseOptions.MaxBytes.
	TooLarge
	// TooDeep: elements nest deeper than ParseOptions.MaxDepth.
	TooDeep
	// InvalidEncoding: the bytes are not valid in the document's encoding
	// (UTF-8 unless declared otherwise), or the encoding is unknown.
	InvalidEncoding
)

func (k ErrorKind) String() string {
	switch k {
	case NotWellFormed:
		return "not well-formed"
	case DoctypeForbidden:
		return "DOCTYPE forbidden"
	case TooLarge:
		return "too large"
	case TooDeep:
		return "too deep"
	case InvalidEncoding:
		return "invalid encoding"
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// ParseError is the error returned by Parse.
type ParseError struct {
	Kind ErrorKind
	Line int // 0 if unknown
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("xml %s at line %d: %s", e.Kind, e.Line, e.Msg)
	}
	return fmt.Sprintf("xml %s: %s", e.Kind, e.Msg)
}

// libxml2 error codes (xmlerror.h) used to classify parse failures.
const (
	errInternal            = 1
	errInvalidChar         = 9
	errUnknownEncoding     = 31
	errUnsupportedEncoding = 32
	errInvalidEncoding     = 81
)

// Parse parses data into a Document. The error, if any, is a *ParseError.
func Parse(data []byte, opt ParseOptions) (*Document, error) {
	if opt.MaxBytes > 0 && len(data) > opt.MaxBytes {
		return nil, &ParseError{Kind: TooLarge,
			Msg: fmt.Sprintf("%d bytes exceeds the limit of %d", len(data), opt.MaxBytes)}
	}
	if len(data) > math.MaxInt32 {
		// libxml2 takes the length as a C int.
		return nil, &ParseError{Kind: TooLarge, Msg: fmt.Sprintf("%d bytes exceeds 2 GiB", len(data))}
	}
	if len(data) == 0 {
		return nil, &ParseError{Kind: NotWellFormed, Msg: "empty document"}
	}
	depth := opt.MaxDepth
	if depth <= 0 || depth > defaultMaxDepth {
		depth = defaultMaxDepth
	}
	st := getParser()
	if st == nil {
		return nil, &ParseError{Kind: NotWellFormed, Msg: "out of memory"}
	}
	// Failure details are left in thread-local storage by the C side: the
	// goroutine must still be on the same OS thread when it reads them.
	runtime.LockOSThread()
	doc := C.gw_parse(st, (*C.char)(unsafe.Pointer(&data[0])), C.int(len(data)), C.int(depth))
	var perr *ParseError
	if doc == nil {
		perr = newParseError(C.gw_parse_status_get())
	}
	runtime.UnlockOSThread()
	if doc == nil {
		putParser(st, C.gw_pstate_release(st) != 0)
		return nil, perr
	}
	return &Document{p: doc, st: st}, nil
}

// Parser states (binding.c: a parser context with its dictionary and input
// buffer) are reused: creating one costs about a fifth of a parse. A
// Document holds the state that parsed it until it is freed, because the
// tree refers to the state's dictionary; so there are as many states in use
// as live Documents, and up to maxIdleParsers more are kept for later
// parses.
const maxIdleParsers = 64

var parsers struct {
	mu   sync.Mutex
	idle []*C.gw_pstate
}

func getParser() *C.gw_pstate {
	parsers.mu.Lock()
	if n := len(parsers.idle); n > 0 {
		st := parsers.idle[n-1]
		parsers.idle = parsers.idle[:n-1]
		parsers.mu.Unlock()
		return st
	}
	parsers.mu.Unlock()
	return C.gw_pstate_new()
}

// putParser takes back a state once its document is freed or its parse has
// failed; keep is false for a state grown too large to be worth keeping.
func putParser(st *C.gw_pstate, keep bool) {
	if keep {
		parsers.mu.Lock()
		if len(parsers.idle) < maxIdleParsers {
			parsers.idle = append(parsers.idle, st)
			st = nil
		}
		parsers.mu.Unlock()
	}
	if st != nil {
		C.gw_pstate_free(st)
	}
}

func newParseError(r *C.gw_parse_status) *ParseError {
	e := &ParseError{
		Kind: NotWellFormed,
		Line: int(r.line),
		Msg:  cleanMsg(C.GoString(&r.msg[0])),
	}
	code := int(r.code)
	switch r.kind {
	case C.GW_DOCTYPE:
		e.Kind = DoctypeForbidden
	case C.GW_TOO_DEEP:
		e.Kind = TooDeep
	default:
		switch {
		case code == errInternal && strings.Contains(e.Msg, "Excessive depth"):
			// libxml2's own cap; unreachable while MaxDepth <= 256,
			// mapped anyway so that the kind never depends on it.
			e.Kind = TooDeep
		case code == errUnknownEncoding, code == errUnsupportedEncoding, code == errInvalidEncoding:
			e.Kind = InvalidEncoding
		case code == errInvalidChar && strings.Contains(e.Msg, "not proper UTF-8"):
			// The same code is used for a forbidden but correctly encoded
			// character such as U+0001; only the message tells them apart.
			e.Kind = InvalidEncoding
		}
	}
	if e.Msg == "" {
		e.Msg = e.Kind.String()
	}
	return e
}

// Document is a parsed XML document. It owns C memory: call Free.
type Document struct {
	p  *C.xmlDoc
	st *C.gw_pstate // the parser state whose dictionary the tree uses
}

// Free releases the document and invalidates all its Nodes. Calling it
// again, or on a nil Document, does nothing.
func (d *Document) Free() {
	if d == nil || d.p == nil {
		return
	}
	if d.st == nil {
		C.xmlFreeDoc(d.p)
	} else {
		putParser(d.st, C.gw_doc_free(d.st, d.p) != 0)
	}
	d.p, d.st = nil, nil
}

// Root returns the document element, nil if the document has been freed.
func (d *Document) Root() *Node {
	if d == nil || d.p == nil {
		return nil
	}
	return wrap(firstElement(d.p.children))
}

// Node is an element of a Document. The tree is read directly from libxml2's
// structures, so navigation costs no cgo call; a Node is valid only while its
// Document has not been freed.
type Node struct {
	p *C.xmlNode
}

func wrap(p *C.xmlNode) *Node {
	if p == nil {
		return nil
	}
	return &Node{p: p}
}

func firstElement(p *C.xmlNode) *C.xmlNode {
	for ; p != nil; p = p.next {
		if p._type == C.XML_ELEMENT_NODE {
			return p
		}
	}
	return nil
}

// LocalName returns the element name without prefix.
func (n *Node) LocalName() string { return goString(n.p.name) }

// NamespaceURI returns the element's namespace URI, "" if none.
func (n *Node) NamespaceURI() string {
	if n.p.ns == nil {
		return ""
	}
	return goString(n.p.ns.href)
}

// Prefix returns the prefix the sender used, "" for none or a default
// namespace. Match on NamespaceURI, never on this; it is for diagnostics.
func (n *Node) Prefix() string {
	if n.p.ns == nil {
		return ""
	}
	return goString(n.p.ns.prefix)
}

// Line returns the line of the element's start tag. libxml2 stores it in 16
// bits, so it saturates at 65535, far beyond any message the gateway accepts.
func (n *Node) Line() int { return int(n.p.line) }

// Parent returns the parent element, nil for the root.
func (n *Node) Parent() *Node {
	p := n.p.parent
	if p == nil || p._type != C.XML_ELEMENT_NODE {
		return nil
	}
	return &Node{p: p}
}

// FirstChildElement returns the first child element, nil if none. Text,
// comments and processing instructions are skipped.
func (n *Node) FirstChildElement() *Node { return wrap(firstElement(n.p.children)) }

// NextSiblingElement returns the next sibling element, nil if none.
func (n *Node) NextSiblingElement() *Node { return wrap(firstElement(n.p.next)) }

// Child returns the first child element with namespace URI nsURI ("" for no
// namespace) and local name local, nil if none.
func (n *Node) Child(nsURI, local string) *Node {
	for c := firstElement(n.p.children); c != nil; c = firstElement(c.next) {
		if cstrEq(c.name, local) && nsEq(c.ns, nsURI) {
			return &Node{p: c}
		}
	}
	return nil
}

// Children returns all child elements with that namespace URI and local
// name, in document order.
func (n *Node) Children(nsURI, local string) []*Node {
	var out []*Node
	for c := firstElement(n.p.children); c != nil; c = firstElement(c.next) {
		if cstrEq(c.name, local) && nsEq(c.ns, nsURI) {
			out = append(out, &Node{p: c})
		}
	}
	return out
}

// Attr returns the value of the attribute name that has no namespace, ""
// if absent.
func (n *Node) Attr(name string) string {
	v, _ := n.LookupAttrNS("", name)
	return v
}

// AttrNS returns the value of the attribute {nsURI}name, "" if absent.
// nsURI "" means an unqualified attribute, as Attr.
func (n *Node) AttrNS(nsURI, name string) string {
	v, _ := n.LookupAttrNS(nsURI, name)
	return v
}

// LookupAttrNS is AttrNS that also reports whether the attribute is present.
func (n *Node) LookupAttrNS(nsURI, name string) (string, bool) {
	for a := n.p.properties; a != nil; a = a.next {
		if cstrEq(a.name, name) && nsEq(a.ns, nsURI) {
			return attrValue(a), true
		}
	}
	return "", false
}

func attrValue(a *C.xmlAttr) string {
	c := a.children
	if c == nil {
		return ""
	}
	if c.next == nil {
		return goString(c.content)
	}
	var b strings.Builder
	for ; c != nil; c = c.next {
		b.WriteString(goString(c.content))
	}
	return b.String()
}

// Text returns the concatenated content of all descendant text and CDATA
// nodes (DOM textContent).
func (n *Node) Text() string {
	c := n.p.children
	if c == nil {
		return ""
	}
	if c.next == nil && isText(c) {
		return goString(c.content)
	}
	var b strings.Builder
	// Iterative pre-order walk: depth is bounded by MaxDepth anyway, but
	// this keeps the Go stack flat.
	for c != nil {
		if isText(c) {
			b.WriteString(goString(c.content))
		} else if c._type == C.XML_ELEMENT_NODE && c.children != nil {
			c = c.children
			continue
		}
		for c.next == nil {
			c = c.parent
			if c == n.p {
				return b.String()
			}
		}
		c = c.next
	}
	return b.String()
}

func isText(c *C.xmlNode) bool {
	return c._type == C.XML_TEXT_NODE || c._type == C.XML_CDATA_SECTION_NODE
}

func nsEq(ns *C.xmlNs, uri string) bool {
	if ns == nil {
		return uri == ""
	}
	return cstrEq(ns.href, uri)
}

func goString(p *C.xmlChar) string {
	if p == nil {
		return ""
	}
	return C.GoString((*C.char)(unsafe.Pointer(p)))
}

// cstrEq compares a C string with a Go string without allocating, reading
// no further than the C string's terminating NUL.
func cstrEq(p *C.xmlChar, s string) bool {
	if p == nil {
		return false
	}
	base := unsafe.Pointer(p)
	for i := 0; i < len(s); i++ {
		c := *(*byte)(unsafe.Add(base, i))
		if c == 0 || c != s[i] {
			return false
		}
	}
	return *(*byte)(unsafe.Add(base, len(s))) == 0
}

// cleanMsg makes a libxml2 message one line: messages end in a newline and
// some carry a second line (the offending bytes of an encoding error).
func cleanMsg(s string) string {
	s = strings.TrimSpace(s)
	if strings.IndexByte(s, '\n') < 0 {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
