package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"spinegw/internal/libxml2"
)

// Namespaces bound to the prefixes assertions use.
var Namespaces = map[string]string{
	"soap": "http://schemas.xmlsoap.org/soap/envelope/",
	"wsa":  "http://schemas.xmlsoap.org/ws/2004/08/addressing",
	"hl7":  "urn:hl7-org:v3",
	"nasp": "http://national.carerecords.nhs.uk/schema/",
}

// Expect is a case's expected outcome, as written in expect.yaml.
type Expect struct {
	Title        string   `yaml:"title"`
	Requirements []string `yaml:"requirements,omitempty"`
	// What to send besides request.xml.
	SOAPAction  string `yaml:"soap_action"`
	ContentType string `yaml:"content_type"`
	// What must come back.
	Status int      `yaml:"status"`
	Root   string   `yaml:"root"` // local name of the reply Body's element: REPC_IN000007GB01, QUQI_IN010000UK14 or Fault
	Action string   `yaml:"action,omitempty"`
	Assert []Assert `yaml:"assert,omitempty"`
	// Valid names the schema the reply's message must be valid against
	// (its root element name, e.g. REPC_IN000007GB01); empty: not checked.
	Valid string `yaml:"valid,omitempty"`
	// Steps, when present, replace the single request: they are run in
	// order, and the reply of the last step (a send or a mailbox fetch) is
	// what the expectations above apply to. Steps need the gateway's admin
	// listener; a target without one cannot run them.
	Steps []Step `yaml:"steps,omitempty"`
}

// Step is one step of a case that a single request cannot express (a
// notification is made by the daily cycle or a PDS change, not in answer to
// a request). Exactly one field is set.
type Step struct {
	// Send POSTs this file of the case folder to the target, with the case's
	// soap_action and content_type. Its reply is checked when it is the
	// last step; otherwise its HTTP status must be 200.
	Send string `yaml:"send,omitempty"`
	// Admin calls the gateway's admin listener.
	Admin *AdminStep `yaml:"admin,omitempty"`
	// Mailbox fetches a message from an LA's HTTP mailbox on the target.
	Mailbox *MailboxStep `yaml:"mailbox,omitempty"`
}

// AdminStep is one call to the admin listener: Method (default POST) Path
// with Body (JSON); the reply status must be Status (default 200) and the
// reply must contain ReplyContains when that is set.
type AdminStep struct {
	Method        string `yaml:"method,omitempty"`
	Path          string `yaml:"path"`
	Body          string `yaml:"body,omitempty"`
	Status        int    `yaml:"status,omitempty"`
	ReplyContains string `yaml:"reply_contains,omitempty"`
}

// MailboxStep fetches, from GET /mailbox/{ODS}/inbox on the target as the
// endpoint ASID, the newest message whose root element is Root and whose
// text contains Contains (when set).
type MailboxStep struct {
	ODS      string `yaml:"ods"`
	ASID     string `yaml:"asid"`
	Root     string `yaml:"root"`
	Contains string `yaml:"contains,omitempty"`
}

// MovesClock reports whether a step moves the gateway's clock.
func (s Step) MovesClock() bool {
	return s.Admin != nil && strings.HasPrefix(s.Admin.Path, "/admin/clock")
}

// Assert is one XPath assertion on the reply, prefixes as in Namespaces.
// With Count set, the number of nodes must equal it; otherwise the first
// node's attribute Attr (or its text when Attr is empty) must equal Equals.
type Assert struct {
	XPath  string `yaml:"xpath"`
	Attr   string `yaml:"attr,omitempty"`
	Equals string `yaml:"equals,omitempty"`
	Count  *int   `yaml:"count,omitempty"`
}

// Case is one conformance case.
type Case struct {
	Name    string
	Dir     string // the case folder
	Request []byte // request.xml; empty for a case of steps without one
	Expect  Expect
	// Response is response.xml when the folder has one: the expected reply,
	// compared with CompareXML (ids and timestamps ignored).
	Response []byte
}

// Phase orders cases: request/response cases (0) first, then cases of steps
// that leave the clock alone (1), then cases that move it (2), since a
// clock moved forward cannot go back and would change what every later
// case sees. Within a phase, cases run in name order.
func (c Case) Phase() int {
	if len(c.Expect.Steps) == 0 {
		return 0
	}
	for _, s := range c.Expect.Steps {
		if s.MovesClock() {
			return 2
		}
	}
	return 1
}

// Order sorts cases into replay order: by Phase, then by name.
func Order(cases []Case) {
	sort.SliceStable(cases, func(i, j int) bool {
		if pi, pj := cases[i].Phase(), cases[j].Phase(); pi != pj {
			return pi < pj
		}
		return cases[i].Name < cases[j].Name
	})
}

// Load reads every case folder under dir, in name order.
func Load(dir string) ([]Case, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var cases []Case
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, err := LoadCase(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases, nil
}

// LoadCase reads one case folder: expect.yaml, request.xml (optional for a
// case of steps) and response.xml (optional).
func LoadCase(dir string) (Case, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "expect.yaml"))
	if err != nil {
		return Case{}, err
	}
	var ex Expect
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&ex); err != nil {
		return Case{}, fmt.Errorf("%s/expect.yaml: %w", dir, err)
	}
	if err := checkSteps(ex.Steps); err != nil {
		return Case{}, fmt.Errorf("%s/expect.yaml: %w", dir, err)
	}
	req, err := os.ReadFile(filepath.Join(dir, "request.xml"))
	if err != nil && !(errors.Is(err, fs.ErrNotExist) && len(ex.Steps) > 0) {
		return Case{}, err
	}
	resp, err := os.ReadFile(filepath.Join(dir, "response.xml"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Case{}, err
	}
	return Case{Name: filepath.Base(dir), Dir: dir, Request: req, Expect: ex, Response: resp}, nil
}

