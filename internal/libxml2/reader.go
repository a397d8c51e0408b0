package libxml2

/*
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include "binding.h"

// The same options as Parse (binding.c, GW_PARSE_OPTIONS), for the same
// reasons: NONET next to the deny-all entity loader, NOERROR/NOWARNING so
// nothing reaches stderr, COMPACT because nothing edits the tree (freeing a
// compact text node is handled by xmlFreeNode). Never NOENT, DTDLOAD,
// DTDATTR, DTDVALID, XINCLUDE or HUGE.
#define GW_READER_OPTIONS \
	(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_COMPACT)

enum {
	GW_R_ERR = -1,  // the reader has failed: see st
	GW_R_END = 0,   // the cursor has left the root element
	GW_R_OK = 1,    // positioned (next, skip) or complete (expand)
	GW_R_NEED = 2,  // feed more input, then ask again
};

enum { GW_OP_NEXT, GW_OP_SKIP, GW_OP_EXPAND };

// Everything a reader needs lives here, reached from libxml2's callbacks
// through ctxt->_private (the parser context is the reader's own) or the
// error's ctxt: no thread-local state survives a call.
typedef struct {
	xmlParserCtxtPtr ctxt;
	xmlSchemaValidCtxtPtr vctxt;
	xmlSchemaSAXPlugPtr plug;
	xmlNodePtr cur;   // current element; NULL before the root
	int depth;        // depth of cur, the root element being 1
	int past;         // cur's subtree has been passed: looking for what follows
	int ended;        // the cursor has left the root element
	int fed_all;      // the final chunk has been pushed
	int max_depth;
	int max_verrs;
	gw_parse_status st;
	gw_errlist verrs; // schema validation errors, at most max_verrs kept
} gw_reader;

static void gw_r_set_msg(gw_reader *r, const char *msg)
{
	strncpy(r->st.msg, msg, GW_MSG_LEN - 1);
	r->st.msg[GW_MSG_LEN - 1] = 0;
}

static int gw_r_line(xmlParserCtxtPtr ctxt)
{
	return (ctxt != NULL && ctxt->input != NULL) ? ctxt->input->line : 0;
}

// First parse error wins, as in Parse. libxml2 hands a parser error's
// structured handler the SAX user data (the schema plug when validating),
// so the reader is found through the error's own parser context instead.
static void gw_r_parse_error(void *data, xmlErrorPtr err)
{
	xmlParserCtxtPtr ctxt;
	gw_reader *r;
	(void)data;
	if (err == NULL || err->level < XML_ERR_ERROR || err->ctxt == NULL)
		return;
	ctxt = err->ctxt;
	r = ctxt->_private;
	if (r == NULL || r->st.code != 0)
		return;
	r->st.code = err->code ? err->code : -1;
	r->st.line = err->line;
	gw_r_set_msg(r, err->message ? err->message : "parse error");
}

static void gw_r_valid_error(void *data, xmlErrorPtr err)
{
	gw_reader *r = data;
	gw_errlist *l = &r->verrs;
	if (err == NULL || err->level < XML_ERR_ERROR)
		return;
	if (l->n >= r->max_verrs) {
		l->dropped++;
		return;
	}
	if (l->n == l->cap) {
		int ncap = l->cap ? l->cap * 2 : 8;
		gw_err *items = realloc(l->items, (size_t)ncap * sizeof(gw_err));
		if (items == NULL) {
			l->dropped++;
			return;
		}
		l->items = items;
		l->cap = ncap;
	}
	l->items[l->n].line = err->line;
	l->items[l->n].code = err->code;
	l->items[l->n].msg = strdup(err->message ? err->message : "invalid");
	l->items[l->n].file = NULL;
	if (l->items[l->n].msg == NULL) {
		l->dropped++;
		return;
	}
	l->n++;
}

// Streaming validation has no tree to take lines from: the parser's
// position at the event is the line.
static int gw_r_locate(void *ctx, const char **file, unsigned long *line)
{
	xmlParserCtxtPtr ctxt = ctx;
	if (file != NULL)
		*file = NULL;
	if (line != NULL)
		*line = (unsigned long)gw_r_line(ctxt);
	return 0;
}

// Called once "<!DOCTYPE name ExternalID" has been read, before the internal
// subset: no declaration is ever parsed, no external subset requested.
static void gw_r_internal_subset(void *ctx, const xmlChar *name,
				 const xmlChar *external_id,
				 const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	gw_reader *r = ctxt->_private;
	(void)name;
	(void)external_id;
	(void)system_id;
	if (r->st.kind == GW_OK) {
		r->st.kind = GW_DOCTYPE;
		r->st.line = gw_r_line(ctxt);
		gw_r_set_msg(r, "DOCTYPE is forbidden");
	}
	xmlStopParser(ctxt);
}

static void gw_r_external_subset(void *ctx, const xmlChar *name,
				 const xmlChar *external_id,
				 const xmlChar *system_id)
{
	(void)ctx;
	(void)name;
	(void)external_id;
	(void)system_id;
}

// Depth guard, as in Parse: ctxt->nameNr counts the open ancestors. libxml2
// keeps element lines in 16 bits; beyond 65535 the real line is kept in the
// element's psvi, unused by streaming validation, for Reader.Line.
static void gw_r_start_element_ns(void *ctx, const xmlChar *localname,
				  const xmlChar *prefix, const xmlChar *uri,
				  int nb_namespaces, const xmlChar **namespaces,
				  int nb_attributes, int nb_defaulted,
				  const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	gw_reader *r = ctxt->_private;
	int before = ctxt->nodeNr;
	if (ctxt->nameNr >= r->max_depth) {
		if (r->st.kind == GW_OK) {
			r->st.kind = GW_TOO_DEEP;
			r->st.line = gw_r_line(ctxt);
			snprintf(r->st.msg, GW_MSG_LEN,
				 "element nesting deeper than %d", r->max_depth);
		}
		xmlStopParser(ctxt);
		return;
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces,
			      namespaces, nb_attributes, nb_defaulted,
			      attributes);
	if (ctxt->nodeNr == before + 1 && gw_r_line(ctxt) >= 65535)
		ctxt->node->psvi = (void *)(intptr_t)gw_r_line(ctxt);
}

static gw_reader *gw_reader_new(xmlSchemaPtr schema, int max_depth,
				int max_verrs)
{
	gw_reader *r = calloc(1, sizeof(gw_reader));
	xmlParserCtxtPtr ctxt;
	if (r == NULL)
		return NULL;
	r->max_depth = max_depth;
	r->max_verrs = max_verrs;
	ctxt = xmlCreatePushParserCtxt(NULL, NULL, NULL, 0, NULL);
	if (ctxt == NULL) {
		free(r);
		return NULL;
	}
	r->ctxt = ctxt;
	ctxt->_private = r;
	ctxt->sax->internalSubset = gw_r_internal_subset;
	ctxt->sax->externalSubset = gw_r_external_subset;
	ctxt->sax->startElementNs = gw_r_start_element_ns;
	xmlCtxtUseOptions(ctxt, GW_READER_OPTIONS);
	// xml:id attributes would otherwise fill an ID table for the whole
	// file; nothing here looks IDs up.
	ctxt->loadsubset |= XML_SKIP_IDS;
	if (schema != NULL) {
		r->vctxt = xmlSchemaNewValidCtxt(schema);
		if (r->vctxt != NULL)
			r->plug = xmlSchemaSAXPlug(r->vctxt, &ctxt->sax,
						   &ctxt->userData);
		if (r->plug == NULL) {
			if (r->vctxt != NULL)
				xmlSchemaFreeValidCtxt(r->vctxt);
			xmlFreeParserCtxt(ctxt);
			free(r);
			return NULL;
		}
		xmlSchemaSetValidStructuredErrors(r->vctxt, gw_r_valid_error, r);
		xmlSchemaValidateSetLocator(r->vctxt, gw_r_locate, ctxt);
	}
	// Set last: the schema plug installs its own handler block, which has
	// no structured error handler of its own.
	ctxt->sax->serror = gw_r_parse_error;
	return r;
}

static void gw_reader_free(gw_reader *r)
{
	if (r == NULL)
		return;
	// Unplug first: it restores ctxt->sax, which the parser context frees.
	if (r->plug != NULL)
		xmlSchemaSAXUnplug(r->plug);
	if (r->vctxt != NULL)
		xmlSchemaFreeValidCtxt(r->vctxt);
	if (r->ctxt != NULL) {
		if (r->ctxt->myDoc != NULL)
			xmlFreeDoc(r->ctxt->myDoc);
		r->ctxt->myDoc = NULL;
		xmlFreeParserCtxt(r->ctxt);
	}
	gw_errlist_free(&r->verrs);
	free(r);
}

// Records why the reader fails, if it does; returns GW_R_ERR then.
static int gw_r_check(gw_reader *r)
{
	xmlParserCtxtPtr ctxt = r->ctxt;
	xmlDocPtr doc = ctxt->myDoc;
	if (r->st.kind == GW_OK) {
		if (doc != NULL && (doc->intSubset != NULL || doc->extSubset != NULL)) {
			// Second line of defence, as in Parse.
			r->st.kind = GW_DOCTYPE;
			gw_r_set_msg(r, "DOCTYPE is forbidden");
		} else if (!ctxt->wellFormed || !ctxt->nsWellFormed) {
			r->st.kind = GW_NOT_WELL_FORMED;
		} else if (r->fed_all && (doc == NULL || xmlDocGetRootElement(doc) == NULL)) {
			r->st.kind = GW_NOT_WELL_FORMED;
			gw_r_set_msg(r, "no root element");
		} else if (r->fed_all && ctxt->nodeNr > 0) {
			r->st.kind = GW_NOT_WELL_FORMED;
			gw_r_set_msg(r, "premature end of data");
		}
	}
	if (r->st.kind == GW_OK)
		return GW_R_OK;
	if (r->st.msg[0] == 0) {
		xmlErrorPtr last = xmlCtxtGetLastError(ctxt);
		if (last != NULL && last->code != 0) {
			r->st.code = last->code;
			r->st.line = last->line;
			gw_r_set_msg(r, last->message ? last->message : "not well-formed");
		} else {
			gw_r_set_msg(r, "not well-formed");
		}
	}
	return GW_R_ERR;
}

// Pushes n bytes (terminate: the last chunk) and checks the outcome.
static int gw_reader_feed(gw_reader *r, const char *buf, int n, int terminate)
{
	if (r->st.kind != GW_OK)
		return GW_R_ERR;
	if (!r->fed_all)
		xmlParseChunk(r->ctxt, buf, n, terminate);
	if (terminate)
		r->fed_all = 1;
	return gw_r_check(r);
}

static xmlNodePtr gw_r_first_elem(xmlNodePtr n)
{
	for (; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

// Whether element n at depth d still waits for its end tag: the open
// elements are exactly ctxt->nodeTab[0..nodeNr-1], the root first.
static int gw_r_open(gw_reader *r, xmlNodePtr n, int d)
{
	xmlParserCtxtPtr ctxt = r->ctxt;
	return d >= 1 && ctxt->nodeNr >= d && ctxt->nodeTab[d - 1] == n;
}

// Frees from up to (not including) to: closed siblings before the new
// current element. None of them is the last child of an open element (to
// follows them), so the tree builder, which only appends to the last open
// element, never sees a freed node.
static void gw_r_free_until(xmlNodePtr from, xmlNodePtr to)
{
	while (from != NULL && from != to) {
		xmlNodePtr next = from->next;
		xmlUnlinkNode(from);
		xmlFreeNode(from);
		from = next;
	}
}

// Moves from a passed (complete) element to the next element start that
// follows it in document order.
static int gw_r_advance(gw_reader *r)
{
	for (;;) {
		xmlNodePtr cur = r->cur;
		xmlNodePtr s = gw_r_first_elem(cur->next);
		if (s != NULL) {
			gw_r_free_until(cur, s);
			r->cur = s;
			r->past = 0;
			return GW_R_OK;
		}
		if (r->depth == 1) {
			r->ended = 1;
			return GW_R_END;
		}
		if (gw_r_open(r, cur->parent, r->depth - 1))
			return GW_R_NEED;
		// The parent is complete too: what is left of cur goes with it.
		r->cur = cur->parent;
		r->depth--;
	}
}

static int gw_reader_step(gw_reader *r, int op)
{
	xmlNodePtr c;
	if (r->st.kind != GW_OK)
		return GW_R_ERR;
	if (r->ended)
		return op == GW_OP_EXPAND ? GW_R_ERR : GW_R_END;
	if (r->cur == NULL) {
		xmlDocPtr doc = r->ctxt->myDoc;
		xmlNodePtr root = doc != NULL ? gw_r_first_elem(doc->children) : NULL;
		if (op == GW_OP_EXPAND)
			return GW_R_ERR;
		if (root == NULL)
			return r->fed_all ? GW_R_END : GW_R_NEED;
		r->cur = root;
		r->depth = 1;
		r->past = 0;
		return GW_R_OK;
	}
	if (r->past)
		return op == GW_OP_EXPAND ? GW_R_ERR : gw_r_advance(r);
	switch (op) {
	case GW_OP_NEXT:
		c = gw_r_first_elem(r->cur->children);
		if (c != NULL) {
			r->cur = c;
			r->depth++;
			return GW_R_OK;
		}
		// fall through: without element children, next is what follows
	case GW_OP_SKIP:
		if (gw_r_open(r, r->cur, r->depth))
			return r->fed_all ? gw_r_check(r) : GW_R_NEED;
		r->past = 1;
		return gw_r_advance(r);
	default: // GW_OP_EXPAND
		if (gw_r_open(r, r->cur, r->depth))
			return r->fed_all ? gw_r_check(r) : GW_R_NEED;
		return GW_R_OK;
	}
}

static int gw_reader_line(gw_reader *r)
{
	xmlNodePtr n = r->cur;
	if (n == NULL)
		return 0;
	if (n->line == 65535 && n->psvi != NULL)
		return (int)(intptr_t)n->psvi;
	return n->line;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// defaultMaxValidationErrors is how many schema errors a Reader keeps: enough
// to tell a sender everything wrong with a file that is mostly right, few
// enough that a file wrong on every one of 230,000 records costs nothing.
const defaultMaxValidationErrors = 100

// readChunk is how much input is handed to libxml2 at a time. Everything in
// a chunk is parsed at once, so it bounds the tree built ahead of the
// cursor; 64 KiB is a few dozen upload records.
const readChunk = 64 << 10

// ReaderOptions are a Reader's limits and schema.
type ReaderOptions struct {
	// MaxBytes refuses input longer than this (TooLarge); 0 means no limit.
	MaxBytes int64
	// MaxDepth is the deepest element nesting accepted, as in ParseOptions:
	// the root element is depth 1; 0 means 256, values above 256 are capped.
	MaxDepth int
	// Schema, when not nil, validates the document as it streams. It must
	// not be freed before the Reader is closed.
	Schema *Schema
	// MaxValidationErrors is how many schema errors are kept; 0 means 100.
	// Errors beyond it are counted, not kept.
	MaxValidationErrors int
}

// Reader streams an XML document from an io.Reader with the hardening of
// Parse (see the package documentation) and, optionally, streaming XML
// Schema validation. It stops only at element starts: Next goes to the next
// element in document order, Skip past the current element's subtree, and
// Expand gives the current element's subtree as Nodes. Elements already
// passed are freed as the cursor moves, so memory stays bounded by the
// current subtree and one input chunk, however long the document.
//
// The tree is built by libxml2's push parser, fed one chunk at a time, with
// the same SAX hooks as Parse: a DOCTYPE stops the parser the moment its
// name has been read, nesting beyond MaxDepth stops it, and the first
// parse error is kept with its line. Schema validation is plugged into the
// same event stream, so it covers every byte parsed, whether or not the
// cursor visits it; its errors do not stop the reader.
//
// xmlTextReader is not used: it gives no access to its parser context, so
// none of these hooks could be installed on it.
//
// Threads: a Reader needs no OS thread locking. Every call into libxml2 is
// complete in itself and everything it records (the parse error, validation
// errors, limits) lives in the Reader's own C structure, reached through its
// parser context, never in thread-local storage. A Reader belongs to one
// goroutine at a time; any number of Readers may run concurrently, sharing
// one Schema.
//
// A Reader owns C memory: call Close.
type Reader struct {
	c      *C.gw_reader
	src    io.Reader
	buf    []byte
	read   int64
	max    int64
	eof    bool
	err    error
	node   Node // the current element, handed out by Expand
	verrs  []ValidationError
	closed bool
}

// NewReader makes a Reader of r. It reads nothing yet.
func NewReader(r io.Reader, opt ReaderOptions) (*Reader, error) {
	if r == nil {
		return nil, errors.New("libxml2: NewReader of a nil io.Reader")
	}
	depth := opt.MaxDepth
	if depth <= 0 || depth > defaultMaxDepth {
		depth = defaultMaxDepth
	}
	maxErrs := opt.MaxValidationErrors
	if maxErrs <= 0 {
		maxErrs = defaultMaxValidationErrors
	}
	var schema *C.xmlSchema
	if opt.Schema != nil {
		if opt.Schema.p == nil {
			return nil, errors.New("libxml2: NewReader with a freed schema")
		}
		schema = opt.Schema.p
	}
	c := C.gw_reader_new(schema, C.int(depth), C.int(maxErrs))
	if c == nil {
		return nil, errors.New("libxml2: cannot make a reader (out of memory)")
	}
	return &Reader{c: c, src: r, buf: make([]byte, readChunk), max: opt.MaxBytes}, nil
}

// Next moves to the next element start in document order: the current
// element's first child element, else its next sibling, else the next
// element after its ancestors end. It returns false at the end of the
// document or on error (see Err). At the end, the rest of the input has been
// read and checked, so Err and ValidationErrors are final.
func (r *Reader) Next() bool { return r.move(C.GW_OP_NEXT) }

// Skip moves past the current element's subtree to the next element start
// that follows it (its next sibling, or the next element after its
// ancestors end), as xmlTextReaderNext does; false at the end or on error.
func (r *Reader) Skip() bool { return r.move(C.GW_OP_SKIP) }

// Expand returns the current element with its whole subtree, reading as much
// input as that takes. The Nodes are valid until the next move (Next, Skip,
// Close). The error is Err's, or an error when there is no current element.
func (r *Reader) Expand() (*Node, error) {
	if !r.step(C.GW_OP_EXPAND) {
		if r.err != nil {
			return nil, r.err
		}
		return nil, errors.New("libxml2: Expand without a current element")
	}
	r.node.p = r.c.cur
	return &r.node, nil
}

// LocalName is the current element's name without prefix.
func (r *Reader) LocalName() string {
	if !r.positioned() {
		return ""
	}
	return goString(r.c.cur.name)
}

// NamespaceURI is the current element's namespace URI, "" if none.
func (r *Reader) NamespaceURI() string {
	if !r.positioned() || r.c.cur.ns == nil {
		return ""
	}
	return goString(r.c.cur.ns.href)
}

// Is reports whether n has that namespace URI and local name, without
// copying either into Go memory: a walk over the many elements of a large
// file (an upload's records) compares names in place.
func (n *Node) Is(nsURI, local string) bool {
	return n != nil && n.p != nil && cstrEq(n.p.name, local) && nsEq(n.p.ns, nsURI)
}

// Is reports whether the current element has that namespace URI and local
// name, without copying either into Go memory.
func (r *Reader) Is(nsURI, local string) bool {
	return r.positioned() && cstrEq(r.c.cur.name, local) && nsEq(r.c.cur.ns, nsURI)
}

// Depth is the current element's nesting depth, the root element being 1
// (as in MaxDepth); 0 before the root and after the end.
func (r *Reader) Depth() int {
	if !r.positioned() {
		return 0
	}
	return int(r.c.depth)
}

// Line is the line of the current element's start tag (its end), not
// limited to 65535 as Node.Line is; 0 when there is no current element.
func (r *Reader) Line() int {
	if !r.positioned() {
		return 0
	}
	return int(C.gw_reader_line(r.c))
}

// Err is why the reader stopped early: a *ParseError for input libxml2 or
// the hardening refuses (with its kind and line), the io.Reader's own error,
// or nil. Schema errors are not errors here: see ValidationErrors.
func (r *Reader) Err() error { return r.err }

// ValidationErrors returns the schema errors found so far, in document order
// with their lines, at most ReaderOptions.MaxValidationErrors of them plus,
// if more were found, one saying how many were not kept. They are complete
// once Next or Skip has returned false without an Err.
func (r *Reader) ValidationErrors() []ValidationError {
	out := append([]ValidationError(nil), r.verrs...)
	if r.c != nil && r.c.verrs.dropped > 0 {
		out = append(out, ValidationError{Msg: fmt.Sprintf("%d more errors not shown", int(r.c.verrs.dropped))})
	}
	return out
}

// Close frees the reader's C memory and invalidates its Nodes. Calling it
// again does nothing. It does not close the io.Reader.
func (r *Reader) Close() {
	if r == nil || r.closed {
		return
	}
	r.closed = true
	if r.c != nil {
		r.collect()
		r.dropped()
		C.gw_reader_free(r.c)
		r.c = nil
	}
	r.node.p = nil
}

// dropped keeps the count of dropped errors past Close.
func (r *Reader) dropped() {
	if n := int(r.c.verrs.dropped); n > 0 {
		r.verrs = append(r.verrs, ValidationError{Msg: fmt.Sprintf("%d more errors not shown", n)})
	}
}

func (r *Reader) positioned() bool {
	return r.c != nil && r.c.cur != nil && r.c.ended == 0 && r.err == nil
}

// move runs a cursor operation; at the end of the document it reads and
// checks the rest of the input (the epilogue may be malformed, and the
// root's last schema errors come with its end tag).
func (r *Reader) move(op C.int) bool {
	if r.step(op) {
		return true
	}
	if r.err == nil && r.c != nil {
		for !r.eof && r.fill() {
		}
	}
	return false
}

// step runs op, feeding input for as long as libxml2 asks for more.
func (r *Reader) step(op C.int) bool {
	if r.c == nil || r.err != nil {
		return false
	}
	for {
		rc := C.gw_reader_step(r.c, op)
		switch rc {
		case C.GW_R_OK:
			return true
		case C.GW_R_END:
			return false
		case C.GW_R_NEED:
			if !r.fill() {
				return false
			}
		default:
			r.fail()
			return false
		}
	}
}

// fill reads one chunk and pushes it; false once the reader has failed.
func (r *Reader) fill() bool {
	if r.eof {
		// Everything is in, yet more is wanted: a truncated document, which
		// gw_r_check has normally classified already.
		r.fail()
		if r.err == nil {
			r.err = &ParseError{Kind: NotWellFormed, Msg: "premature end of data"}
		}
		return false
	}
	n, err := io.ReadFull(r.src, r.buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		r.eof = true
	case err != nil:
		r.err = fmt.Errorf("libxml2: reading input: %w", err)
		return false
	}
	r.read += int64(n)
	if r.max > 0 && r.read > r.max {
		r.err = &ParseError{Kind: TooLarge, Msg: fmt.Sprintf("more than the limit of %d bytes", r.max)}
		return false
	}
	var p *C.char
	if n > 0 {
		p = (*C.char)(unsafe.Pointer(&r.buf[0]))
	}
	terminate := C.int(0)
	if r.eof {
		terminate = 1
	}
	rc := C.gw_reader_feed(r.c, p, C.int(n), terminate)
	r.collect()
	if rc == C.GW_R_ERR {
		r.fail()
		return false
	}
	return true
}

// fail records the parse failure the C side has classified.
func (r *Reader) fail() {
	if r.err != nil {
		return
	}
	if r.c.st.kind == C.GW_OK {
		// Asked to expand with no current element, or past the end.
		return
	}
	r.err = newParseError(&r.c.st)
}

// collect copies schema errors found since the last call.
func (r *Reader) collect() {
	l := &r.c.verrs
	if int(l.n) <= len(r.verrs) {
		return
	}
	items := unsafe.Slice(l.items, int(l.n))
	for _, it := range items[len(r.verrs):] {
		r.verrs = append(r.verrs, ValidationError{Line: int(it.line), Msg: cleanMsg(C.GoString(it.msg))})
	}
}
