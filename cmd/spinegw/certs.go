package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"spinegw/cpis"
	"spinegw/soap"
	"spinegw/store"
	"spinegw/world"
)

func newCerts(stdout io.Writer) *cobra.Command {
	certs := &cobra.Command{Use: "certs", Short: "Certificates for mutual TLS (serve --tls-cert, --tls-key, --tls-client-ca)"}
	var hosts []string
	var force bool
	dev := &cobra.Command{
		Use:   "dev DIR",
		Short: "Write a throwaway CA, a server certificate and a client certificate per endpoint, for local testing",
		Long: `Writes to DIR, for local testing only:

  ca.pem, ca-key.pem            a throwaway certificate authority
  server.pem, server-key.pem    the gateway's certificate for localhost, 127.0.0.1, ::1 and --host names
  <ASID>.pem, <ASID>-key.pem    a client certificate for each endpoint of the world (--world FILE,
                                or else the endpoints of the store at --db): its CN is the
                                endpoint's FQDN, also as a DNS name, or its ASID when it has none

Private keys are written with mode 0600. An existing CA in DIR is kept from being
overwritten unless --force. Never use these certificates outside a test machine.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			eps, source, err := certEndpoints(cmd, cfg)
			if err != nil {
				return err
			}
			return writeDevCerts(stdout, args[0], eps, source, cfg.World, hosts, force)
		},
	}
	addFlags(dev.Flags(), "world")
	dev.Flags().StringSliceVar(&hosts, "host", nil, "more names or addresses for the server certificate (repeat or comma-separate)")
	dev.Flags().BoolVar(&force, "force", false, "overwrite a CA already in DIR")
	certs.AddCommand(dev)
	return certs
}

// certEndpoints reads the endpoints from --world, or else from the store.
func certEndpoints(cmd *cobra.Command, cfg Config) ([]cpis.Endpoint, string, error) {
	if cfg.World != "" {
		w, err := world.ReadFile(cfg.World)
		if err != nil {
			return nil, "", err
		}
		return w.Endpoints, cfg.World, nil
	}
	if _, err := os.Stat(cfg.DB); err != nil {
		return nil, "", fmt.Errorf("give --world FILE, or --db naming an existing store: %w", err)
	}
	db, err := store.Open(cfg.DB)
	if err != nil {
		return nil, "", err
	}
	defer db.Close()
	v, err := db.WorldView(cmd.Context(), 0)
	if err != nil {
		return nil, "", err
	}
	return v.Endpoints, cfg.DB, nil
}

// writeDevCerts writes the files; cfgWorld is the --world file the
// endpoints came from, if they did.
func writeDevCerts(stdout io.Writer, dir string, eps []cpis.Endpoint, source, cfgWorld string, hosts []string, force bool) error {
	if len(eps) == 0 {
		return fmt.Errorf("%s has no endpoints to write client certificates for", source)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	caKey := filepath.Join(dir, "ca-key.pem")
	if _, err := os.Stat(caKey); err == nil && !force {
		return fmt.Errorf("%s already holds a CA (ca-key.pem): give --force to replace it and every certificate it signed", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	ca, err := soap.NewDevCA("spinegw development CA", timeNow())
	if err != nil {
		return err
	}
	files := []pemFile{{"ca.pem", ca.CertPEM, false}, {"ca-key.pem", ca.KeyPEM, true}}
	serverCert, serverKey, err := ca.Server(append([]string{"localhost", "127.0.0.1", "::1"}, hosts...)...)
	if err != nil {
		return err
	}
	files = append(files, pemFile{"server.pem", serverCert, false}, pemFile{"server-key.pem", serverKey, true})
	for _, e := range eps {
		var dns []string
		if e.FQDN != "" {
			dns = []string{e.FQDN}
		}
		cert, key, err := ca.Client(e.CertificateName(), dns...)
		if err != nil {
			return err
		}
		files = append(files, pemFile{e.ASID + ".pem", cert, false}, pemFile{e.ASID + "-key.pem", key, true})
	}
	for _, f := range files {
		if err := writeFileMode(filepath.Join(dir, f.name), f.data, f.key); err != nil {
			return err
		}
	}
	first := eps[0].ASID
	worldArg := "--db " + source
	if cfgWorld != "" {
		worldArg = "--world " + cfgWorld
	}
	fmt.Fprintf(stdout, "Wrote a throwaway CA, a server certificate and %d client certificates (one per endpoint of %s) to %s.\n", len(eps), source, dir)
	fmt.Fprintf(stdout, "For local testing only: anyone with ca-key.pem can sign certificates the gateway accepts.\n\n")
	fmt.Fprintf(stdout, "Serve with mutual TLS:\n\n  spinegw serve %s --tls-cert %s --tls-key %s --tls-client-ca %s\n\n",
		worldArg, filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"), filepath.Join(dir, "ca.pem"))
	fmt.Fprintf(stdout, "Query as endpoint %s (its certificate, and a message naming it as sender):\n\n  curl -s --cacert %s --cert %s --key %s -H 'Content-Type: text/xml; charset=UTF-8' -H 'SOAPAction: %s' --data-binary @QUERY.xml https://127.0.0.1:8080/sync-service\n",
		first, filepath.Join(dir, "ca.pem"), filepath.Join(dir, first+".pem"), filepath.Join(dir, first+"-key.pem"), soap.ActionQuery)
	return nil
}

// pemFile is one file certs dev writes; key marks a private key.
type pemFile struct {
	name string
	data []byte
	key  bool
}

// writeFileMode writes a certificate (0644) or a private key (0600), the
// mode set even on a file that existed with another.
func writeFileMode(path string, data []byte, key bool) error {
	mode := os.FileMode(0o644)
	if key {
		mode = 0o600
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}
