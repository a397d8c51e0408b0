package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spinegw/cpis"
	"spinegw/world"
)

// The generated file is read by the project's own strict world parser, and
// every NHS number gets the answer the mix lists promise, by the core's own
// visibility rules at the gateway's clock.
func TestGeneratedWorldParsesAndKeepsItsPromises(t *testing.T) {
	t.Parallel()
	syn := GenerateWorld(300, DefaultClock, 1)
	path := filepath.Join(t.TempDir(), "world.yaml")
	if err := syn.WriteWorld(path); err != nil {
		t.Fatal(err)
	}
	w, err := world.ReadFile(path)
	if err != nil {
		t.Fatalf("the world parser refuses the generated file: %v", err)
	}
	var lists MixLists
	b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "world.mix.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &lists); err != nil {
		t.Fatal(err)
	}
	if len(lists.Positive)+len(lists.Unborn) != 300 || len(lists.Negative) != 60 {
		t.Fatalf("mix lists: %d positive, %d unborn, %d negative", len(lists.Positive), len(lists.Unborn), len(lists.Negative))
	}

	patients := map[cpis.NHSNumber]cpis.Patient{}
	for _, p := range w.Patients {
		patients[p.NHSNumber] = p
	}
	las := map[string]cpis.LocalAuthority{}
	for _, la := range w.LocalAuthorities {
		las[la.ODS] = la
	}
	records := map[cpis.NHSNumber][]cpis.Record{}
	twoLAs := 0
	for _, r := range w.Records {
		r.LA = las[r.LA.ODS]
		records[r.NHSNumber] = append(records[r.NHSNumber], r)
		if len(records[r.NHSNumber]) == 2 {
			twoLAs++
		}
	}
	if twoLAs == 0 {
		t.Error("no subject is held by two local authorities")
	}
	today := cpis.Today(DefaultClock)
	shown := func(n string, jobRole string) int {
		return len(cpis.VisibleHoldings(records[cpis.NHSNumber(n)], patients[cpis.NHSNumber(n)].BirthDate, today, cpis.Viewer{JobRole: jobRole}))
	}
	for _, n := range lists.Positive {
		if shown(n, "R8000") == 0 {
			t.Errorf("positive %s shows nothing to a non-midwife", n)
		}
	}
	for _, n := range lists.Unborn {
		if shown(n, "R0680") == 0 || shown(n, "R8000") != 0 {
			t.Errorf("unborn %s should show to midwives only", n)
		}
	}
	for _, n := range lists.Negative {
		if _, ok := patients[cpis.NHSNumber(n)]; !ok || len(records[cpis.NHSNumber(n)]) > 0 {
			t.Errorf("negative %s should be known to PDS and have no record", n)
		}
	}
	for _, n := range append(append(lists.Positive, lists.Unborn...), lists.Negative...) {
		if !strings.HasPrefix(n, "999") || !cpis.ValidNHSNumber(n) {
			t.Errorf("%s is not a valid never-issued number", n)
		}
	}

	var viewers, midwives, refused int
	asids := map[string]bool{}
	for _, e := range w.Endpoints {
		asids[e.ASID] = true
	}
	for _, c := range syn.Callers() {
		if !asids[c.Endpoint.ASID] {
			t.Errorf("user %s has no endpoint", c.User.ID)
		}
		switch {
		case !c.Viewer():
			refused++
		case c.Midwife():
			midwives++
			viewers++
		default:
			viewers++
		}
	}
	if viewers != 200 || refused != 20 || midwives == 0 || len(w.Endpoints) != 20 || len(w.LocalAuthorities) != 20 {
		t.Errorf("%d viewers (%d midwives), %d refused, %d endpoints, %d LAs", viewers, midwives, refused, len(w.Endpoints), len(w.LocalAuthorities))
	}
}

func TestSidecarPath(t *testing.T) {
	for in, want := range map[string]string{
		"world.yaml":         "world.mix.json",
		"/tmp/a.b/world.yml": "/tmp/a.b/world.mix.json",
		"/tmp/a.b/world":     "/tmp/a.b/world.mix.json",
	} {
		if got := SidecarPath(in); got != want {
			t.Errorf("SidecarPath(%q) = %q, want %q", in, got, want)
		}
	}
}
