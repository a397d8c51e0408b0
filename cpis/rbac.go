package cpis

// ActivityViewCPIS is the RBAC activity "View Child Protection Plan
// information" (CP-IS042, CP-IS043, CP-IS054).
const ActivityViewCPIS = "B0107"

// Author is what a query says about who sent it.
type Author struct {
	// System is true for a system author (COCT_TP145104GB01.System): the
	// sending system vouches for its user by local access control
	// (CP-NHS006, CP-NHS019).
	System bool

	// Person author claims (COCT_TP145102GB01.AssignedAuthor and the control
	// act's AgentPersonSDS). Empty strings are claims not made.
	UserID         string
	RoleProfileIDs []string // every role profile id the message names
	UserIDs        []string // every SDS user id the message names
	JobRoles       []string // every job role code the message claims
	Name           Name     // the name the message gives
	Org            Org      // the organisation the message gives

	// System author details.
	ASID       string
	SystemName string
}

// Accessor is the identity an access is recorded under: for a person author
// the SDS record, not the message's claims (CP-IS036, CP-IS038).
type Accessor struct {
	UserID        string
	RoleProfileID string
	Name          Name
	JobRole       JobRole
	Org           Org
	System        bool
	ASID          string // the sending system
}

// Key identifies the accessor for the first-access-per-24-hours rule
// (CP-IS047): the SDS user, or for a system author the system and the person
// it names.
func (a Accessor) Key() string {
	if a.UserID != "" {
		return "user:" + a.UserID
	}
	return "system:" + a.ASID + ":" + a.Name.String()
}

// Authorize applies role-based access control to a person author (CP-IS042,
// CP-IS054, CP-IS056). user is the SDS user named by the message, if found.
// The author must name an enabled user and one of that user's role profiles;
// the profile must hold B0107; every job role the message claims must be the
// profile's own, and every user id it names must be the same user. The
// returned accessor carries the SDS record's name, job role and organisation.
func Authorize(a Author, user User, found bool) (Accessor, error) {
	const op = "rbac"
	deny := func(reason string) (Accessor, error) {
		return Accessor{}, Errorf(KindUnauthorized, op, "%s", reason)
	}
	if a.UserID == "" {
		return deny("the author names no SDS user id")
	}
	for _, id := range a.UserIDs {
		if id != "" && id != a.UserID {
			return deny("the message names more than one SDS user")
		}
	}
	if !found {
		return deny("the SDS user is not known")
	}
	if !user.Enabled {
		// CP-IS059: a disabled user has no access.
		return deny("the SDS user is disabled")
	}
	rpID := ""
	for _, id := range a.RoleProfileIDs {
		if id == "" {
			continue
		}
		if rpID == "" {
			rpID = id
		} else if id != rpID {
			return deny("the message names more than one role profile")
		}
	}
	if rpID == "" {
		return deny("the author names no SDS role profile")
	}
	rp, ok := user.Profile(rpID)
	if !ok {
		return deny("the role profile does not belong to the SDS user")
	}
	if !rp.Has(ActivityViewCPIS) {
		return deny("the role profile does not hold activity B0107 View Child Protection Plan information")
	}
	for _, jr := range a.JobRoles {
		if jr != "" && RCode(jr) != rp.JobRole.RCode() {
			return deny("the job role claimed is not the role profile's job role")
		}
	}
	return Accessor{
		UserID:        user.ID,
		RoleProfileID: rp.ID,
		Name:          user.Name,
		JobRole:       rp.JobRole,
		Org:           rp.Org,
	}, nil
}

// SystemAccessor is the accessor of a system author, which Spine takes on
// the endpoint's word (CP-NHS006, CP-NHS019). jobRole, when the system names
// the person it acts for, decides unborn-plan visibility like a person's.
func SystemAccessor(a Author, endpoint Endpoint) Accessor {
	org := a.Org
	if org.ODS == "" {
		org = Org{ODS: endpoint.ODS, Name: endpoint.Name}
	}
	acc := Accessor{System: true, ASID: endpoint.ASID, Name: a.Name, Org: org}
	if len(a.JobRoles) > 0 {
		acc.JobRole = JobRole{Code: a.JobRoles[0]}
	}
	if acc.Name.IsZero() {
		name := a.SystemName
		if name == "" {
			name = endpoint.Name
		}
		acc.Name = Name{Family: name}
	}
	return acc
}
