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
)

const uploadUsage = `spinegw-bench upload measures LA Upload processing against a bare SQLite insert.

Usage:
  spinegw-bench upload --spinegw PATH [--records 230000] [--small 1500] [--repeat 3] [--seed 1]

For each file size (--small, then --records) it writes a synthetic File and its
world, loads the world into a fresh store, then over --repeat rounds times
'spinegw upload FILE --db DB' on a copy of that store, checks the FileResponse,
and times a bare bulk insert of the same rows. It prints a Markdown report
(PASS/MISS per target; the exit status does not depend on them, only on the
gateway failing or answering wrongly).
`

// UploadMain runs `spinegw-bench upload` and returns the exit status.
func UploadMain(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := uploadCmd(ctx, args, stdout, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "spinegw-bench upload: %v\n", err)
		return 1
	}
	return 0
}

func uploadCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("upload", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, uploadUsage) }
	o := UploadOptions{Log: stderr, Out: stdout}
	fs.StringVar(&o.Spinegw, "spinegw", "", "path to the spinegw binary to measure (required)")
	fs.IntVar(&o.Records, "records", cohortRecords, "records in the large file (the England cohort)")
	fs.IntVar(&o.Small, "small", averageLARecords, "records in the small file (an average LA's)")
	fs.IntVar(&o.Repeat, "repeat", 3, "rounds per file")
	fs.Int64Var(&o.Seed, "seed", 1, "seed of the synthetic files")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case o.Spinegw == "":
		fmt.Fprintln(stderr, "--spinegw is required: the path to a built spinegw binary (go build -tags libsqlite3 -o bin/spinegw ./cmd/spinegw)")
		return errUsage
	case o.Records < 1, o.Small < 1, o.Repeat < 1:
		fmt.Fprintln(stderr, "--records, --small and --repeat must be positive")
		return errUsage
	case o.Repeat > 50:
		fmt.Fprintln(stderr, "--repeat is at most 50")
		return errUsage
	}
	return RunUpload(ctx, o)
}
