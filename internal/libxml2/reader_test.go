package libxml2

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
)

var (
	fileOnce   sync.Once
	fileSchema *Schema
	fileErr    error
)

// fileXSD compiles the official LA upload schema (REPC_MT000002GB01) once.
func fileXSD(t testing.TB) *Schema {
	t.Helper()
	fsys := cpisFS(t)
	fileOnce.Do(func() {
		fileSchema, fileErr = CompileSchema(fsys, "Schemas/REPC_MT000002GB01.xsd")
	})
	if fileErr != nil {
		t.Fatal(fileErr)
	}
	return fileSchema
}

// nhsNumber returns a valid NHS number in the never-issued 999 range.
func nhsNumber(i int) string {
	for ; ; i++ {
		s := fmt.Sprintf("999%06d", i%1000000)
		sum := 0
		for k := 0; k < 9; k++ {
			sum += int(s[k]-'0') * (10 - k)
		}
		check := 11 - sum%11
		if check == 11 {
			check = 0
		}
		if check != 10 {
			return s + strconv.Itoa(check)
		}
	}
}

const fileHead = `<?xml version="1.0" encoding="UTF-8"?>
<File xmlns="urn:hl7-org:v3" xmlns:npfitlc="NPFIT:HL7:Localisation">
  <creationTime value="20260301020000"/>
  <id extension="E10000001-20260301-0001"/>
  <transmissionQuantity value="%d"/>
  <communicationFunctionSnd>
    <organisation>
      <id root="2.16.840.1.113883.2.1.3.2.4.19.1" extension="E10000001"/>
      <name>Exampleshire County Council</name>
      <telecom value="tel:01632960001" use="EC"/>
      <telecom value="tel:01632960002" use="WP"/>
    </organisation>
  </communicationFunctionSnd>
`

// fileRecord is one CPP record of 28 lines and 18 elements; its fields are the local id,
// the NHS number, the start date and the birth date.
const fileRecord = `  <record>
    <CP-ISRecord>
      <pertinentInformation>
        <npfitlc:contentId root="2.16.840.1.113883.2.1.3.2.4.18.16" extension="COCT_TP146101GB01#CPPInformation"/>
        <COCT_TP146101GB01.CPPInformation>
          <component>
            <cPPStartDate>
              <value value="%s"/>
            </cPPStartDate>
          </component>
        </COCT_TP146101GB01.CPPInformation>
      </pertinentInformation>
      <subject>
        <npfitlc:contentId root="2.16.840.1.113883.2.1.3.2.4.18.16" extension="COCT_TP145101GB01#Child"/>
        <COCT_TP145101GB01.Child>
          <id root="2.16.840.1.113883.2.1.4.1" extension="%s"/>
          <id root="2.16.840.1.113883.2.1.3.2.4.18.24" extension="%s"/>
          <childPerson>
            <birthTime value="%s"/>
            <name>
              <given>Child%d</given>
              <family>Example</family>
            </name>
          </childPerson>
        </COCT_TP145101GB01.Child>
      </subject>
    </CP-ISRecord>
  </record>
`

const (
	fileHeadLines   = 13
	fileRecordLines = 28
)

// writeFile writes an upload of n records; bad, when set, may replace
// record i's text.
func writeFile(w io.Writer, n int, bad func(i int, rec string) string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, fileHead, n)
	for i := 1; i <= n; i++ {
		rec := fmt.Sprintf(fileRecord, "202601150900", nhsNumber(i), fmt.Sprintf("EX-%07d", i), "20150612", i)
		if bad != nil {
			rec = bad(i, rec)
		}
		if _, err := bw.WriteString(rec); err != nil {
			return err
		}
	}
	bw.WriteString("</File>\n")
	return bw.Flush()
}

