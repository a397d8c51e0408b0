// Package web serves spinegw's service page: a page for the people who
// integrate with the gateway or test against it. It shows the endpoint and
// its operations, example requests for every scenario of the loaded world,
// the world's test identities and what each NHS number returns now, live
// counts and the recent traffic (never patient data), plus the same counts
// and traffic as JSON.
//
// The page is rendered on the server with html/template, which escapes
// everything; it needs no script and loads nothing from elsewhere. A few
// lines of script refresh the live part.
package web

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"spinegw/conformance"
	"spinegw/cpis"
	"spinegw/soap"
	"spinegw/store"
)

//go:embed page.html.tmpl
var pageSource string

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02")
	},
	"instant": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
}).Parse(pageSource))

// Store is what the page reads of the store.
type Store interface {
	WorldView(ctx context.Context, limit int) (store.WorldView, error)
	Counts(ctx context.Context) (store.Counts, error)
}

// Config is what the page needs.
type Config struct {
	Store       Store
	Clock       cpis.Clock // the gateway's clock: what the examples and visibility are decided at
	GatewayASID string
	Traffic     *Traffic // fed by the SOAP endpoint's observer
	Log         *slog.Logger
	// Numbers is how many NHS numbers the page lists (the first, in number
	// order); 0 means 200.
	Numbers int
}

// Page serves the service page, the example downloads and the status.
type Page struct{ cfg Config }

// New returns the page.
func New(cfg Config) *Page {
	if cfg.Numbers <= 0 {
		cfg.Numbers = 200
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Traffic == nil {
		cfg.Traffic = NewTraffic(50)
	}
	if cfg.Clock == nil {
		cfg.Clock = cpis.ClockFunc(time.Now)
	}
	return &Page{cfg: cfg}
}

// Mount adds the page's routes: GET / (exactly), GET /examples/NAME.xml and
// GET /status.json.
func (p *Page) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", p.page)
	mux.HandleFunc("GET /examples/{file}", p.example)
	mux.HandleFunc("GET /status.json", p.status)
}

// base is the scheme and host the request reached the gateway at.
func base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// operation is one interaction the endpoint serves.
type operation struct {
	Name, Action, Request string
	Answers               []answer
}

type answer struct{ Name, Root, Action string }

var operations = []operation{
	{Name: "CP-IS NHS Query", Action: soap.ActionQuery, Request: "QUPC_IN000006GB01", Answers: []answer{
		{"NHS Query Response (plans shown)", "REPC_IN000007GB01", soap.ActionQueryResponse},
		{"Query failure (NHS Number Not Found, SMSP-0001 input validation, SMSP-0005 not authorised)", "QUQI_IN010000UK14", soap.ActionQueryFailure},
		{"SOAP fault, HTTP 500 (transport, addressing, not well-formed)", "Fault", ""},
	}},
	{Name: "LA Upload", Action: soap.ActionUpload, Request: "File", Answers: []answer{
		{"File acknowledgement (CPF01-CPF04, a code per record)", "FileResponse", soap.ActionUploadResponse},
		{"SOAP fault, HTTP 500 (sent by an endpoint not the LA's, transport)", "Fault", ""},
	}},
}

type exampleView struct {
	conformance.Example
	File, Curl string
}

type userView struct {
	cpis.User
	Profiles []profileView
}

type profileView struct {
	cpis.RoleProfile
	B0107, Midwife bool
}

type numberView struct {
	NHS               cpis.NHSNumber
	Name, Birth, Note string
	Held              []string
	Ordinary, Midwife string
}

type laView struct {
	cpis.LocalAuthority
	Endpoints []cpis.Endpoint // the LA's own endpoints (same ODS code)
	Inbox     string
}

type trafficRow struct {
	At, Interaction, Sender, SenderName, Outcome, Latency, Class string
}

type pageData struct {
	Base, Endpoint, GatewayASID string
	Now, Since                  time.Time
	Operations                  []operation
	Examples                    []exampleView
	Endpoints                   []cpis.Endpoint
	Users                       []userView
	LAs                         []laView
	Numbers                     []numberView
	MoreNumbers                 bool
	Counts                      store.Counts
	CountsOK                    bool
	Traffic                     TrafficCounts
	Recent                      []trafficRow
	Problem                     string
}

