// Package world reads world files: YAML documents that describe what the
// emulator stands in for (Spine's directory, PDS demographics, the local
// authorities and the CP-IS records they hold) as a cpis.World.
//
// The format, every key shown (the key names are a contract with users):
//
//	endpoints:                    # SDS accredited systems allowed to call the gateway
//	  - {asid: "200000000101", ods: RKE, name: Whittington Hospital PAS}
//	  - {asid: "200000000102", ods: RKE, name: Whittington ED, fqdn: ed.whittington.nhs.uk}
//	                              # fqdn: optional; the name the endpoint's TLS client certificate
//	                              # carries (CN or DNS SAN); without it, the certificate's CN is the ASID
//	users:                        # SDS users (smartcard holders)
//	  - id: "200009876204"
//	    name: {prefix: Mrs, given: Paula, family: Palmer}   # given: one name or a list
//	    enabled: true             # optional, default true
//	    role_profiles:
//	      - id: "100077650987"
//	        job_role: {code: R0680, name: Midwife}   # R code or SDS triplet S0010:G0020:R0050
//	        org: {ods: RKE, name: The Whittington Hospital NHS Trust}
//	        activities: [B0107, B0264]
//	patients:                     # PDS
//	  - {nhs_number: "9995260182", prefix: Ms, given: [Louise], family: Doyle,
//	     birth_date: "2000-09-26", gender: female, superseded_by: "", inactive: false, sensitive: false, date_of_death: ""}
//	                              # inactive: optional, default false; PDS marks the number inactive with
//	                              # no replacement (CP-IS012); with superseded_by, the supersession wins
//	local_authorities:
//	  - ods: V145
//	    name: London Borough of Islington
//	    telecom: {emergency: "tel:02075277777", office: "tel:02075272000"}
//	    uploads_enabled: true     # optional, default true
//	records:                      # what an LA holds for an NHS number (for UCP, the mother's)
//	  - nhs_number: "9995260182"
//	    la: V145
//	    local_id: LA-1001
//	    plans:
//	      - {type: UCP, start: "2026-05-01", end: "2027-01-10"}   # end and delete optional, except UCP end
//
// Parsing is strict, so that a typing mistake in a world file is reported
// rather than silently giving a different world:
//   - unknown keys, duplicate keys and values of the wrong shape are errors;
//   - dates are civil dates YYYY-MM-DD, read as midnight UTC (cpis.Date);
//   - NHS numbers (patients, records, superseded_by) must pass the Modulus 11
//     check (cpis.ValidNHSNumber);
//   - an ASID is 12 digits; ODS codes are letters and digits; an FQDN is a
//     DNS name (labels of letters, digits and hyphens, dot-separated);
//   - job role codes are an R code (R0680) or an SDS triplet whose last part is
//     one; activities are B codes (B0107);
//   - gender is one of male, female, other, unknown, or absent;
//   - a local authority needs a name and an emergency telephone (EC is
//     mandatory on the wire); telecoms are "tel:" URIs;
//   - a record names a local authority of the same file (Parse has no store
//     to look in), and holds one to three plans of distinct types (CPP, LAC,
//     UCP), as an upload record does;
//   - an unborn child plan (UCP) needs an end date, the expected due date
//     (CP-IS033); no plan may end before it starts;
//   - one ASID, user id, role profile id, NHS number (patients), LA ODS code,
//     or NHS number and LA pair (records) appears at most once.
//
// Error messages name the line and the path of the offending value (for
// example "line 14: records[0].plans[1].end: ..."). They can quote the
// file's own content, which may be patient data: show them to whoever
// supplied the file, but do not log them.
package world

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"spinegw/cpis"

	"go.yaml.in/yaml/v3"
)

