package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"spinegw/conformance"
	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/hl7/schema"
	"spinegw/soap"
	"spinegw/store"
	"spinegw/upload"
	"spinegw/world"
)

func newServe(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the CP-IS SOAP endpoint (POST /sync-service)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, stdout, stderr)
		},
	}
	addFlags(cmd.Flags(), "listen", "asid", "world", "schemas", "max-body", "mailbox-dir", "verification", "daily-at", "admin-listen",
		"tls-cert", "tls-key", "tls-client-ca", "admin-token", "admin-token-file")
	return cmd
}

// newValidator compiles the embedded schemas, or the set in dir.
func newValidator(dir string) (*hl7.Validator, error) {
	var fsys fs.FS = schema.FS
	if dir != "" {
		fsys = os.DirFS(dir)
	}
	return hl7.NewValidator(fsys, schema.Entry)
}

func serve(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	tuneGC()
	clock, err := gatewayClock(cfg.Clock)
	if err != nil {
		return err
	}
	maxBody, err := parseSize(cfg.MaxBody)
	if err != nil {
		return err
	}
	if len(cfg.ASID) != 12 {
		return fmt.Errorf("--asid must be 12 digits")
	}
	// The admin listener moves the clock and changes PDS: off loopback it
	// needs a token, checked before anything starts.
	if cfg.AdminToken, err = adminToken(cfg); err != nil {
		return err
	}
	if a := strings.TrimSpace(cfg.AdminListen); a != "" && a != "off" {
		if err := checkAdminAccess(a, cfg.AdminToken); err != nil {
			return err
		}
	}
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" || cfg.TLSKey != "" || cfg.TLSClientCA != "" {
		if tlsConfig, err = soap.TLSConfig(cfg.TLSCert, cfg.TLSKey, cfg.TLSClientCA); err != nil {
			return err
		}
	}
	validator, err := newValidator(cfg.Schemas)
	if err != nil {
		return err
	}
	db, err := store.Open(cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	var demo *cpis.World
	if cfg.World != "" {
		w, err := world.ReadFile(cfg.World)
		if err != nil {
			return err
		}
		if err := db.MergeWorld(ctx, w); err != nil {
			return err
		}
		demo = &w
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	// With TLS on, the client certificate must identify the endpoint a
	// message claims (CP-NHS018, CP-SC025); the world file gives the
	// endpoints' FQDNs. Without TLS, the ASIDs are trusted as they come.
	var peers *soap.PeerCheck
	if tlsConfig != nil {
		var eps []cpis.Endpoint
		if demo != nil {
			eps = demo.Endpoints
		}
		peers = soap.NewPeerCheck(eps)
	}
	uploads, err := newUploadService(cfg, db, clock)
	if err != nil {
		return err
	}
	mailbox := &upload.Mailbox{Dir: cfg.MailboxDir, Service: uploads, Log: logger}
	srv := soap.NewServer(soap.Config{
		Upload:    uploads,
		Service:   &cpis.Service{Store: db, Clock: clock},
		Validator: validator,
		ASID:      cfg.ASID,
		MaxBody:   maxBody,
		Log:       logger,
		Peers:     peers,
	})
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	hs := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         tlsConfig,
		// Failed handshakes and the like, as structured log lines.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme, security := "http", "no TLS: the ASIDs in messages and X-ASID are trusted"
	if tlsConfig != nil {
		scheme, security = "https", "mutual TLS: client certificates signed by "+cfg.TLSClientCA+" required"
	}
	url := scheme + "://" + ln.Addr().String() + "/sync-service"
	fmt.Fprintf(stdout, "spinegw listening on %s (ASID %s, store %s, clock %s; %s)\n", url, cfg.ASID, cfg.DB, cfg.Clock, security)
	if demo != nil {
		if err := printDemo(stdout, *demo, cfg, clock, url); err != nil {
			fmt.Fprintf(stdout, "(no demo query: %v)\n", err)
		}
	}
	mailboxHTTP, stopDaily, err := startDaily(ctx, cfg, db, clock, logger, stdout, peers)
	if err != nil {
		return err
	}
	defer stopDaily()
	hs.Handler = site{cfg: cfg, db: db, clock: clock, soap: srv, mailbox: mailboxHTTP,
		validator: validator, world: demo, log: logger}.handler()
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- hs.ServeTLS(ln, "", "")
			return
		}
		errc <- hs.Serve(ln)
	}()
	mctx, stopMailbox := context.WithCancel(ctx)
	defer stopMailbox()
	go func() { _ = mailbox.Run(mctx) }()
	fmt.Fprintf(stdout, "LA uploads: mailbox %s (<LA ODS>/out), SOAP action %s\n", cfg.MailboxDir, soap.ActionUpload)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// printDemo writes a positive query for the loaded world beside the store and
// prints the curl command that sends it.
func printDemo(w io.Writer, world cpis.World, cfg Config, clock cpis.Clock, url string) error {
	req, err := conformance.DemoQuery(world, cfg.ASID, clock.Now())
	if err != nil {
		return err
	}
	path := filepath.Join(filepath.Dir(cfg.DB), "demo-query.xml")
	if err := os.WriteFile(path, req.Body, 0o644); err != nil {
		return err
	}
	tlsOpts := ""
	if cfg.TLSClientCA != "" {
		// The files `spinegw certs dev` writes beside the CA: the server's
		// CA and the client certificate of the endpoint the query names.
		dir := filepath.Dir(cfg.TLSClientCA)
		asid := world.Endpoints[0].ASID
		tlsOpts = fmt.Sprintf("--cacert %s --cert %s --key %s ", filepath.Join(dir, "ca.pem"),
			filepath.Join(dir, asid+".pem"), filepath.Join(dir, asid+"-key.pem"))
	}
	fmt.Fprintf(w, "\nTry a positive CP-IS NHS Query (%s):\n\n  curl -s %s-H 'Content-Type: text/xml; charset=UTF-8' -H 'SOAPAction: %s' --data-binary @%s %s\n\n",
		req.Title, tlsOpts, soap.ActionQuery, path, url)
	return nil
}
