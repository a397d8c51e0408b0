package hl7_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/hl7/schema"
	"spinegw/internal/libxml2"
)

// uploadSchemas are the File and FileResponse schemas of both sets, each
// compiled once per test binary.
type uploadSchemaSet struct {
	file, response *libxml2.Schema
}

var (
	uploadSchemasOnce sync.Once
	uploadSchemas     map[string]uploadSchemaSet
	uploadSchemasErr  error
)

// uploadSchemaSets returns the official set (beside the repository) and
// spinegw's own embedded set, by name.
func uploadSchemaSets(t testing.TB) map[string]uploadSchemaSet {
	t.Helper()
	uploadSchemasOnce.Do(func() {
		uploadSchemas = map[string]uploadSchemaSet{}
		sets := []struct {
			name string
			open func(entry string) (*libxml2.Schema, error)
		}{
			{"official", func(e string) (*libxml2.Schema, error) { return libxml2.CompileSchema(os.DirFS(officialSchemas), e) }},
			{"own", func(e string) (*libxml2.Schema, error) { return libxml2.CompileSchema(schema.FS, e) }},
		}
		for _, set := range sets {
			fileEntry, _ := schema.Entry("File")
			respEntry, _ := schema.Entry("FileResponse")
			f, err := set.open(fileEntry)
			if err != nil {
				uploadSchemasErr = fmt.Errorf("%s File schema: %w", set.name, err)
				return
			}
			r, err := set.open(respEntry)
			if err != nil {
				uploadSchemasErr = fmt.Errorf("%s FileResponse schema: %w", set.name, err)
				return
			}
			uploadSchemas[set.name] = uploadSchemaSet{file: f, response: r}
		}
	})
	if uploadSchemasErr != nil {
		t.Fatal(uploadSchemasErr)
	}
	return uploadSchemas
}

// readUploadAll reads an upload, collecting the header and the records.
func readUploadAll(t testing.TB, data []byte, s *libxml2.Schema) (cpis.Upload, []cpis.UploadRecord, []hl7.Issue, error) {
	t.Helper()
	var up cpis.Upload
	var recs []cpis.UploadRecord
	headers := 0
	issues, err := hl7.ReadUpload(bytes.NewReader(data), s,
		func(u cpis.Upload) error { up = u; headers++; return nil },
		func(r cpis.UploadRecord) error {
			if headers != 1 {
				t.Errorf("record %d before the header", r.Position)
			}
			recs = append(recs, r)
			return nil
		})
	if headers > 1 {
		t.Errorf("header called %d times", headers)
	}
	return up, recs, issues, err
}

var exampleshireUpload = cpis.Upload{
	FileID:       "E10000001-20260301-0001",
	CreationTime: time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC), // GMT in March
	Quantity:     6,
	LA: cpis.LocalAuthority{ODS: "E10000001", Name: "Exampleshire County Council",
		Emergency: "tel:01632960001", Office: "tel:01632960002"},
	Telecoms: []cpis.Telecom{{Use: "EC", Value: "tel:01632960001"}, {Use: "WP", Value: "tel:01632960002"}},
}

func upName(given, family string) cpis.Name { return cpis.Name{Given: []string{given}, Family: family} }

// validFileRecords is what testdata/upload/file-valid.xml holds.
var validFileRecords = []cpis.UploadRecord{
	{Position: 1, NHSNumber: "9990001006", LocalID: "EX-100201", Name: upName("Oliver", "Example"), BirthDate: cpis.Date(2017, 6, 12),
		Plans: []cpis.Plan{{Type: cpis.CPP, Start: cpis.Date(2025, 11, 20)}}},
	{Position: 2, NHSNumber: "9990001073", LocalID: "EX-100202", Name: upName("Amelia", "Sample"), BirthDate: cpis.Date(2012, 11, 3),
		Plans: []cpis.Plan{{Type: cpis.LAC, Start: cpis.Date(2023, 1, 11), End: cpis.Date(2026, 2, 27)}}},
	{Position: 3, NHSNumber: "9990001146", LocalID: "EX-100203", Unborn: true, Name: upName("Sarah", "Testwell"), BirthDate: cpis.Date(1999, 8, 27),
		Plans: []cpis.Plan{{Type: cpis.UCP, Start: cpis.Date(2026, 1, 15), End: cpis.Date(2026, 6, 20)}}},
	{Position: 4, NHSNumber: "9990001219", Name: upName("Noah", "Placeholder"), BirthDate: cpis.Date(2020, 2, 29),
		Plans: []cpis.Plan{{Type: cpis.CPP, Start: cpis.Date(2026, 2, 2), End: cpis.Date(2026, 2, 3), Delete: cpis.Date(2026, 3, 1)}}},
	{Position: 5, NHSNumber: "9990001286", LocalID: "EX-100205", Name: upName("Isla", "Specimen"), BirthDate: cpis.Date(2015, 3, 1),
		Plans: []cpis.Plan{{Type: cpis.CPP, Start: cpis.Date(2024, 9, 9)}, {Type: cpis.LAC, Start: cpis.Date(2025, 1, 6)}}},
	// A young mother: her own LAC, and the UCP of her unborn child under
	// her number, as two records of one position.
	{Position: 6, NHSNumber: "9990001359", LocalID: "EX-100206", Name: upName("Jade", "Example"), BirthDate: cpis.Date(2009, 5, 14),
		Plans: []cpis.Plan{{Type: cpis.LAC, Start: cpis.Date(2024, 6, 3)}}},
	{Position: 6, NHSNumber: "9990001359", LocalID: "EX-100206", Unborn: true, Name: upName("Jade", "Example"), BirthDate: cpis.Date(2009, 5, 14),
		Plans: []cpis.Plan{{Type: cpis.UCP, Start: cpis.Date(2026, 2, 10), End: cpis.Date(2026, 7, 14)}}},
}

