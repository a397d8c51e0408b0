package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"spinegw/hl7"
	"spinegw/internal/libxml2"
)

// Replayer replays cases against a target: spinegw, or a real Spine test
// environment.
type Replayer struct {
	// Target is the URL requests are POSTed to (…/sync-service). The HTTP
	// mailbox of steps is read on the same scheme and host.
	Target string
	// Admin is the base URL of spinegw's admin listener; empty when the
	// target has none, and then cases of steps are not applicable.
	Admin string
	// Client sends every request; nil is http.DefaultClient.
	Client *http.Client
	// Validator checks `valid:` expectations; nil reports them as failures.
	Validator *hl7.Validator
	// Timeout bounds one case (every request and step of it); 0: none.
	Timeout time.Duration
}

// Replay runs one case and checks every expectation it states: HTTP status,
// reply root and wsa:Action, XPath assertions, validity against a schema,
// and the expected response (response.xml) with ids and timestamps ignored.
func (r *Replayer) Replay(ctx context.Context, c Case) Result {
	start := time.Now()
	var res Result
	if len(c.Expect.Steps) > 0 && r.Admin == "" {
		res = Result{Case: c.Name, NotApplicable: "not applicable to this target: its steps need the admin listener (--admin)"}
	} else {
		if r.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, r.Timeout)
			defer cancel()
		}
		res = r.replay(ctx, c)
	}
	res.Case = c.Name
	res.Title = c.Expect.Title
	res.Duration = time.Since(start)
	return res
}

func (r *Replayer) client() *http.Client {
	if r.Client != nil {
		return r.Client
	}
	return http.DefaultClient
}

func (r *Replayer) replay(ctx context.Context, c Case) Result {
	var res Result
	if len(c.Expect.Steps) == 0 {
		res = Run(ctx, r.client(), r.Target, c)
		if res.Reply == nil {
			return res // not sent or not read: nothing more to check
		}
	} else {
		var err error
		res.Status, res.Reply, err = r.steps(ctx, c)
		if err != nil {
			res.Failures = append(res.Failures, err.Error())
			return res
		}
		if res.Status != c.Expect.Status {
			res.Failures = append(res.Failures, fmt.Sprintf("HTTP status %d, want %d", res.Status, c.Expect.Status))
		}
		res.Failures = append(res.Failures, Check(res.Reply, c.Expect)...)
	}
	if c.Expect.Valid != "" {
		res.Failures = append(res.Failures, r.valid(res.Reply, c.Expect.Valid)...)
	}
	if c.Response != nil {
		for _, d := range CompareXML(c.Response, res.Reply) {
			res.Failures = append(res.Failures, "response.xml: "+d)
		}
	}
	return res
}

// valid checks that the reply's message is a root element and is valid
// against root's schema.
func (r *Replayer) valid(reply []byte, root string) []string {
	if r.Validator == nil {
		return []string{"valid: " + root + ": no validator"}
	}
	doc, err := libxml2.Parse(reply, libxml2.ParseOptions{MaxBytes: 16 << 20})
	if err != nil {
		return []string{"valid: the reply is not well-formed XML"}
	}
	defer doc.Free()
	msg := doc.Root()
	if msg.NamespaceURI() == Namespaces["soap"] {
		body, _ := doc.XPath("/soap:Envelope/soap:Body/*", Namespaces)
		if len(body) == 0 {
			return []string{"valid: the reply has no SOAP Body element"}
		}
		msg = body[0]
	}
	if msg.LocalName() != root {
		return []string{fmt.Sprintf("valid: the reply's message is %s, not %s", msg.LocalName(), root)}
	}
	var out []string
	for _, is := range r.Validator.Validate(msg) {
		out = append(out, fmt.Sprintf("not valid against %s: %s", root, is))
	}
	return out
}

