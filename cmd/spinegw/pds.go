package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"spinegw/cpis"
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
			n, err := runner.Supersede(cmd.Context(), old, replacement)
			if err != nil {
				return err
			}
			delivered, err := runner.Deliver(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "PDS: %s superseded by %s; %d inactive NHS number notifications written, %d delivered to %s\n",
				old, replacement, n, delivered, cfg.MailboxDir)
			return nil
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
			n, err := runner.Inactivate(cmd.Context(), old)
			if err != nil {
				return err
			}
			delivered, err := runner.Deliver(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "PDS: %s inactive; %d inactive NHS number notifications written, %d delivered to %s\n",
				old, n, delivered, cfg.MailboxDir)
			return nil
		},
	}
	addFlags(inactivate.Flags(), "mailbox-dir")
	p.AddCommand(inactivate)
	return p
}
