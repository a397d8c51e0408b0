package conformance_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"spinegw/conformance"
	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/internal/libxml2"
	"spinegw/soap"
)

// corpusCodes collects every code the corpus expects: the values its
// assertions on code, errorCode and queryResponseCode require, and the code
// attributes of its expected responses.
func corpusCodes(t *testing.T, cases []conformance.Case) map[string][]string {
	t.Helper()
	codes := map[string][]string{}
	add := func(code, name string) {
		for _, n := range codes[code] {
			if n == name {
				return
			}
		}
		codes[code] = append(codes[code], name)
	}
	codeAttr := regexp.MustCompile(`\bcode="([^"]+)"`)
	for _, c := range cases {
		for _, a := range c.Expect.Assert {
			last := a.XPath[strings.LastIndex(a.XPath, "/")+1:]
			if strings.HasSuffix(strings.ToLower(last), "code") && a.Equals != "" {
				add(a.Equals, c.Name)
			}
		}
		for _, m := range codeAttr.FindAllStringSubmatch(string(c.Response), -1) {
			add(m[1], c.Name)
		}
	}
	return codes
}

// constants returns the string constants of package dir whose names match
// re, by value.
func constants(t *testing.T, dir string, re *regexp.Regexp) []string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, s := range gd.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if !re.MatchString(n.Name) || i >= len(vs.Values) {
							continue
						}
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							out = append(out, v)
						}
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// Every code the gateway can produce has a case in the corpus that expects
// it: the TMS fault codes and HL7 query failure codes of soap.Answer (for
// every error kind), the query response codes, and every CPR record code
// and CPF file code the upload core defines. A code added to the gateway
// without a case fails here.
func TestEveryCodeHasACase(t *testing.T) {
	cases, err := conformance.Load("cases")
	if err != nil {
		t.Fatal(err)
	}
	have := corpusCodes(t, cases)
	want := map[string]string{}
	// soap.Answer, for every kind there is.
	for k := cpis.Kind(0); !strings.HasPrefix(k.String(), "kind("); k++ {
		f, hf := soap.Answer(&cpis.Error{Kind: k, Msg: "x"})
		switch {
		case f != nil:
			want[f.Code] = "TMS fault code (kind " + k.String() + ")"
		case hf != nil:
			want[hf.Code] = "query failure code (kind " + k.String() + ")"
			want[hf.ResponseCode] = "query response code (kind " + k.String() + ")"
		default:
			t.Errorf("kind %s has no answer", k)
		}
		if k > 100 {
			t.Fatal("runaway kind enumeration")
		}
	}
	for _, code := range constants(t, "../soap", regexp.MustCompile(`^TMS`)) {
		want[code] = "TMS fault code"
	}
	want["OK"] = "query response code (positive)"
	records := constants(t, "../cpis", regexp.MustCompile(`^CPR\d\d$`))
	files := constants(t, "../cpis", regexp.MustCompile(`^CPF\d\d$`))
	if len(records) < 7 || len(files) < 4 {
		t.Fatalf("found record codes %v and file codes %v in cpis: the enumeration is broken", records, files)
	}
	for _, c := range records {
		want[c] = "CPR record code"
	}
	for _, c := range files {
		want[c] = "CPF file code"
	}
	// A successful record (CPR06) is counted, never listed with its code
	// (hl7.WriteFileResponse): the cases asserting a successful count cover
	// it.
	for _, c := range cases {
		for _, a := range c.Expect.Assert {
			if strings.Contains(a.XPath, "successfulReturnedCP-ISRecords") && a.Equals != "" && a.Equals != "0" {
				have[cpis.CPR06] = append(have[cpis.CPR06], c.Name)
			}
		}
	}
	keys := make([]string, 0, len(want))
	for code := range want {
		keys = append(keys, code)
	}
	sort.Strings(keys)
	for _, code := range keys {
		what := want[code]
		if len(have[code]) == 0 {
			t.Errorf("%s %s has no case in the corpus", what, code)
		} else {
			t.Logf("%-10s %-40s %s", code, what, strings.Join(have[code], ", "))
		}
	}
}

// Every interaction the gateway takes part in has a case: the two requests
// it answers (query, LA upload), every reply it sends (response, failure,
// FileResponse, SOAP fault) and both notifications.
func TestEveryInteractionHasACase(t *testing.T) {
	cases, err := conformance.Load("cases")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, c := range cases {
		got["reply "+c.Expect.Root] = true
		if len(c.Request) == 0 {
			continue
		}
		doc, err := libxml2.Parse(c.Request, libxml2.ParseOptions{})
		if err != nil {
			continue // the malformed cases
		}
		body, _ := doc.XPath("/soap:Envelope/soap:Body/*", conformance.Namespaces)
		if len(body) == 1 {
			got["request "+body[0].LocalName()] = true
		}
		doc.Free()
	}
	for _, want := range []string{
		"request " + hl7.InteractionQuery, "request File",
		"reply " + hl7.InteractionQueryResponse, "reply " + hl7.InteractionQueryFailure, "reply FileResponse", "reply Fault",
		"reply CP-ISAccessToServiceNotification", "reply CP-ISInactiveNHSNumberNotification",
	} {
		if !got[want] {
			t.Errorf("no case for %s", want)
		}
	}
}

// A case that moves the gateway's clock runs after every other, and cases
// of steps after every request/response case; within each, name order.
func TestReplayOrder(t *testing.T) {
	cases, err := conformance.Load("cases")
	if err != nil {
		t.Fatal(err)
	}
	conformance.Order(cases)
	last := cases[len(cases)-1]
	if last.Phase() != 2 {
		t.Errorf("the last case %s does not move the clock", last.Name)
	}
	for i := 1; i < len(cases); i++ {
		a, b := cases[i-1], cases[i]
		if a.Phase() > b.Phase() || (a.Phase() == b.Phase() && a.Name > b.Name) {
			t.Errorf("%s (phase %d) before %s (phase %d)", a.Name, a.Phase(), b.Name, b.Phase())
		}
	}
	// upload-success-again, -changed and -then-query depend on upload-success.
	pos := map[string]int{}
	for i, c := range cases {
		pos[c.Name] = i
	}
	for _, n := range []string{"upload-success-again", "upload-success-changed", "upload-success-then-query"} {
		if pos[n] < pos["upload-success"] {
			t.Errorf("%s runs before upload-success", n)
		}
	}
}

// LoadCase refuses steps it could not run.
func TestLoadCaseRefusesBadSteps(t *testing.T) {
	for name, steps := range map[string]string{
		"two fields":       "steps:\n  - {send: request.xml, admin: {path: /admin/clock}}\n  - {mailbox: {ods: V145, asid: '1', root: X}}\n",
		"no field":         "steps:\n  - {}\n  - {mailbox: {ods: V145, asid: '1', root: X}}\n",
		"no mailbox last":  "steps:\n  - {admin: {path: /admin/clock, body: '{}'}}\n",
		"file outside":     "steps:\n  - {send: ../other/request.xml}\n  - {mailbox: {ods: V145, asid: '1', root: X}}\n",
		"unknown step key": "steps:\n  - {wait: 1s}\n  - {mailbox: {ods: V145, asid: '1', root: X}}\n",
	} {
		dir := filepath.Join(t.TempDir(), "bad")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "expect.yaml"), []byte("status: 200\nroot: X\n"+steps), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := conformance.LoadCase(dir); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
