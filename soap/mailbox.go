package soap

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"spinegw/cpis"
	"spinegw/store"
)

// The HTTP mailbox: the notifications CP-IS sends a local authority (Access
// to Service, Inactive NHS Number), served to LA systems that would rather
// poll over HTTP than take files from a mailbox folder. It follows MESH's
// inbox semantics, the mechanism LAs use for CP-IS files today:
//
//	GET /mailbox/{ods}/inbox                                 the ids of the messages not acknowledged, oldest first
//	GET /mailbox/{ods}/inbox/{id}                            one message: the HL7 document, text/xml
//	PUT /mailbox/{ods}/inbox/{id}/status/acknowledged        the LA has it: it leaves the inbox
//
// A message id is the notification's own id (id/@root, CP-IS019). Only the
// LA's own endpoint may read its inbox: the caller names itself with the
// X-ASID header, which must be an accredited endpoint (SDS) whose ODS code
// is the LA's; anyone else gets 403 (CP-IS023: a notification goes to the
// LA it is for, and no other). Without TLS the header is trusted as it
// comes; with TLS on (MailboxConfig.Peers), the client certificate must
// identify the endpoint X-ASID names, or the answer is 403 too (CP-SC025).

// HeaderASID names the calling endpoint of an HTTP mailbox request.
const HeaderASID = "X-ASID"

// MailboxStore is what the HTTP mailbox reads and writes (the store).
type MailboxStore interface {
	Endpoint(ctx context.Context, asid string) (cpis.Endpoint, error)
	Inbox(ctx context.Context, ods string) ([]store.Message, error)
	InboxMessage(ctx context.Context, ods, messageID string) (store.Message, error)
	Acknowledge(ctx context.Context, ods, messageID string, at time.Time) error
}

// MailboxConfig is what the HTTP mailbox needs.
type MailboxConfig struct {
	Store MailboxStore
	Clock cpis.Clock // stamps acknowledgements
	Log   *slog.Logger
	// Peers, when set (TLS on), requires the client certificate to identify
	// the endpoint X-ASID names; nil trusts the header.
	Peers *PeerCheck
}

type mailbox struct {
	cfg      MailboxConfig
	mux      *http.ServeMux
	observer atomic.Pointer[func(Exchange)]
}

// Observe sets fn as the observer of the HTTP mailbox's exchanges: told of
// each once answered, with the operation (Interaction "Mailbox list",
// "Mailbox download" or "Mailbox acknowledge"), the calling endpoint's
// X-ASID, the HTTP status as outcome ("HTTP 200") and the latency; never
// the LA, the message id or the content.
func (m *mailbox) Observe(fn func(Exchange)) { m.observer.Store(&fn) }

// NewMailbox returns the HTTP mailbox handler, serving paths under
// /mailbox/.
func NewMailbox(cfg MailboxConfig) http.Handler {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Clock == nil {
		cfg.Clock = cpis.ClockFunc(time.Now)
	}
	m := &mailbox{cfg: cfg, mux: http.NewServeMux()}
	m.mux.HandleFunc("GET /mailbox/{ods}/inbox", m.list)
	m.mux.HandleFunc("GET /mailbox/{ods}/inbox/{id}", m.download)
	m.mux.HandleFunc("PUT /mailbox/{ods}/inbox/{id}/status/acknowledged", m.acknowledge)
	return m
}

