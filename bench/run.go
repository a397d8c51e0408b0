package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// RunOptions configures `spinegw-bench run`.
type RunOptions struct {
	Spinegw  string        // the gateway binary
	Pairs    int           // alternating gateway/bare measurement pairs
	Window   time.Duration // measured interval of each loop
	Warmup   time.Duration // closed loop: unmeasured lead-in
	Clients  int           // closed loop: concurrent clients
	Rate     float64       // open loop: offered queries/s
	Workers  int           // open loop: most queries in flight
	Children int           // synthetic world size
	Clock    time.Time     // the gateway's clock
	Seed     uint64        // synthetic world seed
	Log      io.Writer     // progress
	Out      io.Writer     // the report
}

// Pair is one round of measurements: each loop against the gateway, then
// against the bare server, back to back so that both see the same machine.
type Pair struct {
	ClosedGateway, ClosedBare Result
	OpenGateway, OpenBare     Result
}

// Ratio is the gateway's closed-loop rate over the bare server's.
func (p *Pair) Ratio() float64 {
	if r := p.ClosedBare.Rate(); r > 0 {
		return p.ClosedGateway.Rate() / r
	}
	return 0
}

// Run builds and loads a synthetic world, starts the gateway and the bare
// server, measures them in alternating pairs and writes the report. Every
// process it starts is stopped and every temporary file removed before it
// returns, whatever happens.
func Run(ctx context.Context, o RunOptions) error {
	spinegw, err := filepath.Abs(o.Spinegw)
	if err != nil {
		return err
	}
	if _, err := os.Stat(spinegw); err != nil {
		return fmt.Errorf("the gateway binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "spinegw-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf := func(format string, args ...any) { fmt.Fprintf(o.Log, format+"\n", args...) }
	// Described before anything starts, so the load average is the
	// machine's, not the world load's.
	env := describeMachine(spinegw)

	syn := GenerateWorld(o.Children, o.Clock, o.Seed)
	worldPath := filepath.Join(dir, "world.yaml")
	if err := syn.WriteWorld(worldPath); err != nil {
		return err
	}
	db := filepath.Join(dir, "spinegw.db")
	logf("loading a world of %d subjects (%d records, %d patients, %d users)",
		o.Children, len(syn.World.Records), len(syn.World.Patients), len(syn.World.Users))
	loadStart := time.Now()
	if err := runCommand(ctx, 5*time.Minute, spinegw, "world", "load", worldPath, "--db", db); err != nil {
		return err
	}
	logf("world loaded in %.1f s", time.Since(loadStart).Seconds())

	gwAddr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	gwURL := "http://" + gwAddr + "/sync-service"
	gw, err := startProcess("gateway", filepath.Join(dir, "gateway.log"), spinegw,
		"serve", "--listen", gwAddr, "--db", db, "--asid", GatewayASID, "--clock", o.Clock.Format(time.RFC3339))
	if err != nil {
		return err
	}
	defer gw.stop()

	mix, err := NewMix(syn, gwURL, o.Clock)
	if err != nil {
		return err
	}
	client := NewClient(mix, max(o.Clients, o.Workers))
	defer client.Close()
	if err := waitAnswering(ctx, gw, client, gwURL); err != nil {
		return err
	}
	size, err := checkGateway(ctx, client, gwURL, logf)
	if err != nil {
		return err
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	bareAddr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	bareURL := "http://" + bareAddr + "/sync-service"
	bare, err := startProcess("bare server", filepath.Join(dir, "bare.log"), self,
		"bare", "--listen", bareAddr, "--size", strconv.Itoa(size))
	if err != nil {
		return err
	}
	defer bare.stop()
	if err := waitAnswering(ctx, bare, client, bareURL); err != nil {
		return err
	}

	gwT := Target{Name: "gateway", URL: gwURL, PID: gw.pid()}
	bareT := Target{Name: "bare", URL: bareURL, PID: bare.pid()}
	grace := requestTimeout
	pairs := make([]Pair, 0, o.Pairs)
	for i := range o.Pairs {
		var p Pair
		steps := []struct {
			into *Result
			run  func() (Result, error)
		}{
			{&p.ClosedGateway, func() (Result, error) { return client.ClosedLoop(ctx, gwT, o.Clients, o.Warmup, o.Window) }},
			{&p.ClosedBare, func() (Result, error) { return client.ClosedLoop(ctx, bareT, o.Clients, o.Warmup, o.Window) }},
			{&p.OpenGateway, func() (Result, error) { return client.OpenLoop(ctx, gwT, o.Rate, o.Window, o.Workers, grace) }},
			{&p.OpenBare, func() (Result, error) { return client.OpenLoop(ctx, bareT, o.Rate, o.Window, o.Workers, grace) }},
		}
		for _, s := range steps {
			r, err := s.run()
			if err != nil {
				return fmt.Errorf("pair %d, %s loop against the %s: %w", i+1, r.Mode, r.Target, err)
			}
			// A server that died mid-loop shows as errors; say why instead.
			for _, proc := range []*process{gw, bare} {
				if proc.exited() {
					return fmt.Errorf("%s ended during the benchmark (%s); its last output:\n%s", proc.name, proc.end, proc.logTail())
				}
			}
			*s.into = r
			logf("pair %d %-6s %-7s %s", i+1, r.Mode, r.Target, summary(&r))
			// Let the server finish what the loop left behind (closing
			// idle work, garbage collection) before the next one starts.
			if !sleepUntil(ctx, time.Now().Add(250*time.Millisecond)) {
				return ctx.Err()
			}
		}
		pairs = append(pairs, p)
	}
	Report(o.Out, env, o, syn, size, pairs)
	return nil
}

func summary(r *Result) string {
	s := fmt.Sprintf("%7.0f q/s  cpu %.3f ms/q  p50 %6.2f ms  p99 %7.2f ms  other load %.2f  errors %d",
		r.Rate(), r.CPUPerQuery(), ms(Percentile(r.Latencies, 50)), ms(Percentile(r.Latencies, 99)), r.OtherLoad(), r.Errors())
	if r.Missed > 0 {
		s += fmt.Sprintf("  missed %d", r.Missed)
	}
	if r.FirstErr != "" {
		s += "  (" + r.FirstErr + ")"
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// checkGateway sends one query of each kind and stops the run if the gateway
// does not answer them as the world says it should: measuring a gateway
// that refuses or faults every query would measure the wrong thing. It
// returns the size of a positive response (the median of a few, to smooth
// out access history growing), which the bare server then returns.
func checkGateway(ctx context.Context, c *Client, url string, logf func(string, ...any)) (int, error) {
	for k := range numKinds {
		o, body, err := c.Probe(ctx, url, k)
		if err != nil {
			return 0, fmt.Errorf("probe %s query: %w", k, err)
		}
		logf("probe: a %s query got %s (%d bytes)", k, o, len(body))
		if o != k.expected() {
			return 0, fmt.Errorf("probe: a %s query should get %s but got %s:\n%s", k, k.expected(), o, abbreviateBody(body))
		}
	}
	var sizes []float64
	for range 9 {
		o, body, err := c.Probe(ctx, url, Positive)
		if err != nil {
			return 0, err
		}
		if o != GotPositive {
			return 0, fmt.Errorf("probe: a positive query got %s:\n%s", o, abbreviateBody(body))
		}
		sizes = append(sizes, float64(len(body)))
	}
	return int(Median(sizes)), nil
}

func abbreviateBody(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}

// process is a server the benchmark started and must stop.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	end  string // how it ended ("exit status 2", "signal: killed"), once done
}

func startProcess(name, logPath, path string, args ...string) (*process, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = f, f
	// The server dies with the benchmark even if the benchmark is killed
	// outright and its deferred clean-up never runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		if err := cmd.Wait(); err != nil {
			p.end = err.Error()
		} else {
			p.end = "exit status 0"
		}
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the process to end (SIGTERM), and kills it if it has not within
// five seconds.
func (p *process) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// logTail returns the last lines of the process's output, to explain a
// failure.
func (p *process) logTail() string {
	b, _ := os.ReadFile(p.log)
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// waitAnswering waits up to a minute for the server to answer HTTP at url
// (any answer: what it says is checked afterwards).
func waitAnswering(ctx context.Context, p *process, c *Client, url string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, _, err := c.Probe(pctx, url, Positive)
		cancel()
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s ended before answering (%s); its last output:\n%s", p.name, p.end, p.logTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer at %s within a minute: %v\n%s", p.name, url, err, p.logTail())
		}
		if !sleepUntil(ctx, time.Now().Add(100*time.Millisecond)) {
			return ctx.Err()
		}
	}
}

func runCommand(ctx context.Context, limit time.Duration, path string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v: %w\n%s", filepath.Base(path), args, err, bytes.TrimSpace(out))
	}
	return nil
}

// freeLoopbackAddr returns a loopback address with a port free right now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}
