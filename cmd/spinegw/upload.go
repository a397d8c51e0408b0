package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"spinegw/cpis"
	"spinegw/hl7/schema"
	"spinegw/internal/libxml2"
	"spinegw/store"
	"spinegw/synth"
	"spinegw/upload"
)

// newUploadService wires the LA Upload pipeline to a store.
func newUploadService(cfg Config, db *store.DB, clock cpis.Clock) (*upload.Service, error) {
	v, err := cpis.ParseVerification(cfg.Verification)
	if err != nil {
		return nil, err
	}
	var fsys fs.FS = schema.FS
	if cfg.Schemas != "" {
		fsys = os.DirFS(cfg.Schemas)
	}
	entry, _ := schema.Entry("File")
	sch, err := libxml2.CompileSchema(fsys, entry)
	if err != nil {
		return nil, fmt.Errorf("the LA Upload schema: %w", err)
	}
	return &upload.Service{Store: db, Schema: sch, Clock: clock, Verification: v}, nil
}

func newUpload(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upload FILE",
		Short: "Process an LA Upload file into the store and print its FileResponse",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			tuneGC()
			clock, err := parseClock(cfg.Clock, timeNow)
			if err != nil {
				return err
			}
			db, err := store.Open(cfg.DB)
			if err != nil {
				return err
			}
			defer db.Close()
			svc, err := newUploadService(cfg, db, clock)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			res, err := svc.Process(cmd.Context(), upload.Source{Route: upload.RouteCLI}, f)
			if err != nil {
				return err
			}
			_, err = stdout.Write(res.Response)
			return err
		},
	}
	addFlags(cmd.Flags(), "schemas", "verification")
	return cmd
}

func newGen(stdout io.Writer) *cobra.Command {
	gen := &cobra.Command{Use: "gen", Short: "Generate synthetic test data"}
	var o synth.Options
	var out, worldOut string
	up := &cobra.Command{
		Use:   "upload",
		Short: "Write a schema-valid LA Upload file of synthetic records and the world that goes with it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			w, codes, err := synth.WriteUpload(f, o)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if worldOut != "" {
				wf, err := os.Create(worldOut)
				if err != nil {
					return err
				}
				err = synth.WriteWorld(wf, w)
				if cerr := wf.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
			}
			fmt.Fprintf(stdout, "wrote %d records for %s to %s%s\n", len(codes), o.LA, out, worldSuffix(worldOut))
			return nil
		},
	}
	o = synth.DefaultOptions()
	up.Flags().IntVar(&o.Records, "records", 1500, "number of records")
	up.Flags().StringVar(&o.LA, "la", o.LA, "ODS code of the sending local authority")
	up.Flags().Int64Var(&o.Seed, "seed", 1, "random seed (the same seed writes the same file)")
	up.Flags().StringVar(&out, "out", "upload.xml", "the upload file to write")
	up.Flags().StringVar(&worldOut, "world-out", "", "the world file (PDS patients and the LA) to write")
	gen.AddCommand(up)
	return gen
}

func worldSuffix(w string) string {
	if w == "" {
		return ""
	}
	return " and its world to " + w
}