// TestReadUploadValid reads the reference file under both schema sets: it
// is valid, and every field lands where the core expects it.
func TestReadUploadValid(t *testing.T) {
	data := readTestdata(t, filepath.Join("upload", "file-valid.xml"))
	for setName, set := range uploadSchemaSets(t) {
		t.Run(setName, func(t *testing.T) {
			up, recs, issues, err := readUploadAll(t, data, set.file)
			if err != nil || len(issues) > 0 {
				t.Fatalf("err %v, issues %v", err, issues)
			}
			if !up.CreationTime.Equal(exampleshireUpload.CreationTime) {
				t.Errorf("creation time %v", up.CreationTime)
			}
			up.CreationTime = exampleshireUpload.CreationTime
			if !reflect.DeepEqual(up, exampleshireUpload) {
				t.Errorf("header\n got %+v\nwant %+v", up, exampleshireUpload)
			}
			if len(recs) != len(validFileRecords) {
				t.Fatalf("%d records", len(recs))
			}
			for i, want := range validFileRecords {
				if !reflect.DeepEqual(recs[i], want) {
					t.Errorf("record %d\n got %+v\nwant %+v", i, recs[i], want)
				}
			}
		})
	}
}

// TestUploadSchemaTestdata: every File in testdata/upload named file-valid*
// validates against both schema sets, and every file-invalid* fails both.
func TestUploadSchemaTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "upload", "file-*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		valid := strings.HasPrefix(filepath.Base(f), "file-valid")
		for setName, set := range uploadSchemaSets(t) {
			_, _, issues, err := readUploadAll(t, data, set.file)
			if err != nil {
				t.Errorf("%s (%s): %v", f, setName, err)
			}
			if valid != (len(issues) == 0) {
				t.Errorf("%s (%s): issues %v", f, setName, issues)
			}
		}
	}
}

// edit returns the reference file with old replaced by new, n times (-1 all).
func editValid(t testing.TB, old, new string, n int) []byte {
	t.Helper()
	data := string(readTestdata(t, filepath.Join("upload", "file-valid.xml")))
	if !strings.Contains(data, old) {
		t.Fatalf("%q not in the reference file", old)
	}
	return []byte(strings.Replace(data, old, new, n))
}

// TestReadUploadSchemaIssues: schema errors are issues with their lines and
// without NHS numbers; records are still handed over.
func TestReadUploadSchemaIssues(t *testing.T) {
	data := editValid(t, `<id root="2.16.840.1.113883.2.1.4.1" extension="9990001073"/>`,
		`<id root="2.16.840.1.113883.2.1.4.9" extension="9990001073"/>`, 1)
	data = bytes.Replace(data, []byte(`<cPPStartDate><value value="202409090930"/>`), []byte(`<cPPStartDate><value value="2024-09-09"/>`), 1)
	for setName, set := range uploadSchemaSets(t) {
		_, recs, issues, err := readUploadAll(t, data, set.file)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 7 {
			t.Errorf("%s: %d records", setName, len(recs))
		}
		// The official set says the wrong root twice (enumeration, union).
		lines := map[int]bool{}
		for _, is := range issues {
			lines[is.Line] = true
		}
		if len(lines) != 2 || !lines[61] || !lines[133] {
			t.Errorf("%s: issues %v", setName, issues)
		}
		for _, is := range issues {
			if strings.Contains(is.Msg, "9990001073") {
				t.Errorf("%s: issue carries the NHS number: %s", setName, is.Msg)
			}
		}
	}
}

