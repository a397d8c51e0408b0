package cpis

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Why the daily cycle purges a plan from the live tables: the rule of
// Visible that closed its last window. The purge keeps the reason in the
// audit trace it leaves (CP-IS075).
const (
	ExpiredDeleteDate = "delete-date"  // CP-IS009: the LA's delete date was reached
	ExpiredUnbornDue  = "due-date+28"  // CP-IS011, CP-IS033: an unborn plan on its due date + 28 days
	ExpiredAdult      = "age-18y+365d" // CP-IS007: the child is older than 18 years and 365 days
	ExpiredEndDate    = "end-date+365" // CP-IS010, CP-IS032: a CPP or LAC past its end date + 365 days
	ExpiredOther      = "other"        // none of the above: a plan type Visible never shows
)

// ExpiryReason returns why plan p is expired on civil date today (one of the
// Expired* constants), or "" when it is not: Expired decides, this only
// names the rule, checked in the order Visible applies them.
func ExpiryReason(p Plan, birth, today time.Time) string {
	if !Expired(p, birth, today) {
		return ""
	}
	switch {
	case !p.Delete.IsZero() && !p.Delete.After(today):
		return ExpiredDeleteDate
	case p.Type == UCP:
		return ExpiredUnbornDue
	case (p.Type == CPP || p.Type == LAC) && !birth.IsZero() && today.After(LastChildDay(birth)):
		return ExpiredAdult
	case p.Type == CPP || p.Type == LAC:
		return ExpiredEndDate
	}
	return ExpiredOther
}

// Audit retention (CP-IS076): the audit information from which it can be
// derived that a record existed (CP-IS075) is kept until the child's 26th
// birthday, or until 8 years after the child's death.
const (
	AuditYearsAfterBirth = 26
	AuditYearsAfterDeath = 8
)

// AuditUntil returns the first civil date on which the audit trace of a
// purged plan may itself be deleted (CP-IS076), or the zero time when it
// must be kept with no end in sight (the child's birth date is unknown).
//
//   - A child who has died: 8 years after the death, whether that falls
//     before or after the 26th birthday (the medical-records rule CP-IS076
//     follows: a deceased patient's record is kept for 8 years).
//   - Otherwise the child's 26th birthday.
//   - An unborn child's plan is held under the mother's NHS number
//     (CP-IS033), so neither the birth nor the death on that number is the
//     child's: the due date (the plan's end date, CP-IS011) stands for the
//     birth; a plan without one uses its start date plus a year, as a
//     pregnancy ends within a year of the plan starting.
func AuditUntil(p Plan, birth, death time.Time) time.Time {
	if p.Type == UCP {
		born := p.End
		if born.IsZero() {
			if p.Start.IsZero() {
				return time.Time{}
			}
			born = p.Start.AddDate(1, 0, 0)
		}
		return born.AddDate(AuditYearsAfterBirth, 0, 0)
	}
	if !death.IsZero() {
		return death.AddDate(AuditYearsAfterDeath, 0, 0)
	}
	if birth.IsZero() {
		return time.Time{}
	}
	return birth.AddDate(AuditYearsAfterBirth, 0, 0)
}

// Kinds of audit entry (CP-IS073, CP-IS074): what the entry records.
const (
	AuditQuery        = "query"        // a query answered with CP-IS information (an access event)
	AuditUpload       = "upload"       // an LA upload file stored
	AuditRecord       = "record"       // a record replaced by an upload (CP-IS020, CP-IS075)
	AuditNotification = "notification" // a notification to an LA enqueued, delivered or acknowledged
	AuditPurge        = "purge"        // a plan removed or end-dated by the daily purge
	AuditPDS          = "pds"          // a PDS change: a number superseded or made inactive
	AuditWorld        = "world"        // a world file merged (directory, PDS, LAs, records)
	AuditAdmin        = "admin"        // an action on the admin listener
)

// AuditEntry is one entry of the tamper-evident audit trail (CP-IS073,
// CP-IS074). Seq, At and Kind are always set; every other field only when
// it applies. The store sets Seq; the hash chain covers Canonical().
type AuditEntry struct {
	Seq         int64
	At          time.Time
	Kind        string
	Action      string // what was done: "query", "upload", "enqueue", "GET /admin/..." ...
	Outcome     string // how it ended: "shown", "not-shown", "stored", an HTTP status ...
	NHSNumber   string // the subject, when there is one
	User        string // who: the user id (SDS), or the system for an unattended endpoint
	RoleProfile string
	JobRole     string
	ASID        string // where: the endpoint's ASID
	Org         string // the organisation's ODS code
	LA          string // the local authority concerned
	Remote      string // the remote address, for admin actions
	Detail      string // anything else, never patient demographics
}

// auditTimeLayout is At in canonical content: UTC, always nine fractional
// digits, so that every instant has exactly one spelling.
const auditTimeLayout = "2006-01-02T15:04:05.000000000Z"