// The file's shape. Optional booleans are pointers so that absence can take
// the documented default.
type (
	file struct {
		Endpoints        []endpointYAML `yaml:"endpoints"`
		Users            []userYAML     `yaml:"users"`
		Patients         []patientYAML  `yaml:"patients"`
		LocalAuthorities []laYAML       `yaml:"local_authorities"`
		Records          []recordYAML   `yaml:"records"`
	}
	endpointYAML struct {
		ASID string `yaml:"asid"`
		ODS  string `yaml:"ods"`
		Name string `yaml:"name"`
		FQDN string `yaml:"fqdn"`
	}
	nameYAML struct {
		Prefix string     `yaml:"prefix"`
		Given  givenNames `yaml:"given"`
		Family string     `yaml:"family"`
	}
	userYAML struct {
		ID           string        `yaml:"id"`
		Name         nameYAML      `yaml:"name"`
		Enabled      *bool         `yaml:"enabled"`
		RoleProfiles []profileYAML `yaml:"role_profiles"`
	}
	profileYAML struct {
		ID         string   `yaml:"id"`
		JobRole    codeName `yaml:"job_role"`
		Org        odsName  `yaml:"org"`
		Activities []string `yaml:"activities"`
	}
	codeName struct {
		Code string `yaml:"code"`
		Name string `yaml:"name"`
	}
	odsName struct {
		ODS  string `yaml:"ods"`
		Name string `yaml:"name"`
	}
	patientYAML struct {
		NHSNumber    string     `yaml:"nhs_number"`
		Prefix       string     `yaml:"prefix"`
		Given        givenNames `yaml:"given"`
		Family       string     `yaml:"family"`
		BirthDate    string     `yaml:"birth_date"`
		Gender       string     `yaml:"gender"`
		SupersededBy string     `yaml:"superseded_by"`
		Inactive     bool       `yaml:"inactive"`
		Sensitive    bool       `yaml:"sensitive"`
		DateOfDeath  string     `yaml:"date_of_death"`
	}
	laYAML struct {
		ODS            string      `yaml:"ods"`
		Name           string      `yaml:"name"`
		Telecom        telecomYAML `yaml:"telecom"`
		UploadsEnabled *bool       `yaml:"uploads_enabled"`
	}
	telecomYAML struct {
		Emergency string `yaml:"emergency"`
		Office    string `yaml:"office"`
	}
	recordYAML struct {
		NHSNumber string     `yaml:"nhs_number"`
		LA        string     `yaml:"la"`
		LocalID   string     `yaml:"local_id"`
		Plans     []planYAML `yaml:"plans"`
	}
	planYAML struct {
		Type   string `yaml:"type"`
		Start  string `yaml:"start"`
		End    string `yaml:"end"`
		Delete string `yaml:"delete"`
	}
)

// givenNames accepts one given name as a scalar or several as a list: the
// sample world writes a user's `given: Paula` and a patient's
// `given: [Louise]`, and both read naturally. A scalar is one name, not
// split on spaces.
type givenNames []string

func (g *givenNames) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*g = nil
			return nil
		}
		*g = givenNames{n.Value}
		return nil
	case yaml.SequenceNode:
		var names []string
		if err := n.Decode(&names); err != nil {
			return err
		}
		*g = names
		return nil
	}
	return fmt.Errorf("line %d: given must be a name or a list of names", n.Line)
}

// ReadFile reads and parses the world file at path. Errors reading the file
// wrap the os error; errors in its content are as Parse's, with the path in
// the operation.
func ReadFile(path string) (cpis.World, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return cpis.World{}, fmt.Errorf("world file: %w", err)
	}
	w, err := Parse(data)
	if err != nil {
		var e *cpis.Error
		if errors.As(err, &e) {
			e.Op = "world file " + path
		}
		return cpis.World{}, err
	}
	return w, nil
}

// Parse reads a world file's content strictly (see the package
// documentation). Every error is a *cpis.Error of kind KindInvalid.
func Parse(data []byte) (cpis.World, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return cpis.World{}, invalid("the world file holds no YAML document")
		}
		return cpis.World{}, invalid("%s", yamlMessage(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return cpis.World{}, invalid("line %d: a world file holds one YAML document", extra.Line)
	}
	// A second, untyped pass gives the line of every value for the
	// semantic checks; the typed pass has already proven the shape.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return cpis.World{}, invalid("%s", yamlMessage(err))
	}
	c := &checker{root: &root}
	w := c.world(&f)
	if len(c.errs) > 0 {
		msg := strings.Join(c.errs, "; ")
		if c.more > 0 {
			msg += fmt.Sprintf("; and %d more", c.more)
		}
		return cpis.World{}, invalid("%s", msg)
	}
	return w, nil
}

func invalid(format string, args ...any) *cpis.Error {
	return cpis.Errorf(cpis.KindInvalid, "world", format, args...)
}

var (
	unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)
	wrongShape   = regexp.MustCompile(` into (\S+)$`)
)

