#include "binding.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/globals.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/uri.h>
#ifdef LIBXML_CATALOG_ENABLED
#include <libxml/catalog.h>
#endif

/*
 * Parse options. NONET: belt and braces next to the entity loader.
 * NOERROR/NOWARNING: nothing is ever printed to stderr; errors arrive through
 * the structured handler instead. COMPACT: short text is stored inside its
 * node, one allocation fewer per text node (about 15% less CPU per parse of
 * the reference message); its one caveat, that such a tree must not be
 * edited, does not apply: nothing in this package edits a parsed tree.
 *
 * Deliberately absent: NOENT (substitutes entities, and with it an external
 * entity leaks file content even with NONET), DTDLOAD/DTDATTR/DTDVALID (fetch
 * external DTDs), XINCLUDE, HUGE (lifts the depth and size limits).
 */
#define GW_PARSE_OPTIONS \
	(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_COMPACT)

/* ---------- error collection ---------- */

static void gw_silent_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void gw_silent(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

static void gw_errlist_add(gw_errlist *l, int line, int code, const char *msg,
			   const char *file)
{
	if (l->n >= GW_MAX_ERRS) {
		l->dropped++;
		return;
	}
	if (l->n == l->cap) {
		int ncap = l->cap ? l->cap * 2 : 4;
		gw_err *items = realloc(l->items, (size_t)ncap * sizeof(gw_err));
		if (items == NULL) {
			l->dropped++;
			return;
		}
		l->items = items;
		l->cap = ncap;
	}
	l->items[l->n].line = line;
	l->items[l->n].code = code;
	l->items[l->n].msg = strdup(msg ? msg : "unknown error");
	l->items[l->n].file = file ? strdup(file) : NULL;
	l->n++;
}

/* Structured error handler collecting into the gw_errlist passed as ctx.
 * Warnings are dropped: only errors make a document or schema unusable. */
static void gw_collect(void *ctx, xmlErrorPtr err)
{
	gw_errlist *l = ctx;
	if (l == NULL || err == NULL || err->level < XML_ERR_ERROR)
		return;
	gw_errlist_add(l, err->line, err->code, err->message, err->file);
}

void gw_errlist_free(gw_errlist *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->items[i].msg);
		free(l->items[i].file);
	}
	free(l->items);
	l->items = NULL;
	l->n = l->cap = l->dropped = 0;
}

/* ---------- external entity loader ---------- */

/*
 * Directory (realpath, with a trailing '/') whose files may be loaded, set
 * only while this thread compiles a schema. Thread-local so that a schema
 * compilation never opens the door for a parse running on another thread.
 */
static __thread const char *gw_allowed_dir;
static long gw_denied;

/* Local filesystem path for an absolute path or a file: URL, malloc'ed;
 * NULL for anything else (relative paths, http:, ftp:, file://otherhost/). */
static char *gw_local_path(const char *url)
{
	const char *p = NULL;
	if (url[0] == '/')
		return strdup(url);
	if (strncasecmp(url, "file://localhost/", 17) == 0)
		p = url + 16;
	else if (strncasecmp(url, "file:///", 8) == 0)
		p = url + 7;
	else if (strncasecmp(url, "file:/", 6) == 0 && url[6] != '/')
		p = url + 5;
	if (p == NULL)
		return NULL;
	return xmlURIUnescapeString(p, 0, NULL);
}

static xmlParserInputPtr gw_entity_loader(const char *url, const char *id,
					  xmlParserCtxtPtr ctxt)
{
	const char *dir = gw_allowed_dir;
	(void)id;
	if (dir != NULL && url != NULL && ctxt != NULL) {
		char *path = gw_local_path(url);
		if (path != NULL) {
			char real[PATH_MAX];
			int ok = realpath(path, real) != NULL &&
				 strncmp(real, dir, strlen(dir)) == 0;
			free(path);
			if (ok)
				return xmlNewInputFromFile(ctxt, real);
		}
	}
	__atomic_fetch_add(&gw_denied, 1, __ATOMIC_RELAXED);
	return NULL;
}

long gw_loader_denials(void)
{
	return __atomic_load_n(&gw_denied, __ATOMIC_RELAXED);
}

/* Asks the installed loader for url, as libxml2 itself would, with
 * allowed_dir (may be NULL) in force. Returns 1 if it was served. */
