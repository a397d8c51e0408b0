package soap

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/internal/libxml2"
	"spinegw/upload"
)

// Config is what the SOAP endpoint needs.
type Config struct {
	Service   *cpis.Service
	Validator *hl7.Validator
	ASID      string // the gateway's own ASID
	MaxBody   int64  // largest request body accepted, bytes
	MaxDepth  int    // deepest element nesting accepted
	Log       *slog.Logger
	// Peers, when set (TLS on), requires the client certificate to identify
	// the sending endpoint (CP-NHS018, CP-SC025); nil trusts the ASIDs.
	Peers *PeerCheck
	// Upload answers LA Upload files; nil means the SOAP upload route is off.
	Upload Uploader
	// Observe, when set, is told of every exchange once it is answered, as
	// the transmission log records it (CP-IS061): never content, never
	// patient data. It is called on the request's goroutine and must be
	// quick.
	Observe func(Exchange)
}

// Exchange is what an observer learns of one exchange on the SOAP endpoint:
// the same facts as the transmission log line, and nothing of the content.
type Exchange struct {
	At          time.Time     // when the request arrived (wall clock)
	Interaction string        // QUPC_IN000006GB01, File, or empty when the message could not be read that far
	Sender      string        // the sending ASID as the SOAP header gives it; empty when unread
	Outcome     string        // "positive", a failure kind ("not-found", "unauthorized", "invalid"), an upload file code (CPF01-CPF04) or "fault CODE"
	Latency     time.Duration // from arrival to the answer written
}

// Uploader processes an LA Upload file (the upload package's Service).
type Uploader interface {
	Process(ctx context.Context, src upload.Source, r io.Reader) (upload.Result, error)
}

// Server serves the CP-IS SOAP endpoint.
type Server struct {
	cfg      Config
	mux      *http.ServeMux
	observer atomic.Pointer[func(Exchange)]
}

// Observe sets fn as the exchange observer in place of Config.Observe, for
// a caller that gets the server already built. Exchanges under way may
// still go to the former observer.
func (s *Server) Observe(fn func(Exchange)) { s.observer.Store(&fn) }