func (p *Page) page(w http.ResponseWriter, r *http.Request) {
	now := p.cfg.Clock.Now()
	d := pageData{Base: base(r), GatewayASID: p.cfg.GatewayASID, Now: now, Operations: operations}
	d.Endpoint = d.Base + "/sync-service"
	view, err := p.cfg.Store.WorldView(r.Context(), p.cfg.Numbers)
	if err != nil {
		p.cfg.Log.Error("service page", "err", err.Error())
		d.Problem = "The world could not be read from the store; see the gateway's log."
	}
	d.Endpoints = view.Endpoints
	d.MoreNumbers = view.More
	for _, ex := range conformance.Examples(view.World, p.cfg.GatewayASID, now) {
		file := ex.Name + ".xml"
		d.Examples = append(d.Examples, exampleView{Example: ex, File: file,
			Curl: fmt.Sprintf("curl -s %s/examples/%s | curl -s -H 'Content-Type: text/xml; charset=UTF-8' -H 'SOAPAction: %s' --data-binary @- %s",
				d.Base, file, ex.Action, d.Endpoint)})
	}
	for _, u := range view.Users {
		uv := userView{User: u}
		for _, rp := range u.RoleProfiles {
			uv.Profiles = append(uv.Profiles, profileView{RoleProfile: rp, B0107: rp.Has(cpis.ActivityViewCPIS), Midwife: cpis.IsMidwife(rp.JobRole.Code)})
		}
		d.Users = append(d.Users, uv)
	}
	for _, la := range view.LocalAuthorities {
		lv := laView{LocalAuthority: la, Inbox: "/mailbox/" + la.ODS + "/inbox"}
		for _, ep := range view.Endpoints {
			if ep.ODS == la.ODS {
				lv.Endpoints = append(lv.Endpoints, ep)
			}
		}
		d.LAs = append(d.LAs, lv)
	}
	d.Numbers = numbers(view.World, now)
	d.Counts, err = p.cfg.Store.Counts(r.Context())
	if err != nil {
		p.cfg.Log.Error("service page", "err", err.Error())
	} else {
		d.CountsOK = true
	}
	recent, counts, since := p.cfg.Traffic.Snapshot()
	d.Traffic, d.Since = counts, since
	names := map[string]string{}
	for _, ep := range view.Endpoints {
		names[ep.ASID] = ep.Name
	}
	for _, e := range recent {
		row := trafficRow{At: e.At.UTC().Format("2006-01-02 15:04:05Z"), Interaction: interactionName(e.Interaction),
			Sender: e.Sender, SenderName: names[e.Sender], Outcome: outcomeText(e), Latency: fmt.Sprintf("%.1f ms", float64(e.Latency.Microseconds())/1000),
			Class: outcomeClass(e)}
		d.Recent = append(d.Recent, row)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Nothing from elsewhere; the one inline script and style are the
	// page's own.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src 'self'")
	if err := pageTmpl.Execute(w, d); err != nil {
		p.cfg.Log.Error("service page", "err", err.Error())
	}
}

// numbers lists every NHS number of the view with what an ordinary user
// (one with B0107 whose job role is not a midwife's) and a midwife are
// shown now.
func numbers(w cpis.World, now time.Time) []numberView {
	today := cpis.Today(now)
	byNumber := map[cpis.NHSNumber]*numberView{}
	var order []cpis.NHSNumber
	births := map[cpis.NHSNumber]time.Time{}
	get := func(nhs cpis.NHSNumber) *numberView {
		v, ok := byNumber[nhs]
		if !ok {
			v = &numberView{NHS: nhs}
			byNumber[nhs] = v
			order = append(order, nhs)
		}
		return v
	}
	for _, p := range w.Patients {
		v := get(p.NHSNumber)
		v.Name, v.Birth = p.Name.String(), ""
		if !p.BirthDate.IsZero() {
			v.Birth = p.BirthDate.Format("2006-01-02")
		}
		births[p.NHSNumber] = p.BirthDate
		var notes []string
		if p.SupersededBy != "" {
			notes = append(notes, "superseded by "+string(p.SupersededBy))
		} else if p.Inactive {
			notes = append(notes, "inactive")
		}
		if p.Sensitive {
			notes = append(notes, "sensitive")
		}
		if !p.DateOfDeath.IsZero() {
			notes = append(notes, "died "+p.DateOfDeath.Format("2006-01-02"))
		}
		v.Note = strings.Join(notes, ", ")
	}
	records := map[cpis.NHSNumber][]cpis.Record{}
	for _, r := range w.Records {
		v := get(r.NHSNumber)
		if v.Name == "" {
			v.Note = "not known to PDS"
		}
		records[r.NHSNumber] = append(records[r.NHSNumber], r)
		for _, pl := range r.Plans {
			s := fmt.Sprintf("%s %s from %s", r.LA.ODS, pl.Type, pl.Start.Format("2006-01-02"))
			if !pl.End.IsZero() {
				if pl.Type == cpis.UCP {
					s += ", due " + pl.End.Format("2006-01-02")
				} else {
					s += " to " + pl.End.Format("2006-01-02")
				}
			}
			if !pl.Delete.IsZero() {
				s += ", deleted from " + pl.Delete.Format("2006-01-02")
			}
			v.Held = append(v.Held, s)
		}
	}
	shown := func(nhs cpis.NHSNumber, viewer cpis.Viewer) string {
		if len(records[nhs]) == 0 {
			return "NHS Number Not Found (no record)"
		}
		hs := cpis.VisibleHoldings(records[nhs], births[nhs], today, viewer)
		if len(hs) == 0 {
			return "NHS Number Not Found (nothing visible)"
		}
		return conformance.HoldingsSummary(hs)
	}
	out := make([]numberView, 0, len(order))
	for _, nhs := range order {
		v := byNumber[nhs]
		v.Ordinary = shown(nhs, conformance.ViewerOrdinary)
		v.Midwife = shown(nhs, conformance.ViewerMidwife)
		out = append(out, *v)
	}
	// Patients and records each come in number order; merged, sort again.
	slices.SortFunc(out, func(a, b numberView) int { return strings.Compare(string(a.NHS), string(b.NHS)) })
	return out
}

func interactionName(i string) string {
	switch i {
	case "QUPC_IN000006GB01":
		return "CP-IS NHS Query"
	case "File":
		return "LA Upload"
	case "":
		return "(not read)"
	}
	return i
}

func outcomeText(e soap.Exchange) string {
	o := e.Outcome
	switch {
	case o == "positive":
		return "positive: plans shown"
	case o == "not-found":
		return "NHS Number Not Found"
	case o == "invalid":
		return "refused: SMSP-0001 input validation"
	case o == "unauthorized":
		return "refused: SMSP-0005 not authorised"
	case strings.HasPrefix(o, "fault "):
		return "SOAP fault " + strings.TrimPrefix(o, "fault ")
	case strings.HasPrefix(o, "CPF"):
		return "FileResponse " + o
	}
	return o
}

func outcomeClass(e soap.Exchange) string {
	switch {
	case e.Outcome == "positive" || e.Outcome == cpis.CPF02:
		return "ok"
	case e.Outcome == "not-found" || e.Outcome == cpis.CPF03:
		return "neutral"
	case strings.HasPrefix(e.Outcome, "HTTP 2"):
		return "ok"
	}
	return "bad"
}

func (p *Page) example(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".xml")
	if !ok {
		http.NotFound(w, r)
		return
	}
	view, err := p.cfg.Store.WorldView(r.Context(), p.cfg.Numbers)
	if err != nil {
		p.cfg.Log.Error("example", "err", err.Error())
		http.Error(w, "the world could not be read from the store", http.StatusInternalServerError)
		return
	}
	for _, ex := range conformance.Examples(view.World, p.cfg.GatewayASID, p.cfg.Clock.Now()) {
		if ex.Name != name {
			continue
		}
		h := w.Header()
		h.Set("Content-Type", "text/xml; charset=UTF-8")
		h.Set("Content-Disposition", `attachment; filename="`+ex.Name+`.xml"`)
		h.Set("Cache-Control", "no-store")
		// The SOAPAction to send it with, for scripts.
		h.Set("X-SOAPAction", ex.Action)
		_, _ = w.Write(ex.Body)
		return
	}
	http.NotFound(w, r)
}

