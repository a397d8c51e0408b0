package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"
)

func newAudit(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:    "audit",
		Hidden: true,
		RunE:   func(*cobra.Command, []string) error { return errors.New("audit is not built yet") },
	}
}
