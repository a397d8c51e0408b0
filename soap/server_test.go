package soap_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"spinegw/conformance"
	"spinegw/cpis"
	"spinegw/internal/gatewaytest"
	"spinegw/internal/libxml2"
	"spinegw/soap"
	"spinegw/store"
)

// gateway serves the conformance world with the clock frozen.
func gateway(t *testing.T) (*httptest.Server, *store.DB) {
	return gatewaytest.Start(t, "../conformance/world.yaml", time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), "990000000001")
}

func validQuery(t *testing.T) []byte {
	t.Helper()
	c, err := conformance.LoadCase("../conformance/cases/positive-cpp")
	if err != nil {
		t.Fatal(err)
	}
	return c.Request
}

func post(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/sync-service", bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", soap.ActionQuery)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// withPrologue puts text between the XML declaration and the envelope.
func withPrologue(q []byte, text string) []byte {
	return []byte(strings.Replace(string(q), "?>", "?>\n"+text, 1))
}

// inBody puts markup at the start of the NHS query's author element.
func inBody(q []byte, markup string) []byte {
	return []byte(strings.Replace(string(q), "<queryByParameter>", markup+"<queryByParameter>", 1))
}

// Hostile input gets a clear SOAP fault, no crash, nothing stored and
// nothing read from disk or network.
func TestHostileInput(t *testing.T) {
	srv, db := gateway(t)
	q := validQuery(t)

	// A listener that must never be contacted: any connection is a leak.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var contacted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			contacted.Add(1)
			c.Close()
		}
	}()
	secret := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(secret, []byte("TOP-SECRET-CONTENT"), 0o600)
	web := "http://" + ln.Addr().String() + "/x"

	deep := strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000)
	cases := []struct {
		name string
		body []byte
	}{
		{"external entity (file)", withPrologue(q, `<!DOCTYPE e [<!ENTITY x SYSTEM "file://`+secret+`">]>`)},
		{"external entity (http)", withPrologue(q, `<!DOCTYPE e [<!ENTITY x SYSTEM "`+web+`">]>`)},
		{"entity expansion", withPrologue(q, `<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>`)},
		{"external DTD", withPrologue(q, `<!DOCTYPE e SYSTEM "`+web+`">`)},
		{"plain DOCTYPE", withPrologue(q, `<!DOCTYPE Envelope>`)},
		{"XInclude", inBody(q, `<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://`+secret+`" parse="text"/>`)},
		{"deep nesting", inBody(q, deep)},
		{"oversize body", inBody(q, "<!--"+strings.Repeat("x", 2<<20)+"-->")},
		{"invalid UTF-8", inBody(q, "<!-- \xff\xfe -->")},
		{"truncated", q[:len(q)-40]},
		{"empty", nil},
		{"not XML", []byte("hello")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			status, body := post(t, srv.URL, c.body)
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
			if strings.Contains(body, "TOP-SECRET") {
				t.Fatal("file content leaked into the reply")
			}
			if c.name == "XInclude" {
				// The include is not processed: it is an unknown element in
				// the query, which fails the schema.
				if status != 200 || !strings.Contains(body, "SMSP-0001") {
					t.Fatalf("XInclude: HTTP %d %s", status, body)
				}
				return
			}
			if status != 500 || !strings.Contains(body, "<faultstring>Application Exception</faultstring>") {
				t.Fatalf("want a SOAP fault, got HTTP %d: %.300s", status, body)
			}
			if !strings.Contains(body, "nasp:errorCode") {
				t.Errorf("fault without nasp:errorList: %.300s", body)
			}
		})
	}
	if n := contacted.Load(); n != 0 {
		t.Errorf("the gateway made %d network connections", n)
	}
	events, err := db.AccessEvents(context.Background(), "9990001006")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 0 {
		t.Errorf("hostile input stored %d access events", len(events))
	}
	// The gateway still answers after all that.
	if status, body := post(t, srv.URL, q); status != 200 || !strings.Contains(body, "REPC_IN000007GB01") {
		t.Fatalf("gateway no longer answers: HTTP %d", status)
	}
}

// Every error kind maps to exactly one wire answer, and only transport kinds
// are faults.
func TestAnswerTable(t *testing.T) {
	faults := map[cpis.Kind]string{
		cpis.KindInternal: "200", cpis.KindNotWellFormed: "201", cpis.KindHostile: "201",
		cpis.KindTransport: "200", cpis.KindUnknownAction: "200", cpis.KindAddressing: "200",
	}
	failures := map[cpis.Kind]string{
		cpis.KindInvalid: "SMSP-0001", cpis.KindUnauthorized: "SMSP-0005", cpis.KindNotFound: "1",
	}
	for k := cpis.KindInternal; k <= cpis.KindNotFound; k++ {
		f, q := soap.Answer(cpis.Errorf(k, "test", "reason"))
		if (f == nil) == (q == nil) {
			t.Fatalf("%v: want exactly one of fault and failure", k)
		}
		if f != nil && f.Code != faults[k] {
			t.Errorf("%v: fault %s, want %s", k, f.Code, faults[k])
		}
		if q != nil && q.Code != failures[k] {
			t.Errorf("%v: failure %s, want %s", k, q.Code, failures[k])
		}
	}
}

// FuzzReadEnvelope: any bytes the gatekeeper lets through are read or
// refused with a core error, never a panic.
func FuzzReadEnvelope(f *testing.F) {
	for _, dir := range []string{"positive-cpp", "prefix-default-namespace", "prefix-soapenv", "missing-message-id", "asid-mismatch", "system-author"} {
		c, err := conformance.LoadCase("../conformance/cases/" + dir)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c.Request)
	}
	f.Add([]byte(`<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Header/><Body/></Envelope>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := libxml2.Parse(data, libxml2.ParseOptions{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		defer doc.Free()
		env, err := soap.ReadEnvelope(doc.Root())
		if err != nil {
			if cpis.KindOf(err) != cpis.KindTransport {
				t.Fatalf("envelope error of kind %v", cpis.KindOf(err))
			}
			return
		}
		if env.Body == nil || env.MessageID == "" || env.Action == "" {
			t.Fatal("an envelope was accepted without body, MessageID or Action")
		}
		soap.WrapperASIDs(env.Body)
	})
}