// Canonical returns the entry's canonical encoding, the bytes its hash
// covers (docs/audit.md): a JSON object without insignificant white space
// whose members are the non-empty fields under fixed keys in ascending byte
// order of the key; seq is a decimal integer, at the UTC time with nine
// fractional digits, every other value a string. Strings are written as
// UTF-8 (invalid bytes replaced by U+FFFD) with only '"', '\' and the
// control characters U+0000-U+001F escaped, as \" \\ and \u00XX (lower-case
// hex). The same entry always encodes to the same bytes.
func (e AuditEntry) Canonical() []byte {
	b := make([]byte, 0, 256)
	first := true
	member := func(key, val string) {
		if val == "" {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendCanonicalString(b, key)
		b = append(b, ':')
		b = appendCanonicalString(b, val)
	}
	b = append(b, '{')
	// In ascending byte order of the key.
	member("action", e.Action)
	member("asid", e.ASID)
	member("at", e.At.UTC().Format(auditTimeLayout))
	member("detail", e.Detail)
	member("job_role", e.JobRole)
	member("kind", e.Kind)
	member("la", e.LA)
	member("nhs", e.NHSNumber)
	member("org", e.Org)
	member("outcome", e.Outcome)
	member("remote", e.Remote)
	member("role_profile", e.RoleProfile)
	if !first {
		b = append(b, ',')
	}
	first = false
	b = appendCanonicalString(b, "seq")
	b = append(b, ':')
	b = strconv.AppendInt(b, e.Seq, 10)
	member("user", e.User)
	return append(b, '}')
}

func appendCanonicalString(b []byte, s string) []byte {
	s = strings.ToValidUTF8(s, "\uFFFD")
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// ParseAuditEntry decodes canonical content. It fails unless content is
// exactly the canonical encoding of the entry it decodes to, so that a
// change to any byte of a stored entry is either a different entry or an
// error, never the same entry spelled otherwise.
func ParseAuditEntry(content []byte) (AuditEntry, error) {
	var raw struct {
		Action      string `json:"action"`
		ASID        string `json:"asid"`
		At          string `json:"at"`
		Detail      string `json:"detail"`
		JobRole     string `json:"job_role"`
		Kind        string `json:"kind"`
		LA          string `json:"la"`
		NHSNumber   string `json:"nhs"`
		Org         string `json:"org"`
		Outcome     string `json:"outcome"`
		Remote      string `json:"remote"`
		RoleProfile string `json:"role_profile"`
		Seq         int64  `json:"seq"`
		User        string `json:"user"`
	}
	d := json.NewDecoder(bytes.NewReader(content))
	d.DisallowUnknownFields()
	if err := d.Decode(&raw); err != nil {
		return AuditEntry{}, fmt.Errorf("audit entry: %w", err)
	}
	at, err := time.Parse(auditTimeLayout, raw.At)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("audit entry: at: %w", err)
	}
	e := AuditEntry{Seq: raw.Seq, At: at, Kind: raw.Kind, Action: raw.Action, Outcome: raw.Outcome,
		NHSNumber: raw.NHSNumber, User: raw.User, RoleProfile: raw.RoleProfile, JobRole: raw.JobRole, ASID: raw.ASID,
		Org: raw.Org, LA: raw.LA, Remote: raw.Remote, Detail: raw.Detail}
	if !bytes.Equal(e.Canonical(), content) {
		return AuditEntry{}, errors.New("audit entry: not in canonical form")
	}
	return e, nil
}

// AuditHashSize is the size of an entry's hash (SHA-256).
const AuditHashSize = sha256.Size

// AuditHash chains an entry: SHA-256 over the previous entry's hash (32
// zero bytes before the first entry ever written) followed by the entry's
// canonical content.
func AuditHash(prev, content []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(content)
	return h.Sum(nil)
}

// AuditCheckpoint stands for a stretch of the chain the store no longer
// holds or must still hold: Kind "pruned" (the prefix up to Seq was
// removed by the retention prune) or "head" (the chain reached Seq).
type AuditCheckpoint struct {
	Kind  string
	Seq   int64  // the last entry it covers
	Hash  []byte // that entry's hash
	Count int64  // pruned: entries removed in all; head: entries written in all
	At    time.Time
}

// Signed returns the bytes a checkpoint's Ed25519 signature covers: one
// line per field, in this order, each ending in a newline:
// "spinegw-audit-checkpoint-v1", kind, seq, the hash in lower-case hex,
// count, at (canonical time as in entries).
func (c AuditCheckpoint) Signed() []byte {
	return fmt.Appendf(nil, "spinegw-audit-checkpoint-v1\n%s\n%d\n%s\n%d\n%s\n",
		c.Kind, c.Seq, hex.EncodeToString(c.Hash), c.Count, c.At.UTC().Format(auditTimeLayout))
}

// AuditYearsNoSubject is how long an entry without an NHS number (an admin
// action, a world load, an upload file, a notification) is kept.
const AuditYearsNoSubject = 8

// AuditYearsUnknownChild is how long an entry about an NHS number is kept
// when the child's birth date is unknown, or when the number's holder was
// an adult at the time (an unborn child's plan is held under the mother's
// number, CP-IS033): the child was then unborn for at most a year (the
// rule AuditUntil follows), so its 26th birthday is at most 27 years away.
const AuditYearsUnknownChild = AuditYearsAfterBirth + 1

// AuditEntryUntil returns the first civil date on which an audit entry may
// be pruned (CP-IS076), birth and death being those PDS gives for the
// entry's NHS number (zero when unknown):
//
//   - no NHS number: AuditYearsNoSubject years after the entry;
//   - a number whose holder was an adult when the entry was written, or
//     whose birth date is unknown: AuditYearsUnknownChild years after it;
//   - a child who has died: 8 years after the death;
//   - otherwise the child's 26th birthday;
//
// and never sooner than AuditYearsNoSubject years after the entry itself,
// so that an access to a long-dead child's number is still kept a while.
func AuditEntryUntil(e AuditEntry, birth, death time.Time) time.Time {
	at := Today(e.At)
	floor := at.AddDate(AuditYearsNoSubject, 0, 0)
	var until time.Time
	switch {
	case e.NHSNumber == "":
		return floor
	case birth.IsZero() || at.After(LastChildDay(birth)):
		until = at.AddDate(AuditYearsUnknownChild, 0, 0)
	case !death.IsZero():
		until = death.AddDate(AuditYearsAfterDeath, 0, 0)
	default:
		until = birth.AddDate(AuditYearsAfterBirth, 0, 0)
	}
	if until.Before(floor) {
		return floor
	}
	return until
}