int gw_probe_loader(const char *url, const char *allowed_dir)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	xmlParserInputPtr in;
	if (ctxt == NULL)
		return 0;
	gw_allowed_dir = allowed_dir;
	in = xmlLoadExternalEntity(url, NULL, ctxt);
	gw_allowed_dir = NULL;
	if (in != NULL)
		xmlFreeInputStream(in);
	xmlFreeParserCtxt(ctxt);
	return in != NULL;
}

/* ---------- init ---------- */

void gw_init(void)
{
	xmlInitParser();
	xmlSetExternalEntityLoader(gw_entity_loader);
	/* The Thr-Def setters seed the per-thread copies of threads that touch
	 * libxml2 later; the plain setters cover the calling (main) thread. */
	xmlThrDefSetGenericErrorFunc(NULL, gw_silent_generic);
	xmlSetGenericErrorFunc(NULL, gw_silent_generic);
	xmlThrDefSetStructuredErrorFunc(NULL, gw_silent);
	xmlSetStructuredErrorFunc(NULL, gw_silent);
#ifdef LIBXML_CATALOG_ENABLED
	/* No <?oasis-xml-catalog?> PI and no system catalog may redirect a load. */
	xmlCatalogSetDefaults(XML_CATA_ALLOW_NONE);
#endif
}

/* ---------- parse ---------- */

/* Failure details of the last parse on this thread. */
static __thread gw_parse_status gw_pstatus;

/* Limits of the parse running on this thread, -1 when none is: the SAX
 * hooks below find them here because their ctx argument is the parser
 * context itself. */
static __thread int gw_max_depth = -1;

gw_parse_status *gw_parse_status_get(void)
{
	return &gw_pstatus;
}

static int gw_ctxt_line(xmlParserCtxtPtr ctxt)
{
	return (ctxt != NULL && ctxt->input != NULL) ? ctxt->input->line : 0;
}

static void gw_set_msg(const char *msg)
{
	strncpy(gw_pstatus.msg, msg, GW_MSG_LEN - 1);
	gw_pstatus.msg[GW_MSG_LEN - 1] = 0;
}

/* First error wins: later ones are usually consequences of it. */
static void gw_parse_error(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	if (gw_max_depth < 0 || err == NULL || err->level < XML_ERR_ERROR ||
	    gw_pstatus.code != 0)
		return;
	gw_pstatus.code = err->code ? err->code : -1;
	gw_pstatus.line = err->line;
	gw_set_msg(err->message ? err->message : "parse error");
}

/*
 * Called when the parser has read "<!DOCTYPE name ExternalID", before the
 * internal subset: stopping here means no entity declaration is ever parsed,
 * let alone expanded, and no external subset is ever requested.
 */
static void gw_internal_subset(void *ctx, const xmlChar *name,
			       const xmlChar *external_id,
			       const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	(void)name;
	(void)external_id;
	(void)system_id;
	if (gw_pstatus.kind == GW_OK) {
		gw_pstatus.kind = GW_DOCTYPE;
		gw_pstatus.line = gw_ctxt_line(ctxt);
		gw_set_msg("DOCTYPE is forbidden");
	}
	xmlStopParser(ctxt);
}

static void gw_external_subset(void *ctx, const xmlChar *name,
			       const xmlChar *external_id,
			       const xmlChar *system_id)
{
	/* Never load an external DTD, whatever the options say. */
	(void)ctx;
	(void)name;
	(void)external_id;
	(void)system_id;
}

/* Depth guard: ctxt->nameNr counts the open ancestors of this element. */
static void gw_start_element_ns(void *ctx, const xmlChar *localname,
				const xmlChar *prefix, const xmlChar *uri,
				int nb_namespaces, const xmlChar **namespaces,
				int nb_attributes, int nb_defaulted,
				const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	if (ctxt->nameNr >= gw_max_depth) {
		if (gw_pstatus.kind == GW_OK) {
			gw_pstatus.kind = GW_TOO_DEEP;
			gw_pstatus.line = gw_ctxt_line(ctxt);
			snprintf(gw_pstatus.msg, GW_MSG_LEN,
				 "element nesting deeper than %d",
				 gw_max_depth);
		}
		xmlStopParser(ctxt);
		return;
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces,
			      namespaces, nb_attributes, nb_defaulted,
			      attributes);
}