// checkSteps refuses steps that set no field or more than one, and a case
// of steps whose reply would come from nowhere.
func checkSteps(steps []Step) error {
	if len(steps) == 0 {
		return nil
	}
	for i, s := range steps {
		n := 0
		if s.Send != "" {
			n++
		}
		if s.Admin != nil {
			n++
		}
		if s.Mailbox != nil {
			n++
		}
		if n != 1 {
			return fmt.Errorf("step %d: give exactly one of send, admin and mailbox", i+1)
		}
		if s.Send != "" && (filepath.IsAbs(s.Send) || strings.Contains(s.Send, "..")) {
			return fmt.Errorf("step %d: send names a file of the case folder", i+1)
		}
	}
	if last := steps[len(steps)-1]; last.Mailbox == nil && last.Send == "" {
		return errors.New("the last step must be a send or a mailbox step: its reply is what the expectations apply to")
	}
	return nil
}

// Result is the outcome of replaying one case.
type Result struct {
	Case     string
	Title    string
	Failures []string
	Status   int
	Reply    []byte
	Duration time.Duration
	// NotApplicable, when set, says why the case was not run against this
	// target (it is neither passed nor failed, and reported as such).
	NotApplicable string
}

// OK reports whether every expectation held (or the case was not
// applicable).
func (r Result) OK() bool { return len(r.Failures) == 0 }

// Outcome is "pass", "FAIL" or "n/a".
func (r Result) Outcome() string {
	switch {
	case r.NotApplicable != "":
		return "n/a"
	case r.OK():
		return "pass"
	}
	return "FAIL"
}

// Reason is the first failure, or why the case was not applicable.
func (r Result) Reason() string {
	if r.NotApplicable != "" {
		return r.NotApplicable
	}
	if len(r.Failures) > 0 {
		return r.Failures[0]
	}
	return ""
}

// Run sends the case to url and checks the reply.
func Run(ctx context.Context, client *http.Client, url string, c Case) Result {
	res := Result{Case: c.Name}
	fail := func(format string, args ...any) { res.Failures = append(res.Failures, fmt.Sprintf(format, args...)) }
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(c.Request))
	if err != nil {
		fail("request: %v", err)
		return res
	}
	req.Header.Set("Content-Type", c.Expect.ContentType)
	req.Header.Set("SOAPAction", c.Expect.SOAPAction)
	resp, err := client.Do(req)
	if err != nil {
		fail("send: %v", err)
		return res
	}
	defer resp.Body.Close()
	res.Status = resp.StatusCode
	res.Reply, err = io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		fail("read reply: %v", err)
		return res
	}
	if resp.StatusCode != c.Expect.Status {
		fail("HTTP status %d, want %d", resp.StatusCode, c.Expect.Status)
	}
	res.Failures = append(res.Failures, Check(res.Reply, c.Expect)...)
	return res
}

// Check applies the reply expectations of ex to a reply envelope.
func Check(reply []byte, ex Expect) []string {
	var failures []string
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }
	doc, err := libxml2.Parse(reply, libxml2.ParseOptions{MaxBytes: 16 << 20})
	if err != nil {
		fail("reply is not well-formed XML: %v", err)
		return failures
	}
	defer doc.Free()
	msg := doc.Root()
	if msg.NamespaceURI() == Namespaces["soap"] {
		body, err := doc.XPath("/soap:Envelope/soap:Body/*", Namespaces)
		if err != nil || len(body) == 0 {
			fail("reply has no SOAP Body element")
			return failures
		}
		msg = body[0]
	}
	if got := msg.LocalName(); got != ex.Root {
		fail("reply body is %s, want %s", got, ex.Root)
	}
	if ex.Action != "" {
		acts, _ := doc.XPath("/soap:Envelope/soap:Header/wsa:Action", Namespaces)
		if len(acts) == 0 || strings.TrimSpace(acts[0].Text()) != ex.Action {
			fail("reply wsa:Action is not %s", ex.Action)
		}
	}
	for _, a := range ex.Assert {
		nodes, err := doc.XPath(a.XPath, Namespaces)
		if err != nil {
			fail("xpath %s: %v", a.XPath, err)
			continue
		}
		if a.Count != nil {
			if len(nodes) != *a.Count {
				fail("xpath %s: %d nodes, want %d", a.XPath, len(nodes), *a.Count)
			}
			continue
		}
		if len(nodes) == 0 {
			fail("xpath %s: no node", a.XPath)
			continue
		}
		got := strings.TrimSpace(nodes[0].Text())
		if a.Attr != "" {
			got = nodes[0].Attr(a.Attr)
		}
		if got != a.Equals {
			fail("xpath %s%s: %q, want %q", a.XPath, attrSuffix(a.Attr), got, a.Equals)
		}
	}
	return failures
}

func attrSuffix(attr string) string {
	if attr == "" {
		return ""
	}
	return "/@" + attr
}
