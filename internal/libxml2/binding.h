/*
 * C side of the spinegw libxml2 binding.
 *
 * Each Go-visible operation is one C function, so that a parse, a validation
 * or an XPath evaluation costs a single cgo crossing, and so that all
 * per-thread libxml2 state touched by an operation is set and reset inside
 * that one call on one OS thread.
 */
#ifndef SPINEGW_LIBXML2_BINDING_H
#define SPINEGW_LIBXML2_BINDING_H

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlschemas.h>

/* Outcome of gw_parse, mirrored by the Go ErrorKind values. */
enum {
	GW_OK = 0,
	GW_NOT_WELL_FORMED = 1,
	GW_DOCTYPE = 2,
	GW_TOO_DEEP = 3,
};

#define GW_MSG_LEN 256

/* Why the last gw_parse on this thread failed. */
typedef struct {
	int kind;            /* GW_* */
	int code;            /* libxml2 error code of the first error, 0 if none */
	int line;            /* line of the first error */
	char msg[GW_MSG_LEN];/* message of the first error, NUL-terminated */
} gw_parse_status;

/* One collected error. msg and file are malloc'ed (file may be NULL) and
 * freed by gw_errlist_free. */
typedef struct {
	int line;
	int code;
	char *msg;
	char *file;
} gw_err;

/* Errors collected from libxml2's structured error callback. */
typedef struct {
	int n;
	int cap;
	int dropped;   /* errors beyond GW_MAX_ERRS, counted but not kept */
	gw_err *items;
} gw_errlist;

#define GW_MAX_ERRS 64

typedef struct {
	xmlSchemaPtr schema;
	gw_errlist errs;
} gw_schema_result;

/*
 * Parse, validation and XPath return only a pointer or an int, so that the
 * successful path allocates nothing on the Go side. Details of a failure are
 * left in thread-local storage, read through gw_parse_status_get and
 * gw_thread_errs by the same goroutine, still locked to the same OS thread.
 */
void gw_init(void);
/* A parser context kept for reuse; see binding.c. One document at a time:
 * from gw_parse until gw_doc_free of the document it returned. */
typedef struct gw_pstate gw_pstate;
gw_pstate *gw_pstate_new(void);
void gw_pstate_free(gw_pstate *st);
xmlDocPtr gw_parse(gw_pstate *st, const char *buf, int len, int max_depth);
int gw_pstate_release(gw_pstate *st);
int gw_doc_free(gw_pstate *st, xmlDocPtr doc);
gw_parse_status *gw_parse_status_get(void);
/* vc is a validation context of the schema, reusable after the call. */
int gw_validate(xmlSchemaValidCtxtPtr vc, xmlDocPtr doc, xmlNodePtr elem);
xmlXPathObjectPtr gw_xpath_at(xmlDocPtr doc, xmlNodePtr node, const char *buf,
			      int nns);
gw_errlist *gw_thread_errs(void);
void gw_errlist_free(gw_errlist *l);
gw_schema_result gw_compile_schema(const char *path, const char *allowed_dir);
int gw_probe_loader(const char *url, const char *allowed_dir);
long gw_loader_denials(void);

#endif
