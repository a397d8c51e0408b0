package hl7_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"spinegw/hl7"
	"spinegw/internal/libxml2"
)

// The realistic queries of testdata are valid: schema and Spine checks alike.
func TestValidateQueries(t *testing.T) {
	v := officialValidator(t)
	for _, file := range []string{"query-person.xml", "query-system.xml", "soap-env.xml", "soapenv.xml", "soap-default.xml"} {
		t.Run(file, func(t *testing.T) {
			if issues := v.Validate(queryElement(t, readTestdata(t, file))); len(issues) > 0 {
				t.Errorf("issues: %v", issues)
			}
		})
	}
}

func TestValidateReportsSchemaErrorsWithLines(t *testing.T) {
	doc := strings.Replace(string(readTestdata(t, "query-person.xml")), `<processingCode code="P"/>`, `<processingCode code="X"/>`, 1)
	issues := officialValidator(t).Validate(queryElement(t, []byte(doc)))
	if len(issues) == 0 {
		t.Fatal("a processingCode outside its vocabulary passed")
	}
	if issues[0].Line != 7 {
		t.Errorf("issue at line %d, want 7: %v", issues[0].Line, issues)
	}
}

// A message the schema accepts can still fail Spine's checks: the validator
// applies both.
func TestValidateAppliesSpineChecks(t *testing.T) {
	doc := strings.Replace(string(readTestdata(t, "query-person.xml")), `extension="COCT_TP145102GB01#AssignedAuthor"`, `extension="COCT_TP145104GB01#System"`, 1)
	issues := officialValidator(t).Validate(queryElement(t, []byte(doc)))
	if len(issues) != 1 || !strings.Contains(issues[0].Msg, "contentId") || issues[0].Line != 47 {
		t.Errorf("issues = %v, want one about the contentId at line 47", issues)
	}
}

func TestValidateRefusesUnknownRoots(t *testing.T) {
	v := officialValidator(t)
	for _, doc := range []string{
		`<PRPA_IN000203UK03 xmlns="urn:hl7-org:v3"/>`,
		`<QUPC_IN000006GB01 xmlns="urn:example"/>`,
		`<QUPC_IN000006GB01/>`,
	} {
		issues := v.Validate(parse(t, []byte(doc)).Root())
		if len(issues) != 1 || !strings.Contains(issues[0].Msg, "not a message this gateway validates") {
			t.Errorf("%s: issues = %v, want one refusing it", doc, issues)
		}
	}
}

// A root the entry function has no schema for is refused, not let through.
func TestValidatorWithoutSchemaForRoot(t *testing.T) {
	v, err := hl7.NewValidator(os.DirFS(officialSchemas), func(root string) (string, bool) {
		if root != hl7.InteractionQueryFailure {
			return "", false
		}
		return officialEntry(root)
	})
	if err != nil {
		t.Fatal(err)
	}
	if issues := v.Validate(queryElement(t, readTestdata(t, "query-person.xml"))); len(issues) != 1 {
		t.Errorf("issues = %v, want one refusing the query", issues)
	}
}

func TestNewValidatorReportsBrokenSchemas(t *testing.T) {
	_, err := hl7.NewValidator(os.DirFS(officialSchemas), func(root string) (string, bool) {
		return "Schemas/NoSuchSchema.xsd", true
	})
	if err == nil {
		t.Fatal("a missing schema compiled")
	}
}

func TestIssueString(t *testing.T) {
	if got := (hl7.Issue{Line: 12, Msg: "bad"}).String(); got != "line 12: bad" {
		t.Errorf("got %q", got)
	}
	if got := (hl7.Issue{Msg: "bad"}).String(); got != "bad" {
		t.Errorf("got %q", got)
	}
}

// Schema errors quote the values they refuse; an NHS number among them is
// hidden, since issues are sent on the wire and logged.
func TestValidateHidesNHSNumbers(t *testing.T) {
	doc := strings.Replace(string(readTestdata(t, "query-person.xml")), `<processingCode code="P"/>`, `<processingCode code="9990000026"/>`, 1)
	issues := officialValidator(t).Validate(queryElement(t, []byte(doc)))
	if len(issues) == 0 {
		t.Fatal("no issue")
	}
	for _, is := range issues {
		if strings.Contains(is.Msg, "9990000026") {
			t.Errorf("issue carries the NHS number: %s", is)
		}
	}
	if !strings.Contains(issues[0].Msg, "**********") {
		t.Errorf("issue %q does not show where the value was", issues[0].Msg)
	}
}

// One Validator serves every request at once, and builders share nothing:
// run under -race.
func TestConcurrentUse(t *testing.T) {
	v := officialValidator(t)
	query := readTestdata(t, "soap-env.xml")
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 20 {
				doc, err := libxml2.Parse(query, libxml2.ParseOptions{})
				if err != nil {
					errs <- err
					return
				}
				n := findElement(doc.Root(), hl7.NS, hl7.InteractionQuery)
				if issues := v.Validate(n); len(issues) > 0 {
					doc.Free()
					errs <- fmt.Errorf("query: %v", issues)
					return
				}
				q, err := hl7.ParseQuery(n)
				doc.Free()
				if err != nil {
					errs <- err
					return
				}
				out, err := hl7.QueryResponse(fixedReply, q, fullAnswer())
				if err != nil {
					errs <- err
					return
				}
				resp, err := libxml2.Parse(out, libxml2.ParseOptions{})
				if err != nil {
					errs <- err
					return
				}
				issues := v.Validate(resp.Root())
				resp.Free()
				if len(issues) > 0 {
					errs <- fmt.Errorf("response: %v", issues)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
