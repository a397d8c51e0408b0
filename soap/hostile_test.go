package soap_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"spinegw/conformance"
	"spinegw/internal/gatewaytest"
	"spinegw/soap"
	"spinegw/store"
)

// limitedGateway is the in-process gateway behind soap.LimitBody with the
// limits the binary serves with (cmd/spinegw/routes.go).
func limitedGateway(t *testing.T) (*httptest.Server, *store.DB) {
	srv, db := gateway(t)
	front := httptest.NewServer(soap.LimitBody(srv.Config.Handler, soap.DefaultBodyLimits(1<<20), nil))
	t.Cleanup(front.Close)
	return front, db
}

// bound is the security bound of the hostile suite: every hostile request
// is answered within it from the moment the gateway can tell.
const bound = time.Second

// checkFault asserts a reply is a SOAP fault with TMS code want and holds
// nothing read from the files the request pointed at.
func checkFault(t *testing.T, status int, reply []byte, want string) {
	t.Helper()
	if bytes.Contains(reply, []byte(gatewaytest.Marker)) {
		t.Fatalf("the reply holds content read from a file: %.300s", reply)
	}
	code, err := gatewaytest.FaultCode(status, reply)
	if err != nil {
		t.Fatalf("%v: %.300s", err, reply)
	}
	if code != want {
		t.Errorf("nasp:errorCode %s, want %s: %.400s", code, want, reply)
	}
}

