package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"
)

func newReport(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:    "report",
		Hidden: true,
		RunE:   func(*cobra.Command, []string) error { return errors.New("report is not built yet") },
	}
}