// yamlMessage turns a yaml.v3 error into a message for the file's author:
// without the library's prefix or Go type names.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			m = unknownField.ReplaceAllString(m, `unknown key "$1"`)
			if sm := wrongShape.FindStringSubmatchIndex(m); sm != nil {
				m = m[:sm[0]] + ", want " + shapeOf(m[sm[2]:sm[3]])
			}
			msgs[i] = m
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// shapeOf names what a Go type of the file's shape expects, in YAML terms.
func shapeOf(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"), goType == "world.givenNames":
		return "a list"
	case goType == "string":
		return "a text value"
	case goType == "bool", goType == "*bool":
		return "true or false"
	case strings.HasPrefix(goType, "world."):
		return "a mapping"
	}
	return goType
}

// maxErrors bounds the message of a badly broken file.
const maxErrors = 10

// checker validates the decoded file and converts it, collecting errors with
// the line and path of the offending value.
type checker struct {
	root *yaml.Node
	errs []string
	more int
}

// failf records an error at path, a sequence of keys (string) and indices
// (int) from the document root.
func (c *checker) failf(path []any, format string, args ...any) {
	if len(c.errs) >= maxErrors {
		c.more++
		return
	}
	msg := fmt.Sprintf(format, args...)
	c.errs = append(c.errs, fmt.Sprintf("line %d: %s: %s", lineAt(c.root, path), pathString(path), msg))
}

// at builds a path; the copy keeps sibling paths from sharing a backing
// array.
func at(base []any, more ...any) []any {
	p := make([]any, 0, len(base)+len(more))
	return append(append(p, base...), more...)
}

func pathString(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		}
	}
	return b.String()
}

// lineAt returns the line of the node at path, or of its deepest existing
// ancestor when a key is absent (a missing required key is reported on the
// mapping that lacks it).
func lineAt(root *yaml.Node, path []any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		var next *yaml.Node
		switch p := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && p < len(n.Content) {
				next = n.Content[p]
			}
		}
		if next == nil {
			return line
		}
		n = next
		line = n.Line
	}
	return line
}

