package main_test

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"spinegw/hl7"
	"spinegw/hl7/schema"
	"spinegw/internal/libxml2"
	"spinegw/soap"
)

const conformanceClock = "2026-11-22T10:00:00Z"

// sample runs spinegw sample with stdout and stderr apart.
func sample(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"sample"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// mustValidate checks that a request is one SOAP envelope whose body
// validates as a CP-IS NHS Query.
func mustValidate(t *testing.T, req string) {
	t.Helper()
	v, err := hl7.NewValidator(schema.FS, schema.Entry)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libxml2.Parse([]byte(req), libxml2.ParseOptions{})
	if err != nil {
		t.Fatalf("stdout is not XML: %v\n%s", err, req)
	}
	defer doc.Free()
	env, err := soap.ReadEnvelope(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	if env.Action != soap.ActionQuery {
		t.Errorf("wsa:Action %s", env.Action)
	}
	if issues := v.Validate(env.Body); len(issues) > 0 {
		t.Fatalf("the request is not valid: %v", issues)
	}
}

// postQuery sends a query and returns the reply.
func postQuery(t *testing.T, addr, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/sync-service", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", soap.ActionQuery)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// spinegw sample query prints a valid request, from the world file or from
// the store, that a gateway serving that world answers as the identities
// say: the doctor sees the CPP, the midwife the unborn plan, the clerk
// without B0107 is refused.
func TestSampleQuery(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sample.db")
	addr, _ := startServe(t, "--db", db, "--world", "../../conformance/world.yaml", "--clock", conformanceClock,
		"--mailbox-dir", filepath.Join(dir, "mailbox"), "--admin-listen", "off")

	for _, c := range []struct {
		name  string
		args  []string
		reply []string
	}{
		{"cpp from the world file", []string{"--world", "../../conformance/world.yaml", "--nhs", "9990001006", "--user", "200009876205"},
			[]string{"REPC_IN000007GB01", `code="OK"`, "CPPInformation"}},
		{"ucp to a midwife, from the store", []string{"--db", db, "--nhs", "9990001146", "--user", "200009876204"},
			[]string{"REPC_IN000007GB01", "UCPInformation"}},
		{"from another endpoint", []string{"--db", db, "--nhs", "9990001073", "--user", "200009876205", "--from-asid", "200000000202", "--role-profile", "100077650988"},
			[]string{"REPC_IN000007GB01", "LACInformation"}},
		{"no B0107", []string{"--db", db, "--nhs", "9990001006", "--user", "200009876206"},
			[]string{"QUQI_IN010000UK14", "SMSP-0005"}},
		{"invalid check digit", []string{"--db", db, "--nhs", "9990001007", "--user", "200009876205"},
			[]string{"QUQI_IN010000UK14", "SMSP-0001"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := sample(t, append([]string{"query", "--clock", conformanceClock}, c.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if !strings.HasPrefix(out, "<?xml") || strings.Contains(out, "curl") {
				t.Errorf("stdout is not just the XML:\n%s", out)
			}
			if !strings.Contains(errs, "SOAPAction: "+soap.ActionQuery) || !strings.Contains(errs, "curl -s") ||
				!strings.Contains(errs, "--data-binary @- http://127.0.0.1:8080/sync-service") {
				t.Errorf("stderr has no SOAPAction and curl line:\n%s", errs)
			}
			mustValidate(t, out)
			if !strings.Contains(out, `<creationTime value="20261122100000"/>`) {
				t.Errorf("not stamped with the clock")
			}
			status, reply := postQuery(t, addr, out)
			if status != 200 {
				t.Fatalf("HTTP %d: %s", status, reply)
			}
			for _, w := range c.reply {
				if !strings.Contains(reply, w) {
					t.Errorf("the reply has no %q:\n%s", w, reply)
				}
			}
		})
	}

	// By default, the first role profile holding B0107, else the first.
	out, _, _ := sample(t, "query", "--db", db, "--nhs", "9990001006", "--user", "200009876206")
	if !strings.Contains(out, `extension="100077650989"`) {
		t.Errorf("the clerk's only role profile is not used")
	}
	out, _, _ = sample(t, "query", "--db", db, "--nhs", "9990001006", "--user", "200009876205", "--asid", "990000000077")
	if !strings.Contains(out, `extension="990000000077"`) {
		t.Errorf("--asid is not the receiver")
	}
}

// Errors name what was wrong; nothing goes to stdout.
func TestSampleQueryErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sample.db")
	if out, code := spinegw(t, nil, "world", "load", "../../conformance/world.yaml", "--db", db); code != 0 {
		t.Fatal(out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--nhs", "12345", "--user", "200009876205"}, `--nhs "12345": an NHS number is 10 digits`},
		{[]string{"--nhs", "99900010A6", "--user", "200009876205"}, "an NHS number is 10 digits"},
		{[]string{"--nhs", "9990001006", "--user", "200000000000"}, `--user "200000000000": no SDS user of that id`},
		{[]string{"--nhs", "9990001006", "--user", "200009876205", "--role-profile", "100077650987"},
			`--role-profile "100077650987": user 200009876205 holds no such role profile (it holds: 100077650988)`},
		{[]string{"--nhs", "9990001006", "--user", "200009876205", "--from-asid", "200000000999"}, `--from-asid "200000000999": no endpoint`},
		{[]string{"--nhs", "9990001006", "--user", "200009876205", "--asid", "12"}, `--asid "12"`},
		{[]string{"--user", "200009876205"}, `"nhs" not set`},
	} {
		out, errs, code := sample(t, append([]string{"query", "--db", db}, c.args...)...)
		if code == 0 || out != "" || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", c.args, code, out, errs, c.want)
		}
	}
	missing := filepath.Join(dir, "missing.db")
	_, errs, code := sample(t, "query", "--db", missing, "--nhs", "9990001006", "--user", "200009876205")
	if code == 0 || !strings.Contains(errs, "no such store") {
		t.Errorf("a missing store: exit %d, %s", code, errs)
	}
}