func (m *mailbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fn := m.observer.Load()
	if fn == nil || *fn == nil {
		m.mux.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	m.mux.ServeHTTP(sw, r)
	op := "Mailbox download"
	switch {
	case r.Method == http.MethodPut:
		op = "Mailbox acknowledge"
	case strings.HasSuffix(r.URL.Path, "/inbox"):
		op = "Mailbox list"
	}
	(*fn)(Exchange{At: start, Interaction: op, Sender: r.Header.Get(HeaderASID),
		Outcome: "HTTP " + strconv.Itoa(sw.status), Latency: time.Since(start)})
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// authorise lets through only the LA's own endpoint; otherwise it answers
// 403 and returns false.
func (m *mailbox) authorise(w http.ResponseWriter, r *http.Request, ods string) bool {
	asid := r.Header.Get(HeaderASID)
	if asid != "" {
		if err := m.cfg.Peers.Check(r, asid); err != nil {
			m.fail(w, r, http.StatusForbidden, "the client certificate does not identify the calling endpoint (X-ASID)", nil)
			return false
		}
	}
	ok := false
	if asid != "" {
		ep, err := m.cfg.Store.Endpoint(r.Context(), asid)
		switch {
		case err == nil:
			ok = ep.ODS == ods
		case cpis.KindOf(err) != cpis.KindNotFound:
			m.fail(w, r, http.StatusInternalServerError, "internal error", err)
			return false
		}
	}
	if !ok {
		// The same answer whether the ASID is missing, unknown or another
		// organisation's: nothing about the inbox is revealed.
		m.fail(w, r, http.StatusForbidden, "the calling endpoint (X-ASID) is not this local authority's", nil)
	}
	return ok
}

func (m *mailbox) list(w http.ResponseWriter, r *http.Request) {
	ods := r.PathValue("ods")
	if !m.authorise(w, r, ods) {
		return
	}
	msgs, err := m.cfg.Store.Inbox(r.Context(), ods)
	if err != nil {
		m.fail(w, r, http.StatusInternalServerError, "internal error", err)
		return
	}
	ids := make([]string, 0, len(msgs))
	for _, msg := range msgs {
		ids = append(ids, msg.MessageID)
	}
	m.log(r, ods, "", http.StatusOK)
	writeJSON(w, http.StatusOK, map[string]any{"messages": ids})
}

func (m *mailbox) download(w http.ResponseWriter, r *http.Request) {
	ods, id := r.PathValue("ods"), r.PathValue("id")
	if !m.authorise(w, r, ods) {
		return
	}
	msg, err := m.cfg.Store.InboxMessage(r.Context(), ods, id)
	switch {
	case cpis.KindOf(err) == cpis.KindNotFound:
		m.fail(w, r, http.StatusNotFound, "no such message in the inbox", nil)
		return
	case err != nil:
		m.fail(w, r, http.StatusInternalServerError, "internal error", err)
		return
	case !msg.Acknowledged.IsZero():
		// MESH answers a message already acknowledged with 410 Gone.
		m.fail(w, r, http.StatusGone, "the message has been acknowledged", nil)
		return
	}
	m.log(r, ods, msg.MessageID, http.StatusOK)
	h := w.Header()
	h.Set("Content-Type", "text/xml; charset=UTF-8")
	h.Set("Mex-MessageID", msg.MessageID)
	h.Set("Mex-MessageType", "DATA")
	h.Set("Mex-WorkflowID", workflow(msg.Kind))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(msg.Document)
}

// workflow names the kind of notification as a MESH workflow id would.
func workflow(kind string) string {
	switch kind {
	case store.KindAccess:
		return "CPIS_ACCESS_TO_SERVICE_NOTIFICATION"
	case store.KindInactive:
		return "CPIS_INACTIVE_NHS_NUMBER_NOTIFICATION"
	}
	return "CPIS"
}

func (m *mailbox) acknowledge(w http.ResponseWriter, r *http.Request) {
	ods, id := r.PathValue("ods"), r.PathValue("id")
	if !m.authorise(w, r, ods) {
		return
	}
	err := m.cfg.Store.Acknowledge(r.Context(), ods, id, m.cfg.Clock.Now())
	switch {
	case cpis.KindOf(err) == cpis.KindNotFound:
		m.fail(w, r, http.StatusNotFound, "no such message in the inbox", nil)
		return
	case err != nil:
		m.fail(w, r, http.StatusInternalServerError, "internal error", err)
		return
	}
	m.log(r, ods, id, http.StatusOK)
	writeJSON(w, http.StatusOK, map[string]string{"messageId": id})
}

// log records the exchange as the transmission log does (CP-IS061): who,
// which message, the outcome; never content.
func (m *mailbox) log(r *http.Request, ods, id string, status int) {
	m.cfg.Log.LogAttrs(r.Context(), slog.LevelInfo, "mailbox",
		slog.String("method", r.Method), slog.String("la", ods), slog.String("message", id),
		slog.String("from", r.Header.Get(HeaderASID)), slog.Int("status", status))
}

func (m *mailbox) fail(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if err != nil {
		m.cfg.Log.Error("mailbox", "err", err.Error())
	}
	m.log(r, r.PathValue("ods"), r.PathValue("id"), status)
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
