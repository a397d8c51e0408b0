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

// mailboxMaxBody is the largest request body the HTTP mailbox takes: its
// requests carry none, so anything sizeable is refused unread.
const mailboxMaxBody = 4 << 10

// handler routes the gateway's HTTP surface: the SOAP endpoint, the HTTP
// mailbox, the WSDL with its schemas, and the service page.
func (s site) handler() http.Handler {
	mux := http.NewServeMux()
	// Bodies are read within soap.LimitBody's size and rate limits before
	// the endpoints see them (docs/robustness.md). serve has checked
	// --max-body already; the mailbox takes no request body at all.
	maxBody, _ := parseSize(s.cfg.MaxBody)
	mux.Handle("/sync-service", soap.LimitBody(s.soap, soap.DefaultBodyLimits(maxBody), s.log))
	mux.Handle("/mailbox/", soap.LimitBody(s.mailbox, soap.DefaultBodyLimits(mailboxMaxBody), s.log))
	s.mountWSDL(mux)
	s.mountPage(mux)
	return mux
}
