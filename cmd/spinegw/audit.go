package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"spinegw/store"
)

// Exit statuses of audit verify (docs/audit.md).
const (
	auditExitBroken   = 1 // the chain is broken, or the database cannot be read as it is
	auditExitNotValid = 2 // the check could not be made: no database, an unreadable key
)

func newAudit(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the tamper-evident audit trail (CP-IS073, CP-IS074, CP-IS076)",
	}
	cmd.AddCommand(newAuditVerify(stdout), newAuditShow(stdout))
	return cmd
}

func newAuditShow(stdout io.Writer) *cobra.Command {
	var from, to int64
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print audit entries as stored, one canonical JSON object a line (not verified: see audit verify)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if _, err := os.Stat(cfg.DB); err != nil {
				return err
			}
			db, err := store.Open(cfg.DB)
			if err != nil {
				return err
			}
			defer db.Close()
			entries, err := db.AuditEntries(cmd.Context(), from, to)
			if err != nil {
				return err
			}
			for _, e := range entries {
				fmt.Fprintf(stdout, "%s\n", e.Canonical())
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&from, "from", 0, "first seq to print")
	cmd.Flags().Int64Var(&to, "to", 0, "last seq to print (0: to the end)")
	return cmd
}

func newAuditVerify(stdout io.Writer) *cobra.Command {
	var keyPath string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Walk the audit hash chain and report the first modified, deleted, inserted or reordered entry",
		Long: `Walks the audit trail of the store (--db) from its latest signed checkpoint and
reports the first entry modified, deleted, inserted or reordered (docs/audit.md).
Checkpoint signatures are checked with the key file --key (default <db>.audit-key).

Exit status: 0 the chain is intact; 1 it is broken, or the database file cannot be
read as it is (SQLite reports it corrupt); 2 the check could not be made (no database
file, an unreadable key, signed checkpoints and no key).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			notValid := func(format string, args ...any) error {
				fmt.Fprintf(stdout, "audit: cannot verify: "+format+"\n", args...)
				return exitError{auditExitNotValid}
			}
			if _, err := os.Stat(cfg.DB); err != nil {
				return notValid("%v", err)
			}
			if keyPath == "" {
				keyPath = store.AuditKeyPath(cfg.DB)
			}
			var pub ed25519.PublicKey
			switch key, err := store.LoadAuditKey(keyPath, false); {
			case err == nil:
				pub = key.Public().(ed25519.PublicKey)
			case !errors.Is(err, fs.ErrNotExist):
				return notValid("%v", err)
			}
			broken := func(format string, args ...any) error {
				fmt.Fprintf(stdout, "audit chain BROKEN: "+format+"\n", args...)
				return exitError{auditExitBroken}
			}
			db, err := store.Open(cfg.DB)
			if err != nil {
				return broken("the database cannot be read: %v", err)
			}
			defer db.Close()
			v, err := db.VerifyAudit(cmd.Context(), pub)
			switch {
			case errors.Is(err, store.ErrAuditNoKey):
				return notValid("%v (key file %s)", err, keyPath)
			case err != nil:
				return broken("the audit trail cannot be read: %v", err)
			case !v.Intact:
				return broken("entry %d %s: %s", v.Seq, v.Problem, v.Message)
			}
			if v.Entries == 0 {
				fmt.Fprintf(stdout, "audit chain intact: no entries")
			} else {
				fmt.Fprintf(stdout, "audit chain intact: %d entries, seq %d to %d", v.Entries, v.First, v.Last)
			}
			if v.Pruned.Seq > 0 {
				fmt.Fprintf(stdout, "; checkpoint: %d entries pruned through seq %d at %s", v.Pruned.Count, v.Pruned.Seq,
					v.Pruned.At.UTC().Format(time.RFC3339))
			} else {
				fmt.Fprint(stdout, "; checkpoint: none (nothing pruned)")
			}
			fmt.Fprintf(stdout, "; %d signed head checkpoints matched\n", v.Heads)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "checkpoint signing key file (default <db>.audit-key)")
	return cmd
}
