package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"
)

func newCerts(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:    "certs",
		Hidden: true,
		RunE:   func(*cobra.Command, []string) error { return errors.New("certs is not built yet") },
	}
}
