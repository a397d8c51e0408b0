package bench

import (
	_ "embed"
	"fmt"
	"strings"
)

// queryTemplate is a SOAP 1.1 + WS-Addressing NHS Query (QUPC_IN000006GB01)
// with placeholders in text/template syntax ({{.Name}}). Its HL7 part
// validates against the official CP-IS schema set once filled.
//
//go:embed testdata/query.xml.tmpl
var queryTemplate string

// Field names a placeholder of the query template.
type Field int

// The placeholders of the query template. Every value is inserted verbatim:
// values that may hold XML metacharacters (names) are escaped once, when a
// caller's identity is prepared, not per request.
const (
	FieldMessageID     Field = iota // upper-case UUID: header MessageID (after "uuid:") and the wrapper id
	FieldQueryID                    // upper-case UUID of the cP-ISNHSQuery
	FieldCreationTime               // HL7 TS, yyyyMMddHHmmss
	FieldTo                         // wsa:To
	FieldFrom                       // wsa:From and wsa:ReplyTo address
	FieldRcvASID                    // the gateway's ASID
	FieldSndASID                    // the sending endpoint's ASID
	FieldRoleProfileID              // SDS role profile id
	FieldUserID                     // SDS user id
	FieldJobRoleCode                // SDS job role code (R code)
	FieldJobRoleName                // its display name
	FieldPrefix                     // author's name prefix
	FieldGiven                      // author's given name
	FieldFamily                     // author's family name
	FieldOrgODS                     // author's organisation ODS code
	FieldOrgName                    // its name
	FieldNHSNumber                  // the NHS number queried
	numFields
)

var fieldNames = [numFields]string{
	FieldMessageID:     "MessageID",
	FieldQueryID:       "QueryID",
	FieldCreationTime:  "CreationTime",
	FieldTo:            "To",
	FieldFrom:          "From",
	FieldRcvASID:       "RcvASID",
	FieldSndASID:       "SndASID",
	FieldRoleProfileID: "RoleProfileID",
	FieldUserID:        "UserID",
	FieldJobRoleCode:   "JobRoleCode",
	FieldJobRoleName:   "JobRoleName",
	FieldPrefix:        "Prefix",
	FieldGiven:         "Given",
	FieldFamily:        "Family",
	FieldOrgODS:        "OrgODS",
	FieldOrgName:       "OrgName",
	FieldNHSNumber:     "NHSNumber",
}

// Values holds one value per placeholder.
type Values [numFields]string

type segment struct {
	text  string
	field Field // -1 for a literal
}

// Template is a query template split once into literal text and
// placeholders, so that filling it is a run of appends into a reused buffer:
// the load generator shares the machine's two cores with the server it
// measures, and every microsecond it spends is taken from the server.
type Template struct {
	segs []segment
}

// QueryTemplate returns the embedded NHS Query template.
func QueryTemplate() *Template {
	t, err := ParseTemplate(queryTemplate)
	if err != nil {
		panic(err) // the embedded template is fixed at build time and tested
	}
	return t
}

// ParseTemplate splits src at its {{.Name}} placeholders. An unknown name or
// any other template action is an error.
func ParseTemplate(src string) (*Template, error) {
	byName := map[string]Field{}
	for f, name := range fieldNames {
		byName[name] = Field(f)
	}
	t := &Template{}
	for len(src) > 0 {
		i := strings.Index(src, "{{")
		if i < 0 {
			t.segs = append(t.segs, segment{text: src, field: -1})
			break
		}
		if i > 0 {
			t.segs = append(t.segs, segment{text: src[:i], field: -1})
		}
		j := strings.Index(src[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("query template: unclosed placeholder at %q", abbreviate(src[i:]))
		}
		action := strings.TrimSpace(src[i+2 : i+j])
		f, ok := byName[strings.TrimPrefix(action, ".")]
		if !ok || !strings.HasPrefix(action, ".") {
			return nil, fmt.Errorf("query template: unknown placeholder {{%s}}", action)
		}
		t.segs = append(t.segs, segment{field: f})
		src = src[i+j+2:]
	}
	return t, nil
}

// Append appends the template filled with v to dst.
func (t *Template) Append(dst []byte, v *Values) []byte {
	for _, s := range t.segs {
		if s.field < 0 {
			dst = append(dst, s.text...)
		} else {
			dst = append(dst, v[s.field]...)
		}
	}
	return dst
}

func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
