package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"spinegw/cpis"
	"spinegw/store"
)

// reportNames are the reports `spinegw report` and GET /admin/reports/NAME
// serve (docs/reports.md).
var reportNames = []string{"statistics", "subject", "stale-cpp", "access"}

// reportRequest is what a report is asked for with, from flags or the
// query string.
type reportRequest struct {
	Name, From, To, NHS, LA, Format string
}

// buildReport reads the report asked for from the store at now.
func buildReport(ctx context.Context, db *store.DB, now time.Time, q reportRequest) (cpis.Report, error) {
	invalid := func(format string, args ...any) error {
		return cpis.Errorf(cpis.KindInvalid, "report", format, args...)
	}
	switch q.Format {
	case "", cpis.FormatTable, cpis.FormatCSV, cpis.FormatJSON:
	default:
		return cpis.Report{}, invalid("unknown format %q: table, csv or json", q.Format)
	}
	var nhs cpis.NHSNumber
	if q.NHS != "" {
		n, err := cpis.ParseNHSNumber(q.NHS)
		if err != nil {
			return cpis.Report{}, invalid("nhs: %q is not a valid NHS number", q.NHS)
		}
		nhs = n
	}
	la := strings.ToUpper(strings.TrimSpace(q.LA))
	today := cpis.Today(now)
	switch q.Name {
	case "statistics":
		if nhs != "" {
			return cpis.Report{}, invalid("statistics takes no NHS number")
		}
		per, err := cpis.ParsePeriod(q.From, q.To, now)
		if err != nil {
			return cpis.Report{}, err
		}
		s, err := db.ReportStatistics(ctx, per, today, la)
		return s.Report(), err
	case "subject":
		if nhs == "" {
			return cpis.Report{}, invalid("subject needs an NHS number (--nhs, or nhs= in the query)")
		}
		if q.From != "" || q.To != "" || la != "" {
			return cpis.Report{}, invalid("subject reports everything held and ever held: it takes no period or LA")
		}
		s, err := db.ReportSubject(ctx, nhs, today)
		return s.Report(), err
	case "stale-cpp":
		if q.From != "" {
			return cpis.Report{}, invalid("stale-cpp is as of one day: give it as --to (default today), not --from")
		}
		day := today
		if q.To != "" {
			d, err := cpis.ParseDay(q.To)
			if err != nil {
				return cpis.Report{}, err
			}
			day = d
		}
		s, err := db.ReportStaleCPPs(ctx, day, la, string(nhs))
		return s.Report(), err
	case "access":
		per, err := cpis.ParsePeriod(q.From, q.To, now)
		if err != nil {
			return cpis.Report{}, err
		}
		a, err := db.ReportAccess(ctx, per, la, string(nhs))
		return a.Report(), err
	}
	return cpis.Report{}, invalid("unknown report %q: %s", q.Name, strings.Join(reportNames, ", "))
}

func newReport(stdout io.Writer) *cobra.Command {
	var q reportRequest
	cmd := &cobra.Command{
		Use:   "report NAME",
		Short: "Print a CP-IS report: statistics, subject, stale-cpp or access (CP-IS077-081)",
		Long: `Prints a report read from the store (docs/reports.md):

  statistics  every figure of CP-IS077 for a period (current figures as of today)
  subject     CP-IS079 data protection report: everything held and ever held for --nhs
  stale-cpp   CP-IS080: CPPs with neither end nor delete date 2 years after their start, as of --to
  access      CP-IS081: who viewed or changed which records, from which organisation, when

Period: --from and --to are civil dates in England, YYYY-MM-DD, both included. Without
either, the last full calendar month; --from alone runs to today; --to alone starts on
the first of its month. Today is the --clock's.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: reportNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			c, err := parseClock(cfg.Clock, timeNow)
			if err != nil {
				return err
			}
			q.Name = args[0]
			// A report reads a store: it does not make an empty one.
			if _, err := os.Stat(cfg.DB); err != nil {
				return fmt.Errorf("report: no store at %s (--db)", cfg.DB)
			}
			db, err := store.Open(cfg.DB)
			if err != nil {
				return err
			}
			defer db.Close()
			r, err := buildReport(cmd.Context(), db, c.Now(), q)
			if err != nil {
				return reportError(err)
			}
			return r.Render(stdout, q.Format)
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.From, "from", "", "first day of the period, YYYY-MM-DD (included)")
	f.StringVar(&q.To, "to", "", "last day of the period, YYYY-MM-DD (included); for stale-cpp the day it is as of")
	f.StringVar(&q.NHS, "nhs", "", "one NHS number (subject: required; stale-cpp, access: a filter)")
	f.StringVar(&q.LA, "la", "", "one local authority's ODS code (statistics, stale-cpp, access)")
	f.StringVar(&q.Format, "format", cpis.FormatTable, "table, csv or json")
	return cmd
}

// reportError gives a user error its message alone, without the kind.
func reportError(err error) error {
	if e, ok := err.(*cpis.Error); ok && e.Kind == cpis.KindInvalid {
		return fmt.Errorf("report: %s", e.Msg)
	}
	return err
}
