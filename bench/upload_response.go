package bench

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"spinegw/cpis"
)

// fileAnswer is what the benchmark reads from a FileResponse
// (REPC_MT000003GB01): enough to tell whether the gateway gave the answers
// the synthetic file was built to get.
type fileAnswer struct {
	FileCode  string // acknowledgementFileDetail/code/@code
	Succeeded int    // successfulReturnedCP-ISRecords/value/@value, -1 if absent
	Failed    int    // failedReturnedCP-ISRecords/value/@value, -1 if absent
	// Codes are the record-level codes by position, from each
	// acknowledgementRecordDetail whose location names a record.
	Codes map[int]string
}

// parseFileResponse reads a FileResponse as a stream: the cohort's holds
// hundreds of thousands of records. Elements are matched by local name, so
// any namespace prefixes do.
func parseFileResponse(r io.Reader) (fileAnswer, error) {
	a := fileAnswer{Succeeded: -1, Failed: -1, Codes: map[int]string{}}
	dec := xml.NewDecoder(r)
	var stack []string
	parent := func() string {
		if len(stack) < 2 {
			return ""
		}
		return stack[len(stack)-2]
	}
	var code string
	var location strings.Builder
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return a, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			if len(stack) == 1 && t.Name.Local != "FileResponse" {
				return a, fmt.Errorf("the root element is %s", t.Name.Local)
			}
			switch {
			case t.Name.Local == "code" && parent() == "acknowledgementFileDetail":
				a.FileCode = attr(t, "code")
			case t.Name.Local == "code" && parent() == "acknowledgementRecordDetail":
				code = attr(t, "code")
			case t.Name.Local == "value" && parent() == "successfulReturnedCP-ISRecords":
				a.Succeeded, err = strconv.Atoi(attr(t, "value"))
			case t.Name.Local == "value" && parent() == "failedReturnedCP-ISRecords":
				a.Failed, err = strconv.Atoi(attr(t, "value"))
			case t.Name.Local == "acknowledgementRecordDetail":
				code = ""
				location.Reset()
			}
			if err != nil {
				return a, fmt.Errorf("a record count: %w", err)
			}
		case xml.CharData:
			if len(stack) > 0 && stack[len(stack)-1] == "location" && parent() == "acknowledgementRecordDetail" {
				location.Write(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return a, fmt.Errorf("unbalanced end element %s", t.Name.Local)
			}
			if t.Name.Local == "acknowledgementRecordDetail" {
				// Record-level codes only: the response also lists the
				// file id (LAUFI) as a detail.
				if pos, ok := recordPosition(location.String()); ok && strings.HasPrefix(code, "CPR") {
					a.Codes[pos] = code
				}
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 || a.FileCode == "" && a.Succeeded < 0 {
		return a, fmt.Errorf("the document ends early or holds no acknowledgement")
	}
	return a, nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// recordPosition reads the record number from a location such as
// "record 2" or "record 6 (local id X-6), new NHS number 9990000000": the
// digits after the first "record". A location without one (the LAUFI
// detail's is the file id) names no record.
func recordPosition(loc string) (int, bool) {
	i := strings.Index(loc, "record")
	if i < 0 {
		return 0, false
	}
	rest := strings.TrimLeft(loc[i+len("record"):], " ")
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	n, err := strconv.Atoi(rest[:end])
	return n, err == nil && n > 0
}

// check compares the answer with the codes the file was built to get (by
// position) and returns what is wrong, or "".
func (a fileAnswer) check(codes []string) string {
	want := 0
	for _, c := range codes {
		if c == cpis.CPR06 {
			want++
		}
	}
	var problems []string
	if a.Succeeded != want {
		problems = append(problems, fmt.Sprintf("%d records succeeded, want %d", a.Succeeded, want))
	}
	if f := len(codes) - want; a.Failed >= 0 && a.Failed != f {
		problems = append(problems, fmt.Sprintf("%d records failed, want %d", a.Failed, f))
	}
	wantFile := cpis.CPF03
	switch want {
	case len(codes):
		wantFile = cpis.CPF02
	case 0:
		wantFile = cpis.CPF04
	}
	if a.FileCode != "" && a.FileCode != wantFile {
		problems = append(problems, fmt.Sprintf("file code %s, want %s", a.FileCode, wantFile))
	}
	// Record codes, where the response lists them: every failed record
	// with its code, and no successful one with another.
	if len(a.Codes) > 0 {
		bad, first := 0, ""
		for pos, c := range codes {
			got, listed := a.Codes[pos+1]
			switch {
			case c == cpis.CPR06 && listed && got != cpis.CPR06,
				c != cpis.CPR06 && got != c:
				if bad == 0 {
					if got == "" {
						got = "nothing"
					}
					first = fmt.Sprintf("record %d got %s, want %s", pos+1, got, c)
				}
				bad++
			}
		}
		if bad > 0 {
			problems = append(problems, fmt.Sprintf("%d records answered otherwise than labelled (first: %s)", bad, first))
		}
	}
	return strings.Join(problems, "; ")
}
