package cpis

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is any report ready to render: a title, a few facts about it
// (period, filters), columns and rows. A cell is a string, an int, or nil
// for a figure that cannot be derived.
type Report struct {
	Name        string // statistics, subject, stale-cpp, access
	Requirement string
	Title       string
	Meta        []Meta
	Columns     []string
	Rows        [][]any
}

// Meta is one fact about a report, shown above a table and in JSON.
type Meta struct{ Key, Value string }

// Report formats.
const (
	FormatTable = "table"
	FormatCSV   = "csv"
	FormatJSON  = "json"
)

// Render writes the report in the format: table (aligned, for people), csv
// (RFC 4180, one header row, the rows only) or json (an object with
// report, requirement, title, meta and rows; each row an object keyed by the
// column names, which are stable).
func (r Report) Render(w io.Writer, format string) error {
	switch format {
	case FormatTable, "":
		return r.table(w)
	case FormatCSV:
		return r.csv(w)
	case FormatJSON:
		return r.json(w)
	}
	return Errorf(KindInvalid, "report", "unknown format %q: table, csv or json", format)
}

func cellText(v any, empty string) string {
	switch v := v.(type) {
	case nil:
		return empty
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case *int:
		if v == nil {
			return empty
		}
		return strconv.Itoa(*v)
	case bool:
		if v {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}

func (r Report) table(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s (%s)\n", r.Title, r.Requirement)
	for _, m := range r.Meta {
		fmt.Fprintf(&b, "%s: %s\n", m.Key, m.Value)
	}
	b.WriteByte('\n')
	if len(r.Rows) == 0 {
		b.WriteString("(no rows)\n")
		_, err := w.Write(b.Bytes())
		return err
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(r.Columns, "\t")))
	for _, row := range r.Rows {
		cells := make([]string, len(row))
		for i, c := range row {
			// A tab or newline in a value would break the alignment.
			cells[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(cellText(c, "n/a"))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

func (r Report) csv(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.Columns); err != nil {
		return err
	}
	cells := make([]string, len(r.Columns))
	for _, row := range r.Rows {
		for i, c := range row {
			cells[i] = cellText(c, "")
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (r Report) json(w io.Writer) error {
	var b bytes.Buffer
	str := func(s string) { v, _ := json.Marshal(s); b.Write(v) }
	b.WriteString("{\n  \"report\": ")
	str(r.Name)
	b.WriteString(",\n  \"requirement\": ")
	str(r.Requirement)
	b.WriteString(",\n  \"title\": ")
	str(r.Title)
	b.WriteString(",\n  \"meta\": {")
	for i, m := range r.Meta {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		str(m.Key)
		b.WriteString(": ")
		str(m.Value)
	}
	if len(r.Meta) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("},\n  \"rows\": [")
	for i, row := range r.Rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    {")
		for j, c := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			str(r.Columns[j])
			b.WriteString(": ")
			switch c := c.(type) {
			case *int:
				if c == nil {
					b.WriteString("null")
				} else {
					b.WriteString(strconv.Itoa(*c))
				}
			default:
				v, err := json.Marshal(c)
				if err != nil {
					return err
				}
				b.Write(v)
			}
		}
		b.WriteByte('}')
	}
	if len(r.Rows) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("]\n}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// FormatInstant renders an instant in reports: RFC 3339, UTC, to the second.
func FormatInstant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// FormatDay renders a civil date in reports, empty when absent.
func FormatDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func periodMeta(p Period) []Meta {
	return []Meta{{"from", FormatDay(p.From)}, {"to", FormatDay(p.Last())}}
}

// Report renders the statistics: one row per figure.
func (s Statistics) Report() Report {
	r := Report{Name: "statistics", Requirement: "CP-IS077", Title: "CP-IS statistics",
		Meta:    append(periodMeta(s.Period), Meta{"as_of", FormatDay(s.AsOf)}),
		Columns: []string{"figure", "requirement", "la", "value", "source"}}
	if s.LA != "" {
		r.Meta = append(r.Meta, Meta{"la", s.LA})
	}
	for _, f := range s.Figures {
		r.Rows = append(r.Rows, []any{f.ID, f.Requirement, f.LA, f.Value, f.Source})
	}
	return r
}

// SubjectReport is the CP-IS079 data protection report: everything the
// service holds, and the trace of what it held, for one NHS number.
type SubjectReport struct {
	NHSNumber NHSNumber
	AsOf      time.Time
	Items     []SubjectItem
}

// Sections of the subject report, in the order they are listed.
const (
	SecPatient      = "patient"
	SecSupersession = "supersession"
	SecRecord       = "record"
	SecHistory      = "history"
	SecUpload       = "upload"
	SecAccess       = "access"
	SecNotification = "notification"
)

// SubjectItem is one thing held about the number.
type SubjectItem struct {
	Section string
	When    string // an instant (RFC 3339) or a civil day
	LA      string
	What    string
	Start   time.Time
	End     time.Time
	Delete  time.Time
	Detail  string
}

// PlanStatus says, for the subject report, where a held plan stands on day.
func PlanStatus(p Plan, birth, day time.Time) string {
	switch {
	case PlanCurrent(p, birth, day):
		return "current"
	case p.Start.After(day):
		return "not started"
	case Expired(p, birth, day):
		return "expired, removed by the next purge"
	}
	return "ended, still shown"
}

// Report renders the subject report.
func (s SubjectReport) Report() Report {
	r := Report{Name: "subject", Requirement: "CP-IS079", Title: "CP-IS data protection report",
		Meta:    []Meta{{"nhs_number", string(s.NHSNumber)}, {"as_of", FormatDay(s.AsOf)}},
		Columns: []string{"section", "when", "la", "what", "start", "end", "delete", "detail"}}
	for _, it := range s.Items {
		r.Rows = append(r.Rows, []any{it.Section, it.When, it.LA, it.What, FormatDay(it.Start), FormatDay(it.End),
			FormatDay(it.Delete), it.Detail})
	}
	return r
}

// StaleReport is the CP-IS080 report: CPPs started two years or more
// before the day with neither an end date nor a delete date.
type StaleReport struct {
	AsOf    time.Time
	LA, NHS string // filters, when given
	Rows    []StaleRow
}

// StaleRow is one stale CPP.
type StaleRow struct {
	LA        string
	NHSNumber NHSNumber
	LocalID   string
	Start     time.Time
}

// Report renders the stale CPP report.
func (s StaleReport) Report() Report {
	r := Report{Name: "stale-cpp", Requirement: "CP-IS080", Title: "CP-IS child protection plans with no end or delete date for 2 years",
		Meta:    []Meta{{"as_of", FormatDay(s.AsOf)}},
		Columns: []string{"la", "nhs_number", "local_id", "start", "stale_since", "days_open"}}
	if s.LA != "" {
		r.Meta = append(r.Meta, Meta{"la", s.LA})
	}
	if s.NHS != "" {
		r.Meta = append(r.Meta, Meta{"nhs_number", s.NHS})
	}
	r.Meta = append(r.Meta, Meta{"count", strconv.Itoa(len(s.Rows))})
	for _, x := range s.Rows {
		days := int(s.AsOf.Sub(x.Start).Hours() / 24)
		r.Rows = append(r.Rows, []any{x.LA, string(x.NHSNumber), x.LocalID, FormatDay(x.Start),
			FormatDay(StaleSince(Plan{Start: x.Start})), days})
	}
	return r
}

// AccessReport is the CP-IS081 report: who viewed or changed which
// records, from which organisation, when.
type AccessReport struct {
	Period  Period
	LA, NHS string
	Rows    []AccessRow
}

// Access report actions.
const (
	ActView   = "view"   // an NHS Query answered with the child's information (an access event)
	ActUpload = "upload" // an LA upload file received
	ActUpdate = "update" // a record an LA upload stored
)

// AccessRow is one view or change.
type AccessRow struct {
	At        time.Time
	Action    string
	NHSNumber NHSNumber
	UserID    string
	User      string // name, for a system author the name it gave
	JobRole   string
	OrgODS    string
	OrgName   string
	ASID      string
	LAs       []string
	Detail    string
}

// Report renders the access report.
func (a AccessReport) Report() Report {
	r := Report{Name: "access", Requirement: "CP-IS081", Title: "CP-IS access and update report",
		Meta:    periodMeta(a.Period),
		Columns: []string{"at", "action", "nhs_number", "user_id", "user", "job_role", "org_ods", "org_name", "asid", "las", "detail"}}
	if a.LA != "" {
		r.Meta = append(r.Meta, Meta{"la", a.LA})
	}
	if a.NHS != "" {
		r.Meta = append(r.Meta, Meta{"nhs_number", a.NHS})
	}
	for _, x := range a.Rows {
		r.Rows = append(r.Rows, []any{FormatInstant(x.At), x.Action, string(x.NHSNumber), x.UserID, x.User, x.JobRole,
			x.OrgODS, x.OrgName, x.ASID, strings.Join(x.LAs, " "), x.Detail})
	}
	return r
}