func fileBytes(t testing.TB, n int, bad func(i int, rec string) string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := writeFile(&b, n, bad); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func newReader(t testing.TB, data []byte, opt ReaderOptions) *Reader {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// eachRecord calls fn at each File/record element, skipping its subtree
// afterwards, and returns how many it saw.
func eachRecord(r *Reader, fn func()) int {
	n := 0
	for ok := r.Next(); ok; {
		if r.Depth() != 2 || !r.Is(hl7NS, "record") {
			ok = r.Next()
			continue
		}
		n++
		fn()
		ok = r.Skip()
	}
	return n
}

// drain moves to the end, returning the elements visited as depth:name.
func drain(r *Reader) []string {
	var out []string
	for r.Next() {
		out = append(out, strconv.Itoa(r.Depth())+":"+r.LocalName())
	}
	return out
}

func TestReaderWalk(t *testing.T) {
	doc := "<?xml version=\"1.0\"?>\n<!-- c -->\n<r xmlns=\"urn:x\" xmlns:p=\"urn:p\">\n" +
		" <a k=\"1\">text<b/>more</a>\n <p:c><d><e/></d></p:c>\n <f/>\n</r>\n<!-- after -->\n"
	r := newReader(t, []byte(doc), ReaderOptions{})
	if got := strings.Join(drain(r), " "); got != "1:r 2:a 3:b 2:c 3:d 4:e 2:f" {
		t.Errorf("visited %s", got)
	}
	if r.Err() != nil || r.Next() || r.Skip() || r.Depth() != 0 || r.LocalName() != "" {
		t.Errorf("after the end: err %v depth %d", r.Err(), r.Depth())
	}
	if _, err := r.Expand(); err == nil {
		t.Error("Expand after the end")
	}

	r = newReader(t, []byte(doc), ReaderOptions{})
	if _, err := r.Expand(); err == nil {
		t.Error("Expand before the root")
	}
	r.Next() // r
	if !r.Is("urn:x", "r") || r.Is("", "r") || r.NamespaceURI() != "urn:x" || r.Line() != 3 {
		t.Errorf("root {%s}%s line %d", r.NamespaceURI(), r.LocalName(), r.Line())
	}
	r.Next() // a
	a, err := r.Expand()
	if err != nil || a.Attr("k") != "1" || a.Text() != "textmore" || a.FirstChildElement().LocalName() != "b" {
		t.Fatalf("expand a: %v %v", a, err)
	}
	if !r.Skip() || !r.Is("urn:p", "c") || r.Depth() != 2 || r.Line() != 5 {
		t.Fatalf("skip to c: %s depth %d", r.LocalName(), r.Depth())
	}
	c, err := r.Expand()
	if err != nil || c.Child("urn:x", "d").Child("urn:x", "e") == nil || c.Prefix() != "p" {
		t.Fatalf("expand c: %v", err)
	}
	// Next after Expand goes into the subtree, as with xmlTextReader.
	if !r.Next() || r.LocalName() != "d" || r.Depth() != 3 {
		t.Fatalf("into c: %s", r.LocalName())
	}
	// Skip from a last child climbs out to the following element.
	r.Next() // e
	if !r.Skip() || r.LocalName() != "f" || r.Depth() != 2 {
		t.Fatalf("skip from e: %s %d", r.LocalName(), r.Depth())
	}
	if r.Skip() || r.Err() != nil {
		t.Errorf("skip from f: err %v", r.Err())
	}
	r.Close()
	r.Close()
	if r.Next() || r.LocalName() != "" || r.Line() != 0 {
		t.Error("usable after Close")
	}
}

// TestReaderChunking: the same document read one byte at a time, in odd
// pieces and all at once visits the same elements.
func TestReaderChunking(t *testing.T) {
	data := fileBytes(t, 40, nil)
	want := drain(newReader(t, data, ReaderOptions{}))
	if len(want) != 10+40*18 {
		t.Fatalf("%d elements", len(want))
	}
	for name, src := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(data)),
		"half":     iotest.HalfReader(bytes.NewReader(data)),
		"data+EOF": iotest.DataErrReader(bytes.NewReader(data)),
	} {
		r, err := NewReader(src, ReaderOptions{Schema: fileXSD(t)})
		if err != nil {
			t.Fatal(err)
		}
		got := drain(r)
		if r.Err() != nil || len(r.ValidationErrors()) != 0 || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %d elements, err %v, %v", name, len(got), r.Err(), r.ValidationErrors())
		}
		r.Close()
	}
}

