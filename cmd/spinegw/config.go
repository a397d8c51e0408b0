package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"spinegw/cpis"
)

// Config is every setting of spinegw. Each comes, in order of precedence,
// from a flag, a SPINEGW_* environment variable, the YAML file named by
// --config, or its default.
type Config struct {
	Listen  string `mapstructure:"listen"`
	DB      string `mapstructure:"db"`
	ASID    string `mapstructure:"asid"`
	World   string `mapstructure:"world"`
	Clock   string `mapstructure:"clock"`
	Schemas string `mapstructure:"schemas"`
	MaxBody string `mapstructure:"max-body"`

	MailboxDir   string `mapstructure:"mailbox-dir"`
	Verification string `mapstructure:"verification"`

	DailyAt     string `mapstructure:"daily-at"`
	AdminListen string `mapstructure:"admin-listen"`

	// Endpoint security (docs/security.md).
	TLSCert        string `mapstructure:"tls-cert"`
	TLSKey         string `mapstructure:"tls-key"`
	TLSClientCA    string `mapstructure:"tls-client-ca"`
	AdminToken     string `mapstructure:"admin-token"`
	AdminTokenFile string `mapstructure:"admin-token-file"`
}

var defaults = Config{
	Listen:  "127.0.0.1:8080",
	DB:      "spinegw.db",
	ASID:    "990000000001",
	Clock:   "real",
	MaxBody: "1MiB",

	MailboxDir:   "./mailbox",
	Verification: "current",

	DailyAt:     "02:00",
	AdminListen: "127.0.0.1:8081",
}

// flagHelp documents each setting once, for every command that takes it.
var flagHelp = map[string]string{
	"listen":   "address to serve on",
	"db":       "SQLite database file",
	"asid":     "the gateway's own ASID (12 digits)",
	"world":    "world file (YAML) to merge into the store at start",
	"clock":    `"real", an RFC 3339 instant to freeze time at, or "offset:DURATION" (e.g. offset:72h, offset:-30d)`,
	"schemas":  "directory of an HL7 schema set (e.g. the NHS CP-IS set) to validate against instead of the embedded schemas",
	"max-body": "largest request body accepted (bytes, or with KiB/MiB suffix)",
	"config":   "YAML configuration file",

	"mailbox-dir":  "mailbox folder tree: DIR/<LA ODS>/out (uploads in), sent, in (answers out)",
	"verification": `how uploaded NHS numbers are verified against PDS: "current" or "cpis2015"`,

	"daily-at":     "time of day (HH:MM, Europe/London) the daily cycle runs: access notifications to LAs, retention purge",
	"admin-listen": `address of the admin listener (POST /admin/clock moves the clock forward); "off" for none`,

	"tls-cert":         "PEM server certificate (chain): serve TLS with mutual authentication (needs --tls-key and --tls-client-ca)",
	"tls-key":          "PEM private key of --tls-cert",
	"tls-client-ca":    "PEM CA certificate(s) that sign the endpoints' client certificates; a client certificate is then required",
	"admin-token":      "bearer token the admin listener requires (required when --admin-listen is not a loopback address)",
	"admin-token-file": "file holding the admin token (first line), instead of --admin-token",
}

func defaultOf(key string) string {
	switch key {
	case "listen":
		return defaults.Listen
	case "db":
		return defaults.DB
	case "asid":
		return defaults.ASID
	case "clock":
		return defaults.Clock
	case "max-body":
		return defaults.MaxBody
	case "mailbox-dir":
		return defaults.MailboxDir
	case "verification":
		return defaults.Verification
	case "daily-at":
		return defaults.DailyAt
	case "admin-listen":
		return defaults.AdminListen
	}
	return ""
}

// addFlags declares settings on a flag set.
func addFlags(fs *pflag.FlagSet, keys ...string) {
	for _, k := range keys {
		fs.String(k, defaultOf(k), flagHelp[k])
	}
}

// loadConfig resolves the settings for cmd. Flags are bound one by one
// (binding a whole flag set would bind --help and --config too and break the
// exact unmarshal that rejects unknown keys in the file).
func loadConfig(cmd *cobra.Command) (Config, error) {
	v := viper.NewWithOptions(viper.EnvKeyReplacer(strings.NewReplacer("-", "_")), viper.ExperimentalBindStruct())
	v.SetEnvPrefix("SPINEGW")
	v.AutomaticEnv()
	for _, k := range []string{"listen", "db", "asid", "world", "clock", "schemas", "max-body", "mailbox-dir", "verification", "daily-at", "admin-listen",
		"tls-cert", "tls-key", "tls-client-ca", "admin-token", "admin-token-file"} {
		v.SetDefault(k, defaultOf(k))
		if f := cmd.Flags().Lookup(k); f != nil {
			if err := v.BindPFlag(k, f); err != nil {
				return Config{}, err
			}
		}
	}
	file, _ := cmd.Flags().GetString("config")
	if file == "" {
		file = v.GetString("config")
	}
	if file != "" {
		v.SetConfigFile(file)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("config file %s: %w", file, err)
		}
	}
	var c Config
	if err := v.UnmarshalExact(&c); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// parseClock reads the --clock setting.
func parseClock(spec string, wall func() time.Time) (cpis.Clock, error) {
	switch {
	case spec == "" || spec == "real":
		return cpis.ClockFunc(wall), nil
	case strings.HasPrefix(spec, "offset:"):
		d, err := parseDuration(strings.TrimPrefix(spec, "offset:"))
		if err != nil {
			return nil, fmt.Errorf("--clock %s: %w", spec, err)
		}
		return cpis.ClockFunc(func() time.Time { return wall().Add(d) }), nil
	default:
		t, err := time.Parse(time.RFC3339, spec)
		if err != nil {
			return nil, fmt.Errorf(`--clock must be "real", an RFC 3339 instant or "offset:DURATION": %q`, spec)
		}
		return cpis.ClockFunc(func() time.Time { return t }), nil
	}
}

// parseDuration accepts Go durations plus whole days ("30d", "-2d12h").
func parseDuration(s string) (time.Duration, error) {
	if strings.TrimLeft(s, "+-") == "" {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimLeft(s, "+-")
	var days int64
	if i := strings.IndexByte(body, 'd'); i >= 0 {
		n, err := strconv.ParseInt(body[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		days, body = n, body[i+1:]
	}
	var rest time.Duration
	if body != "" {
		var err error
		if rest, err = time.ParseDuration(body); err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
	}
	d := time.Duration(days)*24*time.Hour + rest
	if neg {
		d = -d
	}
	return d, nil
}

// parseSize reads a byte size: a number with an optional KiB/MiB/KB/MB suffix.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000000}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("--max-body: not a size: %q", s)
	}
	return n * mult, nil
}
