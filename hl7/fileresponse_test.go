package hl7_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/hl7"
	"spinegw/internal/libxml2"
)

// goldenUpload compares out with testdata/upload/name, or rewrites it with
// -update.
func goldenUpload(t *testing.T, name string, out []byte) {
	t.Helper()
	path := filepath.Join("testdata", "upload", name)
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\n got %s\nwant %s", name, out, want)
	}
}

// mustValidateResponse checks a FileResponse against both schema sets.
func mustValidateResponse(t *testing.T, out []byte) *libxml2.Document {
	t.Helper()
	doc := parse(t, out)
	for setName, set := range uploadSchemaSets(t) {
		for _, e := range set.response.ValidateElement(doc.Root()) {
			t.Errorf("%s schema: %s", setName, e)
		}
	}
	return doc
}

var ackReply = hl7.FileReply{
	ResponseID:   "5E0D4C1B-2A39-4F8E-9D7C-6B5A4F3E2D1C",
	CreationTime: time.Date(2026, 3, 1, 2, 7, 30, 0, time.UTC),
}

var exampleshireLA = cpis.LocalAuthority{ODS: "E10000001", Name: "Exampleshire County Council",
	Emergency: "tel:01632960001", Office: "tel:01632960002", UploadsEnabled: true}

func writeAck(t *testing.T, r hl7.FileReply, res cpis.UploadResult) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := hl7.WriteFileResponse(&b, r, res); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// recordLookup answers FileReply.Record from the records read, by position
// and NHS number (two records of one position are the child and the mother).
func recordLookup(recs []cpis.UploadRecord) func(cpis.RecordOutcome) (cpis.UploadRecord, bool) {
	return func(o cpis.RecordOutcome) (cpis.UploadRecord, bool) {
		for _, r := range recs {
			if r.Position == o.Position && r.NHSNumber == o.NHSNumber && r.LocalID == o.LocalID {
				return r, true
			}
		}
		return cpis.UploadRecord{}, false
	}
}

func upOutcome(r cpis.UploadRecord, code, detail string) cpis.RecordOutcome {
	return cpis.RecordOutcome{Position: r.Position, LocalID: r.LocalID, NHSNumber: r.NHSNumber, Code: code, Detail: detail}
}

// partialResult answers the reference file plus two more records with
// every record code: what each golden file shows.
func partialRecords() []cpis.UploadRecord {
	recs := append([]cpis.UploadRecord(nil), validFileRecords...)
	return append(recs,
		cpis.UploadRecord{Position: 7, NHSNumber: "A123456", OldStyle: true, LocalID: "EX-100207", Name: upName("Harry", "Trial"),
			BirthDate: cpis.Date(2016, 1, 30), Plans: []cpis.Plan{{Type: cpis.CPP, Start: cpis.Date(2025, 12, 1)}}},
		cpis.UploadRecord{Position: 8, NHSNumber: "9990001421", Name: cpis.Name{Family: "Mock"},
			BirthDate: cpis.Date(2018, 4, 4), Plans: []cpis.Plan{{Type: cpis.LAC}}},
	)
}

func partialResult() cpis.UploadResult {
	r := partialRecords()
	superseded := upOutcome(r[4], cpis.CPR05, "the NHS number has been superseded in PDS: resubmit the record under the new NHS number")
	superseded.NewNHSNumber = "9990001499"
	return cpis.UploadResult{
		FileID: exampleshireUpload.FileID, LA: exampleshireLA, Code: cpis.CPF03, Quantity: 8,
		Outcomes: []cpis.RecordOutcome{
			upOutcome(r[0], cpis.CPR01, "PDS holds no patient with this NHS number"),
			upOutcome(r[1], cpis.CPR06, ""),
			upOutcome(r[2], cpis.CPR02, "the PDS record for this NHS number is sensitive"),
			upOutcome(r[3], cpis.CPR03, "the date of birth and names do not verify the NHS number against PDS"),
			superseded,
			upOutcome(r[5], cpis.CPR06, ""),
			upOutcome(r[6], cpis.CPR06, ""),
			upOutcome(r[7], cpis.CPR04, "the NHS number is not a new-style ten-digit NHS number: only new-style NHS numbers are accepted"),
			upOutcome(r[8], cpis.CPR07, "the LAC start date is missing"),
		},
		Succeeded: 3, Failed: 6,
		ReceivedAt: time.Date(2026, 3, 1, 2, 5, 0, 0, time.UTC),
	}
}

