package upload_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/hl7/schema"
	"spinegw/internal/libxml2"
	"spinegw/store"
	"spinegw/synth"
	"spinegw/upload"
)

var today = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

type env struct {
	db   *store.DB
	svc  *upload.Service
	ack  *libxml2.Schema // the official FileResponse schema
	file []byte
	want []string // expected record codes by position
	opts synth.Options
}

// newEnv makes a store holding the world of a synthetic upload, and the file.
func newEnv(t *testing.T, o synth.Options) *env {
	t.Helper()
	var file bytes.Buffer
	w, codes, err := synth.WriteUpload(&file, o)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "up.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MergeWorld(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	entry, _ := schema.Entry("File")
	sch, err := libxml2.CompileSchema(schema.FS, entry)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := libxml2.CompileSchema(os.DirFS("../../shared/spine-schemas/CPIS"), "Schemas/REPC_MT000003GB01.xsd")
	if err != nil {
		t.Fatal(err)
	}
	svc := &upload.Service{Store: db, Schema: sch, Clock: cpis.ClockFunc(func() time.Time { return today }), Verification: cpis.VerifyCurrent}
	return &env{db: db, svc: svc, ack: ack, file: file.Bytes(), want: codes, opts: o}
}

func small() synth.Options {
	o := synth.DefaultOptions()
	o.Records = 120
	o.LA = "V145"
	o.Today = cpis.Date(2026, 11, 22)
	o.Unknown, o.Sensitive, o.NotVerified, o.OldStyle, o.Superseded, o.MissingData = 0.05, 0.05, 0.05, 0.05, 0.05, 0.05
	return o
}

func (e *env) process(t *testing.T, src upload.Source, file []byte) upload.Result {
	t.Helper()
	res, err := e.svc.Process(context.Background(), src, bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libxml2.Parse(res.Response, libxml2.ParseOptions{MaxBytes: 64 << 20})
	if err != nil {
		t.Fatalf("FileResponse is not XML: %v", err)
	}
	defer doc.Free()
	for _, v := range e.ack.ValidateDocument(doc) {
		t.Errorf("FileResponse fails the official schema: line %d: %s", v.Line, v.Msg)
	}
	return res
}

func count(codes []string, code string) int {
	n := 0
	for _, c := range codes {
		if c == code {
			n++
		}
	}
	return n
}

// CP-IS002, CP-IS017, CP-IS018: every record gets the code its data calls
// for, the counts add up, and the file code says "some succeeded".
func TestRecordCodesAndCounts(t *testing.T) {
	e := newEnv(t, small())
	res := e.process(t, upload.Source{Route: upload.RouteCLI}, e.file)
	if res.Code != cpis.CPF03 {
		t.Fatalf("file code %s, want CPF03 (%s)", res.Code, res.Detail)
	}
	if res.Succeeded != count(e.want, cpis.CPR06) || res.Succeeded+res.Failed != len(e.want) {
		t.Fatalf("succeeded %d failed %d, want %d of %d", res.Succeeded, res.Failed, count(e.want, cpis.CPR06), len(e.want))
	}
	got := map[int]string{}
	for _, o := range res.Outcomes {
		got[o.Position] = o.Code
	}
	for i, want := range e.want {
		if want == cpis.CPR06 {
			if c, ok := got[i+1]; ok {
				t.Errorf("record %d: %s, want success", i+1, c)
			}
			continue
		}
		if got[i+1] != want {
			t.Errorf("record %d: %q, want %s", i+1, got[i+1], want)
		}
	}
	for _, code := range []string{cpis.CPR01, cpis.CPR02, cpis.CPR03, cpis.CPR04, cpis.CPR05, cpis.CPR07} {
		if !bytes.Contains(res.Response, []byte(`code="`+code+`"`)) {
			t.Errorf("FileResponse does not carry %s", code)
		}
	}
	// CP-IS019: the answer names the file it answers.
	if !bytes.Contains(res.Response, []byte(e.opts.ID())) {
		t.Errorf("FileResponse does not name file id %s", e.opts.ID())
	}
}

// CP-IS065: accepted records are queryable once the file is answered.
func TestAcceptedRecordsAreStored(t *testing.T) {
	o := small()
	o.Unknown, o.Sensitive, o.NotVerified, o.OldStyle, o.Superseded, o.MissingData = 0, 0, 0, 0, 0, 0
	e := newEnv(t, o)
	var recs []cpis.UploadRecord
	if _, err := synth.Generate(o, func(r cpis.UploadRecord, _ string) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	res := e.process(t, upload.Source{Route: upload.RouteCLI}, e.file)
	if res.Code != cpis.CPF02 || !res.Stored {
		t.Fatalf("file code %s stored %v, want CPF02 stored", res.Code, res.Stored)
	}
	for _, r := range recs {
		subj, err := e.db.Subject(context.Background(), cpis.NHSNumber(r.NHSNumber))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, rec := range subj.Records {
			if rec.LA.ODS == "V145" && rec.FileID == o.ID() {
				found = true
			}
		}
		if !found {
			t.Fatalf("record %d (%d plans) not stored for V145", r.Position, len(r.Plans))
		}
	}
}

// CP-SC016: the same file again gets the same answer and stores nothing new;
// a different file under the same id is refused.
func TestResubmission(t *testing.T) {
	e := newEnv(t, small())
	first := e.process(t, upload.Source{Route: upload.RouteCLI}, e.file)
	again := e.process(t, upload.Source{Route: upload.RouteMailbox, Folder: "V145"}, e.file)
	if !again.Replayed || !bytes.Equal(first.Response, again.Response) {
		t.Fatalf("resubmission not answered with the original FileResponse (replayed %v)", again.Replayed)
	}
	changed := bytes.Replace(e.file, []byte("<family>"), []byte("<family>X"), 1)
	refused := e.process(t, upload.Source{Route: upload.RouteCLI}, changed)
	if refused.Code != cpis.CPF01 || !strings.Contains(refused.Detail, "already used") {
		t.Fatalf("a different file under a used id: %s %q", refused.Code, refused.Detail)
	}
}

// File-level failures (CPF01) store nothing.
func TestFileLevelFailures(t *testing.T) {
	e := newEnv(t, small())
	disabled := cpis.LocalAuthority{ODS: "V150", Name: "Off Borough", Emergency: "tel:0200000000"}
	if err := e.db.MergeWorld(context.Background(), cpis.World{LocalAuthorities: []cpis.LocalAuthority{disabled}}); err != nil {
		t.Fatal(err)
	}
	qty := regexp.MustCompile(`<transmissionQuantity value="\d+"/>`)
	cases := []struct {
		name, want string
		src        upload.Source
		file       []byte
	}{
		{"truncated file", "not acceptable XML", upload.Source{Route: upload.RouteCLI}, e.file[:len(e.file)/2]},
		{"wrong root element", "schema", upload.Source{Route: upload.RouteCLI}, []byte(`<FileResponse xmlns="urn:hl7-org:v3"/>`)},
		{"DOCTYPE", "not acceptable", upload.Source{Route: upload.RouteCLI}, append([]byte("<!DOCTYPE File>"), e.file[bytes.Index(e.file, []byte("<File")):]...)},
		{"record count mismatch", "transmissionQuantity", upload.Source{Route: upload.RouteCLI}, qty.ReplaceAll(e.file, []byte(`<transmissionQuantity value="7"/>`))},
		{"file for another LA's mailbox", "mailbox of V150", upload.Source{Route: upload.RouteMailbox, Folder: "V150"}, e.file},
		{"unknown LA", "not known", upload.Source{Route: upload.RouteCLI}, bytes.ReplaceAll(e.file, []byte(`extension="V145"`), []byte(`extension="Z999"`))},
		{"CP-SC014 uploads switched off", "switched off", upload.Source{Route: upload.RouteCLI}, bytes.ReplaceAll(e.file, []byte(`extension="V145"`), []byte(`extension="V150"`))},
	}
	// LA V150 exists but has uploads off: the world merge above sets
	// uploads_enabled false by leaving it unset in a cpis value.
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.process(t, c.src, c.file)
			if res.Code != cpis.CPF01 || !strings.Contains(res.Detail, c.want) {
				t.Fatalf("got %s %q, want CPF01 mentioning %q", res.Code, res.Detail, c.want)
			}
			if res.Stored {
				t.Fatal("a file-level failure stored something")
			}
		})
	}
	// Nothing was stored by any of them: the real file is still new.
	if res := e.process(t, upload.Source{Route: upload.RouteCLI}, e.file); res.Replayed || res.Code == cpis.CPF01 {
		t.Fatalf("after the failures the file was %s (replayed %v)", res.Code, res.Replayed)
	}
}

