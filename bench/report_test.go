package bench

import (
	"strings"
	"testing"
	"time"
)

func fakeResult(mode string, n int, window time.Duration, cpu time.Duration, lat time.Duration) Result {
	r := Result{Mode: mode, Window: window, ServerCPU: cpu}
	r.Count[Positive][GotPositive] = int64(n)
	for range n {
		r.Latencies = append(r.Latencies, lat)
	}
	return r
}

func TestReportJudgesEachTarget(t *testing.T) {
	second := time.Second
	// Gateway: 1000 q/s closed against 2000 bare (ratio 0.5, PASS); open
	// loop p50 8 ms (MISS) and 0.5 ms CPU per query (PASS).
	p := Pair{
		ClosedGateway: fakeResult("closed", 1000, second, 800*time.Millisecond, 100*time.Millisecond),
		ClosedBare:    fakeResult("closed", 2000, second, 100*time.Millisecond, 50*time.Millisecond),
		OpenGateway:   fakeResult("open", 500, second, 250*time.Millisecond, 8*time.Millisecond),
		OpenBare:      fakeResult("open", 500, second, 50*time.Millisecond, time.Millisecond),
	}
	var b strings.Builder
	syn := GenerateWorld(20, DefaultClock, 1)
	o := RunOptions{Clients: 160, Rate: 500, Window: second, Workers: 160, Children: 20}
	Report(&b, Machine{CPUs: 2, CPUModel: "Test CPU", GoBench: "go1.26", GoGateway: "go1.26"}, o, syn, 4000, []Pair{p, p, p})
	out := b.String()
	for _, want := range []string{
		"| CPU | Test CPU |",
		"| Cores (nproc) | 2 |",
		"| Closed-loop rate, gateway / bare (160 clients) | 0.50 | >= 0.35 | PASS |",
		"| Open-loop p50 latency at 500 q/s | 8.00 ms | <= 5 ms | MISS |",
		"| Gateway CPU per query at 500 q/s | 0.500 ms | <= 0.7 ms | PASS |",
		"| positive | 4500 | 0 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
