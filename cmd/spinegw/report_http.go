package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"

	"spinegw/cpis"
	"spinegw/store"
)

// reportsHandler serves the reports on the admin listener under
// /admin/reports/: GET /admin/reports/NAME?from=&to=&nhs=&la=&format=,
// the same reports, parameters and formats as `spinegw report`
// (docs/reports.md). The admin listener is loopback only unless a token is
// set, which every request must then carry: the subject report is a data
// protection report (CP-IS079). Reports are rendered in full before the
// first byte is sent, so a failure is an error status, never half a report.
func reportsHandler(db *store.DB, c cpis.Clock) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "reports are read with GET", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/admin/reports/")
		if name == "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("reports: " + strings.Join(reportNames, ", ") + "\n"))
			return
		}
		v := r.URL.Query()
		q := reportRequest{Name: name, From: v.Get("from"), To: v.Get("to"), NHS: v.Get("nhs"), LA: v.Get("la"),
			Format: v.Get("format")}
		if q.Format == "" {
			q.Format = cpis.FormatJSON
		}
		rep, err := buildReport(r.Context(), db, c.Now(), q)
		if err != nil {
			switch cpis.KindOf(err) {
			case cpis.KindInvalid:
				status := http.StatusBadRequest
				if !knownReport(name) {
					status = http.StatusNotFound
				}
				http.Error(w, reportError(err).Error(), status)
			default:
				// The cause names a statement, never a value: no patient data.
				slog.Error("admin report", "report", name, "err", err.Error())
				http.Error(w, "the report could not be read", http.StatusInternalServerError)
			}
			return
		}
		var b bytes.Buffer
		if err := rep.Render(&b, q.Format); err != nil {
			http.Error(w, "the report could not be rendered", http.StatusInternalServerError)
			return
		}
		switch q.Format {
		case cpis.FormatJSON:
			w.Header().Set("Content-Type", "application/json")
		case cpis.FormatCSV:
			w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		default:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		// Patient data: never kept by a cache on the way.
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b.Bytes())
	})
}

func knownReport(name string) bool {
	for _, n := range reportNames {
		if n == name {
			return true
		}
	}
	return false
}
