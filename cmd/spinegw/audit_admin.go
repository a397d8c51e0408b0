package main

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"spinegw/cpis"
	"spinegw/store"
)

// auditAdmin records every admin action in the audit trail (CP-IS073,
// CP-IS074; docs/audit.md): method and path, the status answered, the
// remote address and the time on the gateway's clock when the request
// came. The body is never read here: the NHS numbers a PDS change carries
// reach the trail through the store's own entry for that change. Of the
// query string, a valid nhs parameter (a report on one NHS number) is the
// entry's subject; the other parameters are kept as given, nhs left out.
// The entry is appended once the handler has answered, as its own
// transaction; should that fail, the failure is logged, without the
// request's parameters.
func auditAdmin(db *store.DB, c cpis.Clock, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := c.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		e := cpis.AuditEntry{At: at, Kind: cpis.AuditAdmin, Action: r.Method + " " + r.URL.Path,
			Outcome: strconv.Itoa(sw.status), Remote: r.RemoteAddr, User: "admin"}
		q := r.URL.Query()
		if nhs := q.Get("nhs"); cpis.ValidNHSNumber(nhs) {
			e.NHSNumber = nhs
		}
		q.Del("nhs")
		e.Detail = q.Encode()
		// The action happened whether or not the client is still there.
		if _, err := db.Audit(context.WithoutCancel(r.Context()), e); err != nil {
			slog.Error("admin action not audited", "method", r.Method, "path", r.URL.Path, "err", err.Error())
		}
	})
}

// statusWriter remembers the status a handler answers with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer
// (flushes, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
