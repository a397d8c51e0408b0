package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"
)

func newReplay(stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:    "replay CASES...",
		Short:  "Replay conformance cases against an endpoint",
		Hidden: true,
		RunE:   func(*cobra.Command, []string) error { return errors.New("replay is not built yet") },
	}
}
