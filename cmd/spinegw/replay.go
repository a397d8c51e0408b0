package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"spinegw/conformance"
)

func newReplay(stdout, stderr io.Writer) *cobra.Command {
	var (
		target, admin, junit, htmlOut, run string
		timeout                            time.Duration
	)
	cmd := &cobra.Command{
		Use:   "replay CASES...",
		Short: "Replay conformance cases against an endpoint (spinegw or a Spine test environment)",
		Long: `Replays conformance cases (folders holding request.xml and expect.yaml, or folders of
such folders, e.g. conformance/cases) against --target and checks each reply: HTTP status,
root and wsa:Action, XPath assertions, validity against a schema, and response.xml with ids
and timestamps ignored. Request/response cases run first, in name order, then cases of
steps (notifications) that need spinegw's admin listener (--admin); without it they are
reported as not applicable. Prints a table; --junit and --html write reports. The exit
status is 1 when any case fails. See docs/conformance.md.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if target == "" {
				return errors.New("--target URL is required (e.g. http://127.0.0.1:8080/sync-service)")
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			var sel *regexp.Regexp
			if run != "" {
				if sel, err = regexp.Compile(run); err != nil {
					return fmt.Errorf("--run: %w", err)
				}
			}
			cases, err := loadCases(args, sel)
			if err != nil {
				return err
			}
			if len(cases) == 0 {
				return errors.New("no cases to replay")
			}
			v, err := newValidator(cfg.Schemas)
			if err != nil {
				return err
			}
			r := &conformance.Replayer{Target: target, Admin: admin, Validator: v, Timeout: timeout,
				Client: &http.Client{Timeout: timeout}}
			rep := conformance.Report{Target: target, Admin: admin, Started: time.Now()}
			var bar *conformance.Progress
			if isTerminal(stderr) {
				bar = &conformance.Progress{W: stderr, Total: len(cases)}
			}
			for _, c := range cases {
				if bar != nil {
					bar.Start(c.Name)
				}
				res := r.Replay(cmd.Context(), c)
				rep.Results = append(rep.Results, res)
				if bar != nil {
					bar.Step(res)
				}
			}
			if bar != nil {
				bar.Done()
			}
			rep.Duration = time.Since(rep.Started)
			if err := rep.WriteTable(stdout); err != nil {
				return err
			}
			if junit != "" {
				if err := writeReport(junit, rep.WriteJUnit); err != nil {
					return err
				}
			}
			if htmlOut != "" {
				if err := writeReport(htmlOut, rep.WriteHTML); err != nil {
					return err
				}
			}
			if rep.Counts().Failed > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "URL to POST requests to, e.g. http://127.0.0.1:8080/sync-service")
	f.StringVar(&admin, "admin", "", "base URL of spinegw's admin listener (e.g. http://127.0.0.1:8081); cases of steps need it")
	f.StringVar(&junit, "junit", "", "write a JUnit XML report to this file")
	f.StringVar(&htmlOut, "html", "", "write an HTML report to this file")
	f.StringVar(&run, "run", "", "replay only the cases whose name matches this regular expression")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "time limit of one case (all its requests and steps)")
	addFlags(f, "schemas")
	return cmd
}

// loadCases reads each argument as a case folder (it holds expect.yaml) or
// a folder of case folders, keeps those sel matches, and puts them in
// replay order. A case named twice is replayed once.
func loadCases(args []string, sel *regexp.Regexp) ([]conformance.Case, error) {
	var cases []conformance.Case
	seen := map[string]bool{}
	add := func(c conformance.Case) {
		abs, _ := filepath.Abs(c.Dir)
		if seen[abs] || (sel != nil && !sel.MatchString(c.Name)) {
			return
		}
		seen[abs] = true
		cases = append(cases, c)
	}
	for _, a := range args {
		if _, err := os.Stat(filepath.Join(a, "expect.yaml")); err == nil {
			c, err := conformance.LoadCase(a)
			if err != nil {
				return nil, err
			}
			add(c)
			continue
		}
		all, err := conformance.Load(a)
		if err != nil {
			return nil, err
		}
		if len(all) == 0 {
			return nil, fmt.Errorf("%s: no case folders (request.xml + expect.yaml) in it", a)
		}
		for _, c := range all {
			add(c)
		}
	}
	conformance.Order(cases)
	return cases, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func writeReport(path string, write func(io.Writer) error) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