/*
 * A parser state is a parser context with its dictionary and input buffer,
 * kept from one parse to the next. Creating them costs about a fifth of a
 * parse of the reference 5 KB envelope: the context, a dictionary whose
 * 4 KB hash table and string pools are large allocations (each makes glibc
 * consolidate all the small chunks the previous tree freed), an 8 KB input
 * buffer and a copy of the document into it. Reused, the dictionary already
 * holds the element names, and the nodes' allocations are served from
 * glibc's fast bins.
 *
 * A document keeps a reference to the dictionary of the state that parsed
 * it, and xmlFreeDoc reads that dictionary (to tell its strings from
 * malloc'ed ones) while another parse with the same state would be adding
 * to it. So a state serves one document at a time: the Go side checks it
 * out for Parse and takes it back only after the document is freed
 * (gw_doc_free). No thread affinity is needed, and the dictionary is never
 * touched by two threads at once.
 */
struct gw_pstate {
	xmlParserCtxtPtr ctxt;
	/* Kept between parses only when it has no encoder (an encoding
	 * switch leaves one behind) and stays small; NULL otherwise. */
	xmlParserInputBufferPtr in;
};

/* What an idle state may keep, whatever it parsed last: the input buffer of
 * a document of up to 16 KB (the buffer is at most twice that) and a
 * dictionary of up to 256 KB of strings. */
#define GW_KEEP_INPUT_MAX (16 * 1024)
#define GW_KEEP_DICT_MAX (256 * 1024)

gw_pstate *gw_pstate_new(void)
{
	gw_pstate *st = calloc(1, sizeof *st);
	if (st == NULL)
		return NULL;
	st->ctxt = xmlNewParserCtxt();
	if (st->ctxt == NULL) {
		free(st);
		return NULL;
	}
	st->ctxt->sax->internalSubset = gw_internal_subset;
	st->ctxt->sax->externalSubset = gw_external_subset;
	st->ctxt->sax->startElementNs = gw_start_element_ns;
	st->ctxt->sax->serror = gw_parse_error;
	return st;
}

void gw_pstate_free(gw_pstate *st)
{
	if (st == NULL)
		return;
	if (st->in != NULL)
		xmlFreeParserInputBuffer(st->in);
	xmlFreeParserCtxt(st->ctxt);
	free(st);
}

/* The input of one parse: the state's kept buffer, emptied, or a new one.
 * The document is copied in either case, as xmlCtxtReadMemory does, so no
 * pointer to the caller's memory outlives the call. A kept buffer was made
 * by xmlParserInputBufferCreateMem too and reads like a new one: its read
 * callback only ever reports the end of the input. */
static xmlParserInputBufferPtr gw_input(gw_pstate *st, const char *buf, int len)
{
	xmlParserInputBufferPtr in = st->in;
	st->in = NULL;
	if (in != NULL) {
		/* A buffer in error refuses to shrink: never append to it. */
		xmlBufShrink(in->buffer, xmlBufUse(in->buffer));
		if (xmlBufUse(in->buffer) == 0 &&
		    xmlParserInputBufferPush(in, len, buf) == len)
			return in;
		xmlFreeParserInputBuffer(in);
	}
	in = xmlParserInputBufferCreateMem(buf, len, XML_CHAR_ENCODING_NONE);
	/* It records buf as its read context; nothing reads it (the read
	 * callback is a no-op), and it must not stay behind. */
	if (in != NULL)
		in->context = NULL;
	return in;
}

/* Detaches the input buffer from the finished parse and keeps it for the
 * next one if it is clean and small; then resets the context, which frees
 * everything else the parse left in it. */
static void gw_parse_done(gw_pstate *st, int len)
{
	xmlParserCtxtPtr ctxt = st->ctxt;
	if (ctxt->inputNr == 1 && ctxt->input != NULL &&
	    ctxt->input->buf != NULL) {
		xmlParserInputBufferPtr in = ctxt->input->buf;
		if (in->encoder == NULL && in->raw == NULL && in->error == 0 &&
		    len <= GW_KEEP_INPUT_MAX) {
			ctxt->input->buf = NULL;
			st->in = in;
		}
	}
	xmlCtxtReset(ctxt);
}

