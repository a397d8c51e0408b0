package libxml2

/*
#include <stdlib.h>
#include "binding.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Hooks for the package's tests, which cannot use cgo themselves: they
// observe the entity loader and the DTD invariant directly rather than
// trusting Parse's error codes.

// probeEntityLoader asks the installed external entity loader for url the
// way libxml2 does, with files under allowedDir (a canonical directory with
// a trailing separator, "" for none: the normal state) permitted, and
// reports whether it was served.
func probeEntityLoader(url, allowedDir string) bool {
	curl := C.CString(url)
	defer C.free(unsafe.Pointer(curl))
	var cdir *C.char
	if allowedDir != "" {
		cdir = C.CString(allowedDir)
		defer C.free(unsafe.Pointer(cdir))
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return C.gw_probe_loader(curl, cdir) != 0
}

// loaderDenials counts the requests the entity loader has refused since the
// process started.
func loaderDenials() int64 { return int64(C.gw_loader_denials()) }

// hasDTD reports whether the tree carries an internal or external subset.
func (d *Document) hasDTD() bool {
	return d.p != nil && (d.p.intSubset != nil || d.p.extSubset != nil)
}

// dictBytes is the size of the string pools of the dictionary d's names are
// kept in: the dictionary of the parser state that parsed d.
func (d *Document) dictBytes() int { return int(C.xmlDictGetUsage(d.p.dict)) }