// TestReadUploadEdgeCases maps what the schema allows but the reference file
// does not show, and what only a looser schema would let through.
func TestReadUploadEdgeCases(t *testing.T) {
	valid := string(readTestdata(t, filepath.Join("upload", "file-valid.xml")))
	// Record 6's unborn subject, moved before the child's in one case (and
	// removed from where it was: the edit below adds it once more).
	i := strings.LastIndex(valid, "      <subject>")
	unbornSubject6 := valid[i : strings.Index(valid[i:], "</subject>\n")+i+len("</subject>\n")]
	for _, c := range []struct {
		name      string
		old, new  string
		n         int
		position  int
		check     func(t *testing.T, recs []cpis.UploadRecord)
		wantValid bool
	}{
		{name: "nil end date", position: 2,
			old: `<component1>
            <lACEndDate><value value="202602271600"/></lACEndDate>
          </component1>`,
			new:       `<component1 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>`,
			wantValid: true,
			check: func(t *testing.T, recs []cpis.UploadRecord) {
				if p := recs[0].Plans[0]; !p.End.IsZero() || p.Start.IsZero() {
					t.Errorf("plan %+v", p)
				}
			}},
		{name: "old-style root", position: 1,
			old: `<id root="2.16.840.1.113883.2.1.4.1" extension="9990001006"/>`,
			new: `<id root="2.16.840.1.113883.2.1.3.2.4.3" extension="A123456"/>`,
			check: func(t *testing.T, recs []cpis.UploadRecord) {
				if r := recs[0]; r.NHSNumber != "A123456" || !r.OldStyle || r.LocalID != "EX-100201" {
					t.Errorf("record %+v", r)
				}
			}},
		{name: "non-existent date", position: 2,
			old: `<lACEndDate><value value="202602271600"/>`, new: `<lACEndDate><value value="202602301600"/>`,
			wantValid: true, // the pattern admits 30 February
			check: func(t *testing.T, recs []cpis.UploadRecord) {
				if p := recs[0].Plans[0]; !p.Start.IsZero() || !p.End.IsZero() {
					t.Errorf("an unreadable end date must make the plan refusable, got %+v", p)
				}
			}},
		{name: "partial birth date", position: 1,
			old: `<birthTime value="20170612"/>`, new: `<birthTime value="201706"/>`,
			wantValid: true,
			check: func(t *testing.T, recs []cpis.UploadRecord) {
				if !recs[0].BirthDate.IsZero() {
					t.Errorf("birth date %v", recs[0].BirthDate)
				}
			}},
		{name: "birth time with time of day", position: 1,
			old: `<birthTime value="20170612"/>`, new: `<birthTime value="201706122359+0100"/>`,
			wantValid: true,
			check: func(t *testing.T, recs []cpis.UploadRecord) {
				if !recs[0].BirthDate.Equal(cpis.Date(2017, 6, 12)) {
					t.Errorf("birth date %v", recs[0].BirthDate)
				}
			}},
		{name: "no local id", position: 6,
			old: `<id root="2.16.840.1.113883.2.1.3.2.4.18.24" extension="EX-100206"/>`, new: ``,
			wantValid: true,
			check: func(t *testing.T, recs []cpis.UploadRecord) {
				if len(recs) != 2 || recs[0].LocalID != "" || recs[1].LocalID != "" {
					t.Errorf("records %+v", recs)
				}
			}},
		{name: "subjects in the other order", position: 6, wantValid: true,
			old: "      <subject>\n        <npfitlc:contentId root=\"2.16.840.1.113883.2.1.3.2.4.18.16\" extension=\"COCT_TP145101GB01#Child\"/>\n        <COCT_TP145101GB01.Child>\n          <id root=\"2.16.840.1.113883.2.1.4.1\" extension=\"9990001359\"/>",
			new: unbornSubject6 + "      <subject>\n        <npfitlc:contentId root=\"2.16.840.1.113883.2.1.3.2.4.18.16\" extension=\"COCT_TP145101GB01#Child\"/>\n        <COCT_TP145101GB01.Child>\n          <id root=\"2.16.840.1.113883.2.1.4.1\" extension=\"9990001359\"/>",
			check: func(t *testing.T, recs []cpis.UploadRecord) {
				if len(recs) != 2 || !recs[0].Unborn || recs[0].LocalID != "EX-100206" ||
					len(recs[0].Plans) != 1 || recs[0].Plans[0].Type != cpis.UCP ||
					recs[1].Unborn || len(recs[1].Plans) != 1 || recs[1].Plans[0].Type != cpis.LAC {
					t.Errorf("records %+v", recs)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := c.n
			if n == 0 {
				n = 1
			}
			data := editValid(t, c.old, c.new, n)
			if c.name == "subjects in the other order" {
				k := bytes.LastIndex(data, []byte(unbornSubject6))
				data = append(data[:k:k], data[k+len(unbornSubject6):]...)
			}
			for setName, set := range uploadSchemaSets(t) {
				_, recs, issues, err := readUploadAll(t, data, set.file)
				if err != nil {
					t.Fatal(err)
				}
				if c.wantValid != (len(issues) == 0) {
					t.Errorf("%s: issues %v", setName, issues)
				}
				var at []cpis.UploadRecord
				for _, r := range recs {
					if r.Position == c.position {
						at = append(at, r)
					}
				}
				c.check(t, at)
			}
		})
	}
}

// TestReadUploadNotAFile: another document is an issue, not a crash, and
// the header is never called.
func TestReadUploadNotAFile(t *testing.T) {
	set := uploadSchemaSets(t)["official"]
	for _, doc := range []string{`<FileResponse xmlns="urn:hl7-org:v3"/>`, `<File/>`, `<File xmlns="urn:other"><record/></File>`} {
		issues, err := hl7.ReadUpload(strings.NewReader(doc), set.file,
			func(cpis.Upload) error { t.Error("header called"); return nil },
			func(cpis.UploadRecord) error { t.Error("record called"); return nil })
		if err != nil || len(issues) == 0 || !strings.Contains(issues[0].Msg, "not an LA Upload") {
			t.Errorf("%s: %v %v", doc, issues, err)
		}
	}
}

// TestReadUploadRefused: hostile and broken files come back as the core's
// error kinds; the callbacks' own errors come back unchanged.
func TestReadUploadRefused(t *testing.T) {
	set := uploadSchemaSets(t)["official"]
	valid := readTestdata(t, filepath.Join("upload", "file-valid.xml"))
	for _, c := range []struct {
		name string
		data []byte
		kind cpis.Kind
	}{
		{"DOCTYPE", append([]byte("<!DOCTYPE File [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"), valid[bytes.Index(valid, []byte("<File")):]...), cpis.KindHostile},
		{"too deep", []byte(strings.Repeat("<File>", 100)), cpis.KindHostile},
		{"truncated", valid[:len(valid)/2], cpis.KindNotWellFormed},
		{"not UTF-8", bytes.Replace(valid, []byte("Oliver"), []byte("Oliv\xe9r"), 1), cpis.KindNotWellFormed},
		{"empty", nil, cpis.KindNotWellFormed},
	} {
		_, _, _, err := readUploadAll(t, c.data, set.file)
		var ce *cpis.Error
		if !errors.As(err, &ce) || ce.Kind != c.kind {
			t.Errorf("%s: err = %v, want kind %v", c.name, err, c.kind)
		}
	}

	stop := errors.New("stop")
	seen := 0
	_, err := hl7.ReadUpload(bytes.NewReader(valid), set.file,
		func(cpis.Upload) error { return nil },
		func(r cpis.UploadRecord) error { seen++; return stop })
	if err != stop || seen != 1 {
		t.Errorf("record error: %v after %d records", err, seen)
	}
	type headerErr struct{ error }
	_, err = hl7.ReadUpload(bytes.NewReader(valid), set.file,
		func(cpis.Upload) error { return headerErr{stop} },
		func(r cpis.UploadRecord) error { t.Error("record after a header error"); return nil })
	var he headerErr
	if !errors.As(err, &he) {
		t.Errorf("header error: %v", err)
	}
	_, err = hl7.ReadUpload(io.MultiReader(bytes.NewReader(valid[:500]), upErrReader{}), set.file,
		func(cpis.Upload) error { return nil }, func(cpis.UploadRecord) error { return nil })
	if cpis.KindOf(err) != cpis.KindInternal || !errors.Is(err, upErrBroken) {
		t.Errorf("read error: %v", err)
	}
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var upErrBroken = errors.New("disk on fire")

type upErrReader struct{}

func (upErrReader) Read([]byte) (int, error) { return 0, upErrBroken }

// writeUpload writes an upload of n copies of the reference file's first
// record, each with its own NHS number and local id.
func writeUpload(w io.Writer, n int) error {
	data, err := os.ReadFile(filepath.Join("testdata", "upload", "file-valid.xml"))
	if err != nil {
		return err
	}
	s := string(data)
	head := s[:strings.Index(s, "  <record>")]
	head = strings.Replace(head, `<transmissionQuantity value="6"/>`, fmt.Sprintf(`<transmissionQuantity value="%d"/>`, n), 1)
	rec := s[strings.Index(s, "  <record>"):]
	rec = rec[:strings.Index(rec, "</record>")+len("</record>\n")]
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(head)
	for i := 0; i < n; i++ {
		r := strings.Replace(rec, "9990001006", fmt.Sprintf("999%07d", i), 1)
		r = strings.Replace(r, "EX-100201", fmt.Sprintf("EX-%07d", i), 1)
		if _, err := bw.WriteString(r); err != nil {
			return err
		}
	}
	bw.WriteString("</File>\n")
	return bw.Flush()
}

// BenchmarkReadUpload reads an upload of 20,000 records with validation
// against each schema set (and without, to show the validator's share). The
// figure is records/s; rec/cpu-s is steadier on a shared machine.
func BenchmarkReadUpload(b *testing.B) {
	var buf bytes.Buffer
	if err := writeUpload(&buf, 20000); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	sets := uploadSchemaSets(b)
	for _, bc := range []struct {
		name string
		s    *libxml2.Schema
	}{{"no validation", nil}, {"official", sets["official"].file}, {"own", sets["own"].file}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				n := 0
				issues, err := hl7.ReadUpload(bytes.NewReader(data), bc.s,
					func(cpis.Upload) error { return nil },
					func(cpis.UploadRecord) error { n++; return nil })
				if err != nil || len(issues) > 0 || n != 20000 {
					b.Fatal(err, issues, n)
				}
			}
			b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(20000*b.N)/(processCPU()-cpu0).Seconds(), "rec/cpu-s")
		})
	}
}