xmlDocPtr gw_parse(gw_pstate *st, const char *buf, int len, int max_depth)
{
	xmlParserCtxtPtr ctxt = st->ctxt;
	xmlParserInputBufferPtr in;
	xmlParserInputPtr stream;
	xmlDocPtr doc = NULL;

	gw_pstatus.kind = GW_OK;
	gw_pstatus.code = 0;
	gw_pstatus.line = 0;
	gw_pstatus.msg[0] = 0;

	/* What xmlCtxtReadMemory does, with a kept buffer instead of a new
	 * one: reset, push the input, set the options, parse. */
	xmlCtxtReset(ctxt);
	in = gw_input(st, buf, len);
	stream = in != NULL ? xmlNewIOInputStream(ctxt, in, XML_CHAR_ENCODING_NONE) : NULL;
	if (stream == NULL && in != NULL)
		xmlFreeParserInputBuffer(in);
	/* inputPush frees the stream, and with it the buffer, if it fails. */
	if (stream == NULL || inputPush(ctxt, stream) < 0) {
		gw_pstatus.kind = GW_NOT_WELL_FORMED;
		gw_set_msg("out of memory");
		xmlCtxtReset(ctxt);
		return NULL;
	}
	xmlCtxtUseOptions(ctxt, GW_PARSE_OPTIONS);
	/* A fresh context's dictionary refuses to grow beyond
	 * XML_MAX_DICTIONARY_LIMIT; this one may hold names from earlier
	 * documents, so the allowance is counted from what it holds now. */
	xmlDictSetLimit(ctxt->dict, XML_MAX_DICTIONARY_LIMIT + xmlDictGetUsage(ctxt->dict));

	gw_max_depth = max_depth;
	xmlParseDocument(ctxt);
	gw_max_depth = -1;

	if (ctxt->wellFormed)
		doc = ctxt->myDoc;
	else if (ctxt->myDoc != NULL)
		xmlFreeDoc(ctxt->myDoc);
	ctxt->myDoc = NULL;

	if (doc != NULL) {
		/* Second line of defence: whatever the hooks saw, a tree with a
		 * DTD node never leaves this function. */
		if (gw_pstatus.kind == GW_OK &&
		    (doc->intSubset != NULL || doc->extSubset != NULL)) {
			gw_pstatus.kind = GW_DOCTYPE;
			gw_set_msg("DOCTYPE is forbidden");
		}
		/* libxml2 returns a tree for namespace errors such as an
		 * undeclared prefix; for SOAP they are fatal. */
		if (gw_pstatus.kind == GW_OK && !ctxt->nsWellFormed)
			gw_pstatus.kind = GW_NOT_WELL_FORMED;
		if (gw_pstatus.kind == GW_OK &&
		    xmlDocGetRootElement(doc) == NULL) {
			gw_pstatus.kind = GW_NOT_WELL_FORMED;
			gw_set_msg("no root element");
		}
		if (gw_pstatus.kind != GW_OK) {
			xmlFreeDoc(doc);
			doc = NULL;
		}
	} else if (gw_pstatus.kind == GW_OK) {
		gw_pstatus.kind = GW_NOT_WELL_FORMED;
	}
	if (gw_pstatus.kind == GW_NOT_WELL_FORMED && gw_pstatus.msg[0] == 0) {
		xmlErrorPtr last = xmlCtxtGetLastError(ctxt);
		if (last != NULL && last->code != 0) {
			gw_pstatus.code = last->code;
			gw_pstatus.line = last->line;
			gw_set_msg(last->message ? last->message
						 : "not well-formed");
		} else {
			gw_set_msg("not well-formed");
		}
	}
	gw_parse_done(st, len);
	return doc;
}

/* Input arrays beyond these sizes are not kept (see gw_pstate_release). */
#define GW_KEEP_ATTS_MAX 1024
#define GW_KEEP_NS_MAX 256

/*
 * Makes st ready for its next parse, after the document it parsed has been
 * freed or its parse has failed. A dictionary grown large (a document with
 * many distinct names) is replaced, now that no document refers to it.
 * Returns 0 if st should rather be freed: a document with thousands of
 * attributes on one element, or of namespace declarations in scope, has
 * grown arrays that the context would keep for good.
 */
int gw_pstate_release(gw_pstate *st)
{
	xmlParserCtxtPtr ctxt = st->ctxt;
	if (ctxt->maxatts > GW_KEEP_ATTS_MAX || ctxt->nsMax > GW_KEEP_NS_MAX)
		return 0;
	if (xmlDictGetUsage(ctxt->dict) > GW_KEEP_DICT_MAX) {
		xmlDictPtr d = xmlDictCreate();
		if (d == NULL)
			return 0;
		xmlDictFree(ctxt->dict);
		ctxt->dict = d;
	}
	return 1;
}

