package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	fault := `<SOAP:Envelope xmlns:SOAP="http://schemas.xmlsoap.org/soap/envelope/"><SOAP:Body><SOAP:Fault><faultcode>SOAP:Server</faultcode></SOAP:Fault></SOAP:Body></SOAP:Envelope>`
	for _, tc := range []struct {
		status int
		body   string
		want   Outcome
	}{
		{200, `<Envelope><Body><REPC_IN000007GB01 xmlns="urn:hl7-org:v3"/></Body></Envelope>`, GotPositive},
		{200, `<Envelope><Body><QUQI_IN010000UK14 xmlns="urn:hl7-org:v3"/></Body></Envelope>`, GotQUQI},
		{500, fault, GotFault},
		{500, `<Envelope><Body><Fault/></Body></Envelope>`, Got5xx}, // not a closed Fault element
		{200, `<html>hello</html>`, GotOther2xx},
		{503, `overloaded`, Got5xx},
		{404, `not found`, GotOtherHTTP},
		{500, `<REPC_IN000007GB01/>`, Got5xx}, // an error status is never an answer
	} {
		if got := Classify(tc.status, []byte(tc.body)); got != tc.want {
			t.Errorf("Classify(%d, %.40q) = %s, want %s", tc.status, tc.body, got, tc.want)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	// utime 250 and stime 50 ticks; the command name holds a space and a
	// parenthesis, as a process may choose.
	line := "4242 (spine gw) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 123 456 789\n"
	got, err := parseStatCPU([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if got != 3*time.Second {
		t.Errorf("got %v, want 3s", got)
	}
	if _, err := parseStatCPU([]byte("4242 (short) S 1")); err == nil {
		t.Error("a truncated line was accepted")
	}
}

func TestParseMachineBusy(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice:
	// idle and iowait are not busy; guest is already counted in user.
	stat := "cpu  100 20 30 5000 40 5 6 7 50 0\ncpu0 50 10 15 2500 20 2 3 3 25 0\n"
	got, err := parseMachineBusy([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 168 * clockTick; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestProcessCPUOfSelf(t *testing.T) {
	if _, err := ProcessCPU(os.Getpid()); err != nil {
		t.Skipf("no /proc here: %v", err)
	}
}

// Every slot runs no earlier than planned, and latency counts from the
// planned time: with one worker and a 20 ms service every 5 ms, slot i ends
// at least 20(i+1) ms after the start although it was planned at 5i ms, so
// the backlog shows as 20+15i ms, not as 20 ms per query.
func TestRunScheduleMeasuresFromPlannedTime(t *testing.T) {
	t.Parallel()
	const service = 20 * time.Millisecond
	s := Schedule{Start: time.Now().Add(10 * time.Millisecond), Rate: 200, N: 8}
	lat := make([]time.Duration, s.N)
	var early []int
	missed := RunSchedule(context.Background(), s, 1, func(_, i int, planned time.Time) {
		if time.Now().Before(planned) {
			early = append(early, i)
		}
		time.Sleep(service)
		lat[i] = time.Since(planned)
	})
	if missed != 0 || len(early) != 0 {
		t.Fatalf("missed %d, started early %v", missed, early)
	}
	for i, l := range lat {
		if want := service + time.Duration(i)*(service-5*time.Millisecond); l < want {
			t.Errorf("slot %d latency %v, want at least %v (queueing behind a slow server hidden)", i, l, want)
		}
	}
	if !s.At(0).Equal(s.Start) || s.At(4).Sub(s.Start) != 20*time.Millisecond || !s.End().Equal(s.At(8)) {
		t.Errorf("schedule times: %v %v", s.At(4).Sub(s.Start), s.End().Sub(s.Start))
	}
}

func TestRunScheduleSpreadsOverWorkersAndStops(t *testing.T) {
	t.Parallel()
	s := Schedule{Start: time.Now(), Rate: 1000, N: 50}
	var mu sync.Mutex
	used := map[int]bool{}
	RunSchedule(context.Background(), s, 4, func(w, _ int, _ time.Time) {
		mu.Lock()
		used[w] = true
		mu.Unlock()
		time.Sleep(3 * time.Millisecond)
	})
	if len(used) < 2 {
		t.Errorf("only %d of 4 workers ran slots behind a slow server", len(used))
	}

	// A server that never answers: the deadline ends the loop and the slots
	// never started are reported.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	s = Schedule{Start: time.Now(), Rate: 1000, N: 1000}
	missed := RunSchedule(ctx, s, 2, func(_, _ int, _ time.Time) { <-ctx.Done() })
	if missed < 900 {
		t.Errorf("missed %d of 1000 slots, want most of them", missed)
	}
}

func TestBareBody(t *testing.T) {
	for _, size := range []int{0, 200, 4096, 12345} {
		b := BareBody(size)
		if size >= len(bareHead)+len(bareTail) && len(b) != size {
			t.Errorf("BareBody(%d) is %d bytes", size, len(b))
		}
		wellFormed(t, b)
		if Classify(200, b) != GotPositive {
			t.Errorf("BareBody(%d) does not read as a positive answer", size)
		}
	}
}

func TestBareHandlerRefusesGet(t *testing.T) {
	srv := httptest.NewServer(BareHandler(BareBody(100)))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET got %d", resp.StatusCode)
	}
	if err := ServeBare(context.Background(), "0.0.0.0:0", 10); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("a non-loopback address was accepted: %v", err)
	}
}

// The measuring loops take a URL and a pid; here the server is in process,
// so its CPU is this process's.
func TestLoopsAgainstInProcessServer(t *testing.T) {
	t.Parallel()
	m, _ := testMix(t)
	var mu sync.Mutex
	var bad []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("SOAPAction") != queryAction || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/xml") {
			mu.Lock()
			bad = append(bad, r.Header.Get("SOAPAction")+" "+r.Header.Get("Content-Type"))
			mu.Unlock()
		}
		BareHandler(BareBody(3000)).ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := NewClient(m, 8)
	defer c.Close()
	target := Target{Name: "in-process", URL: srv.URL, PID: os.Getpid()}

	closed, err := c.ClosedLoop(context.Background(), target, 8, 50*time.Millisecond, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if closed.Total() == 0 || closed.Errors() != 0 || closed.Rate() <= 0 || len(closed.Latencies) != int(closed.Total()) {
		t.Fatalf("closed loop: %d answers, %d errors (%s), rate %.0f", closed.Total(), closed.Errors(), closed.FirstErr, closed.Rate())
	}
	if closed.MeanBytes() != 3000 || closed.ServerCPU < 0 {
		t.Errorf("closed loop: mean %v bytes, cpu %v", closed.MeanBytes(), closed.ServerCPU)
	}
	// The bare answer is positive to every kind: the mix must have sent
	// all (with 500 queries, missing the 5% kind has odds of 1 in 10^11).
	for k := range numKinds {
		if closed.Count[k][GotPositive] == 0 && closed.Total() > 500 {
			t.Errorf("no %s query sent", k)
		}
	}

	open, err := c.OpenLoop(context.Background(), target, 400, 250*time.Millisecond, 8, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if open.Total() != 100 || open.Missed != 0 || open.Errors() != 0 {
		t.Fatalf("open loop: %d answers of 100, missed %d, errors %d (%s)", open.Total(), open.Missed, open.Errors(), open.FirstErr)
	}
	// However fast the server, the schedule holds the rate to the offer.
	if r := open.Rate(); r > 401 {
		t.Errorf("open loop achieved %.0f q/s offering 400", r)
	}
	if len(bad) > 0 {
		t.Errorf("requests without the SOAP headers: %v", bad[:1])
	}
}
