package main

import (
	"net/http"

	"spinegw/soap"
	"spinegw/web"
)

// mountPage serves the service page (GET / exactly; other unknown paths
// stay 404), the example requests under /examples/ and /status.json. The
// page's traffic comes from the exchange observers of the SOAP endpoint and
// of the HTTP mailbox.
func (s site) mountPage(mux *http.ServeMux) {
	traffic := web.NewTraffic(50)
	if s.soap != nil {
		s.soap.Observe(traffic.Observe)
	}
	if m, ok := s.mailbox.(interface{ Observe(func(soap.Exchange)) }); ok {
		m.Observe(traffic.Observe)
	}
	page := web.New(web.Config{Store: s.db, Clock: s.clock, GatewayASID: s.cfg.ASID, Traffic: traffic, Log: s.log})
	page.Mount(mux)
}
