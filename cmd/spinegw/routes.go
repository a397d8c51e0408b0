package main

import (
	"log/slog"
	"net/http"

	"spinegw/clock"
	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/soap"
	"spinegw/store"
)

// site is everything the gateway's HTTP surface is built from.
type site struct {
	cfg       Config
	db        *store.DB
	clock     *clock.Adjustable
	soap      *soap.Server
	mailbox   http.Handler
	validator *hl7.Validator
	world     *cpis.World // the --world file given at start, nil without one
	log       *slog.Logger
}

// handler routes the gateway's HTTP surface: the SOAP endpoint, the HTTP
// mailbox, the WSDL with its schemas, and the service page.
func (s site) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/sync-service", s.soap)
	mux.Handle("/mailbox/", s.mailbox)
	s.mountWSDL(mux)
	s.mountPage(mux)
	return mux
}
