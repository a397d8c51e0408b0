package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"
)

func newSample(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:    "sample",
		Short:  "Print sample requests built from the world's identities",
		Hidden: true,
		RunE:   func(*cobra.Command, []string) error { return errors.New("sample is not built yet") },
	}
}