// TestReadUploadCohort streams the England cohort, 230,000 records
// generated on the fly through a pipe, with validation: resident memory
// stays flat, whatever the file's size (CP-IS031).
func TestReadUploadCohort(t *testing.T) {
	if testing.Short() {
		t.Skip("230,000 records")
	}
	const n = 230000
	set := uploadSchemaSets(t)["own"]
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeUpload(pw, n)) }()
	base := upRSS(t)
	peak := base
	start := time.Now()
	seen := 0
	issues, err := hl7.ReadUpload(pr, set.file, func(cpis.Upload) error { return nil },
		func(r cpis.UploadRecord) error {
			if seen++; seen%10000 == 0 {
				peak = max(peak, upRSS(t))
			}
			if r.Position != seen || len(r.Plans) != 1 {
				return fmt.Errorf("record %d: %+v", seen, r)
			}
			return nil
		})
	if err != nil || len(issues) > 0 || seen != n {
		t.Fatal(err, issues, seen)
	}
	t.Logf("%d records in %v; VmRSS %d KiB at start, peak growth %d KiB", n, time.Since(start), base, peak-base)
	if peak-base > 64<<10 {
		t.Errorf("resident memory grew by %d KiB", peak-base)
	}
}

// upRSS reads the process's resident set size in KiB.
func upRSS(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			var v int64
			fmt.Sscan(f[1], &v)
			return v
		}
	}
	t.Skip("no VmRSS")
	return 0
}

