package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// SOAPAction of the NHS Query (wire reference §1).
const queryAction = "urn:nhs:names:services:cpisquery/QUPC_IN000006GB01"

// Header values shared read-only by every request.
var (
	contentTypeValue = []string{"text/xml; charset=UTF-8"}
	soapActionValue  = []string{queryAction}
)

// Outcome is what a response turned out to be, sniffed from its status and
// body rather than parsed: the client must stay cheap next to the server.
type Outcome int

const (
	GotPositive  Outcome = iota // 2xx holding REPC_IN000007GB01
	GotQUQI                     // 2xx holding QUQI_IN010000UK14 (negative or refused)
	GotFault                    // a SOAP fault (Spine sends them with HTTP 500)
	GotOther2xx                 // 2xx holding none of these
	Got5xx                      // 5xx without a SOAP fault
	GotOtherHTTP                // any other status (1xx, 3xx, 4xx)
	GotNoReply                  // no response: connection error or timeout
	numOutcomes
)

func (o Outcome) String() string {
	return [...]string{"REPC", "QUQI", "fault", "other 2xx", "5xx", "other status", "no reply"}[o]
}

// Classify sorts a response.
func Classify(status int, body []byte) Outcome {
	ok := status >= 200 && status < 300
	switch {
	case ok && bytes.Contains(body, []byte("QUQI_IN010000UK14")):
		return GotQUQI
	case ok && bytes.Contains(body, []byte("REPC_IN000007GB01")):
		return GotPositive
	case bytes.Contains(body, []byte("Fault>")): // <SOAP:Fault>, any prefix
		return GotFault
	case ok:
		return GotOther2xx
	case status >= 500:
		return Got5xx
	}
	return GotOtherHTTP
}

// expected is the outcome a kind of query should have.
func (k Kind) expected() Outcome {
	if k == Positive {
		return GotPositive
	}
	return GotQUQI
}

// Tally counts responses by expected kind and outcome.
type Tally struct {
	Count     [numKinds][numOutcomes]int64
	Bytes     int64           // response body bytes
	Latencies []time.Duration // one per response, sorted once merged
	FirstErr  string          // the first transport error, to show why
}

func (t *Tally) add(k Kind, o Outcome, n int, lat time.Duration) {
	t.Count[k][o]++
	t.Bytes += int64(n)
	t.Latencies = append(t.Latencies, lat)
}

func (t *Tally) merge(o *Tally) {
	for k := range t.Count {
		for j := range t.Count[k] {
			t.Count[k][j] += o.Count[k][j]
		}
	}
	t.Bytes += o.Bytes
	t.Latencies = append(t.Latencies, o.Latencies...)
	if t.FirstErr == "" {
		t.FirstErr = o.FirstErr
	}
}

// Total is the number of responses (and failures) counted.
func (t *Tally) Total() int64 {
	var n int64
	for k := range t.Count {
		for _, c := range t.Count[k] {
			n += c
		}
	}
	return n
}

// Outcomes sums the counts by outcome.
func (t *Tally) Outcomes() (out [numOutcomes]int64) {
	for k := range t.Count {
		for o, c := range t.Count[k] {
			out[o] += c
		}
	}
	return out
}

// Errors counts the queries that got no proper answer: no reply, an HTTP
// error or a SOAP fault (every query sent is valid, so a fault is an error).
func (t *Tally) Errors() int64 {
	o := t.Outcomes()
	return o[GotFault] + o[Got5xx] + o[GotOtherHTTP] + o[GotNoReply]
}

// Unexpected counts proper answers of the wrong kind: a positive query
// answered QUQI, a negative or refused one answered REPC, or an unrecognised
// 2xx. Only meaningful against the gateway: the bare server answers the same
// to everything.
func (t *Tally) Unexpected() int64 {
	var n int64
	for k := range numKinds {
		for _, o := range []Outcome{GotPositive, GotQUQI, GotOther2xx} {
			if o != k.expected() {
				n += t.Count[k][o]
			}
		}
	}
	return n
}

// Target is a server under measurement: where to send and which process's
// CPU to charge.
type Target struct {
	Name string
	URL  string
	PID  int
}

// Result is one measurement of one target.
type Result struct {
	Target  string
	Mode    string        // "closed" or "open"
	Window  time.Duration // the measured interval
	Offered float64       // open loop: the planned rate, queries/s
	Missed  int           // open loop: planned queries never sent
	Tally
	ServerCPU time.Duration // CPU of the target's process over the window
	ClientCPU time.Duration // CPU of this process over the window
	OtherCPU  time.Duration // CPU of every other process over the window
}

