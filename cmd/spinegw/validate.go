package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"spinegw/hl7"
	"spinegw/internal/libxml2"
	"spinegw/soap"
)

// Exit statuses of spinegw validate: 0 every file valid (warnings allowed),
// 1 some file has an error, 2 the command could not do its work (usage,
// unreadable file, unusable schema set).
const (
	validateInvalid = 1
	validateTrouble = 2
)

func newValidate(stdout io.Writer) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Validate CP-IS messages (SOAP-wrapped or bare) against the schemas and Spine's checks",
		Long: `Validate CP-IS messages as the NHS Toolkit Workbench validator does: each file's
message type is detected from its root element (inside a SOAP Body or bare), the
message is checked against its schema (embedded, or the set in --schemas DIR such
as an NHS DMS pack) and against Spine's rules for that message type. Each issue
is reported with its line, severity and rule id; FILE "-" reads standard input.

Exit status: 0 every file valid, 1 some file has an error, 2 usage or I/O error.
Rules: docs/validate.md.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			stderr := cmd.ErrOrStderr()
			if len(args) == 0 {
				fmt.Fprintln(stderr, "spinegw validate: name at least one FILE (\"-\" for standard input)")
				return exitError{code: validateTrouble}
			}
			if format != "text" && format != "json" {
				fmt.Fprintf(stderr, "spinegw validate: --format must be text or json, not %q\n", format)
				return exitError{code: validateTrouble}
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				fmt.Fprintln(stderr, "spinegw validate:", err)
				return exitError{code: validateTrouble}
			}
			v, err := newValidator(cfg.Schemas)
			if err != nil {
				fmt.Fprintln(stderr, "spinegw validate:", err)
				return exitError{code: validateTrouble}
			}
			var reports []fileReport
			trouble := false
			for _, f := range args {
				data, name, err := readInput(cmd.InOrStdin(), f)
				if err != nil {
					fmt.Fprintln(stderr, "spinegw validate:", err)
					trouble = true
					continue
				}
				reports = append(reports, validateData(v, name, data))
			}
			if format == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				if reports == nil {
					reports = []fileReport{}
				}
				if err := enc.Encode(reports); err != nil {
					return err
				}
			} else {
				writeText(stdout, reports)
			}
			switch {
			case trouble:
				return exitError{code: validateTrouble}
			case invalidCount(reports) > 0:
				return exitError{code: validateInvalid}
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		fmt.Fprintln(c.ErrOrStderr(), "spinegw validate:", err)
		return exitError{code: validateTrouble}
	})
	addFlags(cmd.Flags(), "schemas")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text (one line per issue, as the Toolkit Workbench) or json")
	return cmd
}

// readInput reads a file, or standard input for "-".
func readInput(stdin io.Reader, f string) (data []byte, name string, err error) {
	if f == "-" {
		data, err = io.ReadAll(stdin)
		return data, "stdin", err
	}
	data, err = os.ReadFile(f)
	return data, f, err
}

// fileReport is what validate says about one file.
type fileReport struct {
	File     string        `json:"file"`
	Message  string        `json:"message,omitempty"` // the root element: the interaction or message type
	Name     string        `json:"name,omitempty"`    // the CP-IS communication it is
	SOAP     bool          `json:"soap"`              // the message came in a SOAP envelope
	Valid    bool          `json:"valid"`
	Errors   int           `json:"errors"`
	Warnings int           `json:"warnings"`
	Issues   []issueReport `json:"issues"`
}

type issueReport struct {
	Line     int    `json:"line"`
	Severity string `json:"severity"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
}

