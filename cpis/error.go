package cpis

import (
	"errors"
	"fmt"
)

// Kind classifies an error. Each kind is answered on the wire in exactly one
// way; the table lives in the soap package (soap.Answer) and nowhere else.
type Kind int

const (
	// KindInternal is a failure of the gateway itself.
	KindInternal Kind = iota
	// KindNotWellFormed: the bytes are not a well-formed XML document.
	KindNotWellFormed
	// KindHostile: forbidden XML constructs (DOCTYPE, entities) or limits
	// exceeded (size, depth).
	KindHostile
	// KindTransport: the HTTP request or SOAP envelope breaks the transport
	// rules (content type, WS-Addressing header, SOAPAction mismatch).
	KindTransport
	// KindUnknownAction: the action names no interaction the gateway serves.
	KindUnknownAction
	// KindAddressing: the ASIDs do not fit (header versus wrapper, receiver is
	// not the gateway, sender is not an accredited endpoint).
	KindAddressing
	// KindInvalid: the HL7 message fails schema or Spine validation, or the
	// NHS number fails its check digit.
	KindInvalid
	// KindUnauthorized: the author's credentials do not grant access
	// (CP-IS042, CP-IS054, CP-IS056).
	KindUnauthorized
	// KindNotFound: no visible CP-IS information for the NHS number (CP-IS015
	// negative trace).
	KindNotFound
)

var kindNames = [...]string{"internal", "not-well-formed", "hostile", "transport", "unknown-action", "addressing", "invalid", "unauthorized", "not-found"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is the one error type of spinegw. Msg is safe to show to the caller
// and to log: it never carries patient data.
type Error struct {
	Kind Kind
	Op   string // the operation that failed, for logs
	Msg  string // human-readable reason, sent on the wire
	Err  error  // underlying cause, if any
}

func (e *Error) Error() string {
	s := e.Kind.String()
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error of the given kind.
func Errorf(kind Kind, op, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err: KindInternal for errors that are not *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// MessageOf returns the caller-safe message of err.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Msg != "" {
			return e.Msg
		}
		return e.Kind.String()
	}
	return "internal error"
}
