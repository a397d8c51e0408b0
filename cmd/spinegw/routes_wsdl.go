package main

import (
	"io/fs"
	"net/http"
	"os"

	"spinegw/hl7/schema"
	"spinegw/wsdl"
)

// mountWSDL serves the WSDL (GET /sync-service?wsdl) and its schemas: the set
// the gateway validates with (the embedded one, or --schemas DIR) under
// /schemas/, and the WSDL's own under /wsdl/. GET /sync-service without
// ?wsdl still reaches the SOAP endpoint, which answers it with its fault.
func (s site) mountWSDL(mux *http.ServeMux) {
	var set fs.FS = schema.FS
	if s.cfg.Schemas != "" {
		// os.Root keeps every read inside DIR, symbolic links included.
		root, err := os.OpenRoot(s.cfg.Schemas)
		if err != nil {
			s.log.Error("schemas not served", "err", err.Error())
			set = emptyFS{}
		} else {
			set = root.FS()
		}
	}
	mux.Handle("GET "+wsdl.ServicePath, wsdl.Service(s.soap))
	mux.Handle("GET "+wsdl.SchemaPath, wsdl.Schemas(wsdl.SchemaPath, set))
	mux.Handle("GET "+wsdl.OwnPath, wsdl.OwnSchemas(wsdl.OwnPath))
}

// emptyFS is a schema set with nothing in it.
type emptyFS struct{}

func (emptyFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}