func TestReaderInputError(t *testing.T) {
	boom := errors.New("boom")
	src := io.MultiReader(strings.NewReader("<a><b/>"), iotest.ErrReader(boom))
	r, err := NewReader(src, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	drain(r)
	var pe *ParseError
	if !errors.Is(r.Err(), boom) || errors.As(r.Err(), &pe) {
		t.Errorf("err = %v", r.Err())
	}
	if _, err := NewReader(nil, ReaderOptions{}); err == nil {
		t.Error("nil io.Reader accepted")
	}
	if _, err := NewReader(strings.NewReader("<a/>"), ReaderOptions{Schema: &Schema{}}); err == nil {
		t.Error("freed schema accepted")
	}
}

// TestReaderHostileInput runs Parse's hostile inputs through the reader:
// each is refused with the same kind, quickly, without the entity loader
// being asked or a connection made.
func TestReaderHostileInput(t *testing.T) {
	l := newListener(t)
	cases := []struct {
		name string
		data string
		opt  ReaderOptions
		kind ErrorKind
	}{
		{"XXE file", "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<r>&x;</r>", ReaderOptions{}, DoctypeForbidden},
		{"XXE http", "<!DOCTYPE r [<!ENTITY x SYSTEM \"" + l.url("/x") + "\">]><r>&x;</r>", ReaderOptions{}, DoctypeForbidden},
		{"XXE parameter entity", "<!DOCTYPE r [<!ENTITY % p SYSTEM \"" + l.url("/p") + "\"> %p;]><r/>", ReaderOptions{}, DoctypeForbidden},
		{"billion laughs", billionLaughs(), ReaderOptions{}, DoctypeForbidden},
		{"quadratic blow-up", quadraticBlowup(), ReaderOptions{}, DoctypeForbidden},
		{"external DTD http", "<!DOCTYPE x PUBLIC \"-//X//EN\" \"" + l.url("/dtd") + "\"><x/>", ReaderOptions{}, DoctypeForbidden},
		{"bare DOCTYPE", "<!DOCTYPE x><x/>", ReaderOptions{}, DoctypeForbidden},
		{"DOCTYPE with schema", "<!DOCTYPE File [<!ENTITY x \"y\">]><File xmlns=\"urn:hl7-org:v3\">&x;</File>", ReaderOptions{Schema: fileXSD(t)}, DoctypeForbidden},
		{"10,000-deep nesting", nested(10000), ReaderOptions{}, TooDeep},
		{"100,000-deep unclosed", strings.Repeat("<a>", 100000), ReaderOptions{}, TooDeep},
		{"deeper than MaxDepth", nested(11), ReaderOptions{MaxDepth: 10}, TooDeep},
		{"deeper than 256", nested(257), ReaderOptions{MaxDepth: 100000}, TooDeep},
		{"oversize", "<a>" + strings.Repeat("x", 200000) + "</a>", ReaderOptions{MaxBytes: 100000}, TooLarge},
		{"invalid UTF-8", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>caf\xe9 \xff\xfe</a>", ReaderOptions{}, InvalidEncoding},
		{"unknown encoding", "<?xml version=\"1.0\" encoding=\"x-no-such-charset\"?><a/>", ReaderOptions{}, InvalidEncoding},
		{"forbidden character", "<a>\x01</a>", ReaderOptions{}, NotWellFormed},
		{"empty", "", ReaderOptions{}, NotWellFormed},
		{"whitespace only", "  \n ", ReaderOptions{}, NotWellFormed},
		{"prolog only", "<?xml version=\"1.0\"?>\n", ReaderOptions{}, NotWellFormed},
		{"truncated", "<?xml version=\"1.0\"?>\n<a>\n  <b x=\"1\">text</b>\n  <c", ReaderOptions{}, NotWellFormed},
		{"unclosed", "<a><b></b>", ReaderOptions{}, NotWellFormed},
		{"mismatched tags", "<a><b></a></b>", ReaderOptions{}, NotWellFormed},
		{"undeclared prefix", "<soap:Envelope/>", ReaderOptions{}, NotWellFormed},
		{"undeclared entity", "<a>&x;</a>", ReaderOptions{}, NotWellFormed},
		{"two roots", "<a/><b/>", ReaderOptions{}, NotWellFormed},
		{"DOCTYPE after root", "<a/><!DOCTYPE a>", ReaderOptions{}, NotWellFormed},
		{"NUL byte", "<a>\x00</a>", ReaderOptions{}, NotWellFormed},
	}
	denials := loaderDenials()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r := newReader(t, []byte(c.data), c.opt)
			drain(r)
			elapsed := time.Since(start)
			var pe *ParseError
			if !errors.As(r.Err(), &pe) {
				t.Fatalf("error %T %v is not a *ParseError", r.Err(), r.Err())
			}
			if pe.Kind != c.kind || pe.Msg == "" {
				t.Errorf("kind = %v, want %v (%v)", pe.Kind, c.kind, pe)
			}
			if strings.Contains(pe.Msg, "root:") {
				t.Errorf("message leaks /etc/passwd: %s", pe.Msg)
			}
			if elapsed > time.Second {
				t.Errorf("took %v", elapsed)
			}
			if r.Next() || r.Skip() {
				t.Error("moved after the error")
			}
		})
	}
	if n := loaderDenials() - denials; n != 0 {
		t.Errorf("entity loader was asked %d times", n)
	}
	l.assertUntouched(t)
}

