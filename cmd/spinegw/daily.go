package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"spinegw/clock"
	"spinegw/cpis"
	"spinegw/daily"
	"spinegw/soap"
	"spinegw/store"
)

// scheduleEvery is how often a serving gateway checks its clock for a daily
// cycle due, owed inactive NHS number notifications and undelivered
// messages: every few seconds, so that a clock moved by other means than the
// admin listener (a restart with a later --clock) is caught up soon.
const scheduleEvery = 2 * time.Second

// gatewayClock is the gateway's clock: the --clock setting plus an offset
// the admin listener moves forward. Queries, uploads and the daily cycle
// all read it.
func gatewayClock(spec string) (*clock.Adjustable, error) {
	base, err := parseClock(spec, timeNow)
	if err != nil {
		return nil, err
	}
	return clock.New(base), nil
}

// newRunner wires the daily cycle to a store, a clock and the mailbox
// folders.
func newRunner(cfg Config, db *store.DB, c cpis.Clock, log *slog.Logger) (*daily.Runner, error) {
	at, err := daily.ParseRunAt(cfg.DailyAt)
	if err != nil {
		return nil, fmt.Errorf("--daily-at: %w", err)
	}
	return &daily.Runner{Store: db, Clock: c, RunAt: at, Mailbox: cfg.MailboxDir, Log: log}, nil
}

// startDaily starts what serve adds for the daily cycle: the scheduler and
// the admin listener. It returns the main listener's handler with the HTTP
// mailbox mounted beside the SOAP endpoint, and a stop function that
// returns once the scheduler has stopped (so the store is closed after it).
// startDaily schedules the daily cycle and starts the admin listener; it
// returns the HTTP mailbox (served under /mailbox/) and the function that
// stops both.
func startDaily(ctx context.Context, cfg Config, db *store.DB, c *clock.Adjustable,
	log *slog.Logger, stdout io.Writer, peers *soap.PeerCheck) (http.Handler, func(), error) {
	runner, err := newRunner(cfg, db, c, log)
	if err != nil {
		return nil, nil, err
	}
	mailbox := soap.NewMailbox(soap.MailboxConfig{Store: db, Clock: c, Log: log, Peers: peers})

	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runner.Schedule(sctx, scheduleEvery)
	}()
	stopAdmin := func() {}
	admin := "off"
	if a := strings.TrimSpace(cfg.AdminListen); a != "" && a != "off" {
		addr, stop, err := startAdmin(a, cfg.AdminToken, c, runner, db, log)
		if err != nil {
			// The emulator still serves: a second gateway on one machine
			// keeps the default admin address of the first.
			admin = fmt.Sprintf("not started (%v)", err)
		} else {
			admin = "POST http://" + addr + "/admin/clock"
			if cfg.AdminToken != "" {
				admin += " (Authorization: Bearer token required)"
			}
			stopAdmin = stop
		}
	}
	fmt.Fprintf(stdout, "Daily cycle at %s Europe/London: notifications to %s/<LA ODS>/in and GET /mailbox/<LA ODS>/inbox; admin %s\n",
		runner.RunAt, cfg.MailboxDir, admin)
	return mailbox, func() {
		stopAdmin()
		cancel()
		<-done
	}, nil
}

func newRunDaily(stdout io.Writer) *cobra.Command {
	var atFlag string
	cmd := &cobra.Command{
		Use:   "run-daily",
		Short: "Run every daily cycle due up to an instant (access notifications, retention purge) and deliver to the mailbox folders",
		Long: `Runs, in order, every daily cycle whose run time (--daily-at, Europe/London) is at or before
--at (default: the --clock's now) and that has not run yet: each writes the day's Access to
Service Notifications to the outbox, the last one purges what retention no longer allows.
Inactive NHS Number Notifications owed are written too, then everything undelivered is
delivered to --mailbox-dir/<LA ODS>/in/. A store that never ran a cycle starts with the
latest day due. Safe to run beside a serving gateway on the same store: each LA gets one
notification per day whoever runs it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			c, err := gatewayClock(cfg.Clock)
			if err != nil {
				return err
			}
			at := c.Now()
			if atFlag != "" {
				if at, err = time.Parse(time.RFC3339, atFlag); err != nil {
					return fmt.Errorf("--at must be an RFC 3339 instant: %q", atFlag)
				}
				// What the run records (when a day was notified, a purge)
				// is stamped with the instant it runs at.
				c = clock.New(cpis.ClockFunc(func() time.Time { return at }))
			}
			db, err := store.Open(cfg.DB)
			if err != nil {
				return err
			}
			defer db.Close()
			runner, err := newRunner(cfg, db, c, nil)
			if err != nil {
				return err
			}
			days, err := runner.Tick(cmd.Context(), at)
			for _, d := range days {
				printDay(stdout, d)
			}
			if err != nil {
				return err
			}
			if len(days) == 0 {
				last := "none"
				if r, ok, err := db.LastDailyRun(cmd.Context()); err == nil && ok {
					last = r.Day.Format(time.DateOnly)
				}
				fmt.Fprintf(stdout, "no daily cycle due at %s (last day run: %s)\n", at.Format(time.RFC3339), last)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&atFlag, "at", "", "RFC 3339 instant to run the cycles due up to (default: the --clock's now)")
	addFlags(cmd.Flags(), "mailbox-dir", "daily-at")
	return cmd
}

func printDay(w io.Writer, d daily.DayResult) {
	note := ""
	if !d.Notified {
		note = " (committed by an earlier run)"
	}
	fmt.Fprintf(w, "day %s: %d access to service notifications, %d accesses%s", d.Day.Format(time.DateOnly),
		d.Notifications, d.Accesses, note)
	if d.Purged {
		fmt.Fprintf(w, "; purged %d plans, %d records; %d end-dated at 18; %d stale CPPs",
			d.Purge.Plans, d.Purge.Records, d.Purge.EndDated, d.Purge.StaleCPPs)
	}
	fmt.Fprintln(w)
}
