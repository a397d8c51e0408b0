// Command spinegw is the NHS Spine CP-IS emulator: it serves CP-IS NHS
// Queries over SOAP, loads world files into its store and validates messages.
//
// This package only wires the parts together; the rules live in spinegw/cpis.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// exitError carries an exit status other than 1.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		fmt.Fprintln(stderr, "spinegw:", err)
		return 1
	}
	return 0
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "spinegw",
		Short:         "NHS Spine CP-IS emulator: HL7 V3 / SOAP gateway",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// --db, --clock and --config are global: every command that touches the
	// store or the time takes them.
	addFlags(root.PersistentFlags(), "db", "clock", "config")
	root.AddCommand(newServe(stdout, stderr), newWorld(stdout), newValidate(stdout), newUpload(stdout), newGen(stdout),
		newRunDaily(stdout), newPDS(stdout), newReplay(stdout, stderr), newSample(stdout),
		newAudit(stdout), newReport(stdout), newCerts(stdout))
	return root
}

// timeNow is the wall clock the --clock setting builds on.
var timeNow = time.Now

// memoryLimit is the soft heap limit spinegw keeps to unless GOMEMLIMIT says
// otherwise: a whole-cohort upload file (230,000 records) must be processed
// in at most 256 MB of resident memory, SQLite's page cache and libxml2's
// allocations included.
const memoryLimit = 160 << 20

// tuneGC sets the collector for a gateway: each query allocates a few tens of
// KB and the live heap is small, so with Go's default ratio the collector
// would run every few dozen queries. A larger ratio trades a little memory
// for a lot of CPU, and the soft limit bounds that memory. GOGC and
// GOMEMLIMIT, when set, still decide.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
