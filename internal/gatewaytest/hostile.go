package gatewaytest

// The hostile-input suite's requests and checks, shared by the in-process
// suite (soap/hostile_test.go) and the one against the real binary
// (cmd/spinegw/hostile_e2e_test.go). docs/robustness.md lists the cases and
// the answer each gets.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"spinegw/internal/libxml2"
	"spinegw/soap"
)

// Marker is written into the files hostile requests point at: it must never
// appear in a reply.
const Marker = "SPINEGW-HOSTILE-MARKER-7f3a9c"

// Hostile is one hostile request held in memory, and the TMS error code of
// the SOAP fault it must get.
type Hostile struct {
	Name string
	Body []byte
	Code string
}

// Sink is a TCP listener that hostile requests point at: any connection to
// it means the gateway fetched something.
type Sink struct {
	ln    net.Listener
	conns atomic.Int64
}

// NewSink starts a Sink on 127.0.0.1, closed when the test ends.
func NewSink(t testing.TB) *Sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Sink{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

// URL is an http URL on the sink.
func (s *Sink) URL(path string) string { return "http://" + s.ln.Addr().String() + path }

// Connections is how many connections the sink has accepted.
func (s *Sink) Connections() int64 { return s.conns.Load() }

// SecretFiles writes, in dir, secret.txt holding Marker and query.xml, the
// HL7 message of the valid query q with Marker in a comment: what an
// XInclude would pull into the SOAP Body if it were processed.
func SecretFiles(t testing.TB, dir string, q []byte) (secret, include string) {
	t.Helper()
	secret = dir + "/secret.txt"
	include = dir + "/query.xml"
	if err := os.WriteFile(secret, []byte(Marker+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	msg := string(q)
	i := strings.Index(msg, "<QUPC_IN000006GB01")
	j := strings.Index(msg, "</QUPC_IN000006GB01>")
	if i < 0 || j < 0 {
		t.Fatal("the valid query has no QUPC_IN000006GB01")
	}
	body := msg[i : j+len("</QUPC_IN000006GB01>")]
	body = strings.Replace(body, ">", "><!-- "+Marker+" -->", 1)
	if err := os.WriteFile(include, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return secret, include
}

// withPrologue puts text between the XML declaration and the envelope.
func withPrologue(q []byte, text string) []byte {
	return []byte(strings.Replace(string(q), "?>", "?>\n"+text, 1))
}

// inBody puts markup at the start of the query's queryByParameter.
func inBody(q []byte, markup string) []byte {
	return []byte(strings.Replace(string(q), "<queryByParameter>", markup+"<queryByParameter>", 1))
}

// replaceBody puts markup in place of the SOAP Body's content.
func replaceBody(q []byte, markup string) []byte {
	s := string(q)
	i := strings.Index(s, "<QUPC_IN000006GB01")
	j := strings.Index(s, "</QUPC_IN000006GB01>")
	return []byte(s[:i] + markup + s[j+len("</QUPC_IN000006GB01>"):])
}

// inHeader puts markup at the start of the SOAP Header.
func inHeader(q []byte, markup string) []byte {
	s := string(q)
	i := strings.Index(s, "Header>") + len("Header>")
	return []byte(s[:i] + markup + s[i:])
}

// HostileBodies are the suite's in-memory requests, built on q, a valid
// positive query as a SOAP envelope (XML declaration first; the HL7
// message's elements in the default namespace). secret and include come
// from SecretFiles; sink is where network fetches would go.
func HostileBodies(q []byte, secret, include string, sink *Sink) []Hostile {
	const hostile, transport = soap.TMSNotWellFormed, soap.TMSDefault
	var laughs strings.Builder
	laughs.WriteString(`<!DOCTYPE e [<!ENTITY l0 "lol">`)
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&laughs, `<!ENTITY l%d "%s">`, i, strings.Repeat(fmt.Sprintf("&l%d;", i-1), 10))
	}
	laughs.WriteString(`]>`)
	big := strings.Repeat("A", 50000)
	asid := `extension="` + "200000000101"
	snd := strings.Index(string(q), "communicationFunctionSnd")
	hugeAttr := string(q[:snd]) + strings.Replace(string(q[snd:]), asid, `extension="`+strings.Repeat("9", 900_000), 1)
	var headers strings.Builder
	for i := 0; i < 1000; i++ {
		headers.WriteString(`<wsa:Action xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">` + soap.ActionQuery + `</wsa:Action>`)
	}
	return []Hostile{
		{"external entity (file)", inBody(withPrologue(q, `<!DOCTYPE e [<!ENTITY x SYSTEM "file://`+secret+`">]>`), "&x;"), hostile},
		{"external entity (http)", inBody(withPrologue(q, `<!DOCTYPE e [<!ENTITY x SYSTEM "`+sink.URL("/entity")+`">]>`), "&x;"), hostile},
		{"external parameter entity (http)", withPrologue(q, `<!DOCTYPE e [<!ENTITY % p SYSTEM "`+sink.URL("/param")+`"> %p;]>`), hostile},
		{"entity expansion (billion laughs)", inBody(withPrologue(q, laughs.String()), "&l9;"), hostile},
		{"quadratic blow-up", inBody(withPrologue(q, `<!DOCTYPE e [<!ENTITY a "`+big+`">]>`), strings.Repeat("&a;", 50000)), hostile},
		{"external DTD (http)", withPrologue(q, `<!DOCTYPE e SYSTEM "`+sink.URL("/dtd")+`">`), hostile},
		{"external DTD (file)", withPrologue(q, `<!DOCTYPE e SYSTEM "file://`+secret+`">`), hostile},
		// Were XInclude processed, the Body would hold a valid query and
		// get a positive answer; unprocessed, xi:include is not a CP-IS
		// interaction.
		{"XInclude", replaceBody(q, `<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://`+include+`"/>`), transport},
		{"XInclude (text)", replaceBody(q, `<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://`+secret+`" parse="text"/>`), transport},
		{"10,000-deep nesting", inBody(q, strings.Repeat("<a>", 10000)+strings.Repeat("</a>", 10000)), hostile},
		{"invalid UTF-8", inBody(q, "<!-- caf\xe9 \xff\xfe -->"), hostile},
		{"huge attribute (900 KB ASID)", []byte(hugeAttr), transport},
		{"a thousand SOAP headers", inHeader(q, headers.String()), transport},
	}
}

// FaultCode checks that a reply is a SOAP 1.1 fault in Spine's shape
// (faultcode SOAP-ENV:Server, detail/nasp:errorList/nasp:error with the TMS
// code context) and returns its nasp:errorCode.
func FaultCode(status int, reply []byte) (string, error) {
	if status != http.StatusInternalServerError {
		return "", fmt.Errorf("HTTP %d, want 500", status)
	}
	doc, err := libxml2.Parse(reply, libxml2.ParseOptions{})
	if err != nil {
		return "", fmt.Errorf("the fault is not XML: %v", err)
	}
	defer doc.Free()
	env := doc.Root()
	if env.NamespaceURI() != soap.NSEnvelope || env.LocalName() != "Envelope" {
		return "", fmt.Errorf("not a SOAP envelope")
	}
	fault := env.Child(soap.NSEnvelope, "Body").Child(soap.NSEnvelope, "Fault")
	if fault == nil {
		return "", fmt.Errorf("no SOAP Fault in the Body")
	}
	if c := fault.Child("", "faultcode"); c == nil || strings.TrimSpace(c.Text()) != "SOAP-ENV:Server" {
		return "", fmt.Errorf("faultcode is not SOAP-ENV:Server")
	}
	detail := fault.Child("", "detail")
	if detail == nil {
		return "", fmt.Errorf("the fault has no detail")
	}
	e := detail.Child(soap.NSErrorList, "errorList").Child(soap.NSErrorList, "error")
	if e == nil {
		return "", fmt.Errorf("no nasp:errorList/nasp:error in the detail")
	}
	if ctx := e.Child(soap.NSErrorList, "codeContext"); ctx == nil || ctx.Text() != "urn:nhs:names:error:tms" {
		return "", fmt.Errorf("nasp:codeContext is not urn:nhs:names:error:tms")
	}
	code := e.Child(soap.NSErrorList, "errorCode")
	if code == nil || code.Text() == "" {
		return "", fmt.Errorf("no nasp:errorCode")
	}
	return code.Text(), nil
}

// Post sends body to the SOAP endpoint at base as a CP-IS query and returns
// the status, the reply and the time taken.
func Post(base string, body io.Reader, length int64) (int, []byte, time.Duration, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/sync-service", body)
	if err != nil {
		return 0, nil, 0, err
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", soap.ActionQuery)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, time.Since(start), err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, reply, time.Since(start), err
}

// Endless is a body of N bytes that never sits in memory: an opening, then
// filler repeated up to N bytes. It counts what has been read of it.
type Endless struct {
	N       int64
	opening []byte
	fill    []byte // filler repeated to about 32 KiB
	read    atomic.Int64
}

// NewEndless returns a body of n bytes.
func NewEndless(n int64, opening, fill string) *Endless {
	return &Endless{N: n, opening: []byte(opening), fill: []byte(strings.Repeat(fill, max(1, 32<<10/len(fill))))}
}

func (e *Endless) Read(p []byte) (int, error) {
	off := e.read.Load()
	if off >= e.N {
		return 0, io.EOF
	}
	if rest := e.N - off; int64(len(p)) > rest {
		p = p[:rest]
	}
	var k int
	if off < int64(len(e.opening)) {
		k = copy(p, e.opening[off:])
	} else {
		k = copy(p, e.fill[(off-int64(len(e.opening)))%int64(len(e.fill)):])
	}
	e.read.Add(int64(k))
	return k, nil
}

// Sent is how many bytes have been read from the body so far.
func (e *Endless) Sent() int64 { return e.read.Load() }

// DripResult is what a slow client saw.
type DripResult struct {
	Status  int
	Reply   []byte
	Sent    int           // body bytes written before the answer came
	First   time.Time     // when the first body byte was written
	Last    time.Time     // when the last body byte was written
	Answer  time.Time     // when the status line arrived
	Elapsed time.Duration // from the first body byte to the answer
}

// Drip posts a request of declared length to path on addr over a raw
// connection: headers at once, then body chunk bytes every interval (after
// stall bytes it stops sending and waits), until the gateway answers or
// the body is all sent. It gives up after limit.
func Drip(addr, path string, body []byte, chunk int, every time.Duration, stall int, limit time.Duration) (DripResult, error) {
	var res DripResult
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return res, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(limit))
	head := "POST " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: text/xml; charset=UTF-8\r\n" +
		"SOAPAction: " + soap.ActionQuery + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := io.WriteString(c, head); err != nil {
		return res, err
	}
	answered := make(chan struct{})
	var sent atomic.Int64
	var first, last atomic.Int64
	go func() {
		for off := 0; off < len(body); off += chunk {
			if stall > 0 && off >= stall {
				return
			}
			end := min(off+chunk, len(body))
			select {
			case <-answered:
				return
			default:
			}
			if _, err := c.Write(body[off:end]); err != nil {
				return
			}
			now := time.Now().UnixNano()
			first.CompareAndSwap(0, now)
			last.Store(now)
			sent.Store(int64(end))
			select {
			case <-answered:
				return
			case <-time.After(every):
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	res.Answer = time.Now()
	close(answered)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	res.Status = resp.StatusCode
	res.Reply, _ = io.ReadAll(resp.Body)
	res.Sent = int(sent.Load())
	res.First = time.Unix(0, first.Load())
	res.Last = time.Unix(0, last.Load())
	res.Elapsed = res.Answer.Sub(res.First)
	return res, nil
}

// ProcStatus reads a process's resident set (VmRSS) and its peak (VmHWM),
// in KiB, from /proc; pid 0 is this process. ok is false without /proc.
func ProcStatus(pid int) (rss, hwm int64, ok bool) {
	name := "/proc/self/status"
	if pid != 0 {
		name = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return 0, 0, false
	}
	field := func(key string) int64 {
		i := bytes.Index(data, []byte(key+":"))
		if i < 0 {
			return 0
		}
		f := strings.Fields(string(data[i+len(key)+1:]))
		if len(f) == 0 {
			return 0
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		return n
	}
	return field("VmRSS"), field("VmHWM"), true
}
