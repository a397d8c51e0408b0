package conformance

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

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
	Request []byte
	Expect  Expect
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

// LoadCase reads one case folder.
func LoadCase(dir string) (Case, error) {
	req, err := os.ReadFile(filepath.Join(dir, "request.xml"))
	if err != nil {
		return Case{}, err
	}
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
	return Case{Name: filepath.Base(dir), Request: req, Expect: ex}, nil
}

// Result is the outcome of replaying one case.
type Result struct {
	Case     string
	Failures []string
	Status   int
	Reply    []byte
}

// OK reports whether every expectation held.
func (r Result) OK() bool { return len(r.Failures) == 0 }

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
	body, err := doc.XPath("/soap:Envelope/soap:Body/*", Namespaces)
	if err != nil || len(body) == 0 {
		fail("reply has no SOAP Body element")
		return failures
	}
	if got := body[0].LocalName(); got != ex.Root {
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
