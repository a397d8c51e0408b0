package conformance

import (
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is a replay's results with what they were run against.
type Report struct {
	Target   string
	Admin    string
	Started  time.Time
	Duration time.Duration
	Results  []Result
}

// Counts are a report's totals.
type Counts struct{ Total, Passed, Failed, NotApplicable int }

// Counts adds up the results.
func (r Report) Counts() Counts {
	var c Counts
	for _, res := range r.Results {
		c.Total++
		switch res.Outcome() {
		case "pass":
			c.Passed++
		case "n/a":
			c.NotApplicable++
		default:
			c.Failed++
		}
	}
	return c
}

// Summary is the one-line total.
func (r Report) Summary() string {
	c := r.Counts()
	return fmt.Sprintf("%d cases: %d passed, %d failed, %d not applicable to this target (%s)",
		c.Total, c.Passed, c.Failed, c.NotApplicable, r.Duration.Round(time.Millisecond))
}

// WriteTable writes the summary table: one row a case (case, result, time,
// first failure reason), then the totals.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tRESULT\tTIME\tREASON")
	for _, res := range r.Results {
		reason := res.Reason()
		if len(reason) > 160 {
			reason = reason[:157] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.Case, res.Outcome(), ms(res.Duration), oneLine(reason))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, r.Summary())
	return err
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// JUnit XML, in the shape CI consumers (Jenkins, GitLab, GitHub actions)
// read: testsuites > testsuite > testcase, with failure and skipped
// children, counts and times in seconds.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string          `xml:"name,attr"`
	Tests     int             `xml:"tests,attr"`
	Failures  int             `xml:"failures,attr"`
	Errors    int             `xml:"errors,attr"`
	Skipped   int             `xml:"skipped,attr"`
	Time      string          `xml:"time,attr"`
	Timestamp string          `xml:"timestamp,attr"`
	Hostname  string          `xml:"hostname,attr,omitempty"`
	Props     []junitProperty `xml:"properties>property,omitempty"`
	Cases     []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the report as JUnit XML, one testcase a case; a case not
// applicable to the target is a skipped testcase.
func (r Report) WriteJUnit(w io.Writer) error {
	c := r.Counts()
	s := junitSuite{Name: "spinegw conformance", Tests: c.Total, Failures: c.Failed, Skipped: c.NotApplicable,
		Time: secs(r.Duration), Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
		Props: []junitProperty{{"target", r.Target}, {"admin", r.Admin}}}
	for _, res := range r.Results {
		jc := junitCase{Name: res.Case, Classname: "conformance", Time: secs(res.Duration)}
		switch res.Outcome() {
		case "n/a":
			jc.Skipped = &junitSkipped{Message: res.NotApplicable}
		case "FAIL":
			jc.Failure = &junitFailure{Message: oneLine(res.Failures[0]), Type: "conformance",
				Text: strings.Join(res.Failures, "\n")}
		}
		s.Cases = append(s.Cases, jc)
	}
	out := junitSuites{Name: s.Name, Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped, Time: s.Time,
		Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{"ms": ms}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>spinegw conformance: {{.Counts.Failed}} failed of {{.Counts.Total}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .35em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.pass { color: #176b21; font-weight: bold; }
td.FAIL { color: #b00020; font-weight: bold; }
td.na { color: #7a5b00; font-weight: bold; }
tr.FAIL { background: #fff3f3; }
.summary { font-size: 1.15em; margin: 1em 0; }
pre { white-space: pre-wrap; margin: .3em 0; font-size: .9em; }
details summary { cursor: pointer; }
.small { color: #666; font-size: .9em; }
</style>
</head>
<body>
<h1>spinegw conformance report</h1>
<p class="small">Target {{.Target}}{{if .Admin}}, admin listener {{.Admin}}{{else}}, no admin listener{{end}}; started {{.Started.UTC.Format "2006-01-02 15:04:05"}} UTC.</p>
<p class="summary">{{.Counts.Total}} cases: <strong>{{.Counts.Passed}} passed</strong>, <strong>{{.Counts.Failed}} failed</strong>, {{.Counts.NotApplicable}} not applicable to this target.</p>
<table>
<thead><tr><th>Case</th><th>Result</th><th>Time</th><th>What it checks / why it failed</th></tr></thead>
<tbody>
{{range .Results}}<tr class="{{.Outcome}}" id="{{.Case}}">
<td><code>{{.Case}}</code></td>
<td class="{{if eq .Outcome "n/a"}}na{{else}}{{.Outcome}}{{end}}">{{.Outcome}}</td>
<td>{{ms .Duration}}</td>
<td>{{.Title}}{{if .NotApplicable}}<pre>{{.NotApplicable}}</pre>{{end}}{{if .Failures}}
<pre>{{range .Failures}}{{.}}
{{end}}</pre>{{if .Reply}}<details><summary>reply (HTTP {{.Status}})</summary><pre>{{printf "%s" .Reply}}</pre></details>{{end}}{{end}}</td>
</tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

// WriteHTML writes a self-contained HTML report a person can read: totals,
// then each case with its title, result, time and, for a failure, every
// failed expectation and the reply received. Everything is escaped.
func (r Report) WriteHTML(w io.Writer) error { return htmlReport.Execute(w, r) }

// Progress draws a one-line progress bar on a terminal: cases done, cases
// failed so far, and the case running.
type Progress struct {
	W     io.Writer
	Total int
	done  int
	fail  int
}

// Start redraws the bar for the case about to run.
func (p *Progress) Start(name string) {
	const width = 30
	filled := 0
	if p.Total > 0 {
		filled = p.done * width / p.Total
	}
	if len(name) > 40 {
		name = name[:40]
	}
	fmt.Fprintf(p.W, "\r\x1b[K[%s%s] %d/%d, %d failed, running %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		p.done, p.Total, p.fail, name)
}

// Step records one finished case.
func (p *Progress) Step(res Result) {
	p.done++
	if res.Outcome() == "FAIL" {
		p.fail++
	}
}

// Done clears the bar.
func (p *Progress) Done() { fmt.Fprint(p.W, "\r\x1b[K") }
