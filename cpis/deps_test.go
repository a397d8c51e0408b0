package cpis_test

import (
	"go/build"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The core holds the CP-IS rules free of any wire format or storage: no XML
// and no SQL package may reach it, directly or through another package, so
// that the wire (hl7, soap) and storage (store) depend on the core and never
// the other way round.
func TestCoreImportsNoXMLOrSQL(t *testing.T) {
	forbidden := []string{
		"encoding/xml",
		"database/sql",
		"github.com/beevik/etree",
		"github.com/mattn/go-sqlite3",
		"spinegw/internal/libxml2",
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(build.Default.GOROOT, "bin", "go")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	deps := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		deps[p] = true
	}
	if !deps["spinegw/cpis"] || !deps["time"] {
		t.Fatalf("go list -deps . did not list the core and its dependencies:\n%s", out)
	}
	for _, f := range forbidden {
		for p := range deps {
			if p == f || strings.HasPrefix(p, f+"/") {
				t.Errorf("spinegw/cpis depends on %s", p)
			}
		}
	}
}
