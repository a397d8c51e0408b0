package conformance

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"text/template"
)

//go:embed upload.xml.tmpl
var uploadTemplate string

var uploadTmpl = template.Must(template.New("upload").Funcs(xmlFuncs).Parse(uploadTemplate))

// ActionUpload is the SOAPAction of the CP-IS Local Authority Upload.
const ActionUpload = "urn:GB-en-NHS:iops:interaction:CP-ISLocalAuthorityUpload-v1-0"

// UploadParams fills the upload template: a File in a SOAP envelope.
type UploadParams struct {
	MessageID, Action       string
	GatewayASID, SenderASID string
	CreationTime, FileID    string
	Quantity                int
	LA, LAName              string
	Telecoms                []UploadTelecom
	Records                 []UploadRecord
}

// UploadTelecom is a telephone number of the sending LA.
type UploadTelecom struct{ Use, Value string }

// UploadRecord is one record of an upload case.
type UploadRecord struct {
	Unborn                             bool
	NHS, LocalID, Given, Family, Birth string
	Plans                              []UploadPlan
}

// UploadPlan is one plan: Start, End and Delete as yyyyMMddHHmm.
type UploadPlan struct {
	Type               string // CPP, LAC, UCP
	Start, End, Delete string
}

// Template, Class and Prefix name the plan's CMET in the file.
func (p UploadPlan) Template() string {
	return map[string]string{"CPP": "COCT_TP146101GB01", "LAC": "COCT_TP146100GB01", "UCP": "COCT_TP146102GB01"}[p.Type]
}

// Class is the plan's class name in the CMET.
func (p UploadPlan) Class() string { return p.Type + "Information" }

// Prefix is the start of the plan's date element names (cPPStartDate ...).
func (p UploadPlan) Prefix() string { return strings.ToLower(p.Type[:1]) + p.Type[1:] }