// TestReaderStopsAtDoctype: the parser stops at the DOCTYPE name, so
// nothing after it is parsed, whatever the chunk holds: the elements after
// the DOCTYPE are never built.
func TestReaderStopsAtDoctype(t *testing.T) {
	r := newReader(t, []byte("\n\n<!DOCTYPE r [<!ENTITY a 'b'>]><r><x/><y/></r>"), ReaderOptions{})
	if got := drain(r); len(got) != 0 {
		t.Errorf("elements seen after a DOCTYPE: %v", got)
	}
	var pe *ParseError
	if !errors.As(r.Err(), &pe) || pe.Kind != DoctypeForbidden || pe.Line != 3 {
		t.Errorf("err = %v", r.Err())
	}
}

func TestReaderErrorLines(t *testing.T) {
	data := fileBytes(t, 20, func(i int, rec string) string {
		if i == 7 {
			return strings.Replace(rec, "</family>", "</famly>", 1)
		}
		return rec
	})
	r := newReader(t, data, ReaderOptions{})
	n := 0
	for r.Next() {
		if r.Is(hl7NS, "record") {
			n++
		}
	}
	var pe *ParseError
	wantLine := fileHeadLines + 6*fileRecordLines + 22
	if !errors.As(r.Err(), &pe) || pe.Kind != NotWellFormed || pe.Line != wantLine {
		t.Errorf("err = %v, want line %d", r.Err(), wantLine)
	}
	if n > 7 {
		t.Errorf("%d records read past the error", n)
	}
}