// OtherLoad is how many cores other processes kept busy on average during
// the measurement: the noise a shared machine adds.
func (r *Result) OtherLoad() float64 {
	if r.Window <= 0 {
		return 0
	}
	return r.OtherCPU.Seconds() / r.Window.Seconds()
}

// Rate is the measured rate in queries per second.
func (r *Result) Rate() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Total()) / r.Window.Seconds()
}

// CPUPerQuery is the server's CPU time per query in milliseconds.
func (r *Result) CPUPerQuery() float64 { return perQuery(r.ServerCPU, r.Total()) }

// ClientCPUPerQuery is the load generator's CPU time per query in
// milliseconds.
func (r *Result) ClientCPUPerQuery() float64 { return perQuery(r.ClientCPU, r.Total()) }

func perQuery(d time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(d) / float64(time.Millisecond) / float64(n)
}

// MeanBytes is the mean response body size.
func (r *Result) MeanBytes() float64 {
	if n := r.Total(); n > 0 {
		return float64(r.Bytes) / float64(n)
	}
	return 0
}

// Client sends queries of a mix over one shared transport.
type Client struct {
	HTTP *http.Client
	Mix  *Mix
}

// requestTimeout bounds every query, so every loop ends in bounded time
// whatever the server does.
const requestTimeout = 10 * time.Second

// NewClient returns a client that keeps up to conns idle connections per
// server: at least one per concurrent client, or connections would be
// closed and re-opened under load and the handshakes measured instead of
// the server.
func NewClient(mix *Mix, conns int) *Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0, // no overall limit
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     2 * time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &Client{HTTP: &http.Client{Transport: tr, Timeout: requestTimeout}, Mix: mix}
}

// Close drops the idle connections.
func (c *Client) Close() { c.HTTP.CloseIdleConnections() }

// worker holds what one sending goroutine reuses from query to query.
type worker struct {
	rng   *rand.Rand
	req   []byte
	resp  bytes.Buffer
	tally Tally
}

func newWorker() *worker {
	// Seeded afresh for every loop: message ids must not repeat within a
	// run, across loops included.
	return &worker{rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// send posts one query of kind k and reads the whole response, so the
// connection goes back to the pool and the server's write is complete.
func (c *Client) send(ctx context.Context, url string, w *worker, k Kind) (Outcome, int) {
	w.req = c.Mix.Append(w.req[:0], w.rng, k)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(w.req))
	if err != nil {
		w.noteErr(err)
		return GotNoReply, 0
	}
	req.Header = http.Header{"Content-Type": contentTypeValue, "Soapaction": soapActionValue}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		w.noteErr(err)
		return GotNoReply, 0
	}
	w.resp.Reset()
	_, err = w.resp.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		w.noteErr(err)
		return GotNoReply, w.resp.Len()
	}
	return Classify(resp.StatusCode, w.resp.Bytes()), w.resp.Len()
}

func (w *worker) noteErr(err error) {
	if w.tally.FirstErr == "" {
		w.tally.FirstErr = err.Error()
	}
}

// Probe sends one query of kind k and returns the outcome and the body.
func (c *Client) Probe(ctx context.Context, url string, k Kind) (Outcome, []byte, error) {
	w := newWorker()
	o, _ := c.send(ctx, url, w, k)
	if o == GotNoReply {
		return o, nil, errors.New(w.tally.FirstErr)
	}
	return o, bytes.Clone(w.resp.Bytes()), nil
}

// sleepUntil waits until t or until ctx ends, reporting whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// cpuSample is the CPU time used so far by the target, by this process and
// by the whole machine.
type cpuSample struct{ server, self, machine time.Duration }

func readCPU(pid int) (cpuSample, error) {
	var s cpuSample
	var err error
	if s.server, err = ProcessCPU(pid); err != nil {
		return s, err
	}
	if s.self, err = ProcessCPU(os.Getpid()); err != nil {
		return s, err
	}
	s.machine, err = MachineBusy()
	return s, err
}

// charge sets the result's CPU figures from samples at the window's edges.
func (r *Result) charge(a, b cpuSample) {
	r.ServerCPU, r.ClientCPU = b.server-a.server, b.self-a.self
	r.OtherCPU = max(b.machine-a.machine-r.ServerCPU-r.ClientCPU, 0)
}