// TestFileResponseGolden: the four shapes of an answer, each valid against
// the official schema and spinegw's own.
func TestFileResponseGolden(t *testing.T) {
	withRecords := ackReply
	withRecords.Record = recordLookup(partialRecords())
	all := cpis.UploadResult{FileID: exampleshireUpload.FileID, LA: exampleshireLA, Code: cpis.CPF02, Quantity: 6, Succeeded: 7}
	for _, r := range validFileRecords {
		all.Outcomes = append(all.Outcomes, upOutcome(r, cpis.CPR06, ""))
	}
	none := partialResult()
	none.Code, none.Succeeded, none.Failed = cpis.CPF04, 0, 2
	none.Outcomes = []cpis.RecordOutcome{none.Outcomes[0], none.Outcomes[8]}
	for _, c := range []struct {
		file  string
		reply hl7.FileReply
		res   cpis.UploadResult
	}{
		{"fileresponse-success.xml", withRecords, all},
		{"fileresponse-partial.xml", withRecords, partialResult()},
		{"fileresponse-none.xml", withRecords, none},
		{"fileresponse-file-error.xml", ackReply, cpis.UploadResult{
			FileID: exampleshireUpload.FileID, LA: exampleshireLA, Code: cpis.CPF01,
			Detail: "the file fails the schema: line 12: Element '{urn:hl7-org:v3}record': This element is not expected. Expected is ( {urn:hl7-org:v3}communicationFunctionSnd )."}},
	} {
		t.Run(c.file, func(t *testing.T) {
			out := writeAck(t, c.reply, c.res)
			goldenUpload(t, c.file, out)
			mustValidateResponse(t, out)
		})
	}
}

