// Package gatewaytest starts an in-process spinegw gateway for tests: a
// fresh SQLite store holding a world, the SOAP endpoint with query and
// upload routes, and a frozen clock. Tests drive it over real HTTP.
package gatewaytest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/hl7/schema"
	"spinegw/internal/libxml2"
	"spinegw/soap"
	"spinegw/store"
	"spinegw/upload"
	"spinegw/world"
)

// Start serves the world in worldFile at the frozen instant now, as the
// gateway with ASID asid. The server and the store close when the test ends.
func Start(t testing.TB, worldFile string, now time.Time, asid string) (*httptest.Server, *store.DB) {
	t.Helper()
	w, err := world.ReadFile(worldFile)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "gateway.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MergeWorld(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	v, err := hl7.NewValidator(schema.FS, schema.Entry)
	if err != nil {
		t.Fatal(err)
	}
	entry, _ := schema.Entry("File")
	fileSchema, err := libxml2.CompileSchema(schema.FS, entry)
	if err != nil {
		t.Fatal(err)
	}
	clock := cpis.ClockFunc(func() time.Time { return now })
	srv := httptest.NewServer(soap.NewServer(soap.Config{
		Service:   &cpis.Service{Store: db, Clock: clock},
		Validator: v,
		ASID:      asid,
		MaxBody:   1 << 20,
		Upload:    &upload.Service{Store: db, Schema: fileSchema, Clock: clock, Verification: cpis.VerifyCurrent},
	}))
	t.Cleanup(srv.Close)
	return srv, db
}