// steps runs a case's steps and returns the status and body of the last
// one's reply.
func (r *Replayer) steps(ctx context.Context, c Case) (int, []byte, error) {
	var status int
	var doc []byte
	for i, s := range c.Expect.Steps {
		var err error
		switch {
		case s.Send != "":
			status, doc, err = r.send(ctx, c, s.Send)
			if err == nil && i < len(c.Expect.Steps)-1 && status != http.StatusOK {
				err = fmt.Errorf("send %s: HTTP status %d, want 200", s.Send, status)
			}
		case s.Admin != nil:
			err = r.admin(ctx, *s.Admin)
		case s.Mailbox != nil:
			status, doc, err = r.mailbox(ctx, *s.Mailbox)
		}
		if err != nil {
			return 0, nil, fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return status, doc, nil
}

func (r *Replayer) send(ctx context.Context, c Case, file string) (int, []byte, error) {
	body, err := os.ReadFile(filepath.Join(c.Dir, file))
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", c.Expect.ContentType)
	req.Header.Set("SOAPAction", c.Expect.SOAPAction)
	status, reply, err := r.do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("send %s: %w", file, err)
	}
	return status, reply, nil
}

func (r *Replayer) admin(ctx context.Context, a AdminStep) error {
	method := a.Method
	if method == "" {
		method = http.MethodPost
	}
	want := a.Status
	if want == 0 {
		want = http.StatusOK
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(r.Admin, "/")+a.Path, strings.NewReader(a.Body))
	if err != nil {
		return err
	}
	if a.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	status, body, err := r.do(req)
	if err != nil {
		return fmt.Errorf("admin %s %s: %w", method, a.Path, err)
	}
	if status != want {
		return fmt.Errorf("admin %s %s: HTTP status %d, want %d: %s", method, a.Path, status, want, bytes.TrimSpace(body))
	}
	if a.ReplyContains != "" && !bytes.Contains(body, []byte(a.ReplyContains)) {
		return fmt.Errorf("admin %s %s: the reply does not contain %s: %s", method, a.Path, a.ReplyContains, bytes.TrimSpace(body))
	}
	return nil
}

// mailbox lists the LA's inbox and returns the newest message matching m.
func (r *Replayer) mailbox(ctx context.Context, m MailboxStep) (int, []byte, error) {
	base, err := url.Parse(r.Target)
	if err != nil {
		return 0, nil, err
	}
	inbox := base.Scheme + "://" + base.Host + "/mailbox/" + url.PathEscape(m.ODS) + "/inbox"
	get := func(u string) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("X-ASID", m.ASID)
		return r.do(req)
	}
	status, body, err := get(inbox)
	if err != nil {
		return 0, nil, fmt.Errorf("mailbox %s: %w", m.ODS, err)
	}
	if status != http.StatusOK {
		return 0, nil, fmt.Errorf("mailbox %s: list: HTTP status %d", m.ODS, status)
	}
	var list struct {
		Messages []string `json:"messages"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return 0, nil, fmt.Errorf("mailbox %s: list: %w", m.ODS, err)
	}
	for i := len(list.Messages) - 1; i >= 0; i-- {
		status, doc, err := get(inbox + "/" + url.PathEscape(list.Messages[i]))
		if err != nil {
			return 0, nil, fmt.Errorf("mailbox %s: %w", m.ODS, err)
		}
		if status == http.StatusOK && rootIs(doc, m.Root) && (m.Contains == "" || bytes.Contains(doc, []byte(m.Contains))) {
			return status, doc, nil
		}
	}
	what := m.Root
	if m.Contains != "" {
		what += " containing " + m.Contains
	}
	return 0, nil, fmt.Errorf("mailbox %s: no %s among %d messages", m.ODS, what, len(list.Messages))
}

// rootIs reports whether doc's root element is named local (any namespace:
// the expectations check the namespace).
func rootIs(doc []byte, local string) bool {
	d, err := libxml2.Parse(doc, libxml2.ParseOptions{MaxBytes: 16 << 20})
	if err != nil {
		return false
	}
	defer d.Free()
	return d.Root().LocalName() == local
}

func (r *Replayer) do(req *http.Request) (int, []byte, error) {
	resp, err := r.client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, body, err
}
