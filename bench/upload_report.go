package bench

import (
	"fmt"
	"io"
	"math"
	"time"
)

func (c *uploadCase) median(f func(*uploadRound) float64) float64 {
	xs := make([]float64, len(c.Rounds))
	for i := range c.Rounds {
		xs[i] = f(&c.Rounds[i])
	}
	return Median(xs)
}

// peakRSSKiB is the largest peak over the rounds: the memory target is a
// ceiling, so the worst round is the one that counts.
func (c *uploadCase) peakRSSKiB() int64 {
	var m int64
	for _, r := range c.Rounds {
		m = max(m, r.MaxRSSKiB)
	}
	return m
}

func (c *uploadCase) wrong() int {
	n := 0
	for _, r := range c.Rounds {
		if r.Wrong != "" {
			n++
		}
	}
	return n
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func perSecond(n int, s float64) float64 {
	if s <= 0 || math.IsNaN(s) {
		return math.NaN()
	}
	return float64(n) / s
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// timeVerdict says whether the median wall time meets the case's target;
// the target is set for one file size, so another size gets no verdict.
func (c *uploadCase) timeVerdict(wall float64) string {
	switch {
	case c.wrong() > 0:
		return "FAIL (wrong answer)"
	case c.Records != c.TargetRecords:
		return fmt.Sprintf("n/a (target is for %d records)", c.TargetRecords)
	}
	return verdict(wall <= c.Target.Seconds(), wall)
}

func (c *uploadCase) rssVerdict() string {
	if c.wrong() > 0 {
		return "FAIL (wrong answer)"
	}
	rss := c.peakRSSKiB()
	if rss == 0 {
		return verdict(false, math.NaN())
	}
	return verdict(rss <= targetUploadRSS, float64(rss))
}

// UploadReport writes the LA Upload results as Markdown, in the style of
// Report.
func UploadReport(w io.Writer, m Machine, o UploadOptions, cases []*uploadCase) {
	pr := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	pr("## spinegw LA Upload benchmark, %s", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	pr("")
	pr("| Machine | |")
	pr("|---|---|")
	pr("| CPU | %s |", m.CPUModel)
	pr("| Cores (nproc) | %d |", m.CPUs)
	pr("| Go | %s (benchmark), %s (gateway) |", m.GoBench, m.GoGateway)
	pr("| Kernel | %s |", m.Kernel)
	pr("| Load average before the run | %s |", m.LoadAvg)
	pr("| Files | synthetic (package synth, seed %d): the England cohort mix of CP-IS083, 1%% of the records failing each record check (CPR01, CPR02, CPR03, CPR04, CPR05, CPR07) |", o.Seed)
	pr("| Runs | %d rounds per file, the gateway and the bare insert alternating which goes first |", o.Repeat)
	pr("")
	pr("Gateway: `spinegw upload FILE --db DB` as a child process on a copy of a store holding the file's world")
	pr("(PDS patients and the LA); wall time from start to exit (start-up, schema compilation, streaming validation,")
	pr("PDS checks, storing, and printing the FileResponse), CPU and peak RSS from the child's rusage. Every answer is")
	pr("checked against the codes the file was built to get. Bare: the records that should be stored, inserted into a")
	pr("fresh SQLite file in the same run with one prepared statement in one transaction, WAL and synchronous=NORMAL")
	pr("as in the store; no XML, no checks.")
	pr("")

	pr("### Targets")
	pr("")
	pr("| File | Records | Median time | Required | | Peak RSS (worst round) | Required | |")
	pr("|---|---:|---:|---:|---|---:|---:|---|")
	for _, c := range cases {
		wall := c.median(func(r *uploadRound) float64 { return seconds(r.Wall) })
		pr("| %s | %d | %.3f s | <= %.1f s | %s | %.0f MB | <= %d MB | %s |", c.Name, c.Records, wall, c.Target.Seconds(),
			c.timeVerdict(wall), mib(c.peakRSSKiB()), targetUploadRSS>>10, c.rssVerdict())
	}
	pr("")
	// As in Report: other processes take what the measured one leaves idle,
	// so this is a floor on the contention.
	for _, c := range cases {
		if other := c.median(func(r *uploadRound) float64 { return r.OtherLoad }); other >= noisyCores {
			pr("Other processes kept %.2f of the %d cores busy (median) while the gateway processed the file of %d records: the machine", other, m.CPUs, c.Records)
			pr("was shared, and its times are worse than an idle machine would give.")
			pr("")
		}
	}

	pr("### Medians")
	pr("")
	pr("| File | Records | File MB | Gateway s | Gateway records/s | Gateway CPU s | Bare insert s | Bare rows/s | Gateway / bare time |")
	pr("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range cases {
		wall := c.median(func(r *uploadRound) float64 { return seconds(r.Wall) })
		cpu := c.median(func(r *uploadRound) float64 { return seconds(r.CPU) })
		bare := c.median(func(r *uploadRound) float64 { return seconds(r.Bare) })
		ratio := c.median(func(r *uploadRound) float64 {
			if r.Bare <= 0 {
				return math.NaN()
			}
			return seconds(r.Wall) / seconds(r.Bare)
		})
		pr("| %s | %d | %.1f | %.3f | %.0f | %.3f | %.3f | %.0f | %.1f |", c.Name, c.Records, float64(c.FileBytes)/1e6,
			wall, perSecond(c.Records, wall), cpu, bare, perSecond(c.Expected, bare), ratio)
	}
	pr("")

	pr("### Per round")
	pr("")
	pr("| File | Round | Gateway s | CPU s | Peak RSS MB | Other load, cores | Bare s | Succeeded / expected | File code | Answer |")
	pr("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
	for _, c := range cases {
		for i, r := range c.Rounds {
			answer := "as expected"
			if r.Wrong != "" {
				answer = "WRONG: " + r.Wrong
			}
			pr("| %s | %d | %.3f | %.3f | %.0f | %.2f | %.3f | %d / %d | %s | %s |", c.Name, i+1, seconds(r.Wall), seconds(r.CPU),
				mib(r.MaxRSSKiB), r.OtherLoad, seconds(r.Bare), r.Answer.Succeeded, c.Expected, r.Answer.FileCode, answer)
		}
	}
}
