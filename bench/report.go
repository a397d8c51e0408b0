package bench

import (
	"bufio"
	"debug/buildinfo"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"time"
)

// Machine describes where the figures were measured; they mean little
// without it.
type Machine struct {
	CPUs      int
	CPUModel  string
	GoBench   string
	GoGateway string
	LoadAvg   string
	Kernel    string
}

func describeMachine(gateway string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel(), GoBench: runtime.Version(), GoGateway: "unknown"}
	if bi, err := buildinfo.ReadFile(gateway); err == nil {
		m.GoGateway = bi.GoVersion
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// Targets of the product requirement, on two cores.
const (
	targetRatio    = 0.35 // closed-loop rate, gateway over bare
	targetP50      = 5.0  // ms, open loop at the offered rate
	targetCPUQuery = 0.7  // ms of gateway CPU per query, open loop
)

// noisyCores is the other processes' load above which the report warns
// that the machine was shared.
const noisyCores = 0.25

func verdict(ok bool, v float64) string {
	switch {
	case math.IsNaN(v):
		return "MISS (not measured)"
	case ok:
		return "PASS"
	}
	return "MISS"
}

func pcts(r *Result) string {
	return fmt.Sprintf("%.2f / %.2f / %.2f", ms(Percentile(r.Latencies, 50)), ms(Percentile(r.Latencies, 95)), ms(Percentile(r.Latencies, 99)))
}

func medianOf(pairs []Pair, f func(*Pair) float64) float64 {
	xs := make([]float64, len(pairs))
	for i := range pairs {
		xs[i] = f(&pairs[i])
	}
	return Median(xs)
}

func p(q float64) func(*Result) float64 {
	return func(r *Result) float64 {
		if len(r.Latencies) == 0 {
			return math.NaN()
		}
		return ms(Percentile(r.Latencies, q))
	}
}

// Report writes the results as Markdown, ready to paste into the docs.
func Report(w io.Writer, m Machine, o RunOptions, syn *Synthetic, size int, pairs []Pair) {
	pr := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	pr("## spinegw benchmark, %s", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	pr("")
	pr("| Machine | |")
	pr("|---|---|")
	pr("| CPU | %s |", m.CPUModel)
	pr("| Cores (nproc) | %d |", m.CPUs)
	pr("| Go | %s (load generator), %s (gateway) |", m.GoBench, m.GoGateway)
	pr("| Kernel | %s |", m.Kernel)
	pr("| Load average before the run | %s |", m.LoadAvg)
	pr("| World | %d subjects (%d records, %d patients), %d users, %d endpoints, %d local authorities |",
		o.Children, len(syn.World.Records), len(syn.World.Patients), len(syn.World.Users), len(syn.World.Endpoints), len(syn.World.LocalAuthorities))
	pr("| Query mix | %d%% positive, %d%% negative (no record), %d%% refused (no B0107) |", kindShares[Positive], kindShares[Negative], kindShares[Refused])
	pr("| Bare server | net/http handler returning a fixed %d-byte response (the median positive answer's size at start) |", size)
	pr("| Runs | %d alternating pairs; each loop %.1f s measured; closed loop %d clients after %.1f s warm-up; open loop %.0f q/s, up to %d in flight |",
		len(pairs), o.Window.Seconds(), o.Clients, o.Warmup.Seconds(), o.Rate, o.Workers)
	pr("")
	pr("Load generator and servers share the machine's cores. CPU per query is the server process's user+system time")
	pr("(/proc/<pid>/stat) over the measured interval divided by the queries answered in it. Open-loop latency is")
	pr("measured from each query's planned send time. \"Other load\" is the CPU used meanwhile by every process other")
	pr("than the server and the load generator (/proc/stat), in cores: the shared machine's noise.")
	pr("")

	pr("### Targets (medians over the pairs)")
	pr("")
	ratio := medianOf(pairs, func(p *Pair) float64 { return p.Ratio() })
	p50 := medianOf(pairs, func(x *Pair) float64 { return p(50)(&x.OpenGateway) })
	cpu := medianOf(pairs, func(p *Pair) float64 { return p.OpenGateway.CPUPerQuery() })
	pr("| Target | Median | Required | |")
	pr("|---|---:|---:|---|")
	pr("| Closed-loop rate, gateway / bare (%d clients) | %.2f | >= %.2f | %s |", o.Clients, ratio, targetRatio, verdict(ratio >= targetRatio, ratio))
	pr("| Open-loop p50 latency at %.0f q/s | %.2f ms | <= %.0f ms | %s |", o.Rate, p50, targetP50, verdict(p50 <= targetP50, p50))
	pr("| Gateway CPU per query at %.0f q/s | %.3f ms | <= %.1f ms | %s |", o.Rate, cpu, targetCPUQuery, verdict(cpu <= targetCPUQuery, cpu))
	pr("")
	// Other processes take whatever CPU the measured ones leave idle, so
	// this is a floor on the contention, not a measure of it.
	other := medianOf(pairs, func(p *Pair) float64 { return p.ClosedGateway.OtherLoad() })
	if other >= noisyCores {
		pr("Other processes kept %.2f of the %d cores busy (median, gateway closed loop): the machine was shared,", other, m.CPUs)
		pr("and rates and latencies are worse than an idle machine would give. CPU per query is less affected.")
		pr("")
	}

	pr("### Medians")
	pr("")
	pr("| Measure | Gateway | Bare |")
	pr("|---|---:|---:|")
	both := func(name, format string, f func(*Result) float64) {
		g := medianOf(pairs, func(x *Pair) float64 { return f(&x.ClosedGateway) })
		b := medianOf(pairs, func(x *Pair) float64 { return f(&x.ClosedBare) })
		pr("| %s | "+format+" | "+format+" |", name, g, b)
	}
	bothOpen := func(name, format string, f func(*Result) float64) {
		g := medianOf(pairs, func(x *Pair) float64 { return f(&x.OpenGateway) })
		b := medianOf(pairs, func(x *Pair) float64 { return f(&x.OpenBare) })
		pr("| %s | "+format+" | "+format+" |", name, g, b)
	}
	both("Closed loop: queries/s", "%.0f", (*Result).Rate)
	both("Closed loop: server CPU ms/query", "%.3f", (*Result).CPUPerQuery)
	both("Closed loop: load generator CPU ms/query", "%.3f", (*Result).ClientCPUPerQuery)
	both("Closed loop: p50 latency ms", "%.2f", p(50))
	both("Closed loop: p99 latency ms", "%.2f", p(99))
	bothOpen("Open loop: achieved queries/s", "%.0f", (*Result).Rate)
	bothOpen("Open loop: p50 latency ms", "%.2f", p(50))
	bothOpen("Open loop: p95 latency ms", "%.2f", p(95))
	bothOpen("Open loop: p99 latency ms", "%.2f", p(99))
	bothOpen("Open loop: server CPU ms/query", "%.3f", (*Result).CPUPerQuery)
	both("Mean response bytes (closed loop)", "%.0f", (*Result).MeanBytes)
	both("Closed loop: other processes' load, cores", "%.2f", (*Result).OtherLoad)
	bothOpen("Open loop: other processes' load, cores", "%.2f", (*Result).OtherLoad)
	pr("")

	pr("### Per pair")
	pr("")
	pr("| Pair | Closed q/s gateway | Closed q/s bare | Ratio | Gateway CPU ms/q closed | Open p50/p95/p99 ms gateway | Gateway CPU ms/q open | Open p50/p95/p99 ms bare | Gateway errors / unexpected / missed | Other load, cores (gateway closed / open) |")
	pr("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for i := range pairs {
		x := &pairs[i]
		errs := x.ClosedGateway.Errors() + x.OpenGateway.Errors()
		unexp := x.ClosedGateway.Unexpected() + x.OpenGateway.Unexpected()
		pr("| %d | %.0f | %.0f | %.2f | %.3f | %s | %.3f | %s | %d / %d / %d | %.2f / %.2f |", i+1,
			x.ClosedGateway.Rate(), x.ClosedBare.Rate(), x.Ratio(), x.ClosedGateway.CPUPerQuery(),
			pcts(&x.OpenGateway), x.OpenGateway.CPUPerQuery(), pcts(&x.OpenBare),
			errs, unexp, x.OpenGateway.Missed, x.ClosedGateway.OtherLoad(), x.OpenGateway.OtherLoad())
	}
	pr("")

	// What the gateway answered, by what each query should have got: the
	// proof that the load was the intended mix and was answered properly.
	var all Tally
	var bareErrs int64
	for i := range pairs {
		all.merge(&pairs[i].ClosedGateway.Tally)
		all.merge(&pairs[i].OpenGateway.Tally)
		bareErrs += pairs[i].ClosedBare.Errors() + pairs[i].OpenBare.Errors()
	}
	pr("### Gateway answers, all measured loops")
	pr("")
	var head, rule strings.Builder
	for o := range numOutcomes {
		fmt.Fprintf(&head, " %s |", o)
		rule.WriteString("---:|")
	}
	pr("| Query |%s", head.String())
	pr("|---|%s", rule.String())
	for k := range numKinds {
		var row strings.Builder
		for o := range numOutcomes {
			fmt.Fprintf(&row, " %d |", all.Count[k][o])
		}
		pr("| %s |%s", k, row.String())
	}
	if all.FirstErr != "" {
		pr("")
		pr("First transport error against the gateway: `%s`", all.FirstErr)
	}
	if bareErrs > 0 {
		pr("")
		pr("The bare server had %d errors: the load generator or the machine is the limit, not the gateway.", bareErrs)
	}
}