// Render returns the request envelope.
func (p UploadParams) Render() []byte {
	var b bytes.Buffer
	if err := uploadTmpl.Execute(&b, p); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// uploadSpec is one row of the upload corpus.
type uploadSpec struct {
	name, title string
	reqs        []string
	la, sender  string
	records     []UploadRecord
	edit        func(*UploadParams)
	fileID      string // default: the case name
	expect      Expect
}

const (
	islingtonLA = "200000000303"
	hackneyLA   = "200000000404"
)

func cpp(start string) UploadPlan { return UploadPlan{Type: "CPP", Start: start} }
func lac(start string) UploadPlan { return UploadPlan{Type: "LAC", Start: start} }

// uploadOutcome is the expected FileResponse: file code and counts, plus the
// code each failed record must be reported with (by position).
func uploadOutcome(file string, ok, failed int, records map[int]string) Expect {
	ex := Expect{Status: 200, Root: "FileResponse",
		Action: "urn:GB-en-NHS:iops:interaction:CP-ISLocalAuthorityAcknowledgementResponse-v1-0",
		Assert: []Assert{
			{XPath: "//hl7:acknowledgementFile/hl7:acknowledgementFileDetail/hl7:code", Attr: "code", Equals: file},
			{XPath: "//hl7:successfulReturnedCP-ISRecords/hl7:value", Attr: "value", Equals: fmt.Sprint(ok)},
			{XPath: "//hl7:failedReturnedCP-ISRecords/hl7:value", Attr: "value", Equals: fmt.Sprint(failed)},
		}}
	for pos := 1; pos <= ok+failed; pos++ {
		code, isFailure := records[pos]
		if !isFailure {
			continue
		}
		ex.Assert = append(ex.Assert, Assert{
			XPath: fmt.Sprintf("//hl7:acknowledgementRecordDetail[starts-with(hl7:location, 'record %d ') or hl7:location='record %d']/hl7:code", pos, pos),
			Attr:  "code", Equals: code})
	}
	return ex
}

func fileLevel(reason string) Expect {
	ex := uploadOutcome("CPF01", 0, 0, nil)
	ex.Assert = ex.Assert[:1]
	return ex
}

func uploadCorpus() []uploadSpec {
	poppy := UploadRecord{NHS: "9990003009", LocalID: "ISL-3001", Given: "Poppy", Family: "Grant", Birth: "20180404", Plans: []UploadPlan{cpp("202610010900")}}
	harry := UploadRecord{NHS: "9990003076", LocalID: "ISL-3002", Given: "Harry", Family: "Quinn", Birth: "20160505", Plans: []UploadPlan{lac("202509011000")}}
	lily := UploadRecord{NHS: "9990003149", LocalID: "ISL-3003", Given: "Lily", Family: "Rowe", Birth: "20150606", Plans: []UploadPlan{cpp("202607070900"), lac("202608080900")}}
	unknown := UploadRecord{NHS: "9990003564", LocalID: "ISL-3004", Given: "Nobody", Family: "Known", Birth: "20150101", Plans: []UploadPlan{cpp("202601010900")}}
	sensitive := UploadRecord{NHS: "9990003211", LocalID: "ISL-3005", Given: "Freddie", Family: "Small", Birth: "20140707", Plans: []UploadPlan{cpp("202601010900")}}
	notVerified := UploadRecord{NHS: "9990003289", LocalID: "ISL-3006", Given: "Rose", Family: "Webb", Birth: "20111111", Plans: []UploadPlan{cpp("202601010900")}}
	oldStyle := UploadRecord{NHS: "ABC0001234", LocalID: "ISL-3007", Given: "Old", Family: "Style", Birth: "20100101", Plans: []UploadPlan{cpp("202601010900")}}
	superseded := UploadRecord{NHS: "9990003351", LocalID: "ISL-3008", Given: "Arthur", Family: "Usher", Birth: "20120909", Plans: []UploadPlan{lac("202601010900")}}
	noName := UploadRecord{Unborn: true, NHS: "9990003491", LocalID: "ISL-3009", Given: "", Family: "Vance", Birth: "19971010", Plans: []UploadPlan{{Type: "UCP", Start: "202608010900", End: "202702010000"}}}
	ivy := noName
	ivy.Given = "Ivy"
	return []uploadSpec{
		{name: "upload-success", title: "Every record of a file verified against PDS is stored: CPF02", reqs: []string{"CP-IS002", "CP-IS018", "CP-IS024"},
			la: "V145", sender: islingtonLA, records: []UploadRecord{poppy, harry, ivy}, expect: uploadOutcome("CPF02", 3, 0, nil)},
		{name: "upload-success-again", title: "The same file again is answered with the same FileResponse", reqs: []string{"CP-SC016"},
			la: "V145", sender: islingtonLA, records: []UploadRecord{poppy, harry, ivy}, fileID: "upload-success", expect: uploadOutcome("CPF02", 3, 0, nil)},
		{name: "upload-success-changed", title: "A different file under a used file id is refused: CPF01", reqs: []string{"CP-SC016"},
			la: "V145", sender: islingtonLA, records: []UploadRecord{poppy, harry}, fileID: "upload-success", expect: fileLevel("already used")},
		{name: "upload-partial-each-record-code", title: "A file with a record failing each check: CPF03 with CPR01-CPR05 and CPR07", reqs: []string{"CP-IS002", "CP-IS017", "CP-IS018", "CP-SC012"},
			la: "V145", sender: islingtonLA, records: []UploadRecord{lily, unknown, sensitive, notVerified, oldStyle, superseded, noName},
			expect: uploadOutcome("CPF03", 1, 6, map[int]string{2: "CPR01", 3: "CPR02", 4: "CPR03", 5: "CPR04", 6: "CPR05", 7: "CPR07"})},
		{name: "upload-none-succeeded", title: "A file none of whose records succeeds: CPF04", reqs: []string{"CP-IS018"},
			la: "V145", sender: islingtonLA, records: []UploadRecord{unknown, notVerified}, expect: uploadOutcome("CPF04", 0, 2, map[int]string{1: "CPR01", 2: "CPR03"})},
		{name: "upload-count-mismatch", title: "transmissionQuantity not the number of records: CPF01", reqs: []string{"CP-IS002"},
			la: "V145", sender: islingtonLA, records: []UploadRecord{poppy}, edit: func(p *UploadParams) { p.Quantity = 2 }, expect: fileLevel("transmissionQuantity")},
		{name: "upload-uploads-switched-off", title: "An LA whose uploads are switched off: CPF01", reqs: []string{"CP-SC014"},
			la: "V160", sender: hackneyLA, records: []UploadRecord{poppy}, expect: fileLevel("switched off")},
		{name: "upload-schema-invalid", title: "A file that fails the schema (no telephone number): CPF01", reqs: []string{"CP-IS002"},
			la: "V145", sender: islingtonLA, records: []UploadRecord{poppy}, edit: func(p *UploadParams) { p.Telecoms = nil }, expect: fileLevel("schema")},
		{name: "upload-two-emergency-numbers", title: "Two EC telephone numbers fail every record: CPR07, CPF04", reqs: []string{"CP-SC011"},
			la: "V145", sender: islingtonLA, records: []UploadRecord{harry},
			edit: func(p *UploadParams) {
				p.Telecoms = []UploadTelecom{{"EC", "tel:02075277777"}, {"EC", "tel:02075277778"}}
			},
			expect: uploadOutcome("CPF04", 0, 1, map[int]string{1: "CPR07"})},
		{name: "upload-endpoint-of-another-la", title: "A file sent by an endpoint not registered for its LA gets a SOAP fault", reqs: []string{"CP-SC025"},
			la: "V145", sender: hackneyLA, records: []UploadRecord{poppy}, expect: fault("200")},
	}
}

// uploadCase renders one upload spec.
func uploadCase(i int, s uploadSpec, gatewayASID, creation string) ([]byte, Expect) {
	p := UploadParams{
		MessageID:    fmt.Sprintf("7E0F1A2B-0000-4000-8000-%012d", i+1),
		Action:       ActionUpload,
		GatewayASID:  gatewayASID,
		SenderASID:   s.sender,
		CreationTime: creation,
		FileID:       s.name,
		LA:           s.la,
		LAName:       map[string]string{"V145": "London Borough of Islington", "V160": "London Borough of Hackney"}[s.la],
		Telecoms:     []UploadTelecom{{"EC", "tel:02075277777"}, {"WP", "tel:02075272000"}},
		Records:      s.records,
	}
	if s.fileID != "" {
		p.FileID = s.fileID
	}
	p.Quantity = len(p.Records)
	if s.edit != nil {
		s.edit(&p)
	}
	ex := s.expect
	ex.Title, ex.Requirements = s.title, s.reqs
	ex.SOAPAction = ActionUpload
	ex.ContentType = "text/xml; charset=UTF-8"
	return p.Render(), ex
}
