package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// bareSkeleton is the fixed response's shape: a SOAP envelope naming the
// positive response, so the client's sniffing treats it as the gateway's
// commonest answer and does the same work on both.
const (
	bareHead = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>` +
		`<REPC_IN000007GB01 xmlns="urn:hl7-org:v3"/><!--`
	bareTail = `--></SOAP-ENV:Body></SOAP-ENV:Envelope>` + "\n"
)

// BareBody returns a fixed response of exactly size bytes (or the
// skeleton's length if size is smaller), padded inside an XML comment.
func BareBody(size int) []byte {
	pad := max(size-len(bareHead)-len(bareTail), 0)
	return []byte(bareHead + strings.Repeat(" ", pad) + bareTail)
}

// BareHandler answers every POST with body, after reading the request in
// full as any server must; it does nothing else. It is the floor against
// which the gateway is measured: same client, same transport, same response
// size, no work.
func BareHandler(body []byte) http.Handler {
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = contentTypeValue
		h["Content-Length"] = []string{length}
		_, _ = w.Write(body)
	})
}

// ServeBare serves BareHandler on addr until ctx ends. Only loopback
// addresses are accepted: the bare server is a measuring instrument, not a
// service.
func ServeBare(ctx context.Context, addr string, size int) error {
	if err := checkLoopback(addr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("bare server: %w", err)
	}
	srv := &http.Server{Handler: BareHandler(BareBody(size)), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("bare server: %w", err)
	}
	return nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q: only loopback addresses (127.0.0.1) are allowed", addr)
	}
	return nil
}
