package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"spinegw/clock"
	"spinegw/cpis"
	"spinegw/daily"
	"spinegw/store"
)

// The admin listener: time control for testers. Retention and daily cycles
// are untestable without moving time, so a running emulator's clock can be
// moved forward:
//
//	POST /admin/clock  {"advance": "72h"}             (Go duration, or whole days: "3d", "1d12h")
//	POST /admin/clock  {"to": "2026-11-25T03:00:00Z"} (RFC 3339)
//	GET  /admin/clock
//	POST /admin/daily                                  (run what is due now, without moving the clock)
//
// Only forward: what the gateway recorded at a time must stay in its past.
// Moving the clock runs, before answering, every daily cycle that falls due,
// in order, then the inactive NHS number notifications owed and delivery;
// the reply gives the new time and the days run. It listens apart from the
// main listener (default 127.0.0.1:8081) so that it is never exposed with
// the SOAP endpoint.
//
// PDS changes, as `spinegw pds` makes them, for a running gateway (the
// conformance cases of the Inactive NHS Number Notification use them):
//
//	POST /admin/pds/supersede   {"old": "9990001006", "new": "9990004005"}
//	POST /admin/pds/inactivate  {"old": "9990001146"}
//
// Each writes the notifications owed to every LA holding records under the
// old number in the same transaction, delivers them, and answers
// {"notifications": N}.

type adminClockRequest struct {
	Advance string `json:"advance"`
	To      string `json:"to"`
}

type adminDay struct {
	Day           string `json:"day"`
	Notifications int    `json:"notifications"`
	Accesses      int    `json:"accesses"`
	Purged        bool   `json:"purged"`
	PurgedPlans   int    `json:"purged_plans"`
	PurgedRecords int    `json:"purged_records"`
	EndDated      int    `json:"end_dated"`
	StaleCPPs     int    `json:"stale_cpps"`
}

type adminClockReply struct {
	Now     string     `json:"now"`
	Offset  string     `json:"offset"`
	DaysRun []adminDay `json:"days_run"`
	Error   string     `json:"error,omitempty"`
}

func adminHandler(c *clock.Adjustable, runner *daily.Runner, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, status int, r adminClockReply) {
		now := c.Now()
		r.Now = now.Format(time.RFC3339Nano)
		r.Offset = c.Offset().String()
		if r.DaysRun == nil {
			r.DaysRun = []adminDay{}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(r)
	}
	// tick runs, before answering, every daily cycle due at the clock's now,
	// the inactive NHS number notifications owed and delivery.
	tick := func(w http.ResponseWriter, r *http.Request) {
		days, err := runner.Tick(r.Context(), c.Now())
		out := adminClockReply{DaysRun: make([]adminDay, 0, len(days))}
		for _, d := range days {
			out.DaysRun = append(out.DaysRun, adminDay{Day: d.Day.Format(time.DateOnly), Notifications: d.Notifications,
				Accesses: d.Accesses, Purged: d.Purged, PurgedPlans: d.Purge.Plans, PurgedRecords: d.Purge.Records,
				EndDated: d.Purge.EndDated, StaleCPPs: d.Purge.StaleCPPs})
		}
		if err != nil {
			// Any clock change stands; the scheduler retries what failed.
			log.Error("admin: daily cycle", "err", err.Error())
			out.Error = "a daily cycle failed (the scheduler retries it; a clock change stands): " + err.Error()
			reply(w, http.StatusInternalServerError, out)
			return
		}
		reply(w, http.StatusOK, out)
	}
	mux.HandleFunc("GET /admin/clock", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, adminClockReply{})
	})
	mux.HandleFunc("POST /admin/clock", func(w http.ResponseWriter, r *http.Request) {
		var req adminClockRequest
		dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			reply(w, http.StatusBadRequest, adminClockReply{Error: `the body must be {"advance": "72h"} or {"to": "RFC 3339 instant"}: ` + err.Error()})
			return
		}
		var err error
		switch {
		case (req.Advance == "") == (req.To == ""):
			err = errors.New(`give exactly one of "advance" and "to"`)
		case req.Advance != "":
			var d time.Duration
			if d, err = parseDuration(req.Advance); err == nil {
				_, err = c.Advance(d)
			}
		default:
			var t time.Time
			if t, err = time.Parse(time.RFC3339, req.To); err == nil {
				_, err = c.Set(t)
			}
		}
		if err != nil {
			reply(w, http.StatusBadRequest, adminClockReply{Error: err.Error()})
			return
		}
		log.Info("admin clock", "now", c.Now().Format(time.RFC3339), "offset", c.Offset().String())
		tick(w, r)
	})
	mux.HandleFunc("POST /admin/daily", func(w http.ResponseWriter, r *http.Request) {
		log.Info("admin daily", "now", c.Now().Format(time.RFC3339))
		tick(w, r)
	})
	mux.HandleFunc("POST /admin/pds/supersede", func(w http.ResponseWriter, r *http.Request) {
		pdsChangeHandler(w, r, runner, log, true)
	})
	mux.HandleFunc("POST /admin/pds/inactivate", func(w http.ResponseWriter, r *http.Request) {
		pdsChangeHandler(w, r, runner, log, false)
	})
	return mux
}

type adminPDSRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

type adminPDSReply struct {
	Notifications int    `json:"notifications"`
	Error         string `json:"error,omitempty"`
}

// pdsChangeHandler supersedes (or inactivates) an NHS number. The log names
// the change, never the numbers (patient data).
func pdsChangeHandler(w http.ResponseWriter, r *http.Request, runner *daily.Runner, log *slog.Logger, supersede bool) {
	reply := func(status int, out adminPDSReply) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(out)
	}
	var req adminPDSRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		reply(http.StatusBadRequest, adminPDSReply{Error: `the body must be {"old": NHS number, "new": NHS number} (no "new" to inactivate): ` + err.Error()})
		return
	}
	old, err := cpis.ParseNHSNumber(req.Old)
	if err != nil {
		reply(http.StatusBadRequest, adminPDSReply{Error: "old: " + err.Error()})
		return
	}
	var n int
	switch {
	case supersede:
		replacement, perr := cpis.ParseNHSNumber(req.New)
		if perr != nil {
			reply(http.StatusBadRequest, adminPDSReply{Error: "new: " + perr.Error()})
			return
		}
		n, err = runner.Supersede(r.Context(), old, replacement)
	case req.New != "":
		reply(http.StatusBadRequest, adminPDSReply{Error: `inactivate takes no "new"; supersede does`})
		return
	default:
		n, err = runner.Inactivate(r.Context(), old)
	}
	if err != nil {
		log.Error("admin pds change", "supersede", supersede, "err", err.Error())
		reply(http.StatusInternalServerError, adminPDSReply{Error: err.Error()})
		return
	}
	if _, err := runner.Deliver(r.Context()); err != nil {
		// Written and committed: the scheduler delivers it.
		log.Error("admin pds change: delivery", "err", err.Error())
	}
	log.Info("admin pds change", "supersede", supersede, "notifications", n)
	reply(http.StatusOK, adminPDSReply{Notifications: n})
}

// startAdmin listens on addr for the admin handler and returns the address
// bound and a function that stops it. With a token, every request needs
// "Authorization: Bearer <token>"; without one, addr must be a loopback
// address (checkAdminAccess).
func startAdmin(addr, token string, c *clock.Adjustable, runner *daily.Runner, db *store.DB, log *slog.Logger) (string, func(), error) {
	if err := checkAdminAccess(addr, token); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("admin listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/reports/", reportsHandler(db, c))
	mux.Handle("/", adminHandler(c, runner, log))
	hs := &http.Server{
		Handler:           requireToken(token, log, auditAdmin(db, c, mux)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Moving the clock a long way over a large store runs many days
		// before answering.
		WriteTimeout:   30 * time.Minute,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
	go func() { _ = hs.Serve(ln) }()
	return ln.Addr().String(), func() { _ = hs.Close() }, nil
}

// adminToken resolves the admin token: --admin-token, or the first line of
// --admin-token-file; not both.
func adminToken(cfg Config) (string, error) {
	tok := strings.TrimSpace(cfg.AdminToken)
	if cfg.AdminTokenFile == "" {
		return tok, nil
	}
	if tok != "" {
		return "", errors.New("give --admin-token or --admin-token-file, not both")
	}
	data, err := os.ReadFile(cfg.AdminTokenFile)
	if err != nil {
		return "", fmt.Errorf("--admin-token-file: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	if tok = strings.TrimSpace(line); tok == "" {
		return "", fmt.Errorf("--admin-token-file %s: the first line is empty", cfg.AdminTokenFile)
	}
	return tok, nil
}

// checkAdminAccess refuses an admin listener reachable from other machines
// without a token: the admin API moves the gateway's clock and changes PDS.
func checkAdminAccess(addr, token string) error {
	if token != "" || isLoopback(addr) {
		return nil
	}
	return fmt.Errorf("--admin-listen %s is not a loopback address: set --admin-token (or SPINEGW_ADMIN_TOKEN, or --admin-token-file)", addr)
}

// isLoopback reports whether a listen address binds loopback only: an IP
// address of the loopback range or the name localhost. An empty host (all
// interfaces) or any other name is not.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// requireToken lets through only requests carrying the bearer token; an
// empty token lets everything through (loopback only, checkAdminAccess).
// The comparison takes the same time whatever the token given.
func requireToken(token string, log *slog.Logger, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			if log != nil {
				log.Warn("admin: refused", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="spinegw admin"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"the admin listener needs Authorization: Bearer <token>"}`+"\n")
			return
		}
		next.ServeHTTP(w, r)
	})
}
