package libxml2

/*
#include <stdlib.h>
#include "binding.h"
*/
import "C"

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// ValidationError is one error reported by libxml2 while validating (or, in
// a SchemaError, while compiling a schema).
type ValidationError struct {
	Line int // 0 if unknown
	Msg  string
}

func (e ValidationError) String() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// SchemaError is returned by CompileSchema when the schema does not compile.
// Messages name the schema file relative to the schema set.
type SchemaError struct {
	Entry  string
	Errors []ValidationError
}

func (e *SchemaError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "schema %s does not compile", e.Entry)
	for i, v := range e.Errors {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Errors)-i)
			break
		}
		b.WriteString("; ")
		b.WriteString(v.String())
	}
	return b.String()
}

// Schema is a compiled XML Schema. It is read-only once compiled and may be
// used by many goroutines at once; each validation has its own context.
type Schema struct {
	p *C.xmlSchema

	// Validation contexts not in use. Making one costs as much as
	// validating a few elements; libxml2 clears a context after each
	// validation, so one is reused by later validations, never by two at
	// once.
	mu   sync.Mutex
	idle []*C.xmlSchemaValidCtxt
}

// maxIdleValidators bounds the contexts a Schema keeps between validations.
const maxIdleValidators = 64

// compileMu serialises schema compilation. Compilations are rare (start-up,
// configuration reload), so running one at a time costs nothing and keeps
// libxml2's schema parser out of any concurrent use.
var compileMu sync.Mutex

// CompileSchema compiles the schema whose entry document is entry, a
// slash-separated path inside fsys (e.g. "Schemas/QUPC_IN000006GB01.xsd").
//
// Every *.xsd of fsys is copied into a fresh private temporary directory,
// with one repair applied on the way (see dropProhibitedAttrTypes), and the
// entry is compiled from there while the entity loader serves files of that
// directory only, on this thread only. Relative schemaLocations therefore
// resolve within the set, and an import of anything outside it (another
// path, http://...) is refused. The directory is removed before returning.
func CompileSchema(fsys fs.FS, entry string) (*Schema, error) {
	if !fs.ValidPath(entry) || entry == "." {
		return nil, fmt.Errorf("libxml2: invalid schema entry path %q", entry)
	}
	tmp, err := os.MkdirTemp("", "spinegw-xsd-")
	if err != nil {
		return nil, fmt.Errorf("libxml2: %w", err)
	}
	defer os.RemoveAll(tmp)
	// The loader compares canonical paths, so the directory must be
	// canonical too (TMPDIR may be a symlink).
	dir, err := filepath.EvalSymlinks(tmp)
	if err != nil {
		return nil, fmt.Errorf("libxml2: %w", err)
	}
	if err := copySchemaSet(fsys, entry, dir); err != nil {
		return nil, err
	}

	cpath := C.CString(filepath.Join(dir, filepath.FromSlash(entry)))
	defer C.free(unsafe.Pointer(cpath))
	prefix := dir + string(filepath.Separator)
	cdir := C.CString(prefix)
	defer C.free(unsafe.Pointer(cdir))

	compileMu.Lock()
	// The loader's permission and the error handler for the schema
	// documents are per OS thread: they must be those of the thread that
	// runs the compilation.
	runtime.LockOSThread()
	r := C.gw_compile_schema(cpath, cdir)
	runtime.UnlockOSThread()
	compileMu.Unlock()

	errs := takeErrors(&r.errs, prefix)
	if r.schema == nil {
		return nil, &SchemaError{Entry: entry, Errors: errs}
	}
	return &Schema{p: r.schema}, nil
}

// copySchemaSet writes every *.xsd file of fsys (and the entry, whatever its
// name) under dir, repaired by dropProhibitedAttrTypes.
func copySchemaSet(fsys fs.FS, entry, dir string) error {
	copied := false
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || (!strings.EqualFold(path.Ext(p), ".xsd") && p != entry) {
			return nil
		}
		if p == entry {
			copied = true
		}
		return copySchemaFile(fsys, p, dir)
	})
	if err != nil {
		return fmt.Errorf("libxml2: copying schema set: %w", err)
	}
	if !copied {
		return fmt.Errorf("libxml2: schema entry %q not found", entry)
	}
	return nil
}

