package synth

import (
	"bufio"
	"io"
	"strconv"
	"time"

	"spinegw/cpis"
)

// WriteWorld writes world in the world file format (package world), one
// flow mapping a line, every key world.Parse knows. It is written directly
// rather than through a YAML encoder because a world for the whole England
// cohort holds a quarter of a million patients. Strings are double-quoted
// YAML scalars, so that no name or code can be read as another type.
func WriteWorld(w io.Writer, world cpis.World) error {
	y := &yamlWriter{w: bufio.NewWriterSize(w, 256<<10)}
	y.s("# Synthetic CP-IS world: NHS numbers in the never-issued 999 range.\n")

	y.section("endpoints", len(world.Endpoints))
	for _, e := range world.Endpoints {
		y.s("  - {asid: ")
		y.q(e.ASID)
		y.s(", ods: ")
		y.q(e.ODS)
		y.s(", name: ")
		y.q(e.Name)
		y.s("}\n")
	}

	y.section("users", len(world.Users))
	for _, u := range world.Users {
		y.s("  - id: ")
		y.q(u.ID)
		y.s("\n    name: ")
		y.name(u.Name)
		y.s("\n    enabled: ")
		y.s(strconv.FormatBool(u.Enabled))
		y.s("\n    role_profiles:")
		if len(u.RoleProfiles) == 0 {
			y.s(" []")
		}
		y.s("\n")
		for _, p := range u.RoleProfiles {
			y.s("      - {id: ")
			y.q(p.ID)
			y.s(", job_role: {code: ")
			y.q(p.JobRole.Code)
			y.s(", name: ")
			y.q(p.JobRole.Name)
			y.s("}, org: {ods: ")
			y.q(p.Org.ODS)
			y.s(", name: ")
			y.q(p.Org.Name)
			y.s("}, activities: ")
			y.list(p.Activities)
			y.s("}\n")
		}
	}

	y.section("patients", len(world.Patients))
	for _, p := range world.Patients {
		y.s("  - {nhs_number: ")
		y.q(string(p.NHSNumber))
		if p.Name.Prefix != "" {
			y.s(", prefix: ")
			y.q(p.Name.Prefix)
		}
		y.s(", given: ")
		y.list(p.Name.Given)
		y.s(", family: ")
		y.q(p.Name.Family)
		y.date("birth_date", p.BirthDate)
		if p.Gender != "" {
			y.s(", gender: ")
			y.q(p.Gender)
		}
		if p.SupersededBy != "" {
			y.s(", superseded_by: ")
			y.q(string(p.SupersededBy))
		}
		if p.Sensitive {
			y.s(", sensitive: true")
		}
		y.date("date_of_death", p.DateOfDeath)
		y.s("}\n")
	}

	y.section("local_authorities", len(world.LocalAuthorities))
	for _, la := range world.LocalAuthorities {
		y.s("  - {ods: ")
		y.q(la.ODS)
		y.s(", name: ")
		y.q(la.Name)
		y.s(", telecom: {emergency: ")
		y.q(la.Emergency)
		if la.Office != "" {
			y.s(", office: ")
			y.q(la.Office)
		}
		y.s("}, uploads_enabled: ")
		y.s(strconv.FormatBool(la.UploadsEnabled))
		y.s("}\n")
	}

	y.section("records", len(world.Records))
	for _, r := range world.Records {
		y.s("  - {nhs_number: ")
		y.q(string(r.NHSNumber))
		y.s(", la: ")
		y.q(r.LA.ODS)
		y.s(", local_id: ")
		y.q(r.LocalID)
		y.s(", plans: [")
		for i, p := range r.Plans {
			if i > 0 {
				y.s(", ")
			}
			y.s("{type: ")
			y.q(string(p.Type))
			y.date("start", p.Start)
			y.date("end", p.End)
			y.date("delete", p.Delete)
			y.s("}")
		}
		y.s("]}\n")
	}
	y.flush()
	return y.w.Flush()
}

type yamlWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (y *yamlWriter) s(s string) { y.buf = append(y.buf, s...) }

// q appends s as a double-quoted scalar. Go's escapes (\", \\, \n, \t,
// \xXX, \uXXXX, \UXXXXXXXX and the single-letter control escapes) are all
// YAML double-quoted escapes too.
func (y *yamlWriter) q(s string) {
	y.buf = strconv.AppendQuote(y.buf, s)
	if len(y.buf) >= 64<<10 {
		y.flush()
	}
}

func (y *yamlWriter) list(items []string) {
	y.s("[")
	for i, it := range items {
		if i > 0 {
			y.s(", ")
		}
		y.q(it)
	}
	y.s("]")
}

func (y *yamlWriter) name(n cpis.Name) {
	y.s("{")
	if n.Prefix != "" {
		y.s("prefix: ")
		y.q(n.Prefix)
		y.s(", ")
	}
	y.s("given: ")
	y.list(n.Given)
	y.s(", family: ")
	y.q(n.Family)
	y.s("}")
}

// date appends ", key: YYYY-MM-DD", or nothing for no date.
func (y *yamlWriter) date(key string, d time.Time) {
	if d.IsZero() {
		return
	}
	y.s(", " + key + ": ")
	y.q(d.Format(time.DateOnly))
}

// section starts a top-level list; an empty one is written as [] so that
// the key is still there for a reader of the file.
func (y *yamlWriter) section(key string, n int) {
	y.s(key + ":")
	if n == 0 {
		y.s(" []")
	}
	y.s("\n")
}

func (y *yamlWriter) flush() {
	_, _ = y.w.Write(y.buf) // a write error stays in the bufio.Writer, returned by Flush
	y.buf = y.buf[:0]
}
