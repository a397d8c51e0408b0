// Package libxml2 is spinegw's own small cgo binding to the system libxml2
// (2.9.x): a hardened parser, XML Schema validation and XPath. It is the
// gatekeeper for every XML byte the gateway receives, so its guarantees are
// the point of the package:
//
//   - Documents are parsed from memory with XML_PARSE_NONET, NOERROR and
//     NOWARNING only (plus COMPACT, a storage optimisation). NOENT, DTDLOAD,
//     DTDVALID, XINCLUDE and HUGE are never used.
//   - A document with a DOCTYPE is refused (DoctypeForbidden; SOAP 1.1
//     forbids DTDs). The parser is stopped the moment the DOCTYPE name has
//     been read, before any entity declaration in the internal subset is
//     parsed, so entity bombs and external entities (file://, http://) and
//     external DTDs are never even looked at; a parsed tree is also checked for
//     a DTD node as a second line of defence.
//   - A process-wide external entity loader, installed at package
//     initialisation, refuses every request. The only exception is the OS
//     thread that is compiling a schema, which may load files inside the
//     private temporary copy of the schema set being compiled and nothing
//     else. Nothing is ever read from the network or from an arbitrary path,
//     and XML catalogs are disabled.
//   - XInclude is never processed: an xi:include element stays in the tree as
//     an ordinary element.
//   - Size is limited before libxml2 sees the input (ParseOptions.MaxBytes),
//     element nesting during the parse (ParseOptions.MaxDepth, at most 256,
//     libxml2's own cap without XML_PARSE_HUGE), so a 10,000-deep document
//     stops at the limit.
//   - Namespace errors (an undeclared prefix), which libxml2 reports but
//     tolerates, are fatal here.
//   - libxml2 never prints to stderr: errors are collected through structured
//     error handlers, first error (with its line) for a parse, all errors
//     (up to 64, with lines) for a validation or a schema compilation.
//   - Parse and validation cost one cgo call when they succeed, XPath two;
//     details of a failure are left in thread-local C storage and read by a
//     second call. Each runs with the goroutine locked to its OS thread,
//     because libxml2 keeps error handlers, and this package the loader's
//     permission and those failure details, per thread.
//   - Parser contexts (with their dictionaries and input buffers) and schema
//     validation contexts are reused rather than made for every call (a new
//     parser context costs about a fifth of a parse). Nothing of one
//     document reaches the next: a context is reset after every parse, and
//     libxml2 clears a validation context after every validation. A parser
//     context serves one Document at a time, from Parse to Free, because the
//     tree uses its dictionary; idle ones are kept within bounds.
//
// A Document and its Nodes belong to one goroutine at a time; Nodes are valid
// until the Document is freed. Documents have no finalizer: whoever parses
// must call Free. A compiled Schema is read-only and may be shared by any
// number of goroutines validating concurrently; Free it only when none is.
package libxml2