func copySchemaFile(fsys fs.FS, p, dir string) error {
	src, err := fs.ReadFile(fsys, p)
	if err != nil {
		return err
	}
	out, _, err := dropProhibitedAttrTypes(src)
	if err != nil {
		// Not something encoding/xml can tokenise (another encoding, an
		// entity reference...): copy it as is and let libxml2 judge it
		// if the schema actually uses it.
		out = src
	}
	dst := filepath.Join(dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	return os.WriteFile(dst, out, 0o600)
}

// Free releases the schema. Calling it again does nothing. It must not run
// while a validation with this schema is in progress.
func (s *Schema) Free() {
	if s == nil || s.p == nil {
		return
	}
	s.mu.Lock()
	for _, vc := range s.idle {
		C.xmlSchemaFreeValidCtxt(vc)
	}
	s.idle = nil
	s.mu.Unlock()
	C.xmlSchemaFree(s.p)
	s.p = nil
}

func (s *Schema) getValidator() *C.xmlSchemaValidCtxt {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		vc := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return vc
	}
	s.mu.Unlock()
	return C.xmlSchemaNewValidCtxt(s.p)
}

func (s *Schema) putValidator(vc *C.xmlSchemaValidCtxt) {
	s.mu.Lock()
	if len(s.idle) < maxIdleValidators {
		s.idle = append(s.idle, vc)
		vc = nil
	}
	s.mu.Unlock()
	if vc != nil {
		C.xmlSchemaFreeValidCtxt(vc)
	}
}

// ValidateElement validates the subtree rooted at n (for example the HL7
// message inside a SOAP Body) against the schema's global element
// declarations. It returns nil if the subtree is valid.
func (s *Schema) ValidateElement(n *Node) []ValidationError {
	if s == nil || s.p == nil {
		return []ValidationError{{Msg: "schema is freed"}}
	}
	if n == nil || n.p == nil || n.p._type != C.XML_ELEMENT_NODE {
		return []ValidationError{{Msg: "not an element"}}
	}
	return s.validate(nil, n.p)
}

// ValidateDocument validates the whole document. It returns nil if valid.
func (s *Schema) ValidateDocument(d *Document) []ValidationError {
	if s == nil || s.p == nil {
		return []ValidationError{{Msg: "schema is freed"}}
	}
	if d == nil || d.p == nil {
		return []ValidationError{{Msg: "document is freed"}}
	}
	return s.validate(d.p, nil)
}

func (s *Schema) validate(d *C.xmlDoc, n *C.xmlNode) []ValidationError {
	vc := s.getValidator()
	if vc == nil {
		return []ValidationError{{Msg: "out of memory"}}
	}
	// The errors are left in thread-local storage by the C side: the
	// goroutine must still be on the same OS thread when it reads them.
	runtime.LockOSThread()
	rc := C.gw_validate(vc, d, n)
	var errs []ValidationError
	if rc != 0 {
		errs = takeErrors(C.gw_thread_errs(), "")
	}
	runtime.UnlockOSThread()
	if rc < 0 {
		// An internal error: do not trust the context with another
		// message.
		C.xmlSchemaFreeValidCtxt(vc)
	} else {
		s.putValidator(vc)
	}
	if rc != 0 && len(errs) == 0 {
		// A failure libxml2 did not describe (rc < 0 is an internal error).
		errs = []ValidationError{{Msg: fmt.Sprintf("validation failed (libxml2 code %d)", int(rc))}}
	}
	return errs
}

// takeErrors converts and frees a C error list. For compile errors, the file
// libxml2 names is shown relative to prefix (the private schema directory).
func takeErrors(l *C.gw_errlist, prefix string) []ValidationError {
	if l.n == 0 && l.dropped == 0 {
		return nil
	}
	items := unsafe.Slice(l.items, int(l.n))
	out := make([]ValidationError, 0, len(items)+1)
	for _, it := range items {
		msg := cleanMsg(C.GoString(it.msg))
		if prefix != "" {
			msg = strings.ReplaceAll(msg, prefix, "")
		}
		if prefix != "" && it.file != nil {
			file := C.GoString(it.file)
			file = strings.TrimPrefix(file, "file://")
			file = strings.TrimPrefix(file, prefix)
			msg = filepath.ToSlash(file) + ": " + msg
		}
		out = append(out, ValidationError{Line: int(it.line), Msg: msg})
	}
	if l.dropped > 0 {
		out = append(out, ValidationError{Msg: fmt.Sprintf("%d more errors not shown", int(l.dropped))})
	}
	C.gw_errlist_free(l)
	return out
}