// TestReaderValidation streams a valid and an invalid upload through the
// official schema: the valid one has no errors; the invalid one has each
// error at its line, and the reader goes on to the end.
func TestReaderValidation(t *testing.T) {
	s := fileXSD(t)
	r := newReader(t, fileBytes(t, 25, nil), ReaderOptions{Schema: s})
	if got := drain(r); len(got) != 10+25*18 || r.Err() != nil || len(r.ValidationErrors()) != 0 {
		t.Fatalf("valid file: %d elements, %v, %v", len(got), r.Err(), r.ValidationErrors())
	}

	bad := fileBytes(t, 25, func(i int, rec string) string {
		switch i {
		case 3: // a start date that is not a plan date
			return strings.Replace(rec, "202601150900", "2026-01-15", 1)
		case 10: // no name
			return strings.Replace(strings.Replace(rec, "<given>Child10</given>", "", 1), "<family>Example</family>", "", 1)
		case 20: // an unknown element
			return strings.Replace(rec, "<childPerson>", "<colour/><childPerson>", 1)
		}
		return rec
	})
	r = newReader(t, bad, ReaderOptions{Schema: s})
	if n := eachRecord(r, func() {}); n != 25 || r.Err() != nil {
		t.Fatalf("%d records, %v", n, r.Err())
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	errs := r.ValidationErrors()
	recLine := func(i, off int) int { return fileHeadLines + (i-1)*fileRecordLines + off }
	want := []int{recLine(3, 8), recLine(10, 23), recLine(20, 18)}
	if len(errs) != len(want) {
		t.Fatalf("%d errors: %v", len(errs), errs)
	}
	for i, e := range errs {
		if e.Line != want[i] {
			t.Errorf("error %d at line %d, want %d: %s", i, e.Line, want[i], e.Msg)
		}
	}
	if !strings.Contains(errs[0].Msg, "2026-01-15") || !strings.Contains(errs[2].Msg, "colour") {
		t.Errorf("messages: %v", errs)
	}

	// Schema errors are capped; the rest are counted.
	all := fileBytes(t, 30, func(i int, rec string) string {
		return strings.Replace(rec, "202601150900", "x", 1)
	})
	r = newReader(t, all, ReaderOptions{Schema: s, MaxValidationErrors: 5})
	drain(r)
	errs = r.ValidationErrors()
	if len(errs) != 6 || errs[5].Msg != "25 more errors not shown" {
		t.Errorf("capped errors: %v", errs)
	}
	r.Close()
	if got := r.ValidationErrors(); len(got) != 6 || got[5].Msg != errs[5].Msg {
		t.Errorf("after Close: %v", got)
	}

	// A wrong root and trailing content are caught even though the cursor
	// stops at the root.
	r = newReader(t, []byte(`<Query xmlns="urn:hl7-org:v3"/>`), ReaderOptions{Schema: s})
	if drain(r); r.Err() != nil || len(r.ValidationErrors()) == 0 {
		t.Errorf("wrong root: %v %v", r.Err(), r.ValidationErrors())
	}
}

// TestReaderLongLines: lines past 65535 (libxml2 keeps 16 bits in a node)
// are reported in full, by the reader and by validation errors.
func TestReaderLongLines(t *testing.T) {
	const n = 3000 // 81,000 lines
	data := fileBytes(t, n, func(i int, rec string) string {
		if i == n {
			return rec + "  <colour/>\n"
		}
		return rec
	})
	r := newReader(t, data, ReaderOptions{Schema: fileXSD(t)})
	last := 0
	eachRecord(r, func() { last = r.Line() })
	if want := fileHeadLines + (n-1)*fileRecordLines + 1; last != want {
		t.Errorf("last record at line %d, want %d", last, want)
	}
	errs := r.ValidationErrors()
	if want := fileHeadLines + n*fileRecordLines + 1; len(errs) != 1 || errs[0].Line != want {
		t.Errorf("errors %v, want one at line %d", errs, want)
	}
}

// vmRSS reads the process's resident set size in KiB.
func vmRSS(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	t.Skip("no VmRSS")
	return 0
}

// TestReaderMemory streams the whole England cohort, 230,000 records (about
// 390 MB), generated on the fly through a pipe, with validation and every
// record expanded: resident memory must stay flat. The figure covers Go
// heap and libxml2's C allocations alike.
func TestReaderMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("230,000 records")
	}
	const n = 230000
	s := fileXSD(t)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeFile(pw, n, nil)) }()
	r, err := NewReader(pr, ReaderOptions{Schema: s})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	base := vmRSS(t)
	peak := base
	start := time.Now()
	seen := 0
	records := eachRecord(r, func() {
		if seen++; seen%10000 == 0 {
			peak = max(peak, vmRSS(t))
		}
		rec, err := r.Expand()
		if err != nil {
			t.Fatal(err)
		}
		if rec.Child(hl7NS, "CP-ISRecord").Child(hl7NS, "subject") == nil {
			t.Fatal("record without subject")
		}
	})
	if r.Err() != nil || len(r.ValidationErrors()) != 0 {
		t.Fatal(r.Err(), r.ValidationErrors())
	}
	if records != n {
		t.Fatalf("%d records", records)
	}
	grew := peak - base
	t.Logf("%d records in %v; VmRSS %d KiB at start, peak growth %d KiB", n, time.Since(start), base, grew)
	if grew > 32<<10 {
		t.Errorf("resident memory grew by %d KiB", grew)
	}
}

