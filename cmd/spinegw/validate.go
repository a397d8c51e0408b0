package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"spinegw/hl7"
	"spinegw/internal/libxml2"
	"spinegw/soap"
)

func newValidate(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Validate CP-IS messages (SOAP-wrapped or bare) against the schemas and Spine's checks",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			v, err := newValidator(cfg.Schemas)
			if err != nil {
				return err
			}
			bad := 0
			for _, f := range args {
				issues, err := validateFile(v, f)
				if err != nil {
					return err
				}
				if len(issues) == 0 {
					fmt.Fprintf(stdout, "%s: valid\n", f)
					continue
				}
				bad++
				for _, is := range issues {
					fmt.Fprintf(stdout, "%s:%d: %s\n", f, is.Line, is.Msg)
				}
			}
			if bad > 0 {
				fmt.Fprintf(stdout, "%d of %d files invalid\n", bad, len(args))
				return exitError{code: 1}
			}
			return nil
		},
	}
	addFlags(cmd.Flags(), "schemas")
	return cmd
}

// validateFile reports every problem of one file, each with its line.
func validateFile(v *hl7.Validator, path string) ([]hl7.Issue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := libxml2.Parse(data, libxml2.ParseOptions{})
	if err != nil {
		line := 0
		if pe, ok := err.(*libxml2.ParseError); ok {
			line = pe.Line
		}
		return []hl7.Issue{{Line: line, Msg: err.Error()}}, nil
	}
	defer doc.Free()
	msg := doc.Root()
	if msg.NamespaceURI() == soap.NSEnvelope {
		env, err := soap.ReadEnvelope(msg)
		if err != nil {
			return []hl7.Issue{{Line: msg.Line(), Msg: err.Error()}}, nil
		}
		msg = env.Body
	}
	return v.Validate(msg), nil
}
