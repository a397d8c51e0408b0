// Package conformance holds spinegw's conformance corpus and the code that
// builds and replays it.
//
// A case is a folder under cases/: request.xml (the exact bytes to POST),
// expect.yaml (the HTTP headers to send and the expected outcome). The cases
// are written against world.yaml with the clock and gateway ASID of
// suite.yaml, so any client can replay them against a gateway started that
// way. The corpus is generated from the table in corpus.go; `go test
// ./conformance -update` rewrites it.
package conformance

import (
	"bytes"
	_ "embed"
	"encoding/xml"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/google/uuid"

	"spinegw/cpis"
)

//go:embed query.xml.tmpl
var queryTemplate string

var queryTmpl = template.Must(template.New("query").Funcs(xmlFuncs).Parse(queryTemplate))

// xmlFuncs gives the request templates x, which writes a value as XML
// character data or attribute text: world names may hold &, < or quotes.
var xmlFuncs = template.FuncMap{"x": func(v any) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(fmt.Sprint(v)))
	return b.String()
}}

// ActionQuery is the SOAPAction and wsa:Action of the CP-IS NHS Query.
const ActionQuery = "urn:nhs:names:services:cpisquery/QUPC_IN000006GB01"

// QueryParams fills the query template.
type QueryParams struct {
	P, PX        string // SOAP envelope prefix ("SOAP-ENV:") and its xmlns suffix (":SOAP-ENV"); both empty for a default namespace
	MessageID    string // upper-case UUID
	QueryID      string
	Action       string
	To, From     string
	HeaderRcv    string
	HeaderSnd    string
	WrapperRcv   string
	WrapperSnd   string
	CreationTime string // HL7 TS
	System       bool
	SystemName   string

	UserID, RoleProfileID    string
	JobRoleCode, JobRoleName string
	Prefix                   string
	Given                    []string
	Family                   string
	OrgODS, OrgName          string
	NHSNumber                string
}

// Render returns the request envelope.
func (p QueryParams) Render() []byte {
	var b bytes.Buffer
	if err := queryTmpl.Execute(&b, p); err != nil {
		panic(err) // the template is fixed; an error is a programming error
	}
	return b.Bytes()
}

// NewQuery returns the parameters of a valid query by user (through role
// profile rp) from endpoint ep to the gateway, for nhs, at now.
func NewQuery(gatewayASID string, ep cpis.Endpoint, u cpis.User, rp cpis.RoleProfile, nhs string, now time.Time) QueryParams {
	return QueryParams{
		P: "SOAP-ENV:", PX: ":SOAP-ENV",
		MessageID:     strings.ToUpper(uuid.NewString()),
		QueryID:       strings.ToUpper(uuid.NewString()),
		Action:        ActionQuery,
		To:            "https://spine.emulator/sync-service",
		From:          "https://" + strings.ToLower(ep.ODS) + ".client",
		HeaderRcv:     gatewayASID,
		HeaderSnd:     ep.ASID,
		WrapperRcv:    gatewayASID,
		WrapperSnd:    ep.ASID,
		CreationTime:  now.UTC().Format("20060102150405"),
		SystemName:    ep.Name,
		UserID:        u.ID,
		RoleProfileID: rp.ID,
		JobRoleCode:   rp.JobRole.Code,
		JobRoleName:   rp.JobRole.Name,
		Prefix:        u.Name.Prefix,
		Given:         u.Name.Given,
		Family:        u.Name.Family,
		OrgODS:        rp.Org.ODS,
		OrgName:       rp.Org.Name,
		NHSNumber:     nhs,
	}
}

// Request is a ready-to-send request.
type Request struct {
	Title string
	Body  []byte
}

// DemoQuery picks from a world a query that gets a positive answer at now:
// a record with a CPP or LAC visible to anyone, an enabled user holding
// B0107, and an accredited endpoint.
func DemoQuery(w cpis.World, gatewayASID string, now time.Time) (Request, error) {
	if len(w.Endpoints) == 0 {
		return Request{}, fmt.Errorf("the world has no endpoints")
	}
	var user cpis.User
	var rp cpis.RoleProfile
	found := false
	for _, u := range w.Users {
		for _, p := range u.RoleProfiles {
			if u.Enabled && p.Has(cpis.ActivityViewCPIS) {
				user, rp, found = u, p, true
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		return Request{}, fmt.Errorf("the world has no enabled user with B0107")
	}
	births := map[cpis.NHSNumber]time.Time{}
	for _, p := range w.Patients {
		births[p.NHSNumber] = p.BirthDate
	}
	today := cpis.Today(now)
	for _, r := range w.Records {
		for _, p := range r.Plans {
			if p.Type == cpis.UCP {
				continue
			}
			if _, ok := cpis.Visible(p, births[r.NHSNumber], today, cpis.Viewer{JobRole: rp.JobRole.Code}); ok {
				q := NewQuery(gatewayASID, w.Endpoints[0], user, rp, string(r.NHSNumber), now)
				return Request{
					Title: fmt.Sprintf("%s plan held by %s, asked by %s as %s", p.Type, r.LA.ODS, user.Name, rp.JobRole.Name),
					Body:  q.Render(),
				}, nil
			}
		}
	}
	return Request{}, fmt.Errorf("the world has no CPP or LAC visible now")
}
