package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"spinegw/cpis"
	"spinegw/synth"
)

// UploadOptions configures `spinegw-bench upload`: LA Upload files processed
// by `spinegw upload` against a bare SQLite bulk insert of the same rows.
type UploadOptions struct {
	Spinegw string // the gateway binary
	Records int    // records in the large file: the whole England cohort (CP-IS083)
	Small   int    // records in the small file: an average LA's
	Repeat  int    // rounds per file, gateway and bare insert alternated
	Seed    int64  // the synthetic files' seed
	Log     io.Writer
	Out     io.Writer
}

// Product targets for LA Uploads on two cores: the whole England cohort in
// one file, and an average LA's file. Peak RSS is what streaming the file
// buys: it must not grow with the file.
const (
	cohortRecords     = 230_000
	averageLARecords  = 1_500
	targetCohortTime  = 10 * time.Second
	targetAverageTime = 200 * time.Millisecond
	targetUploadRSS   = 256 << 10 // KiB
)

// uploadClock is the instant the gateway is run at: the synthetic files are
// dated relative to synth.DefaultToday, so a run on any real date gets the
// same answers.
var uploadClock = synth.DefaultToday.Add(10 * time.Hour)

// Limits that keep a broken gateway from hanging the benchmark.
const (
	worldLoadLimit = 10 * time.Minute
	uploadLimit    = 5 * time.Minute
)

// uploadCase is one file size and what was measured on it.
type uploadCase struct {
	Name          string
	Records       int
	TargetRecords int           // the size the target is set for
	Target        time.Duration // wall time target at TargetRecords
	FileBytes     int64
	Expected      int // records that should succeed (CPR06)
	Rounds        []uploadRound
}

// uploadRound is one gateway run and one bare insert of the same rows.
type uploadRound struct {
	Wall      time.Duration // spinegw upload, start to exit
	CPU       time.Duration // its user + system time
	MaxRSSKiB int64
	Bare      time.Duration // the bare insert, open to close
	// OtherLoad is the CPU other processes used during the gateway run, in
	// cores: the shared machine's noise (see MachineBusy).
	OtherLoad float64
	Answer    fileAnswer
	Wrong     string // why the answer is not the expected one; "" when it is
}

// bareRow is a record the gateway should store, as the bare insert stores it.
type bareRow struct {
	NHS     string
	LocalID string
	Plans   []cpis.Plan
}