func (c *checker) world(f *file) cpis.World {
	var w cpis.World

	asids := map[string]int{}
	for i, e := range f.Endpoints {
		p := at(nil, "endpoints", i)
		if !isDigits(e.ASID, 12) {
			c.failf(at(p, "asid"), "an ASID is 12 digits")
		} else if first, dup := asids[e.ASID]; dup {
			c.failf(at(p, "asid"), "ASID %s is already an endpoint at line %d", e.ASID, first)
		} else {
			asids[e.ASID] = lineAt(c.root, p)
		}
		c.ods(at(p, "ods"), e.ODS)
		if e.FQDN != "" && !isDNSName(e.FQDN) {
			c.failf(at(p, "fqdn"), "an FQDN is a DNS name: labels of letters, digits and hyphens separated by dots")
		}
		w.Endpoints = append(w.Endpoints, cpis.Endpoint{ASID: e.ASID, ODS: e.ODS, Name: e.Name, FQDN: e.FQDN})
	}

	userIDs, profileIDs := map[string]int{}, map[string]int{}
	for i, u := range f.Users {
		p := at(nil, "users", i)
		if c.id(at(p, "id"), u.ID, "an SDS user id") {
			if first, dup := userIDs[u.ID]; dup {
				c.failf(at(p, "id"), "user %s is already defined at line %d", u.ID, first)
			} else {
				userIDs[u.ID] = lineAt(c.root, p)
			}
		}
		user := cpis.User{ID: u.ID, Name: name(u.Name.Prefix, u.Name.Given, u.Name.Family), Enabled: true}
		if u.Enabled != nil {
			user.Enabled = *u.Enabled
		}
		for j, r := range u.RoleProfiles {
			rp := at(p, "role_profiles", j)
			if c.id(at(rp, "id"), r.ID, "a role profile id") {
				if first, dup := profileIDs[r.ID]; dup {
					c.failf(at(rp, "id"), "role profile %s is already defined at line %d", r.ID, first)
				} else {
					profileIDs[r.ID] = lineAt(c.root, rp)
				}
			}
			if !validJobRole(r.JobRole.Code) {
				c.failf(at(rp, "job_role", "code"), "a job role code is an R code (R0680) or an SDS triplet (S0010:G0020:R0050)")
			}
			c.ods(at(rp, "org", "ods"), r.Org.ODS)
			profile := cpis.RoleProfile{
				ID:      r.ID,
				JobRole: cpis.JobRole{Code: r.JobRole.Code, Name: r.JobRole.Name},
				Org:     cpis.Org{ODS: r.Org.ODS, Name: r.Org.Name},
			}
			seen := map[string]bool{}
			for k, a := range r.Activities {
				switch {
				case !isCode(a, 'B'):
					c.failf(at(rp, "activities", k), "an RBAC activity is a B code (B0107)")
				case seen[a]:
					c.failf(at(rp, "activities", k), "activity %s is listed twice", a)
				}
				seen[a] = true
				profile.Activities = append(profile.Activities, a)
			}
			user.RoleProfiles = append(user.RoleProfiles, profile)
		}
		w.Users = append(w.Users, user)
	}

	patients := map[string]int{}
	for i, pt := range f.Patients {
		p := at(nil, "patients", i)
		if c.nhs(at(p, "nhs_number"), pt.NHSNumber) {
			if first, dup := patients[pt.NHSNumber]; dup {
				c.failf(at(p, "nhs_number"), "the NHS number is already a patient at line %d", first)
			} else {
				patients[pt.NHSNumber] = lineAt(c.root, p)
			}
		}
		if pt.SupersededBy != "" {
			if c.nhs(at(p, "superseded_by"), pt.SupersededBy) && pt.SupersededBy == pt.NHSNumber {
				c.failf(at(p, "superseded_by"), "a patient cannot be superseded by its own NHS number")
			}
		}
		switch pt.Gender {
		case "", "male", "female", "other", "unknown":
		default:
			c.failf(at(p, "gender"), "gender is male, female, other or unknown")
		}
		birth := c.date(at(p, "birth_date"), pt.BirthDate)
		death := c.date(at(p, "date_of_death"), pt.DateOfDeath)
		if !birth.IsZero() && !death.IsZero() && death.Before(birth) {
			c.failf(at(p, "date_of_death"), "the date of death is before the birth date")
		}
		w.Patients = append(w.Patients, cpis.Patient{
			NHSNumber:    cpis.NHSNumber(pt.NHSNumber),
			Name:         name(pt.Prefix, pt.Given, pt.Family),
			BirthDate:    birth,
			Gender:       pt.Gender,
			SupersededBy: cpis.NHSNumber(pt.SupersededBy),
			Inactive:     pt.Inactive,
			Sensitive:    pt.Sensitive,
			DateOfDeath:  death,
		})
	}

	las := map[string]int{}
	for i, la := range f.LocalAuthorities {
		p := at(nil, "local_authorities", i)
		if c.ods(at(p, "ods"), la.ODS) {
			if first, dup := las[la.ODS]; dup {
				c.failf(at(p, "ods"), "local authority %s is already defined at line %d", la.ODS, first)
			} else {
				las[la.ODS] = lineAt(c.root, p)
			}
		}
		if strings.TrimSpace(la.Name) == "" {
			c.failf(at(p, "name"), "a local authority needs a name")
		}
		// The emergency duty telephone (EC) is mandatory on the wire; the
		// office-hours one (WP) is optional.
		if la.Telecom.Emergency == "" {
			c.failf(at(p, "telecom", "emergency"), "a local authority needs an emergency duty telephone")
		} else if !isTel(la.Telecom.Emergency) {
			c.failf(at(p, "telecom", "emergency"), "a telephone is a tel: URI")
		}
		if la.Telecom.Office != "" && !isTel(la.Telecom.Office) {
			c.failf(at(p, "telecom", "office"), "a telephone is a tel: URI")
		}
		out := cpis.LocalAuthority{ODS: la.ODS, Name: la.Name, Emergency: la.Telecom.Emergency, Office: la.Telecom.Office, UploadsEnabled: true}
		if la.UploadsEnabled != nil {
			out.UploadsEnabled = *la.UploadsEnabled
		}
		w.LocalAuthorities = append(w.LocalAuthorities, out)
	}

	type recordKey struct{ nhs, la string }
	records := map[recordKey]int{}
	for i, r := range f.Records {
		p := at(nil, "records", i)
		okNHS := c.nhs(at(p, "nhs_number"), r.NHSNumber)
		if c.ods(at(p, "la"), r.LA) {
			// Parse has no store to look in: the LA must be in this file.
			if _, ok := las[r.LA]; !ok {
				c.failf(at(p, "la"), "local authority %s is not defined in local_authorities of this file", r.LA)
			} else if okNHS {
				k := recordKey{r.NHSNumber, r.LA}
				if first, dup := records[k]; dup {
					c.failf(p, "local authority %s already holds a record for this NHS number at line %d", r.LA, first)
				} else {
					records[k] = lineAt(c.root, p)
				}
			}
		}
		rec := cpis.Record{NHSNumber: cpis.NHSNumber(r.NHSNumber), LA: cpis.LocalAuthority{ODS: r.LA}, LocalID: r.LocalID}
		// An upload record carries one to three information items
		// (CP-IS035), one of each type.
		if len(r.Plans) == 0 || len(r.Plans) > 3 {
			c.failf(at(p, "plans"), "a record holds one to three plans")
		}
		types := map[cpis.PlanType]bool{}
		for j, pl := range r.Plans {
			pp := at(p, "plans", j)
			t := cpis.PlanType(pl.Type)
			if !t.Valid() {
				c.failf(at(pp, "type"), "a plan type is CPP, LAC or UCP")
			} else if types[t] {
				c.failf(at(pp, "type"), "the record already holds a %s plan", t)
			}
			types[t] = true
			plan := cpis.Plan{Type: t}
			if pl.Start == "" {
				c.failf(at(pp, "start"), "a plan needs a start date")
			} else {
				plan.Start = c.date(at(pp, "start"), pl.Start)
			}
			plan.End = c.date(at(pp, "end"), pl.End)
			plan.Delete = c.date(at(pp, "delete"), pl.Delete)
			if t == cpis.UCP && pl.End == "" {
				// CP-IS033: an unborn child's plan must include an end date,
				// the expected due date.
				c.failf(at(pp, "end"), "an unborn child plan (UCP) needs an end date, the expected due date")
			}
			if !plan.Start.IsZero() && !plan.End.IsZero() && plan.End.Before(plan.Start) {
				c.failf(at(pp, "end"), "the plan ends before it starts")
			}
			rec.Plans = append(rec.Plans, plan)
		}
		w.Records = append(w.Records, rec)
	}
	return w
}