// statusJSON is GET /status.json.
type statusJSON struct {
	GatewayASID string        `json:"gatewayAsid"`
	Clock       time.Time     `json:"clock"` // the gateway's clock
	Since       time.Time     `json:"since"` // when the traffic counts started
	Store       *storeJSON    `json:"store,omitempty"`
	Traffic     TrafficCounts `json:"traffic"`
	Recent      []exchangeJ   `json:"recent"`
}

type storeJSON struct {
	Patients             int `json:"patients"`
	LocalAuthorities     int `json:"localAuthorities"`
	Records              int `json:"records"`
	Plans                int `json:"plans"`
	AccessEvents         int `json:"accessEvents"`
	Uploads              int `json:"uploads"`
	NotificationsWaiting int `json:"notificationsWaiting"`
}

type exchangeJ struct {
	At          time.Time `json:"at"`
	Interaction string    `json:"interaction"`
	Sender      string    `json:"sender"`
	Outcome     string    `json:"outcome"`
	LatencyMS   float64   `json:"latencyMs"`
}

func (p *Page) status(w http.ResponseWriter, r *http.Request) {
	recent, counts, since := p.cfg.Traffic.Snapshot()
	s := statusJSON{GatewayASID: p.cfg.GatewayASID, Clock: p.cfg.Clock.Now().UTC(), Since: since.UTC(), Traffic: counts, Recent: []exchangeJ{}}
	if c, err := p.cfg.Store.Counts(r.Context()); err != nil {
		p.cfg.Log.Error("status", "err", err.Error())
	} else {
		sj := storeJSON(c)
		s.Store = &sj
	}
	for _, e := range recent {
		s.Recent = append(s.Recent, exchangeJ{At: e.At.UTC(), Interaction: e.Interaction, Sender: e.Sender, Outcome: e.Outcome,
			LatencyMS: float64(e.Latency.Microseconds()) / 1000})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(s)
}