// FuzzReadUpload: whatever the bytes, reading them as an upload never
// panics, refuses only with the core's error kinds, hands records over in
// order, and calls the header at most once, before any record.
func FuzzReadUpload(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "upload", "file-*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<File xmlns="urn:hl7-org:v3"><record><CP-ISRecord/></record></File>`))
	s := uploadSchemaSets(f)["own"].file
	f.Fuzz(func(t *testing.T, data []byte) {
		headers, last := 0, 0
		issues, err := hl7.ReadUpload(bytes.NewReader(data), s,
			func(cpis.Upload) error {
				if headers++; headers > 1 || last > 0 {
					t.Fatalf("header call %d after record %d", headers, last)
				}
				return nil
			},
			func(r cpis.UploadRecord) error {
				if r.Position < last || r.Position > last+1 || headers != 1 {
					t.Fatalf("record %d after %d, %d headers", r.Position, last, headers)
				}
				last = r.Position
				return nil
			})
		for _, is := range issues {
			if is.Line < 0 || is.Msg == "" {
				t.Fatalf("issue %+v", is)
			}
		}
		if err != nil {
			var ce *cpis.Error
			if !errors.As(err, &ce) || (ce.Kind != cpis.KindNotWellFormed && ce.Kind != cpis.KindHostile) {
				t.Fatalf("error %T %v", err, err)
			}
		}
	})
}
