package hl7

import (
	"fmt"
	"io/fs"
	"strconv"

	"spinegw/internal/libxml2"
)

// Roots are the message roots the gateway receives or emits, each validated
// against its own schema: the query interactions, the application
// acknowledgement, the LA upload and its acknowledgement, and the two
// notifications to local authorities.
var Roots = []string{
	InteractionQuery,
	InteractionQueryResponse,
	InteractionQueryFailure,
	InteractionAck,
	"File",
	"FileResponse",
	"CP-ISAccessToServiceNotification",
	"CP-ISInactiveNHSNumberNotification",
}

// Issue is one reason a message is invalid, at a line of its document (0
// when no line applies). Rule names the check that failed (the Rule*
// constants) and Severity how much it matters; Validate sets Rule on the
// issues it finds too, Check sets both on every issue.
type Issue struct {
	Line     int
	Msg      string
	Rule     string
	Severity Severity
}

// IsError reports whether the issue makes the message invalid: every issue
// but a warning does.
func (i Issue) IsError() bool { return i.Severity != SeverityWarning }

func (i Issue) String() string {
	if i.Line > 0 {
		return "line " + strconv.Itoa(i.Line) + ": " + i.Msg
	}
	return i.Msg
}

// Validator checks messages against their schemas. It compiles one schema per
// root when it is made, so a broken schema set stops the gateway at start-up
// rather than on the first message; afterwards it is read-only and safe for
// concurrent use.
type Validator struct {
	schemas map[string]*libxml2.Schema
}

// NewValidator compiles, from fsys, the schema of every root in Roots for
// which entry names an entry file. entry maps a root element name to the path
// of its schema in fsys and reports false for roots it has no schema for:
// those are refused by Validate.
func NewValidator(fsys fs.FS, entry func(root string) (string, bool)) (*Validator, error) {
	v := &Validator{schemas: make(map[string]*libxml2.Schema, len(Roots))}
	for _, root := range Roots {
		path, ok := entry(root)
		if !ok {
			continue
		}
		s, err := libxml2.CompileSchema(fsys, path)
		if err != nil {
			return nil, fmt.Errorf("compile schema of %s (%s): %w", root, path, err)
		}
		v.schemas[root] = s
	}
	return v, nil
}

// Validate checks the message element n (which need not be its document's
// root) against the schema of its root name, then, for a query, applies the
// Spine checks of ParseQuery. It returns nothing for a valid message. A
// message in another namespace, or with a root the validator has no schema
// for, gets one issue.
func (v *Validator) Validate(n *libxml2.Node) []Issue {
	if n == nil {
		return []Issue{{Msg: "there is no message"}}
	}
	name := n.LocalName()
	s := v.schemas[name]
	if n.NamespaceURI() != NS || s == nil {
		return []Issue{{Line: n.Line(), Rule: RuleRoot, Msg: fmt.Sprintf("%s in namespace %q is not a message this gateway validates", name, n.NamespaceURI())}}
	}
	var issues []Issue
	for _, e := range s.ValidateElement(n) {
		issues = append(issues, Issue{Line: e.Line, Msg: redactNHSNumbers(e.Msg), Rule: RuleXSD})
	}
	if name == InteractionQuery {
		_, spine := parseQuery(n)
		for i := range spine {
			spine[i].Rule = RuleQuery
		}
		issues = append(issues, spine...)
	}
	return issues
}

// redactNHSNumbers hides every run of exactly ten digits, the shape of an
// NHS number, in a schema error: libxml2 quotes the values it refuses, and an
// issue becomes a message sent on the wire and logged, which must never carry
// patient data (cpis.Error). ASIDs and SDS ids (twelve digits) and line
// numbers stay readable.
func redactNHSNumbers(s string) string {
	var b []byte
	run := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && '0' <= s[i] && s[i] <= '9' {
			run++
			continue
		}
		if run == 10 {
			if b == nil {
				b = make([]byte, 0, len(s))
				b = append(b, s[:i-run]...)
			}
			b = append(b, "**********"...)
		} else if b != nil {
			b = append(b, s[i-run:i]...)
		}
		if b != nil && i < len(s) {
			b = append(b, s[i])
		}
		run = 0
	}
	if b == nil {
		return s
	}
	return string(b)
}