/* Frees a document parsed with st; then as gw_pstate_release. */
int gw_doc_free(gw_pstate *st, xmlDocPtr doc)
{
	xmlFreeDoc(doc);
	return gw_pstate_release(st);
}

/* ---------- schemas ---------- */

gw_schema_result gw_compile_schema(const char *path, const char *allowed_dir)
{
	gw_schema_result r;
	xmlSchemaParserCtxtPtr pc;

	memset(&r, 0, sizeof r);
	gw_allowed_dir = allowed_dir;
	/* The schema documents themselves are read by an internal parser
	 * context that reports to the thread's structured handler. */
	xmlSetStructuredErrorFunc(&r.errs, gw_collect);
	pc = xmlSchemaNewParserCtxt(path);
	if (pc != NULL) {
		xmlSchemaSetParserStructuredErrors(pc, gw_collect, &r.errs);
		r.schema = xmlSchemaParse(pc);
		xmlSchemaFreeParserCtxt(pc);
	}
	xmlSetStructuredErrorFunc(NULL, gw_silent);
	gw_allowed_dir = NULL;
	if (r.schema == NULL && r.errs.n == 0)
		gw_errlist_add(&r.errs, 0, 0, "schema compilation failed", NULL);
	return r;
}

/* Errors of the last validation or XPath evaluation on this thread. */
static __thread gw_errlist gw_terrs;

gw_errlist *gw_thread_errs(void)
{
	return &gw_terrs;
}

/*
 * Validation contexts are kept by the Go side, one per validation in
 * progress, and reused: libxml2 clears a context at the end of every
 * validation (xmlSchemaPostRun), keeping only its element and attribute
 * tables, so nothing of one message reaches the next. The error handler is
 * set on every call because the error list is per thread.
 */
int gw_validate(xmlSchemaValidCtxtPtr vc, xmlDocPtr doc, xmlNodePtr elem)
{
	int rc;

	gw_errlist_free(&gw_terrs);
	xmlSchemaSetValidStructuredErrors(vc, gw_collect, &gw_terrs);
	if (elem != NULL)
		rc = xmlSchemaValidateOneElement(vc, elem);
	else
		rc = xmlSchemaValidateDoc(vc, doc);
	/* The context keeps the handler's argument: leave no pointer to this
	 * thread's list in a context another thread may use next. */
	xmlSchemaSetValidStructuredErrors(vc, NULL, NULL);
	/* Non-zero whenever there is something to read in gw_terrs, so the
	 * caller looks only then. */
	if (rc == 0 && (gw_terrs.n > 0 || gw_terrs.dropped > 0))
		rc = 1;
	return rc;
}

/* ---------- XPath ---------- */

/* buf holds NUL-terminated strings: the expression, then nns pairs of
 * prefix and namespace URI. On failure, NULL with the errors in gw_terrs. */
xmlXPathObjectPtr gw_xpath_at(xmlDocPtr doc, xmlNodePtr node, const char *buf,
			      int nns)
{
	xmlXPathContextPtr xc;
	xmlXPathObjectPtr obj = NULL;
	const char *expr = buf;
	const char *p;

	gw_errlist_free(&gw_terrs);
	xc = xmlXPathNewContext(doc);
	if (xc == NULL) {
		gw_errlist_add(&gw_terrs, 0, 0, "out of memory", NULL);
		return NULL;
	}
	xc->node = node != NULL ? node : (xmlNodePtr)doc;
	/* Not xc->error: libxml2 hands that callback the error without a
	 * message. The thread's structured handler gets the formatted one. */
	xmlSetStructuredErrorFunc(&gw_terrs, gw_collect);
	p = buf + strlen(buf) + 1;
	for (int i = 0; i < nns; i++) {
		const char *prefix = p;
		const char *uri;
		p += strlen(p) + 1;
		uri = p;
		p += strlen(p) + 1;
		if (xmlXPathRegisterNs(xc, BAD_CAST prefix, BAD_CAST uri) != 0)
			gw_errlist_add(&gw_terrs, 0, 0,
				       "cannot bind namespace prefix", NULL);
	}
	if (gw_terrs.n == 0)
		obj = xmlXPathEvalExpression(BAD_CAST expr, xc);
	xmlSetStructuredErrorFunc(NULL, gw_silent);
	xmlXPathFreeContext(xc);
	/* NULL whenever there is something to read in gw_terrs. */
	if (obj != NULL && gw_terrs.n > 0) {
		xmlXPathFreeObject(obj);
		obj = NULL;
	}
	return obj;
}