// TestFileResponseContent reads the partial answer back: counts, codes,
// locations, the file id, and the records sent back.
func TestFileResponseContent(t *testing.T) {
	reply := ackReply
	asked := 0
	lookup := recordLookup(partialRecords())
	reply.Record = func(o cpis.RecordOutcome) (cpis.UploadRecord, bool) {
		if o.Success() {
			t.Errorf("asked for the successful record %d", o.Position)
		}
		asked++
		return lookup(o)
	}
	doc := mustValidateResponse(t, writeAck(t, reply, partialResult()))
	if asked != 6 {
		t.Errorf("Record asked %d times", asked)
	}
	xs := func(expr string) string {
		t.Helper()
		v, err := doc.XPathString(expr, map[string]string{"h": hl7.NS})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for expr, want := range map[string]string{
		"/h:FileResponse/h:id/@extension":                                                                     ackReply.ResponseID,
		"/h:FileResponse/h:creationTime/@value":                                                               "20260301020730+0000",
		"/h:FileResponse/h:transmissionQuantity/@value":                                                       "8",
		"/h:FileResponse/h:acknowledgementFile/h:acknowledgementFileDetail/h:code/@code":                      "CPF03",
		"/h:FileResponse/h:failedReturnedCP-ISRecords/h:value/@value":                                         "6",
		"/h:FileResponse/h:successfulReturnedCP-ISRecords/h:value/@value":                                     "3",
		"count(//h:acknowledgementRecordDetail)":                                                              "7",
		"//h:acknowledgementRecordDetail[1]/h:code/@code":                                                     "LAUFI",
		"//h:acknowledgementRecordDetail[1]/h:location":                                                       "E10000001-20260301-0001",
		"//h:acknowledgementRecordDetail[2]/h:code/@code":                                                     "CPR01",
		"//h:acknowledgementRecordDetail[2]/h:code/@codeSystem":                                               "2.16.840.1.113883.2.1.3.2.4.17.473",
		"//h:acknowledgementRecordDetail[2]/h:location":                                                       "record 1 (local id EX-100201)",
		"//h:acknowledgementRecordDetail[2]/h:code/h:originalText":                                            "PDS holds no patient with this NHS number",
		"//h:acknowledgementRecordDetail[5]/h:location":                                                       "record 5 (local id EX-100205), new NHS number 9990001499",
		"//h:acknowledgementRecordDetail[7]/h:code/@displayName":                                              "Unsucessful Record Upload",
		"//h:acknowledgementRecordDetail[7]/h:location":                                                       "record 8",
		"/h:FileResponse/h:communicationFunctionRcv/h:organisation/h:id/@extension":                           "E10000001",
		"/h:FileResponse/h:communicationFunctionRcv/h:organisation/h:telecom[@use='WP']/@value":               "tel:01632960002",
		"count(/h:FileResponse/h:message)":                                                                    "5",
		"count(//h:validCP-ISRecord)":                                                                         "0",
		"//h:message[2]//h:COCT_TP145100GB01.UnbornChild//h:playedMother/h:id[2]/@extension":                  "EX-100203",
		"//h:message[3]//h:cPPDeleteDate/h:value/@value":                                                      "202603010000",
		"count(//h:message[5]//h:id)":                                                                         "1",
		"//h:message[5]//h:id/@extension":                                                                     "EX-100207",
		"//h:message[5]//h:id/@root":                                                                          "2.16.840.1.113883.2.1.3.2.4.18.24",
		"//h:message[4]//h:COCT_TP145101GB01.Child/h:id[1]/@extension":                                        "9990001286",
		"count(//h:message[4]//h:pertinentInformation)":                                                       "2",
		"//h:message[1]//h:childPerson/h:name/h:given":                                                        "Oliver",
		"//h:message[1]//h:childPerson/h:birthTime/@value":                                                    "20170612",
		"/h:FileResponse/*[last()]/h:value/@value":                                                            "3",
		"local-name(/h:FileResponse/*[position()=last()-1])":                                                  "message",
		"local-name(//h:acknowledgementRecord/following-sibling::*[1])":                                       "communicationFunctionRcv",
		"//h:message[1]/h:cP-ISLAAcknowledgementResponse/h:pertinentInformation1/*/h:subject/*[1]/@extension": "COCT_TP145101GB01#Child",
	} {
		if got := xs(expr); got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
}

// TestFileResponseFileError: a CPF01 for a file read no further than its
// bytes (no file id, an LA known only by its ODS code) still validates,
// and the reason goes where free text may go.
func TestFileResponseFileError(t *testing.T) {
	res := cpis.UploadResult{LA: cpis.LocalAuthority{ODS: "E10000001"}, Code: cpis.CPF01,
		Detail: "the file is not acceptable XML: xml not well-formed at line 3", ReceivedAt: ackReply.CreationTime}
	out := writeAck(t, hl7.FileReply{}, res)
	doc := mustValidateResponse(t, out)
	id, _ := doc.XPathString("/h:FileResponse/h:id/@extension", map[string]string{"h": hl7.NS})
	if len(id) != 36 || strings.ToUpper(id) != id {
		t.Errorf("made-up response id %q", id)
	}
	if bytes.Contains(out, []byte("LAUFI")) || !bytes.Contains(out, []byte("<originalText>the file is not acceptable XML")) {
		t.Errorf("%s", out)
	}
	if !bytes.Contains(out, []byte(`<telecom value="tel:" use="EC"/>`)) {
		t.Errorf("LA without telephone numbers: %s", out)
	}
}

// TestFileResponseNothingToSay: with no file id, no reason and no failure
// there is no acknowledgementRecord at all, which the schema allows, rather
// than an empty one, which it does not.
func TestFileResponseNothingToSay(t *testing.T) {
	out := writeAck(t, ackReply, cpis.UploadResult{LA: exampleshireLA, Code: cpis.CPF02, Quantity: 1, Succeeded: 1,
		Outcomes: []cpis.RecordOutcome{{Position: 1, Code: cpis.CPR06}}})
	mustValidateResponse(t, out)
	if bytes.Contains(out, []byte("acknowledgementRecord")) {
		t.Errorf("%s", out)
	}
}

// TestFileResponseEscaping: whatever text a detail or a record holds, the
// response stays well-formed and valid and says what it was given.
func TestFileResponseEscaping(t *testing.T) {
	nasty := "a<b>&c\"d'e\tf\ng\rh\x01i\xffj\uFFFEk]]>l"
	want := "a<b>&c\"d'e\tf\ng\rh\uFFFDi\uFFFDj\uFFFDk]]>l"
	rec := cpis.UploadRecord{Position: 1, NHSNumber: "99900<01006", LocalID: `EX"&<` + strings.Repeat("x", 60), Name: upName(nasty, nasty),
		BirthDate: cpis.Date(2017, 6, 12), Plans: []cpis.Plan{{Type: cpis.CPP, Start: cpis.Date(2025, 1, 1)}}}
	res := cpis.UploadResult{FileID: nasty, LA: cpis.LocalAuthority{ODS: "E1&", Name: nasty, Emergency: "01632 960001"},
		Code: cpis.CPF04, Detail: "", Quantity: 1, Failed: 1,
		Outcomes: []cpis.RecordOutcome{upOutcome(rec, cpis.CPR01, nasty)}}
	reply := ackReply
	reply.Record = func(cpis.RecordOutcome) (cpis.UploadRecord, bool) { return rec, true }
	doc := mustValidateResponse(t, writeAck(t, reply, res))
	ns := map[string]string{"h": hl7.NS}
	for expr, w := range map[string]string{
		"//h:acknowledgementRecordDetail[2]/h:code/h:originalText": want,
		"//h:acknowledgementRecordDetail[1]/h:location":            want,
		"//h:childPerson/h:name/h:given":                           strings.TrimSpace(want),
		"//h:communicationFunctionRcv//h:name":                     want,
		"//h:COCT_TP145101GB01.Child/h:id[1]/@extension":           "99900<01006",
		"//h:acknowledgementRecordDetail[2]/h:location":            `record 1 (local id EX"&<` + strings.Repeat("x", 35) + "...)",
	} {
		got, err := doc.XPathString(expr, ns)
		// \r in character data is a reference, so it survives; XPath sees it.
		if err != nil || got != w {
			t.Errorf("%s = %q, want %q (%v)", expr, got, w, err)
		}
	}
}

// TestFileResponseRefusals: a result that is not an answer is an internal
// error, a failing writer's error comes back.
func TestFileResponseRefusals(t *testing.T) {
	var b bytes.Buffer
	if err := hl7.WriteFileResponse(&b, ackReply, cpis.UploadResult{Code: "CPR06"}); cpis.KindOf(err) != cpis.KindInternal {
		t.Errorf("record code as file code: %v", err)
	}
	if err := hl7.WriteFileResponse(&b, hl7.FileReply{}, cpis.UploadResult{Code: cpis.CPF02}); cpis.KindOf(err) != cpis.KindInternal {
		t.Errorf("no time: %v", err)
	}
	boom := errors.New("boom")
	if err := hl7.WriteFileResponse(upFailingWriter{boom}, ackReply, partialResult()); !errors.Is(err, boom) {
		t.Errorf("writer error: %v", err)
	}
}

type upFailingWriter struct{ err error }

func (w upFailingWriter) Write([]byte) (int, error) { return 0, w.err }

// TestFileResponseCohort answers the whole cohort in one file with one
// record in ten refused: the response stays a few MB and quick to write.
func TestFileResponseCohort(t *testing.T) {
	if testing.Short() {
		t.Skip("230,000 records")
	}
	res, reply := cohortResult(230000, 10)
	var out upCountingWriter
	start := time.Now()
	if err := hl7.WriteFileResponse(&out, reply, res); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d refused of 230,000: %d bytes in %v", res.Failed, out.n, time.Since(start))
	if out.n > 64<<20 {
		t.Errorf("%d bytes", out.n)
	}
}

func cohortResult(n, failEvery int) (cpis.UploadResult, hl7.FileReply) {
	res := cpis.UploadResult{FileID: "E10000001-20260301-0001", LA: exampleshireLA, Code: cpis.CPF03, Quantity: n}
	rec := validFileRecords[0]
	for i := 1; i <= n; i++ {
		if i%failEvery != 0 {
			res.Succeeded++
			continue
		}
		res.Failed++
		res.Outcomes = append(res.Outcomes, cpis.RecordOutcome{Position: i, LocalID: fmt.Sprintf("EX-%07d", i),
			NHSNumber: rec.NHSNumber, Code: cpis.CPR03, Detail: "the date of birth and names do not verify the NHS number against PDS"})
	}
	reply := ackReply
	reply.Record = func(o cpis.RecordOutcome) (cpis.UploadRecord, bool) {
		r := rec
		r.Position, r.LocalID = o.Position, o.LocalID
		return r, true
	}
	return res, reply
}

type upCountingWriter struct{ n int }

func (w *upCountingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

func BenchmarkWriteFileResponse(b *testing.B) {
	res, reply := cohortResult(20000, 10)
	b.ReportAllocs()
	for b.Loop() {
		if err := hl7.WriteFileResponse(io.Discard, reply, res); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Failed*b.N)/b.Elapsed().Seconds(), "refused/s")
}