// ClosedLoop runs clients goroutines that each send queries back to back to
// t for warm+window, and measures the window only: the warm-up lets
// connections open and the server's caches fill, and responses finishing
// after the window are not counted, so neither the ramp nor the drain
// dilutes the rate. Server CPU is the target process's over the window.
func (c *Client) ClosedLoop(ctx context.Context, t Target, clients int, warm, window time.Duration) (Result, error) {
	res := Result{Target: t.Name, Mode: "closed"}
	if _, err := readCPU(t.PID); err != nil {
		return res, err
	}
	start := time.Now()
	t0, t1 := start.Add(warm), start.Add(warm+window)
	var stop atomic.Bool
	workers := make([]*worker, clients)
	var wg sync.WaitGroup
	for i := range workers {
		w := newWorker()
		workers[i] = w
		wg.Go(func() {
			for !stop.Load() && ctx.Err() == nil {
				k := NextKind(w.rng)
				sent := time.Now()
				o, n := c.send(ctx, t.URL, w, k)
				if done := time.Now(); !done.Before(t0) && done.Before(t1) {
					w.tally.add(k, o, n, done.Sub(sent))
				}
			}
		})
	}
	var a, b cpuSample
	var err error
	if sleepUntil(ctx, t0) {
		a, err = readCPU(t.PID)
		if err == nil && sleepUntil(ctx, t1) {
			b, err = readCPU(t.PID)
		}
	}
	stop.Store(true)
	wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return res, err
	}
	res.Window = window
	res.charge(a, b)
	for _, w := range workers {
		res.merge(&w.tally)
	}
	sortDurations(res.Latencies)
	return res, nil
}

// Schedule is an open-loop plan: N sends at a fixed rate from Start, fixed
// before the first is sent.
type Schedule struct {
	Start time.Time
	Rate  float64 // per second
	N     int
}

// At is the planned send time of slot i.
func (s Schedule) At(i int) time.Time {
	return s.Start.Add(time.Duration(float64(i) * float64(time.Second) / s.Rate))
}

// End is the planned time just after the last slot.
func (s Schedule) End() time.Time { return s.At(s.N) }

// RunSchedule runs the slots of s on up to workers goroutines, each slot no
// earlier than its planned time. run gets the slot's planned time, so it
// measures latency from when the query should have gone out: if the server
// stalls and every worker is stuck waiting on it, the slots behind them go
// out late and that lateness is counted against the server, instead of the
// schedule quietly slipping (coordinated omission). Slots not started
// before ctx ends are returned as missed.
func RunSchedule(ctx context.Context, s Schedule, workers int, run func(worker, slot int, planned time.Time)) (missed int) {
	var next, started atomic.Int64
	var wg sync.WaitGroup
	for w := range max(workers, 1) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= s.N {
					return
				}
				planned := s.At(i)
				if !sleepUntil(ctx, planned) {
					return
				}
				started.Add(1)
				run(w, i, planned)
			}
		})
	}
	wg.Wait()
	return s.N - int(started.Load())
}

// openLoopLead is how far ahead of the first planned send the schedule is
// fixed, so that the workers are waiting before it starts.
const openLoopLead = 50 * time.Millisecond

// OpenLoop offers t queries at rate per second for window, on a schedule
// fixed in advance, with up to workers queries in flight; latency is
// measured from each query's planned send time (see RunSchedule). Queries
// still unsent grace after the end of the schedule are abandoned and
// counted as missed. Server CPU covers the schedule and the drain, all of it
// spent on the queries counted.
func (c *Client) OpenLoop(ctx context.Context, t Target, rate float64, window time.Duration, workers int, grace time.Duration) (Result, error) {
	res := Result{Target: t.Name, Mode: "open", Offered: rate}
	if rate <= 0 {
		return res, fmt.Errorf("open loop: rate must be positive")
	}
	a, err := readCPU(t.PID)
	if err != nil {
		return res, err
	}
	sched := Schedule{Start: time.Now().Add(openLoopLead), Rate: rate, N: int(rate * window.Seconds())}
	runCtx, cancel := context.WithDeadline(ctx, sched.End().Add(grace))
	defer cancel()
	ws := make([]*worker, max(workers, 1))
	for i := range ws {
		ws[i] = newWorker()
	}
	res.Missed = RunSchedule(runCtx, sched, len(ws), func(wi, _ int, planned time.Time) {
		w := ws[wi]
		k := NextKind(w.rng)
		o, n := c.send(runCtx, t.URL, w, k)
		w.tally.add(k, o, n, time.Since(planned))
	})
	end := time.Now()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	b, err := readCPU(t.PID)
	if err != nil {
		return res, err
	}
	// The schedule spans N intervals whatever the server does; a slower
	// server stretches the window by its drain.
	res.Window = max(end.Sub(sched.Start), sched.End().Sub(sched.Start))
	res.charge(a, b)
	for _, w := range ws {
		res.merge(&w.tally)
	}
	sortDurations(res.Latencies)
	return res, nil
}
