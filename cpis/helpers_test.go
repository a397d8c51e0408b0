package cpis_test

import (
	"strings"
	"time"

	"spinegw/cpis"
)

// day parses a civil date written 2006-01-02 into the core's representation
// (midnight UTC).
func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return cpis.Date(t.Date())
}

// at parses an instant written in RFC 3339.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// planOpt sets one field of a plan, so that a plan reads as its dates:
// cpp(start("2025-01-01"), end("2025-06-30")).
type planOpt func(*cpis.Plan)

func start(s string) planOpt { return func(p *cpis.Plan) { p.Start = day(s) } }
func end(s string) planOpt   { return func(p *cpis.Plan) { p.End = day(s) } }
func due(s string) planOpt   { return end(s) } // CP-IS011: an unborn plan's end date is the due date
func del(s string) planOpt   { return func(p *cpis.Plan) { p.Delete = day(s) } }

func plan(t cpis.PlanType, opts ...planOpt) cpis.Plan {
	p := cpis.Plan{Type: t}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func cpp(opts ...planOpt) cpis.Plan { return plan(cpis.CPP, opts...) }
func lac(opts ...planOpt) cpis.Plan { return plan(cpis.LAC, opts...) }
func ucp(opts ...planOpt) cpis.Plan { return plan(cpis.UCP, opts...) }

// la is a local authority known by its ODS code.
func la(ods string) cpis.LocalAuthority {
	return cpis.LocalAuthority{ODS: ods, Name: "LA " + ods, Emergency: "tel:01000000000"}
}

// rec is what the local authority ods holds for an NHS number.
func rec(ods string, plans ...cpis.Plan) cpis.Record {
	return cpis.Record{NHSNumber: "9434765919", LA: la(ods), LocalID: "local-" + ods, Plans: plans}
}

// holdingsString renders holdings as "LA[plan types] ...", the way the
// cases write them.
func holdingsString(hs []cpis.Holding) string {
	var s []string
	for _, h := range hs {
		var types []string
		for _, p := range h.Plans {
			types = append(types, string(p.Type))
		}
		s = append(s, h.LA.ODS+"["+strings.Join(types, " ")+"]")
	}
	return strings.Join(s, " ")
}
