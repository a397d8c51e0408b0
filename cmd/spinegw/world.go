package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"spinegw/store"
	"spinegw/world"
)

func newWorld(stdout io.Writer) *cobra.Command {
	w := &cobra.Command{Use: "world", Short: "Manage the emulated world (SDS, PDS, local authorities, records)"}
	w.AddCommand(&cobra.Command{
		Use:   "load FILE",
		Short: "Merge a world file into the store",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			wd, err := world.ReadFile(args[0])
			if err != nil {
				return err
			}
			db, err := store.Open(cfg.DB)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.MergeWorld(cmd.Context(), wd); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "loaded %s into %s: %d endpoints, %d users, %d patients, %d local authorities, %d records\n",
				args[0], cfg.DB, len(wd.Endpoints), len(wd.Users), len(wd.Patients), len(wd.LocalAuthorities), len(wd.Records))
			return nil
		},
	})
	return w
}
