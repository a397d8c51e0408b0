package libxml2

/*
#include <stdlib.h>
#include "binding.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"unsafe"
)

// XPathError reports an XPath expression that could not be evaluated, or
// whose result is not what the method returns.
type XPathError struct {
	Expr string
	Msg  string
}

func (e *XPathError) Error() string {
	return fmt.Sprintf("xpath %q: %s", e.Expr, e.Msg)
}

// XPath evaluates an XPath 1.0 expression with the document node as context
// and returns the element nodes it selects, in document order. ns binds
// prefixes used in expr to namespace URIs; XPath 1.0 has no default
// namespace, so every namespaced step needs a prefix. A result that is not a
// node-set, or that contains anything other than elements, is an error rather
// than an empty match: a path that silently matches nothing is a bug.
func (d *Document) XPath(expr string, ns map[string]string) ([]*Node, error) {
	if d == nil || d.p == nil {
		return nil, &XPathError{Expr: expr, Msg: "document is freed"}
	}
	return xpathNodes(d.p, nil, expr, ns)
}

// XPath evaluates expr with n as the context node; see Document.XPath.
func (n *Node) XPath(expr string, ns map[string]string) ([]*Node, error) {
	return xpathNodes(n.p.doc, n.p, expr, ns)
}

// XPathString evaluates string(expr): the string value of the first selected
// node, of an attribute, or of a number or boolean result (e.g. count(...)).
func (d *Document) XPathString(expr string, ns map[string]string) (string, error) {
	if d == nil || d.p == nil {
		return "", &XPathError{Expr: expr, Msg: "document is freed"}
	}
	return xpathString(d.p, nil, expr, ns)
}

// XPathString evaluates string(expr) with n as the context node.
func (n *Node) XPathString(expr string, ns map[string]string) (string, error) {
	return xpathString(n.p.doc, n.p, expr, ns)
}

func xpathString(doc *C.xmlDoc, ctx *C.xmlNode, expr string, ns map[string]string) (string, error) {
	obj, err := xpathEval(doc, ctx, "string("+expr+")", expr, ns)
	if err != nil {
		return "", err
	}
	defer C.xmlXPathFreeObject(obj)
	if obj._type != C.XPATH_STRING {
		return "", &XPathError{Expr: expr, Msg: "result is not a string"}
	}
	return goString(obj.stringval), nil
}

func xpathNodes(doc *C.xmlDoc, ctx *C.xmlNode, expr string, ns map[string]string) ([]*Node, error) {
	obj, err := xpathEval(doc, ctx, expr, expr, ns)
	if err != nil {
		return nil, err
	}
	defer C.xmlXPathFreeObject(obj)
	if obj._type != C.XPATH_NODESET {
		return nil, &XPathError{Expr: expr, Msg: "result is not a node-set (use XPathString)"}
	}
	set := obj.nodesetval
	if set == nil || set.nodeNr == 0 {
		return nil, nil
	}
	tab := unsafe.Slice(set.nodeTab, int(set.nodeNr))
	// One allocation for all the Nodes, one for the slice of pointers.
	backing := make([]Node, len(tab))
	out := make([]*Node, len(tab))
	for i, p := range tab {
		if p._type != C.XML_ELEMENT_NODE {
			return nil, &XPathError{Expr: expr, Msg: "result contains a non-element node (use XPathString for attributes and text)"}
		}
		backing[i].p = p
		out[i] = &backing[i]
	}
	return out, nil
}

// xpathEval evaluates expr (shown in errors as display) and returns the
// libxml2 result object, which the caller frees.
func xpathEval(doc *C.xmlDoc, ctx *C.xmlNode, expr, display string, ns map[string]string) (*C.xmlXPathObject, error) {
	// Expression and bindings travel to C as one buffer of NUL-terminated
	// strings: one Go allocation instead of a C.CString per string.
	size := len(expr) + 1
	for p, u := range ns {
		size += len(p) + len(u) + 2
	}
	buf := make([]byte, 0, size)
	if strings.IndexByte(expr, 0) >= 0 {
		return nil, &XPathError{Expr: display, Msg: "expression contains NUL"}
	}
	buf = append(append(buf, expr...), 0)
	for p, u := range ns {
		if p == "" {
			return nil, &XPathError{Expr: display, Msg: "empty prefix: XPath 1.0 has no default namespace, bind a prefix"}
		}
		if strings.IndexByte(p, 0) >= 0 || strings.IndexByte(u, 0) >= 0 {
			return nil, &XPathError{Expr: display, Msg: "namespace binding contains NUL"}
		}
		buf = append(append(buf, p...), 0)
		buf = append(append(buf, u...), 0)
	}
	// The errors are left in thread-local storage by the C side: the
	// goroutine must still be on the same OS thread when it reads them.
	runtime.LockOSThread()
	obj := C.gw_xpath_at(doc, ctx, (*C.char)(unsafe.Pointer(&buf[0])), C.int(len(ns)))
	var errs []ValidationError
	if obj == nil {
		errs = takeErrors(C.gw_thread_errs(), "")
	}
	runtime.UnlockOSThread()
	if obj == nil {
		msg := "evaluation failed"
		if len(errs) > 0 {
			msg = errs[0].Msg
		}
		return nil, &XPathError{Expr: display, Msg: msg}
	}
	return obj, nil
}