// name builds a cpis.Name with nil rather than empty Given, so that worlds
// compare equal however they were built.
func name(prefix string, given []string, family string) cpis.Name {
	return cpis.Name{Prefix: prefix, Given: append([]string(nil), given...), Family: family}
}

// nhs checks an NHS number. The message never repeats the number: the line
// points at it.
func (c *checker) nhs(path []any, s string) bool {
	if s == "" {
		c.failf(path, "an NHS number is required")
		return false
	}
	if !cpis.ValidNHSNumber(s) {
		c.failf(path, "an NHS number is ten digits with a valid Modulus 11 check digit")
		return false
	}
	return true
}

func (c *checker) ods(path []any, s string) bool {
	if s == "" {
		c.failf(path, "an ODS code is required")
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			c.failf(path, "an ODS code is letters and digits")
			return false
		}
	}
	return true
}

func (c *checker) id(path []any, s, what string) bool {
	if strings.TrimSpace(s) == "" || strings.TrimSpace(s) != s {
		c.failf(path, "%s is required, without surrounding spaces", what)
		return false
	}
	return true
}

// date reads an optional civil date; "" is no date.
func (c *checker) date(path []any, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		c.failf(path, "a date is YYYY-MM-DD")
		return time.Time{}
	}
	return cpis.Date(t.Date())
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isCode reports whether s is letter followed by four digits (R0680, B0107).
func isCode(s string, letter byte) bool {
	return len(s) == 5 && s[0] == letter && isDigits(s[1:], 4)
}

// validJobRole accepts an R code or an SDS triplet S....:G....:R....; the R
// part is what RBAC and the midwife rule look at (CP-IS041).
func validJobRole(code string) bool {
	if isCode(code, 'R') {
		return true
	}
	parts := strings.Split(code, ":")
	return len(parts) == 3 && isCode(parts[0], 'S') && isCode(parts[1], 'G') && isCode(parts[2], 'R')
}

// isDNSName accepts a host name of dot-separated labels of letters, digits
// and hyphens (not at either end of a label), at most 253 characters, with
// an optional final dot.
func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func isTel(s string) bool { return strings.HasPrefix(s, "tel:") && len(s) > len("tel:") }