// NewServer returns the HTTP handler of the gateway.
func NewServer(cfg Config) *Server {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = 256
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	if cfg.Observe != nil {
		s.Observe(cfg.Observe)
	}
	s.mux.HandleFunc("/sync-service", s.syncService)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// newMessageID returns a Spine-style message id: an upper-case UUID.
func newMessageID() string { return strings.ToUpper(uuid.NewString()) }

// outcome is what the transmission log records of one exchange (CP-IS061):
// never content, never patient data.
type outcome struct {
	interaction string
	sender      string
	result      string
}

func (s *Server) syncService(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	out := outcome{result: "fault"}
	defer func() {
		latency := time.Since(start)
		s.cfg.Log.LogAttrs(r.Context(), slog.LevelInfo, "transmission",
			slog.String("interaction", out.interaction),
			slog.String("from", out.sender),
			slog.String("to", s.cfg.ASID),
			slog.String("outcome", out.result),
			slog.Duration("latency", latency))
		if fn := s.observer.Load(); fn != nil && *fn != nil {
			(*fn)(Exchange{At: start, Interaction: out.interaction, Sender: out.sender, Outcome: out.result, Latency: latency})
		}
	}()
	if r.Method != http.MethodPost {
		s.fault(w, &out, cpis.Errorf(cpis.KindTransport, "http", "only POST is accepted"))
		return
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		s.fault(w, &out, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fault(w, &out, cpis.Errorf(cpis.KindHostile, "http", "the message is larger than %d bytes", s.cfg.MaxBody))
			return
		}
		s.fault(w, &out, cpis.Errorf(cpis.KindTransport, "http", "the request body could not be read"))
		return
	}
	doc, err := libxml2.Parse(body, libxml2.ParseOptions{MaxBytes: int(s.cfg.MaxBody), MaxDepth: s.cfg.MaxDepth})
	if err != nil {
		s.fault(w, &out, parseError(err))
		return
	}
	defer doc.Free()
	env, err := ReadEnvelope(doc.Root())
	if err != nil {
		s.fault(w, &out, err)
		return
	}
	out.sender = env.SndASID
	if soapAction := strings.Trim(strings.TrimSpace(r.Header.Get("SOAPAction")), `"`); soapAction != env.Action {
		s.fault(w, &out, cpis.Errorf(cpis.KindTransport, "soap", "the HTTP SOAPAction header must equal wsa:Action"))
		return
	}
	out.interaction = Interaction(env.Action)
	switch env.Action {
	case ActionQuery:
		s.query(r, w, env, &out)
	case ActionUpload:
		if s.cfg.Upload == nil {
			s.fault(w, &out, cpis.Errorf(cpis.KindUnknownAction, "soap", "the gateway does not take uploads over SOAP"))
			return
		}
		out.interaction = "File"
		s.upload(r, w, env, &out)
	default:
		s.fault(w, &out, cpis.Errorf(cpis.KindUnknownAction, "soap", "the gateway does not serve the action %q", env.Action))
	}
}

func checkContentType(v string) error {
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || mt != "text/xml" {
		return cpis.Errorf(cpis.KindTransport, "http", "the content type must be text/xml (SOAP 1.1)")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return cpis.Errorf(cpis.KindTransport, "http", "the charset must be UTF-8")
	}
	return nil
}

// parseError turns the gatekeeper's refusal into a core error.
func parseError(err error) error {
	var pe *libxml2.ParseError
	if errors.As(err, &pe) {
		switch pe.Kind {
		case libxml2.NotWellFormed, libxml2.InvalidEncoding:
			return &cpis.Error{Kind: cpis.KindNotWellFormed, Op: "parse", Msg: pe.Error()}
		default:
			return &cpis.Error{Kind: cpis.KindHostile, Op: "parse", Msg: pe.Error()}
		}
	}
	return &cpis.Error{Kind: cpis.KindNotWellFormed, Op: "parse", Msg: "the message could not be parsed"}
}

// checkAddressing applies the transport rules on ASIDs: the header's ASIDs
// equal the HL7 wrapper's (Spine's INCONSISTENT_COMM_FUNC_RCV/_SND), the
// receiver is this gateway, the sender is an accredited endpoint
// (CP-NHS018, CP-SC025) and, with TLS on, the client certificate identifies
// the sender.
func (s *Server) checkAddressing(r *http.Request, env *Envelope) (cpis.Endpoint, error) {
	rcv, snd := WrapperASIDs(env.Body)
	if rcv != "" && rcv != env.RcvASID {
		return cpis.Endpoint{}, cpis.Errorf(cpis.KindAddressing, "soap", "the receiver ASID in the SOAP header differs from the HL7 wrapper's")
	}
	if snd != "" && snd != env.SndASID {
		return cpis.Endpoint{}, cpis.Errorf(cpis.KindAddressing, "soap", "the sender ASID in the SOAP header differs from the HL7 wrapper's")
	}
	if env.RcvASID != s.cfg.ASID {
		return cpis.Endpoint{}, cpis.Errorf(cpis.KindAddressing, "soap", "the receiver ASID is not this gateway's")
	}
	ep, err := s.cfg.Service.CheckSender(r.Context(), env.SndASID)
	if err != nil {
		return cpis.Endpoint{}, err
	}
	if err := s.cfg.Peers.Check(r, ep.ASID); err != nil {
		return cpis.Endpoint{}, err
	}
	return ep, nil
}

func (s *Server) query(r *http.Request, w http.ResponseWriter, env *Envelope, out *outcome) {
	ctx := r.Context()
	if env.Body.NamespaceURI() != NSHL7 || env.Body.LocalName() != Interaction(ActionQuery) {
		s.fault(w, out, cpis.Errorf(cpis.KindUnknownAction, "soap", "the body must hold %s in namespace %s, as wsa:Action names", Interaction(ActionQuery), NSHL7))
		return
	}
	sender, err := s.checkAddressing(r, env)
	if err != nil {
		s.fault(w, out, err)
		return
	}
	reply := hl7.Reply{MessageID: newMessageID(), CreationTime: s.cfg.Service.Clock.Now(), GatewayASID: s.cfg.ASID, ToASID: sender.ASID}
	header := ReplyHeader{
		MessageID: "uuid:" + reply.MessageID,
		To:        firstNonEmpty(env.ReplyTo, env.From),
		From:      env.To,
		RcvASID:   env.SndASID,
		SndASID:   s.cfg.ASID,
		RelatesTo: env.MessageID,
	}
	var q hl7.Query
	// The request id is read before validation so that even a message that
	// fails validation is answered with acknowledgement/messageRef set.
	if id := env.Body.Child(NSHL7, "id"); id != nil {
		reply.RequestID = id.Attr("root")
	}
	if issues := s.cfg.Validator.Validate(env.Body); len(issues) > 0 {
		s.failure(w, out, header, reply, q, invalid(issues))
		return
	}
	q, err = hl7.ParseQuery(env.Body)
	if err != nil {
		s.failure(w, out, header, reply, q, err)
		return
	}
	reply.RequestID = q.MessageID
	cq := q.Core()
	cq.Sender = sender
	ans, err := s.cfg.Service.Answer(ctx, cq)
	if err != nil {
		s.failure(w, out, header, reply, q, err)
		return
	}
	body, err := hl7.QueryResponse(reply, q, ans)
	if err != nil {
		s.fault(w, out, err)
		return
	}
	header.Action = ActionQueryResponse
	out.result = "positive"
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_ = WriteReply(w, header, body)
}

// invalid reports schema and Spine-check issues as one validation error,
// with line numbers, as the Toolkit Workbench validator reports them.
func invalid(issues []hl7.Issue) error {
	var b strings.Builder
	for i, is := range issues {
		if i == 5 {
			b.WriteString("; ...")
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(is.String())
	}
	return cpis.Errorf(cpis.KindInvalid, "validate", "%s", b.String())
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// failure answers with the QUQI query failure the error's kind maps to, or
// with a fault if the kind is a transport one.
func (s *Server) failure(w http.ResponseWriter, out *outcome, header ReplyHeader, reply hl7.Reply, q hl7.Query, err error) {
	fault, f := Answer(err)
	if fault != nil {
		s.writeFault(w, out, *fault)
		return
	}
	body, berr := hl7.QueryFailure(reply, q, *f)
	if berr != nil {
		s.fault(w, out, berr)
		return
	}
	header.Action = ActionQueryFailure
	out.result = cpis.KindOf(err).String()
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_ = WriteReply(w, header, body)
}

func (s *Server) fault(w http.ResponseWriter, out *outcome, err error) {
	fault, f := Answer(err)
	if fault == nil {
		// A query-level kind reached before the query could be read is
		// still the caller's message failing: answer as a transport error.
		fault = &Fault{Code: TMSDefault, Description: f.Text}
	}
	if cpis.KindOf(err) == cpis.KindInternal {
		s.cfg.Log.Error("internal error", "err", err.Error())
	}
	s.writeFault(w, out, *fault)
}

func (s *Server) writeFault(w http.ResponseWriter, out *outcome, f Fault) {
	out.result = "fault " + f.Code
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	_ = WriteFault(w, f)
}

// upload takes an LA Upload File sent over SOAP through the same pipeline as
// the mailbox and the command line, and replies with its FileResponse.
func (s *Server) upload(r *http.Request, w http.ResponseWriter, env *Envelope, out *outcome) {
	ctx := r.Context()
	if env.Body.NamespaceURI() != NSHL7 || env.Body.LocalName() != "File" {
		s.fault(w, out, cpis.Errorf(cpis.KindUnknownAction, "soap", "the body of an LA Upload must hold a File in namespace %s", NSHL7))
		return
	}
	sender, err := s.checkAddressing(r, env)
	if err != nil {
		s.fault(w, out, err)
		return
	}
	file, err := env.Body.OuterXML()
	if err != nil {
		s.fault(w, out, err)
		return
	}
	res, err := s.cfg.Upload.Process(ctx, upload.Source{Route: upload.RouteSOAP, Sender: &sender}, bytes.NewReader(file))
	if err != nil {
		s.fault(w, out, err)
		return
	}
	header := ReplyHeader{
		MessageID: "uuid:" + newMessageID(),
		Action:    ActionUploadResponse,
		To:        firstNonEmpty(env.ReplyTo, env.From),
		From:      env.To,
		RcvASID:   env.SndASID,
		SndASID:   s.cfg.ASID,
		RelatesTo: env.MessageID,
	}
	out.result = res.Code
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_ = WriteReply(w, header, stripDeclaration(res.Response))
}

// stripDeclaration drops an XML declaration so a document can sit in a SOAP
// Body.
func stripDeclaration(doc []byte) []byte {
	d := bytes.TrimLeft(doc, " \t\r\n")
	if bytes.HasPrefix(d, []byte("<?xml")) {
		if i := bytes.Index(d, []byte("?>")); i >= 0 {
			return bytes.TrimLeft(d[i+2:], " \t\r\n")
		}
	}
	return d
}