// validateData validates one document: parsed with the gateway's own
// parser (DOCTYPE and entity expansion refused), unwrapped from its SOAP
// envelope if it has one, then checked by hl7.Validator.Check.
func validateData(v *hl7.Validator, name string, data []byte) fileReport {
	r := fileReport{File: name}
	var issues []hl7.Issue
	doc, err := libxml2.Parse(data, libxml2.ParseOptions{})
	if err != nil {
		line := 0
		var pe *libxml2.ParseError
		if errors.As(err, &pe) {
			line = pe.Line
		}
		issues = append(issues, hl7.Issue{Line: line, Rule: hl7.RuleXML, Severity: hl7.SeverityError, Msg: err.Error()})
	} else {
		defer doc.Free()
		msg := doc.Root()
		var t *hl7.Transport
		if msg != nil && msg.NamespaceURI() == soap.NSEnvelope {
			r.SOAP = true
			var envIssue *hl7.Issue
			msg, t, envIssue = unwrap(msg)
			if envIssue != nil {
				issues = append(issues, *envIssue)
			}
		}
		if msg != nil {
			r.Message = msg.LocalName()
			r.Name = hl7.MessageName(r.Message)
			issues = append(issues, v.Check(msg, t)...)
		}
	}
	r.Issues = []issueReport{}
	for _, is := range issues {
		sev := hl7.SeverityError
		if !is.IsError() {
			sev = hl7.SeverityWarning
			r.Warnings++
		} else {
			r.Errors++
		}
		r.Issues = append(r.Issues, issueReport{Line: is.Line, Severity: string(sev), Rule: is.Rule, Message: is.Msg})
	}
	r.Valid = r.Errors == 0
	return r
}

// unwrap reads a SOAP envelope as the gateway does (soap.ReadEnvelope). An
// envelope the gateway would refuse is one SOAP issue; its body's message
// is still validated, without the header checks, when it can be found.
func unwrap(root *libxml2.Node) (*libxml2.Node, *hl7.Transport, *hl7.Issue) {
	headerLine := root.Line()
	var body *libxml2.Node
	for c := root.FirstChildElement(); c != nil; c = c.NextSiblingElement() {
		switch {
		case c.Is(soap.NSEnvelope, "Header"):
			headerLine = c.Line()
		case c.Is(soap.NSEnvelope, "Body") && body == nil:
			body = c
		}
	}
	env, err := soap.ReadEnvelope(root)
	if err != nil {
		line := root.Line()
		if body != nil {
			body = body.FirstChildElement()
		}
		return body, nil, &hl7.Issue{Line: line, Rule: hl7.RuleSOAP, Severity: hl7.SeverityError, Msg: err.Error()}
	}
	return env.Body, &hl7.Transport{Action: env.Action, RcvASID: env.RcvASID, SndASID: env.SndASID, Line: headerLine}, nil
}

// writeText writes the reports as the Toolkit Workbench lists them: per file
// a header naming the message type, one line per issue, then the verdict;
// and a count of invalid files when there is more than one file or any is
// invalid.
func writeText(w io.Writer, reports []fileReport) {
	for _, r := range reports {
		kind := r.Message
		if r.Name != "" {
			kind += " (" + r.Name + ")"
		}
		if kind == "" {
			kind = "no message"
		}
		if r.SOAP {
			kind += ", SOAP-wrapped"
		}
		fmt.Fprintf(w, "== %s: %s\n", r.File, kind)
		for _, is := range r.Issues {
			fmt.Fprintf(w, "%s:%d: %s [%s] %s\n", r.File, is.Line, strings.ToUpper(is.Severity), is.Rule, is.Message)
		}
		switch {
		case r.Valid && r.Warnings == 0:
			fmt.Fprintf(w, "%s: valid\n", r.File)
		case r.Valid:
			fmt.Fprintf(w, "%s: valid, %s\n", r.File, plural(r.Warnings, "warning"))
		case r.Warnings == 0:
			fmt.Fprintf(w, "%s: %s\n", r.File, plural(r.Errors, "error"))
		default:
			fmt.Fprintf(w, "%s: %s, %s\n", r.File, plural(r.Errors, "error"), plural(r.Warnings, "warning"))
		}
	}
	if bad := invalidCount(reports); bad > 0 || len(reports) > 1 {
		fmt.Fprintf(w, "%d of %d files invalid\n", bad, len(reports))
	}
}

func invalidCount(reports []fileReport) int {
	n := 0
	for _, r := range reports {
		if !r.Valid {
			n++
		}
	}
	return n
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
