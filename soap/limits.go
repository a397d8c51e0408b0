package soap

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"spinegw/cpis"
)

// BodyLimits bound how a request body may arrive: how large it may be and
// how slowly it may come. The http.Server's ReadTimeout (30 s) bounds a
// whole request, which lets a client that drips its body a few bytes at a
// time hold a connection and a goroutine for half a minute; these limits cut
// such a client off within a second of it falling behind.
type BodyLimits struct {
	// MaxBody is the largest body accepted, in bytes. A declared
	// Content-Length above it is refused before any of the body is read; a
	// body without one is read up to MaxBody+1 bytes and then refused.
	MaxBody int64
	// Idle is the longest the body may pause: no new byte for Idle and the
	// request is refused.
	Idle time.Duration
	// Grace is the time a body may take before MinRate applies.
	Grace time.Duration
	// MinRate is the slowest average a body may arrive at after Grace, in
	// bytes per second: byte n+1 must have come by Grace + n/MinRate after
	// the first read.
	MinRate int64
}

// DefaultBodyLimits are the limits the gateway serves with: a 1 MiB body
// sent over loopback arrives in milliseconds, and over a 2 Mbit/s line in
// about 4 s, far inside them; a client that sends nothing for 2 s, or less
// than 4 KiB a second once 2 s have passed, is refused.
func DefaultBodyLimits(maxBody int64) BodyLimits {
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	return BodyLimits{MaxBody: maxBody, Idle: 2 * time.Second, Grace: 2 * time.Second, MinRate: 4 << 10}
}

// LimitBody wraps next so that the request body is read in full, within
// the limits, before next sees it. A body too large or too slow is refused
// with a SOAP fault (cpis.KindHostile, TMS 201) and next is not called;
// log, when not nil, gets a transmission line for the refusal (CP-IS061:
// never content). A request without a body passes straight through.
func LimitBody(next http.Handler, l BodyLimits, log *slog.Logger) http.Handler {
	d := DefaultBodyLimits(l.MaxBody)
	if l.Idle <= 0 {
		l.Idle = d.Idle
	}
	if l.Grace <= 0 {
		l.Grace = d.Grace
	}
	if l.MinRate <= 0 {
		l.MinRate = d.MinRate
	}
	l.MaxBody = d.MaxBody
	return &bodyLimiter{next: next, l: l, log: log}
}

type bodyLimiter struct {
	next http.Handler
	l    BodyLimits
	log  *slog.Logger
}

func (b *bodyLimiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		b.next.ServeHTTP(w, r)
		return
	}
	if r.ContentLength > b.l.MaxBody {
		b.refuse(w, r, "the message is larger than %d bytes", b.l.MaxBody)
		return
	}
	body, err := b.read(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			b.refuse(w, r, "the message is larger than %d bytes", b.l.MaxBody)
		case errors.Is(err, os.ErrDeadlineExceeded):
			b.refuse(w, r, "the message body arrived too slowly (a pause over %v, or under %d bytes a second after %v)", b.l.Idle, b.l.MinRate, b.l.Grace)
		default:
			// The client went away or broke the framing: nobody to answer,
			// but answer anyway in case someone listens.
			b.refuse(w, r, "the request body could not be read")
		}
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	b.next.ServeHTTP(w, r)
}

// read reads the whole body, setting the connection's read deadline before
// each read to the earlier of the idle limit and the rate limit.
func (b *bodyLimiter) read(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	rc := http.NewResponseController(w)
	src := http.MaxBytesReader(w, r.Body, b.l.MaxBody)
	start := time.Now()
	size := r.ContentLength
	if size < 0 || size > b.l.MaxBody {
		size = 4 << 10
	}
	data := make([]byte, 0, size+1)
	deadlines := true
	for {
		if deadlines {
			now := time.Now()
			due := start.Add(b.l.Grace + time.Duration(float64(len(data))/float64(b.l.MinRate)*float64(time.Second)))
			if idle := now.Add(b.l.Idle); idle.Before(due) {
				due = idle
			}
			if err := rc.SetReadDeadline(due); err != nil {
				// A connection without deadlines (not net/http's own
				// server): the server's ReadTimeout is all there is.
				deadlines = false
			}
		}
		if cap(data)-len(data) < 512 {
			data = append(data, make([]byte, cap(data))...)[:len(data)]
		}
		n, err := src.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if deadlines {
		// The body is in; the rest of the exchange is the handler's.
		_ = rc.SetReadDeadline(time.Time{})
	}
	return data, nil
}

func (b *bodyLimiter) refuse(w http.ResponseWriter, r *http.Request, format string, args ...any) {
	fault, _ := Answer(cpis.Errorf(cpis.KindHostile, "http", format, args...))
	if b.log != nil {
		b.log.LogAttrs(r.Context(), slog.LevelInfo, "transmission",
			slog.String("path", r.URL.Path),
			slog.String("outcome", "fault "+fault.Code),
			slog.String("reason", "body limits"))
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	// The rest of the body is not read: the connection cannot be reused.
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusInternalServerError)
	_ = WriteFault(w, *fault)
}
