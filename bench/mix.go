package bench

import (
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Kind is the answer a query is expected to get.
type Kind int

const (
	Positive Kind = iota // REPC_IN000007GB01: records shown
	Negative             // QUQI_IN010000UK14: NHS Number Not Found
	Refused              // QUQI_IN010000UK14: the author lacks B0107
	numKinds
)

func (k Kind) String() string {
	return [...]string{"positive", "negative", "refused"}[k]
}

// The share of each kind, in percent: mostly positive, as the load is
// dominated by clinicians checking children who do have a plan.
var kindShares = [numKinds]int{Positive: 85, Negative: 10, Refused: 5}

// Mix makes NHS Queries in the proportions of kindShares. It is read-only
// once built, so workers share it; each worker brings its own random source.
type Mix struct {
	tmpl     *Template
	viewers  []Values // callers holding B0107
	midwives []Values // of those, the midwives (unborn plans)
	refused  []Values // callers without B0107
	lists    MixLists
	clock    time.Time // the gateway's clock at start
	started  time.Time // wall time at start
}

// NewMix prepares queries for the callers of s, addressed to the gateway at
// url. Message times run from clock, as the gateway's own clock does.
func NewMix(s *Synthetic, url string, clock time.Time) (*Mix, error) {
	m := &Mix{tmpl: QueryTemplate(), lists: s.Mix, clock: clock, started: time.Now()}
	for _, c := range s.Callers() {
		v := callerValues(c, url)
		switch {
		case !c.Viewer():
			m.refused = append(m.refused, v)
		case c.Midwife():
			m.midwives = append(m.midwives, v)
			m.viewers = append(m.viewers, v)
		default:
			m.viewers = append(m.viewers, v)
		}
	}
	switch {
	case len(m.viewers) == 0 || len(m.midwives) == 0 || len(m.refused) == 0:
		return nil, fmt.Errorf("query mix: the world needs viewers, midwives and users without B0107")
	case len(s.Mix.Positive) == 0 || len(s.Mix.Negative) == 0:
		return nil, fmt.Errorf("query mix: the world needs positive and negative NHS numbers")
	}
	return m, nil
}

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// callerValues fills the placeholders that depend only on who is asking.
func callerValues(c Caller, url string) Values {
	var v Values
	v[FieldTo] = escape(url)
	v[FieldFrom] = "https://" + strings.ToLower(c.Endpoint.ODS) + ".nhs.example/cpis"
	v[FieldRcvASID] = GatewayASID
	v[FieldSndASID] = c.Endpoint.ASID
	v[FieldRoleProfileID] = c.Profile.ID
	v[FieldUserID] = c.User.ID
	v[FieldJobRoleCode] = c.Profile.JobRole.RCode()
	v[FieldJobRoleName] = escape(c.Profile.JobRole.Name)
	v[FieldPrefix] = escape(c.User.Name.Prefix)
	v[FieldGiven] = escape(strings.Join(c.User.Name.Given, " "))
	v[FieldFamily] = escape(c.User.Name.Family)
	v[FieldOrgODS] = escape(c.Profile.Org.ODS)
	v[FieldOrgName] = escape(c.Profile.Org.Name)
	return v
}

// NextKind draws the kind of the next query.
func NextKind(rng *rand.Rand) Kind {
	r := rng.IntN(100)
	for k, share := range kindShares {
		if r < share {
			return Kind(k)
		}
		r -= share
	}
	return Positive
}

// Append appends a fresh query of the given kind to dst: new message and
// query ids, the current time on the gateway's clock, a caller and an NHS
// number that should give that kind of answer.
func (m *Mix) Append(dst []byte, rng *rand.Rand, k Kind) []byte {
	var v Values
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	switch k {
	case Positive:
		// Unborn plans are positive only for midwives (CP-IS041).
		if i := rng.IntN(len(m.lists.Positive) + len(m.lists.Unborn)); i < len(m.lists.Positive) {
			v = m.viewers[rng.IntN(len(m.viewers))]
			v[FieldNHSNumber] = m.lists.Positive[i]
		} else {
			v = m.midwives[rng.IntN(len(m.midwives))]
			v[FieldNHSNumber] = m.lists.Unborn[i-len(m.lists.Positive)]
		}
	case Negative:
		v = m.viewers[rng.IntN(len(m.viewers))]
		v[FieldNHSNumber] = pick(m.lists.Negative)
	case Refused:
		// A number that has a record, so only RBAC can refuse it.
		v = m.refused[rng.IntN(len(m.refused))]
		v[FieldNHSNumber] = pick(m.lists.Positive)
	}
	v[FieldMessageID] = newUUID(rng)
	v[FieldQueryID] = newUUID(rng)
	now := m.clock.Add(time.Since(m.started))
	v[FieldCreationTime] = now.Format("20060102150405")
	return m.tmpl.Append(dst, &v)
}

// newUUID returns a random (version 4) UUID in upper case, as Spine writes
// message ids. It draws from the worker's own source: the ids only need to
// be distinct, and a shared or cryptographic source would cost the load
// generator time taken from the server it measures.
func newUUID(rng *rand.Rand) string {
	const hex = "0123456789ABCDEF"
	var u [16]byte
	a, b := rng.Uint64(), rng.Uint64()
	for i := range 8 {
		u[i] = byte(a >> (8 * i))
		u[8+i] = byte(b >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var s [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hex[c>>4], hex[c&0x0f]
		j += 2
	}
	return string(s[:])
}
