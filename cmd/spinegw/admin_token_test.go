package main

import (
	"os"
	"path/filepath"
	"testing"
)

// Which admin addresses may go without a token.
func TestAdminLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8081": true, "127.8.9.1:8081": true, "[::1]:8081": true, "localhost:8081": true, "LocalHost:1": true,
		":8081": false, "0.0.0.0:8081": false, "[::]:8081": false, "10.0.0.5:8081": false, "gateway.example:8081": false,
		"127.0.0.1": false, // no port: not an address net.Listen takes
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v", addr, got)
		}
		if err := checkAdminAccess(addr, ""); (err == nil) != want {
			t.Errorf("checkAdminAccess(%q, no token): %v", addr, err)
		}
		if err := checkAdminAccess(addr, "t"); err != nil {
			t.Errorf("checkAdminAccess(%q, token): %v", addr, err)
		}
	}
}

// The token comes from --admin-token or the first line of
// --admin-token-file, not both.
func TestAdminTokenFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	os.WriteFile(file, []byte("  from-file \nsecond line\n"), 0o600)
	if tok, err := adminToken(Config{AdminTokenFile: file}); err != nil || tok != "from-file" {
		t.Errorf("file: %q %v", tok, err)
	}
	if tok, err := adminToken(Config{AdminToken: "flag"}); err != nil || tok != "flag" {
		t.Errorf("flag: %q %v", tok, err)
	}
	if _, err := adminToken(Config{AdminToken: "flag", AdminTokenFile: file}); err == nil {
		t.Error("both accepted")
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\nx\n"), 0o600)
	if _, err := adminToken(Config{AdminTokenFile: empty}); err == nil {
		t.Error("an empty first line accepted")
	}
}
