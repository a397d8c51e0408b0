package soap_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"spinegw/internal/gatewaytest"
	"spinegw/soap"
)

// echo answers with the SHA-256 of the body it was handed.
type echo struct{ calls atomic.Int32 }

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.calls.Add(1)
	data, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	sum := sha256.Sum256(data)
	w.WriteHeader(200)
	w.Write(sum[:])
}

// A real client is never hurt: a 1 MiB body (the default MaxBody) on
// loopback, and a body sent in pieces at a modest rate, reach the handler
// intact.
func TestLimitBodyLetsRealClientsThrough(t *testing.T) {
	h := &echo{}
	srv := httptest.NewServer(soap.LimitBody(h, soap.DefaultBodyLimits(1<<20), nil))
	defer srv.Close()
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // exactly 1 MiB
	want := sha256.Sum256(body)
	for _, length := range []int64{int64(len(body)), -1} {
		status, reply, took, err := gatewaytest.Post(srv.URL, bytes.NewReader(body), length)
		if err != nil || status != 200 || !bytes.Equal(reply, want[:]) {
			t.Fatalf("length %d: HTTP %d, %v, reply %x", length, status, err, reply)
		}
		t.Logf("1 MiB (length %d) through in %v", length, took)
	}
	// 4 KiB in 64-byte pieces every 5 ms (12.8 KB/s, above MinRate) takes
	// 320 ms and is accepted.
	small := body[:4096]
	res, err := gatewaytest.Drip(strings.TrimPrefix(srv.URL, "http://"), "/", small, 64, 5*time.Millisecond, 0, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(small)
	if res.Status != 200 || !bytes.Equal(res.Reply, sum[:]) {
		t.Fatalf("dripped at a fair rate: HTTP %d %q", res.Status, res.Reply)
	}
	// No body at all passes straight through.
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET: HTTP %d", resp.StatusCode)
	}
}

// Too large or too slow is refused with the hostile-input fault, and the
// handler never runs.
func TestLimitBodyRefuses(t *testing.T) {
	h := &echo{}
	l := soap.BodyLimits{MaxBody: 1024, Idle: 200 * time.Millisecond, Grace: 300 * time.Millisecond, MinRate: 1024}
	srv := httptest.NewServer(soap.LimitBody(h, l, nil))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	body := bytes.Repeat([]byte("x"), 1025)
	cases := []struct {
		name string
		run  func() (int, []byte, error)
	}{
		{"declared too large", func() (int, []byte, error) {
			s, r, _, err := gatewaytest.Post(srv.URL, bytes.NewReader(body), 1025)
			return s, r, err
		}},
		{"chunked too large", func() (int, []byte, error) {
			s, r, _, err := gatewaytest.Post(srv.URL, bytes.NewReader(body), -1)
			return s, r, err
		}},
		{"stalled", func() (int, []byte, error) {
			res, err := gatewaytest.Drip(addr, "/", body[:1000], 100, time.Millisecond, 100, 5*time.Second)
			if err == nil && res.Answer.Sub(res.Last) > l.Idle+500*time.Millisecond {
				t.Errorf("stalled body answered %v after its last byte", res.Answer.Sub(res.Last))
			}
			return res.Status, res.Reply, err
		}},
		{"under the minimum rate", func() (int, []byte, error) {
			// 10 bytes every 50 ms: 200 B/s, never idle for 200 ms.
			res, err := gatewaytest.Drip(addr, "/", body[:1000], 10, 50*time.Millisecond, 0, 5*time.Second)
			if err == nil && res.Elapsed > l.Grace+time.Second {
				t.Errorf("slow body answered after %v", res.Elapsed)
			}
			return res.Status, res.Reply, err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, reply, err := c.run()
			if err != nil {
				t.Fatal(err)
			}
			checkFault(t, status, reply, soap.TMSNotWellFormed)
		})
	}
	if n := h.calls.Load(); n != 0 {
		t.Errorf("the handler ran %d times for refused bodies", n)
	}
}