// TestHostileSuite sends the whole hostile-input suite through the HTTP
// endpoint (CP-IS issue: evidence): each request is refused with a SOAP
// fault within a second, memory stays bounded, nothing is stored, no file
// is read into a reply and no connection is made.
func TestHostileSuite(t *testing.T) {
	srv, db := limitedGateway(t)
	q := validQuery(t)
	sink := gatewaytest.NewSink(t)
	secret, include := gatewaytest.SecretFiles(t, t.TempDir(), q)
	ctx := context.Background()
	before, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, hwmBefore, procOK := gatewaytest.ProcStatus(0)

	for _, c := range gatewaytest.HostileBodies(q, secret, include, sink) {
		t.Run(c.Name, func(t *testing.T) {
			status, reply, took, err := gatewaytest.Post(srv.URL, bytes.NewReader(c.Body), int64(len(c.Body)))
			if err != nil {
				t.Fatal(err)
			}
			checkFault(t, status, reply, c.Code)
			if took > bound {
				t.Errorf("answered in %v", took)
			}
			t.Logf("%d bytes: fault %s in %v", len(c.Body), c.Code, took)
		})
	}

	// Bodies that never sit in the client's memory either: the gateway
	// must answer once MaxBody is passed, without reading the rest.
	head := string(q[:bytes.Index(q, []byte("<queryByParameter>"))])
	streams := []struct {
		name     string
		body     *gatewaytest.Endless
		declared bool
	}{
		{"100 MB body (Content-Length)", gatewaytest.NewEndless(100<<20, head+"<!--", "x"), true},
		{"100 MB body (chunked)", gatewaytest.NewEndless(100<<20, head+"<!--", "x"), false},
		{"huge attribute (8 MiB, chunked)", gatewaytest.NewEndless(8<<20, head+`<a v="`, "A"), false},
	}
	for _, s := range streams {
		t.Run(s.name, func(t *testing.T) {
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			length := int64(-1)
			if s.declared {
				length = s.body.N
			}
			status, reply, took, err := gatewaytest.Post(srv.URL, s.body, length)
			runtime.ReadMemStats(&m1)
			if err != nil {
				t.Fatal(err)
			}
			checkFault(t, status, reply, soap.TMSNotWellFormed)
			if !strings.Contains(string(reply), "larger than 1048576 bytes") {
				t.Errorf("not refused for its size: %.300s", reply)
			}
			// The gateway decides after 1 MiB at most; reading 1 MiB over
			// loopback is milliseconds.
			if took > bound {
				t.Errorf("answered in %v", took)
			}
			// Socket buffers take a few MiB more than the gateway reads.
			if sent := s.body.Sent(); sent > 16<<20 {
				t.Errorf("the client got to send %d MiB", sent>>20)
			}
			if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 32<<20 {
				t.Errorf("%d MiB allocated for one refused request", grew>>20)
			}
			t.Logf("sent %d KiB, answered in %v, %d KiB allocated", s.body.Sent()>>10, took, (m1.TotalAlloc-m0.TotalAlloc)>>10)
		})
	}

	limits := soap.DefaultBodyLimits(1 << 20)
	addr := strings.TrimPrefix(srv.URL, "http://")
	t.Run("slow-drip body", func(t *testing.T) {
		// 16 bytes every 100 ms: 160 bytes a second, far under MinRate.
		res, err := gatewaytest.Drip(addr, "/sync-service", q, 16, 100*time.Millisecond, 0, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		checkFault(t, res.Status, res.Reply, soap.TMSNotWellFormed)
		if res.Sent >= len(q) {
			t.Fatalf("the whole body was sent (%d bytes) before the answer", res.Sent)
		}
		// The gateway can tell once Grace has passed and the bytes in do
		// not cover the rate: by First + Grace + Sent/MinRate at the
		// latest.
		decidable := res.First.Add(limits.Grace + time.Duration(float64(res.Sent)/float64(limits.MinRate)*float64(time.Second)))
		if late := res.Answer.Sub(decidable); late > bound {
			t.Errorf("answered %v after the body fell under the minimum rate", late)
		}
		if res.Elapsed < limits.Grace-100*time.Millisecond {
			t.Errorf("answered after %v, before the grace period", res.Elapsed)
		}
		t.Logf("sent %d of %d bytes, answered %v after the first byte", res.Sent, len(q), res.Elapsed)
	})
	t.Run("stalled body", func(t *testing.T) {
		res, err := gatewaytest.Drip(addr, "/sync-service", q, 256, 10*time.Millisecond, 512, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		checkFault(t, res.Status, res.Reply, soap.TMSNotWellFormed)
		if late := res.Answer.Sub(res.Last.Add(limits.Idle)); late > bound {
			t.Errorf("answered %v after the body had paused for %v", late, limits.Idle)
		}
		t.Logf("sent %d bytes, answered %v after the last", res.Sent, res.Answer.Sub(res.Last))
	})

	if n := sink.Connections(); n != 0 {
		t.Errorf("the gateway made %d network connections", n)
	}
	after, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("hostile input changed the store: %+v, was %+v", after, before)
	}
	if _, hwm, ok := gatewaytest.ProcStatus(0); ok && procOK {
		// Client and gateway share this process: the bound covers both.
		if grew := hwm - hwmBefore; grew > 96<<10 {
			t.Errorf("peak RSS grew by %d MiB", grew>>10)
		}
		t.Logf("peak RSS %d MiB (grew %d MiB)", hwm>>10, (hwm-hwmBefore)>>10)
	}
	// The gateway still answers.
	status, reply, _, err := gatewaytest.Post(srv.URL, bytes.NewReader(q), int64(len(q)))
	if err != nil || status != 200 || !bytes.Contains(reply, []byte("REPC_IN000007GB01")) {
		t.Fatalf("the gateway no longer answers: HTTP %d %v", status, err)
	}
}

// A thousand unknown (extension) header blocks around a valid query are
// not an error in SOAP 1.1 and are skipped: the query is answered, within
// the bound, as without them.
func TestThousandUnknownHeaders(t *testing.T) {
	srv, _ := limitedGateway(t)
	q := validQuery(t)
	var h strings.Builder
	for i := 0; i < 1000; i++ {
		h.WriteString(`<x:Extension xmlns:x="urn:example:extension">value</x:Extension>`)
	}
	s := string(q)
	i := strings.Index(s, "Header>") + len("Header>")
	body := []byte(s[:i] + h.String() + s[i:])
	status, reply, took, err := gatewaytest.Post(srv.URL, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if status != 200 || !bytes.Contains(reply, []byte("REPC_IN000007GB01")) {
		t.Fatalf("HTTP %d: %.300s", status, reply)
	}
	if took > bound {
		t.Errorf("answered in %v", took)
	}
}

// XInclude is never processed: the gatekeeper binding never asks libxml2
// for it (no XML_PARSE_XINCLUDE, no xmlXInclude call), which the XInclude
// cases of TestHostileSuite prove in behaviour.
func TestNoXIncludeInBinding(t *testing.T) {
	files, err := filepath.Glob("../internal/libxml2/*.[ch]")
	if err != nil {
		t.Fatal(err)
	}
	goFiles, _ := filepath.Glob("../internal/libxml2/*.go")
	files = append(files, goFiles...)
	if len(files) < 3 {
		t.Fatalf("binding sources not found: %v", files)
	}
	forbidden := regexp.MustCompile(`XML_PARSE_XINCLUDE|xmlXInclude\w*\s*\(`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := forbidden.Find(data); m != nil {
			t.Errorf("%s uses %s", f, m)
		}
	}
}

// FuzzEndpoint: any body posted to the SOAP endpoint, through the body
// limits, gets one of the gateway's answers: a query response or failure
// (HTTP 200), or a SOAP fault in Spine's shape (HTTP 500); never a panic,
// never another status, never a file's content.
func FuzzEndpoint(f *testing.F) {
	srv, _ := gatewaytest.Start(f, "../conformance/world.yaml", time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), "990000000001")
	h := soap.LimitBody(srv.Config.Handler, soap.DefaultBodyLimits(1<<20), nil)
	c, err := conformance.LoadCase("../conformance/cases/positive-cpp")
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	sink := gatewaytest.NewSink(f)
	secret, include := gatewaytest.SecretFiles(f, dir, c.Request)
	f.Add(c.Request)
	for _, hb := range gatewaytest.HostileBodies(c.Request, secret, include, sink) {
		if len(hb.Body) < 64<<10 {
			f.Add(hb.Body)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := httptest.NewRequest("POST", "/sync-service", bytes.NewReader(data))
		req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
		req.Header.Set("SOAPAction", soap.ActionQuery)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		reply := rec.Body.Bytes()
		if bytes.Contains(reply, []byte(gatewaytest.Marker)) {
			t.Fatal("a file's content in the reply")
		}
		switch rec.Code {
		case 200:
			if !bytes.Contains(reply, []byte("REPC_IN000007GB01")) && !bytes.Contains(reply, []byte("QUQI_IN010000UK14")) {
				t.Fatalf("HTTP 200 without a query response or failure: %.300s", reply)
			}
		case 500:
			if _, err := gatewaytest.FaultCode(rec.Code, reply); err != nil {
				t.Fatalf("%v: %.300s", err, reply)
			}
		default:
			t.Fatalf("HTTP %d", rec.Code)
		}
	})
}
