package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"spinegw/cpis"
	"spinegw/daily"
	"spinegw/store"
)

func newPDS(stdout io.Writer) *cobra.Command {
	p := &cobra.Command{Use: "pds", Short: "Change the emulated PDS (demographics)"}
	supersede := &cobra.Command{
		Use:   "supersede OLD NEW",
		Short: "Mark NHS number OLD superseded by NEW, and notify every LA holding records under OLD",
		Long: `Records in the emulated PDS that NHS number OLD is superseded by NEW (as a PDS merge does)
and, in the same transaction, writes an Inactive NHS Number Notification (REPC_MT000005GB01)
naming NEW to every local authority holding records under OLD (CP-IS012, CP-IS023), then
delivers them to --mailbox-dir/<LA ODS>/in/ (a serving gateway delivers them too; either way
each LA gets one). If PDS does not know NEW, it is added with OLD's demographics, so that
the LA can resubmit its records under NEW. The LAs' records stay under OLD until they do.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			old, err := cpis.ParseNHSNumber(args[0])
			if err != nil {
				return fmt.Errorf("OLD: %w", err)
			}
			replacement, err := cpis.ParseNHSNumber(args[1])
			if err != nil {
				return fmt.Errorf("NEW: %w", err)
			}
			return pdsChange(cmd, stdout, cfg, func(r *daily.Runner) (int, error) {
				return r.Supersede(cmd.Context(), old, replacement)
			}, fmt.Sprintf("%s superseded by %s", old, replacement))
		},
	}
	addFlags(supersede.Flags(), "mailbox-dir")
	p.AddCommand(supersede)

	inactivate := &cobra.Command{
		Use:   "inactivate OLD",
		Short: "Mark NHS number OLD inactive with no replacement, and notify every LA holding records under OLD",
		Long: `Records in the emulated PDS that NHS number OLD is no longer active, with no replacement
known, and, in the same transaction, writes an Inactive NHS Number Notification (REPC_MT000005GB01)
without a new number to every local authority holding records under OLD (CP-IS012, CP-IS023),
then delivers them to --mailbox-dir/<LA ODS>/in/ (a serving gateway delivers them too; either
way each LA gets one per number). A number already superseded stays superseded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			old, err := cpis.ParseNHSNumber(args[0])
			if err != nil {
				return fmt.Errorf("OLD: %w", err)
			}
			return pdsChange(cmd, stdout, cfg, func(r *daily.Runner) (int, error) {
				return r.Inactivate(cmd.Context(), old)
			}, fmt.Sprintf("%s inactive", old))
		},
	}
	addFlags(inactivate.Flags(), "mailbox-dir")
	p.AddCommand(inactivate)
	return p
}

// pdsChange opens the store, makes one PDS change through the daily runner
// (which writes the Inactive NHS Number Notifications it owes in the same
// transaction), delivers what the outbox holds and says what it did.
func pdsChange(cmd *cobra.Command, stdout io.Writer, cfg Config, change func(*daily.Runner) (int, error), what string) error {
	c, err := gatewayClock(cfg.Clock)
	if err != nil {
		return err
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
	n, err := change(runner)
	if err != nil {
		return err
	}
	delivered, err := runner.Deliver(cmd.Context())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "PDS: %s; %d inactive NHS number notifications written, %d delivered to %s\n",
		what, n, delivered, cfg.MailboxDir)
	return nil
}
