package main

import "net/http"

// mountPage serves the service page (GET /).
func (s site) mountPage(mux *http.ServeMux) {}