// RunUpload generates each file and its world, loads the world once per
// file, then for each round copies the loaded store, times `spinegw upload`
// on it as a child process (wall time; CPU and peak RSS from its rusage),
// checks the FileResponse it prints, and times a bare bulk insert of the rows
// the gateway should have stored into a fresh SQLite file. The order of the
// two alternates between rounds, so that a machine drifting over the run
// does not favour one. Every temporary file is removed before it returns.
// The error is nil whatever the targets say; it is not nil when the gateway
// fails or answers wrongly, after the report is written.
func RunUpload(ctx context.Context, o UploadOptions) error {
	spinegw, err := filepath.Abs(o.Spinegw)
	if err != nil {
		return err
	}
	if _, err := os.Stat(spinegw); err != nil {
		return fmt.Errorf("the gateway binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "spinegw-bench-upload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf := func(format string, args ...any) { fmt.Fprintf(o.Log, format+"\n", args...) }
	env := describeMachine(spinegw)

	cases := []*uploadCase{
		{Name: "Average LA file", Records: o.Small, TargetRecords: averageLARecords, Target: targetAverageTime},
		{Name: "England cohort file", Records: o.Records, TargetRecords: cohortRecords, Target: targetCohortTime},
	}
	var wrong error
	for _, c := range cases {
		if err := runUploadCase(ctx, o, spinegw, dir, c, logf); err != nil {
			return err
		}
		for i, r := range c.Rounds {
			if r.Wrong != "" && wrong == nil {
				wrong = fmt.Errorf("%s, round %d: the gateway answered wrongly: %s", c.Name, i+1, r.Wrong)
			}
		}
	}
	UploadReport(o.Out, env, o, cases)
	return wrong
}

func runUploadCase(ctx context.Context, o UploadOptions, spinegw, dir string, c *uploadCase, logf func(string, ...any)) error {
	so := synth.DefaultOptions()
	so.Records, so.Seed = c.Records, o.Seed
	caseDir := filepath.Join(dir, strconv.Itoa(c.Records))
	if err := os.Mkdir(caseDir, 0o755); err != nil {
		return err
	}
	// A file's data is gone as soon as it is measured: the cohort's file
	// and stores take a few hundred megabytes.
	defer os.RemoveAll(caseDir)

	filePath := filepath.Join(caseDir, "upload.xml")
	worldPath := filepath.Join(caseDir, "world.yaml")
	start := time.Now()
	codes, err := writeUploadFiles(filePath, worldPath, so)
	if err != nil {
		return err
	}
	st, err := os.Stat(filePath)
	if err != nil {
		return err
	}
	c.FileBytes = st.Size()
	rows, fileID, err := bareRows(so)
	if err != nil {
		return err
	}
	c.Expected = len(rows)
	logf("%s: %d records (%d should succeed), %.1f MB, generated in %.1f s", c.Name, c.Records, c.Expected,
		float64(c.FileBytes)/1e6, time.Since(start).Seconds())

	base := filepath.Join(caseDir, "base.db")
	start = time.Now()
	if err := runCommand(ctx, worldLoadLimit, spinegw, "world", "load", worldPath, "--db", base); err != nil {
		return err
	}
	logf("%s: world loaded in %.1f s", c.Name, time.Since(start).Seconds())

	for i := range o.Repeat {
		var r uploadRound
		gateway := func() error {
			db := filepath.Join(caseDir, "round.db")
			if err := copyStore(base, db); err != nil {
				return err
			}
			defer removeStore(db)
			out := filepath.Join(caseDir, "response.xml")
			defer os.Remove(out)
			if err := timeUpload(ctx, spinegw, filePath, db, out, &r); err != nil {
				return err
			}
			f, err := os.Open(out)
			if err != nil {
				return err
			}
			defer f.Close()
			r.Answer, err = parseFileResponse(f)
			if err != nil {
				r.Wrong = "the output is not a FileResponse: " + err.Error()
			} else {
				r.Wrong = r.Answer.check(codes)
			}
			return nil
		}
		bare := func() error {
			db := filepath.Join(caseDir, "bare.db")
			defer removeStore(db)
			d, err := BareInsert(db, so.LA, fileID, rows)
			r.Bare = d
			return err
		}
		steps := []func() error{gateway, bare}
		if i%2 == 1 {
			steps = []func() error{bare, gateway}
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return fmt.Errorf("%s, round %d: %w", c.Name, i+1, err)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		c.Rounds = append(c.Rounds, r)
		verdictNote := "answer as expected"
		if r.Wrong != "" {
			verdictNote = "WRONG ANSWER: " + r.Wrong
		}
		logf("%s round %d: gateway %.3f s (cpu %.3f s, peak RSS %.0f MB, %s), bare insert %.3f s", c.Name, i+1,
			r.Wall.Seconds(), r.CPU.Seconds(), float64(r.MaxRSSKiB)/1024, verdictNote, r.Bare.Seconds())
	}
	return nil
}

// writeUploadFiles writes the File and its world and returns the expected
// record-level codes.
func writeUploadFiles(filePath, worldPath string, so synth.Options) ([]string, error) {
	f, err := os.Create(filePath)
	if err != nil {
		return nil, err
	}
	world, codes, err := synth.WriteUpload(f, so)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write the upload file: %w", err)
	}
	wf, err := os.Create(worldPath)
	if err != nil {
		return nil, err
	}
	err = synth.WriteWorld(wf, world)
	if cerr := wf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write the world file: %w", err)
	}
	return codes, nil
}

// bareRows regenerates the file's records (the generator is deterministic)
// and keeps those the gateway should store.
func bareRows(so synth.Options) ([]bareRow, string, error) {
	rows := make([]bareRow, 0, so.Records)
	_, err := synth.Generate(so, func(r cpis.UploadRecord, code string) error {
		if code == cpis.CPR06 {
			rows = append(rows, bareRow{NHS: r.NHSNumber, LocalID: r.LocalID, Plans: r.Plans})
		}
		return nil
	})
	// The bare rows carry the file id, as the gateway's do (CP-IS019).
	return rows, so.ID(), err
}

// timeUpload runs `spinegw upload` with its output to out and fills r's
// wall time, CPU time and peak RSS.
func timeUpload(ctx context.Context, spinegw, file, db, out string, r *uploadRound) error {
	ctx, cancel := context.WithTimeout(ctx, uploadLimit)
	defer cancel()
	stdout, err := os.Create(out)
	if err != nil {
		return err
	}
	defer stdout.Close()
	cmd := exec.CommandContext(ctx, spinegw, "upload", file, "--db", db)
	// The clock by environment, which every spinegw command reads, so the
	// benchmark does not depend on which flags the upload command declares.
	cmd.Env = append(os.Environ(), "SPINEGW_CLOCK="+uploadClock.Format(time.RFC3339))
	var stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	busy0, busyErr := MachineBusy()
	start := time.Now()
	err = cmd.Run()
	r.Wall = time.Since(start)
	busy1, busyErr1 := MachineBusy()
	if err != nil {
		return fmt.Errorf("spinegw upload: %w\n%s", err, stderr.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSSKiB = ru.Maxrss // kilobytes on Linux
		r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	// The benchmark itself only waits meanwhile, so what the machine did
	// beyond the child's own CPU is someone else's. /proc/stat counts in
	// ticks, so a short run reads as a few ticks either way.
	r.OtherLoad = math.NaN()
	if busyErr == nil && busyErr1 == nil && r.Wall > 0 {
		r.OtherLoad = max(0, (busy1-busy0-r.CPU).Seconds()/r.Wall.Seconds())
	}
	return nil
}

// limitedBuffer keeps the first 8 KiB written to it: enough of a failing
// command's stderr to say why, bounded whatever it prints.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 8<<10 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }

// storeFiles are the files of an SQLite database in WAL mode.
func storeFiles(path string) []string { return []string{path, path + "-wal", path + "-shm"} }

// copyStore copies the database at src, with its WAL if one was left, to
// dst: loading the cohort's world takes far longer than an upload, so it is
// loaded once per file and each round starts from a copy.
func copyStore(src, dst string) error {
	removeStore(dst)
	for i, s := range storeFiles(src) {
		err := copyFile(s, storeFiles(dst)[i])
		if errors.Is(err, os.ErrNotExist) && i > 0 {
			continue
		}
		if err != nil {
			return fmt.Errorf("copy the store: %w", err)
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func removeStore(path string) {
	for _, f := range storeFiles(path) {
		_ = os.Remove(f)
	}
}
