package cpis

import (
	"strings"
	"time"
)

// PlanType is the kind of CP-IS information item an LA holds for a child.
type PlanType string

const (
	CPP PlanType = "CPP" // Child Protection Plan
	LAC PlanType = "LAC" // Looked After Child
	UCP PlanType = "UCP" // Unborn Child Protection plan, held under the mother's NHS number (CP-IS033)
)

// Valid reports whether t is one of the three plan types.
func (t PlanType) Valid() bool { return t == CPP || t == LAC || t == UCP }

// Plan is one information item. Dates are civil dates (midnight UTC); a zero
// End or Delete means none was given.
type Plan struct {
	Type   PlanType
	Start  time.Time
	End    time.Time // for UCP the expected due date (CP-IS011)
	Delete time.Time // logical deletion date (CP-IS009)
}

// Name is a person's name as PDS and SDS hold it.
type Name struct {
	Prefix string
	Given  []string
	Family string
}

// String renders the name for people to read (CP-IS008, CP-IS026).
func (n Name) String() string {
	parts := make([]string, 0, 2+len(n.Given))
	if n.Prefix != "" {
		parts = append(parts, n.Prefix)
	}
	parts = append(parts, n.Given...)
	if n.Family != "" {
		parts = append(parts, n.Family)
	}
	return strings.Join(parts, " ")
}

// IsZero reports whether the name is empty.
func (n Name) IsZero() bool { return n.Prefix == "" && len(n.Given) == 0 && n.Family == "" }

// Patient is a PDS demographic record.
type Patient struct {
	NHSNumber    NHSNumber
	Name         Name
	BirthDate    time.Time // civil date; zero if unknown
	Gender       string
	SupersededBy NHSNumber
	// Inactive: PDS no longer treats the number as active and knows no
	// replacement (CP-IS012). With SupersededBy set, the supersession wins.
	Inactive    bool
	Sensitive   bool
	DateOfDeath time.Time
}

// LocalAuthority is an English local authority that shares CP-IS records.
type LocalAuthority struct {
	ODS            string
	Name           string
	Emergency      string // "tel:..." emergency duty team (EC)
	Office         string // "tel:..." office hours (WP), optional
	UploadsEnabled bool
}

// Record is what one LA holds for one NHS number (for UCP, the mother's).
type Record struct {
	NHSNumber NHSNumber
	LA        LocalAuthority
	LocalID   string // the LA's own child identifier: never shown to the NHS (CP-IS051)
	FileID    string // the upload file the record came from, when it came by upload
	Plans     []Plan
}

// Endpoint is a system accredited to call the gateway (SDS accredited system).
type Endpoint struct {
	ASID string
	ODS  string
	Name string
	// FQDN is the endpoint's fully qualified domain name as SDS lists it
	// (nhsMhsFQDN): the name its TLS client certificate carries. Empty when
	// the world gives none.
	FQDN string
}

// AcceptsCertificate reports whether a client certificate whose subject
// common name is cn and whose DNS subject alternative names are dnsNames
// identifies the endpoint (CP-NHS018, CP-SC025). Spine endpoint
// certificates name the endpoint's FQDN, and SDS ties the FQDN to the ASIDs
// it serves: with an FQDN, the common name or a DNS name must equal it
// (case-insensitively, DNS names are); without one, the common name must
// be the ASID itself.
func (e Endpoint) AcceptsCertificate(cn string, dnsNames []string) bool {
	if e.ASID == "" {
		return false
	}
	if e.FQDN == "" {
		return cn == e.ASID
	}
	fqdn := strings.TrimSuffix(e.FQDN, ".")
	if strings.EqualFold(strings.TrimSuffix(cn, "."), fqdn) {
		return true
	}
	for _, d := range dnsNames {
		if strings.EqualFold(strings.TrimSuffix(d, "."), fqdn) {
			return true
		}
	}
	return false
}

// CertificateName is the name a client certificate for the endpoint
// carries: its FQDN, or its ASID when it has none.
func (e Endpoint) CertificateName() string {
	if e.FQDN != "" {
		return e.FQDN
	}
	return e.ASID
}

// Org is an organisation by ODS code and readable name (CP-IS008).
type Org struct {
	ODS  string
	Name string
}

// JobRole is an SDS job role. Code is either an R code (R0680) or a full SDS
// triplet (S0010:G0020:R0050); the R part decides.
type JobRole struct {
	Code string
	Name string
}

// RCode returns the R part of the job role code.
func (j JobRole) RCode() string { return RCode(j.Code) }

// RCode returns the R part of a job role code given either as an R code or as
// an SDS triplet ("S0010:G0020:R0050" gives "R0050").
func RCode(code string) string {
	code = strings.TrimSpace(code)
	if i := strings.LastIndexByte(code, ':'); i >= 0 {
		code = code[i+1:]
	}
	return strings.ToUpper(code)
}

// RoleProfile is an SDS role profile: one job role at one organisation with
// the RBAC activities it grants.
type RoleProfile struct {
	ID         string
	JobRole    JobRole
	Org        Org
	Activities []string
}

// Has reports whether the role profile grants the activity.
func (r RoleProfile) Has(activity string) bool {
	for _, a := range r.Activities {
		if a == activity {
			return true
		}
	}
	return false
}

// User is an SDS user (a smartcard holder).
type User struct {
	ID           string
	Name         Name
	Enabled      bool
	RoleProfiles []RoleProfile
}

// Profile returns the user's role profile with the given id.
func (u User) Profile(id string) (RoleProfile, bool) {
	for _, p := range u.RoleProfiles {
		if p.ID == id {
			return p, true
		}
	}
	return RoleProfile{}, false
}
