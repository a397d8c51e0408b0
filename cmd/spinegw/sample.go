package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"spinegw/conformance"
	"spinegw/cpis"
	"spinegw/soap"
	"spinegw/store"
	"spinegw/world"
)

func newSample(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sample",
		Short: "Print sample requests built from the world's identities",
	}
	cmd.AddCommand(newSampleQuery(stdout))
	return cmd
}

// sampleQueryFlags are the sample query command's own flags: what to ask
// and as whom. They are not settings (no environment or file).
type sampleQueryFlags struct {
	nhs, user, roleProfile, fromASID string
}

func newSampleQuery(stdout io.Writer) *cobra.Command {
	var f sampleQueryFlags
	cmd := &cobra.Command{
		Use:   "query --nhs NHS_NUMBER --user SDS_USER_ID [--role-profile ID] [--from-asid ASID]",
		Short: "Print a CP-IS NHS Query (a complete SOAP request) to stdout",
		Long: `Prints a CP-IS NHS Query (QUPC_IN000006GB01), a complete SOAP request, built
from the world's identities: the SDS user with one of its role profiles (by
default its first holding B0107, else its first), sent from a world endpoint
(by default the first) to the gateway (--asid), stamped with the clock
(--clock). The world is read from the store (--db), or from --world FILE.

Only the XML goes to stdout; the SOAPAction and a curl command that sends it
go to stderr:

  spinegw sample query --nhs 9990001006 --user 200009876205 |
    curl -s -H 'Content-Type: text/xml; charset=UTF-8' \
      -H 'SOAPAction: ` + soap.ActionQuery + `' \
      --data-binary @- http://127.0.0.1:8080/sync-service`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return sampleQuery(cmd.Context(), cfg, f, stdout, cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.nhs, "nhs", "", "NHS number to ask about (10 digits)")
	fl.StringVar(&f.user, "user", "", "SDS user id of the person asking (a user of the world)")
	fl.StringVar(&f.roleProfile, "role-profile", "", "the user's role profile to ask through (default: its first holding B0107, else its first)")
	fl.StringVar(&f.fromASID, "from-asid", "", "ASID of the world endpoint sending the query (default: the first)")
	_ = cmd.MarkFlagRequired("nhs")
	_ = cmd.MarkFlagRequired("user")
	addFlags(fl, "asid", "world")
	return cmd
}

func sampleQuery(ctx context.Context, cfg Config, f sampleQueryFlags, stdout, stderr io.Writer) error {
	nhs := strings.TrimSpace(f.nhs)
	if len(nhs) != 10 || strings.Trim(nhs, "0123456789") != "" {
		return fmt.Errorf("--nhs %q: an NHS number is 10 digits", f.nhs)
	}
	if len(cfg.ASID) != 12 || strings.Trim(cfg.ASID, "0123456789") != "" {
		return fmt.Errorf("--asid %q: the gateway's ASID is 12 digits", cfg.ASID)
	}
	clock, err := parseClock(cfg.Clock, timeNow)
	if err != nil {
		return err
	}
	w, from, err := sampleWorld(ctx, cfg)
	if err != nil {
		return err
	}
	user, ok := findUser(w.Users, f.user)
	if !ok {
		return fmt.Errorf("--user %q: no SDS user of that id in %s (users: %s)", f.user, from, userIDs(w.Users))
	}
	rp, err := pickProfile(user, f.roleProfile)
	if err != nil {
		return err
	}
	ep, err := pickEndpoint(w.Endpoints, f.fromASID, from)
	if err != nil {
		return err
	}
	q := conformance.NewQuery(cfg.ASID, ep, user, rp, nhs, clock.Now())
	if _, err := stdout.Write(q.Render()); err != nil {
		return err
	}
	if !cpis.ValidNHSNumber(nhs) {
		fmt.Fprintf(stderr, "note: %s fails its check digit: the gateway answers it with SMSP-0001 (input validation)\n", nhs)
	}
	if !rp.Has(cpis.ActivityViewCPIS) || !user.Enabled {
		fmt.Fprintf(stderr, "note: user %s through role profile %s is refused (SMSP-0005): disabled, or no B0107\n", user.ID, rp.ID)
	}
	fmt.Fprintf(stderr, "CP-IS NHS Query by %s (%s, role profile %s) from %s (ASID %s) to gateway ASID %s\n",
		user.Name, rp.JobRole.Name, rp.ID, ep.Name, ep.ASID, cfg.ASID)
	fmt.Fprintf(stderr, "SOAPAction: %s\n", soap.ActionQuery)
	fmt.Fprintf(stderr, "send it: ... | curl -s -H 'Content-Type: text/xml; charset=UTF-8' -H 'SOAPAction: %s' --data-binary @- http://%s/sync-service\n",
		soap.ActionQuery, cfg.Listen)
	return nil
}

// sampleWorld reads the world's identities from --world, else from the
// store, and says where they came from.
func sampleWorld(ctx context.Context, cfg Config) (cpis.World, string, error) {
	if cfg.World != "" {
		w, err := world.ReadFile(cfg.World)
		return w, cfg.World, err
	}
	// Opening a store creates it: a mistyped --db would give an empty one.
	if _, err := os.Stat(cfg.DB); errors.Is(err, os.ErrNotExist) {
		return cpis.World{}, "", fmt.Errorf("--db %s: no such store; load a world into it (spinegw world load) or give --world FILE", cfg.DB)
	}
	db, err := store.Open(cfg.DB)
	if err != nil {
		return cpis.World{}, "", err
	}
	defer db.Close()
	v, err := db.WorldView(ctx, 0) // the directory is all a query needs
	if err != nil {
		return cpis.World{}, "", err
	}
	return v.World, "the store " + cfg.DB, nil
}

func findUser(users []cpis.User, id string) (cpis.User, bool) {
	for _, u := range users {
		if u.ID == id {
			return u, true
		}
	}
	return cpis.User{}, false
}

func userIDs(users []cpis.User) string {
	if len(users) == 0 {
		return "none"
	}
	ids := make([]string, 0, len(users))
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	return strings.Join(ids, ", ")
}

// pickProfile returns the user's role profile id, or by default its first
// holding B0107, else its first.
func pickProfile(u cpis.User, id string) (cpis.RoleProfile, error) {
	if len(u.RoleProfiles) == 0 {
		return cpis.RoleProfile{}, fmt.Errorf("--user %s: the user has no role profiles", u.ID)
	}
	if id != "" {
		if rp, ok := u.Profile(id); ok {
			return rp, nil
		}
		ids := make([]string, 0, len(u.RoleProfiles))
		for _, rp := range u.RoleProfiles {
			ids = append(ids, rp.ID)
		}
		return cpis.RoleProfile{}, fmt.Errorf("--role-profile %q: user %s holds no such role profile (it holds: %s)", id, u.ID, strings.Join(ids, ", "))
	}
	for _, rp := range u.RoleProfiles {
		if rp.Has(cpis.ActivityViewCPIS) {
			return rp, nil
		}
	}
	return u.RoleProfiles[0], nil
}

func pickEndpoint(eps []cpis.Endpoint, asid, from string) (cpis.Endpoint, error) {
	if len(eps) == 0 {
		return cpis.Endpoint{}, fmt.Errorf("%s has no endpoints to send from", from)
	}
	if asid == "" {
		return eps[0], nil
	}
	asids := make([]string, 0, len(eps))
	for _, ep := range eps {
		if ep.ASID == asid {
			return ep, nil
		}
		asids = append(asids, ep.ASID)
	}
	return cpis.Endpoint{}, fmt.Errorf("--from-asid %q: no endpoint of that ASID in %s (endpoints: %s)", asid, from, strings.Join(asids, ", "))
}