// The mailbox: a complete file is answered into in/ and moved to sent/; a
// file still being written is left alone; a file put back after a crash is
// answered again with the same FileResponse and nothing stored twice.
func TestMailbox(t *testing.T) {
	e := newEnv(t, small())
	dir := t.TempDir()
	out := filepath.Join(dir, "V145", "out")
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "upload-1.xml.part"), e.file, 0o644)
	os.WriteFile(filepath.Join(out, ".upload-2.xml"), e.file, 0o644)
	mb := &upload.Mailbox{Dir: dir, Service: e.svc}
	if n, err := mb.Scan(context.Background()); err != nil || n != 0 {
		t.Fatalf("files still being written were taken: %d, %v", n, err)
	}
	os.Rename(filepath.Join(out, "upload-1.xml.part"), filepath.Join(out, "upload-1.xml"))
	if n, err := mb.Scan(context.Background()); err != nil || n != 1 {
		t.Fatalf("scan: %d, %v", n, err)
	}
	resp, err := os.ReadFile(filepath.Join(dir, "V145", "in", "upload-1.response.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "V145", "sent", "upload-1.xml")); err != nil {
		t.Fatal("file not moved to sent/")
	}
	before := storedPlans(t, e)
	// A crash after the commit but before the move leaves the file in out/.
	os.WriteFile(filepath.Join(out, "upload-1.xml"), e.file, 0o644)
	if n, err := mb.Scan(context.Background()); err != nil || n != 1 {
		t.Fatalf("rescan: %d, %v", n, err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, "V145", "in", "upload-1.response.xml"))
	if !bytes.Equal(resp, again) {
		t.Fatal("the file taken again got a different FileResponse")
	}
	if after := storedPlans(t, e); after != before {
		t.Fatalf("plans stored %d then %d: the file was applied twice", before, after)
	}
}

func storedPlans(t *testing.T, e *env) int {
	t.Helper()
	n := 0
	err := synthNumbers(e.opts, func(nhs string) {
		subj, err := e.db.Subject(context.Background(), cpis.NHSNumber(nhs))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range subj.Records {
			n += len(r.Plans)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func synthNumbers(o synth.Options, fn func(string)) error {
	_, err := synth.Generate(o, func(r cpis.UploadRecord, _ string) error { fn(r.NHSNumber); return nil })
	return err
}
