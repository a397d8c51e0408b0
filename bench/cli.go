package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usage = `spinegw-bench measures a spinegw gateway against a bare net/http handler.

Usage:
  spinegw-bench run --spinegw PATH [--pairs 5] [--seconds 5] [--clients 160] [--rate 500] [--children 5000]
  spinegw-bench world --children N --out FILE
  spinegw-bench bare --listen 127.0.0.1:PORT --size N

run     builds a synthetic world, loads it into a fresh store, starts the gateway
        and a bare server, runs alternating closed- and open-loop measurements and
        prints a Markdown report (PASS/MISS per target; the exit status does not
        depend on them).
world   writes a synthetic world file and, beside it, FILE's name with .mix.json:
        which NHS numbers should get a positive or negative answer.
bare    serves a fixed text/xml response of N bytes to every POST.
`

// Main runs the command line and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "run":
		err = runCmd(ctx, args[1:], stdout, stderr)
	case "world":
		err = worldCmd(args[1:], stderr)
	case "bare":
		err = bareCmd(ctx, args[1:], stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "spinegw-bench: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "spinegw-bench %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("spinegw-bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		return errUsage
	}
	return nil
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	o := RunOptions{Log: stderr, Out: stdout}
	fs.StringVar(&o.Spinegw, "spinegw", "", "path to the spinegw binary to measure (required)")
	fs.IntVar(&o.Pairs, "pairs", 5, "alternating gateway/bare measurement pairs")
	seconds := fs.Float64("seconds", 5, "measured seconds of each loop")
	warmup := fs.Float64("warmup", 1, "closed loop: unmeasured seconds before each measurement")
	fs.IntVar(&o.Clients, "clients", 160, "closed loop: concurrent clients (CP-IS086)")
	fs.Float64Var(&o.Rate, "rate", 500, "open loop: offered queries per second")
	fs.IntVar(&o.Workers, "inflight", 0, "open loop: most queries in flight (default: --clients)")
	fs.IntVar(&o.Children, "children", 5000, "subjects in the synthetic world")
	clock := fs.String("clock", DefaultClock.Format(time.RFC3339), "the gateway's clock at start (RFC 3339)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the synthetic world")
	if err := parse(fs, args); err != nil {
		return err
	}
	var err error
	if o.Clock, err = time.Parse(time.RFC3339, *clock); err != nil {
		return fmt.Errorf("--clock: %w", err)
	}
	o.Window = time.Duration(*seconds * float64(time.Second))
	o.Warmup = time.Duration(*warmup * float64(time.Second))
	if o.Workers == 0 {
		o.Workers = o.Clients
	}
	switch {
	case o.Spinegw == "":
		fmt.Fprintln(stderr, "--spinegw is required: the path to a built spinegw binary (go build -tags libsqlite3 -o bin/spinegw ./cmd/spinegw)")
		return errUsage
	case o.Pairs < 1, o.Window <= 0, o.Warmup < 0, o.Clients < 1, o.Rate <= 0, o.Workers < 1, o.Children < 1:
		fmt.Fprintln(stderr, "--pairs, --seconds, --clients, --rate, --inflight and --children must be positive")
		return errUsage
	}
	return Run(ctx, o)
}

func worldCmd(args []string, stderr io.Writer) error {
	fs := newFlags("world", stderr)
	children := fs.Int("children", 5000, "subjects with a CP-IS record")
	out := fs.String("out", "", "world file to write (required)")
	clock := fs.String("clock", DefaultClock.Format(time.RFC3339), "the instant the plans must be visible at (RFC 3339)")
	seed := fs.Uint64("seed", 1, "seed: the same seed gives the same world")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || *children < 1 {
		fmt.Fprintln(stderr, "--out is required and --children must be positive")
		return errUsage
	}
	at, err := time.Parse(time.RFC3339, *clock)
	if err != nil {
		return fmt.Errorf("--clock: %w", err)
	}
	return GenerateWorld(*children, at, *seed).WriteWorld(*out)
}

func bareCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("bare", stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "loopback address to listen on")
	size := fs.Int("size", 4096, "response size in bytes")
	if err := parse(fs, args); err != nil {
		return err
	}
	return ServeBare(ctx, *listen, *size)
}