// TestReaderConcurrent runs readers sharing one schema in many goroutines,
// valid, invalid and hostile input mixed, so that error state leaking
// between readers or threads would show. Run it under -race.
func TestReaderConcurrent(t *testing.T) {
	s := fileXSD(t)
	valid := fileBytes(t, 30, nil)
	invalid := fileBytes(t, 30, func(i int, rec string) string {
		if i == 5 {
			return strings.Replace(rec, "<given>Child5</given>", "", 1)
		}
		return rec
	})
	broken := fileBytes(t, 30, func(i int, rec string) string {
		if i == 9 {
			return strings.Replace(rec, "</record>", "", 1)
		}
		return rec
	})
	hostile := []byte(billionLaughs())
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				if err := readerRound(s, (g+i)%4, valid, invalid, broken, hostile); err != nil {
					errs <- fmt.Errorf("goroutine %d round %d: %w", g, i, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func readerRound(s *Schema, kind int, valid, invalid, broken, hostile []byte) error {
	data := [][]byte{valid, invalid, broken, hostile}[kind]
	r, err := NewReader(iotest.HalfReader(bytes.NewReader(data)), ReaderOptions{Schema: s})
	if err != nil {
		return err
	}
	defer r.Close()
	n := len(drain(r))
	verrs := r.ValidationErrors()
	var pe *ParseError
	errors.As(r.Err(), &pe)
	switch kind {
	case 0:
		if r.Err() != nil || len(verrs) != 0 || n != 10+30*18 {
			return fmt.Errorf("valid: %d %v %v", n, r.Err(), verrs)
		}
	case 1:
		if r.Err() != nil || len(verrs) != 1 || verrs[0].Line != fileHeadLines+4*fileRecordLines+22 {
			return fmt.Errorf("invalid: %v %v", r.Err(), verrs)
		}
	case 2:
		if pe == nil || pe.Kind != NotWellFormed {
			return fmt.Errorf("broken: %v", r.Err())
		}
	case 3:
		if pe == nil || pe.Kind != DoctypeForbidden || n != 0 {
			return fmt.Errorf("hostile: %v", r.Err())
		}
	}
	return nil
}

// BenchmarkReader streams an upload of 10,000 records, expanding each one,
// without and with validation against the official schema. The figure to
// watch is records/s; on a shared machine rec/cpu-s (process CPU time) is
// steadier.
func BenchmarkReader(b *testing.B) {
	data := fileBytes(b, 10000, nil)
	for _, bc := range []struct {
		name   string
		schema *Schema
	}{{"parse", nil}, {"validate", fileXSD(b)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(data), ReaderOptions{Schema: bc.schema})
				if err != nil {
					b.Fatal(err)
				}
				n := eachRecord(r, func() {
					if _, err := r.Expand(); err != nil {
						b.Fatal(err)
					}
				})
				if n != 10000 || r.Err() != nil || len(r.ValidationErrors()) > 0 {
					b.Fatal(n, r.Err(), r.ValidationErrors())
				}
				r.Close()
			}
			b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(10000*b.N)/(cpuTime()-cpu0).Seconds(), "rec/cpu-s")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// FuzzReader: whatever the input and whatever the walk, the reader never
// crashes, classifies its errors, never goes deeper than its limit, and a
// document it reads to the end without error is one Parse accepts too.
func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		string(readTestdata(f, "QUPC_IN000006GB01.xml")),
		string(fileBytes(f, 2, nil)),
		"<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<r>&x;</r>",
		"<!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:1/p\"> %p;]><r/>",
		billionLaughs(),
		nested(70),
		"<a>caf\xe9</a>",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>caf\xe9</a>",
		"\xfe\xff\x00<\x00a\x00/\x00>",
		"",
		"<a><b>",
		"<a/><!DOCTYPE a>",
		"<a><b/>text<c><d/></c><![CDATA[x]]><e/></a><!-- end -->",
	} {
		f.Add([]byte(seed), uint8(0))
		f.Add([]byte(seed), uint8(0x5a))
	}
	f.Fuzz(func(t *testing.T, data []byte, walk uint8) {
		r, err := NewReader(iotest.HalfReader(bytes.NewReader(data)), ReaderOptions{MaxBytes: 1 << 20, MaxDepth: 64})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for i := 0; ; i++ {
			var ok bool
			switch (walk >> (i % 8)) & 3 {
			case 1:
				ok = r.Skip()
			case 2:
				n, err := r.Expand()
				if err != nil {
					ok = r.Next()
					break
				}
				_ = n.LocalName() + n.NamespaceURI() + n.Text() + n.Attr("a")
				for c := n.FirstChildElement(); c != nil; c = c.NextSiblingElement() {
					_ = c.LocalName()
				}
				ok = r.Next()
			default:
				ok = r.Next()
			}
			if !ok {
				break
			}
			if d := r.Depth(); d < 1 || d > 64 {
				t.Fatalf("depth %d", d)
			}
			_ = r.LocalName() + r.NamespaceURI()
			_ = r.Line()
		}
		if err := r.Err(); err != nil {
			pe, ok := err.(*ParseError)
			if !ok || pe.Kind < NotWellFormed || pe.Kind > InvalidEncoding || pe.Msg == "" {
				t.Fatalf("bad error %T %#v", err, err)
			}
			return
		}
		d, err := Parse(data, ParseOptions{MaxBytes: 1 << 20, MaxDepth: 64})
		if err != nil {
			t.Fatalf("the reader accepted what Parse refuses: %v", err)
		}
		d.Free()
	})
}
