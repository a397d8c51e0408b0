package cpis_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"spinegw/cpis"
)

// The SDS directory the RBAC cases are decided against.
const (
	jane  = "100000000001" // a midwife, enabled, two role profiles
	ann   = "100000000002" // a GP, enabled, job role held as an SDS triplet
	dis   = "100000000003" // a midwife whose account has been disabled
	bob   = "100000000004" // a nurse, enabled
	ghost = "100000000099" // not in SDS
)

var (
	orgHospital = cpis.Org{ODS: "RGT", Name: "CAMBRIDGE UNIVERSITY HOSPITALS NHS FOUNDATION TRUST"}
	orgSurgery  = cpis.Org{ODS: "D81001", Name: "LENSFIELD MEDICAL PRACTICE"}

	directory = map[string]cpis.User{
		jane: {ID: jane, Name: cpis.Name{Prefix: "Ms", Given: []string{"Jane"}, Family: "Midwife"}, Enabled: true, RoleProfiles: []cpis.RoleProfile{
			{ID: "P-MW", JobRole: cpis.JobRole{Code: "R0680", Name: "Midwife"}, Org: orgHospital, Activities: []string{"B0264", cpis.ActivityViewCPIS}},
			{ID: "P-MW-ADMIN", JobRole: cpis.JobRole{Code: "R8001", Name: "Nurse Access Role"}, Org: orgHospital, Activities: []string{"B0264"}},
			{ID: "P-MW-2", JobRole: cpis.JobRole{Code: "R0660", Name: "Midwife Manager"}, Org: orgHospital, Activities: []string{cpis.ActivityViewCPIS}},
		}},
		ann: {ID: ann, Name: cpis.Name{Prefix: "Dr", Given: []string{"Ann"}, Family: "Doctor"}, Enabled: true, RoleProfiles: []cpis.RoleProfile{
			{ID: "P-GP", JobRole: cpis.JobRole{Code: "S0010:G0020:R0260", Name: "General Medical Practitioner"}, Org: orgSurgery, Activities: []string{"B0264", cpis.ActivityViewCPIS}},
		}},
		dis: {ID: dis, Name: cpis.Name{Given: []string{"Dee"}, Family: "Abled"}, Enabled: false, RoleProfiles: []cpis.RoleProfile{
			{ID: "P-DIS", JobRole: cpis.JobRole{Code: "R0680", Name: "Midwife"}, Org: orgHospital, Activities: []string{"B0264", cpis.ActivityViewCPIS}},
		}},
		bob: {ID: bob, Name: cpis.Name{Given: []string{"Bob"}, Family: "Nurse"}, Enabled: true, RoleProfiles: []cpis.RoleProfile{
			{ID: "P-BOB", JobRole: cpis.JobRole{Code: "R0570", Name: "Nurse"}, Org: orgHospital, Activities: []string{"B0264", cpis.ActivityViewCPIS}},
		}},
	}
)

// authorOpt sets one claim of a person author.
type authorOpt func(*cpis.Author)

// user names the SDS user, as the author's id and the control act's agent.
func user(id string) authorOpt {
	return func(a *cpis.Author) { a.UserID = id; a.UserIDs = append(a.UserIDs, id) }
}

// alsoUser makes the message name a further SDS user id somewhere else.
func alsoUser(id string) authorOpt {
	return func(a *cpis.Author) { a.UserIDs = append(a.UserIDs, id) }
}

func profiles(ids ...string) authorOpt {
	return func(a *cpis.Author) { a.RoleProfileIDs = append(a.RoleProfileIDs, ids...) }
}

func claims(jobRoles ...string) authorOpt {
	return func(a *cpis.Author) { a.JobRoles = append(a.JobRoles, jobRoles...) }
}

// author is a person author. The name and organisation the message gives
// are always false: the accessor must come from SDS (CP-IS036, CP-IS038).
func author(opts ...authorOpt) cpis.Author {
	a := cpis.Author{Name: cpis.Name{Family: "Claimed Name"}, Org: cpis.Org{ODS: "X99", Name: "CLAIMED ORG"}}
	for _, o := range opts {
		o(&a)
	}
	return a
}

// decision is the expected outcome of Authorize: the role profile the
// access is granted under, or "" for a denial.
type decision string

const denied decision = ""

func granted(profileID string) decision { return decision(profileID) }

func TestAuthorize(t *testing.T) {
	tests := []struct {
		name   string
		author cpis.Author
		want   decision
	}{
		{"CP-IS042 an enabled user naming her own role profile with B0107 is granted", author(user(jane), profiles("P-MW")), granted("P-MW")},
		{"CP-IS042 an enabled GP naming his own role profile with B0107 is granted", author(user(ann), profiles("P-GP")), granted("P-GP")},
		{"CP-IS042 a user may use whichever of her role profiles holds B0107", author(user(jane), profiles("P-MW-2")), granted("P-MW-2")},
		{"CP-IS042 claiming the role profile's own job role is granted", author(user(jane), profiles("P-MW"), claims("R0680")), granted("P-MW")},
		{"CP-IS042 claiming the job role as a triplet whose R part matches is granted", author(user(jane), profiles("P-MW"), claims("S0010:G0020:R0680")), granted("P-MW")},
		{"CP-IS042 claiming the R code of a profile held as a triplet is granted", author(user(ann), profiles("P-GP"), claims("R0260")), granted("P-GP")},
		{"CP-IS042 claiming the same triplet the profile holds is granted", author(user(ann), profiles("P-GP"), claims("S0010:G0020:R0260")), granted("P-GP")},
		{"CP-IS042 the job role claimed in two places, both the profile's, is granted", author(user(jane), profiles("P-MW"), claims("R0680", "S0010:G0020:R0680")), granted("P-MW")},
		{"CP-IS042 the same role profile named twice is granted", author(user(jane), profiles("P-MW", "P-MW")), granted("P-MW")},
		{"CP-IS042 the same user named twice is granted", author(user(jane), alsoUser(jane), profiles("P-MW")), granted("P-MW")},
		{"CP-IS054 a role profile without B0107 is denied", author(user(jane), profiles("P-MW-ADMIN")), denied},
		{"CP-IS056 B0264 patient trace alone is not the RBAC for CP-IS", author(user(jane), profiles("P-MW-ADMIN"), claims("R8001")), denied},
		{"CP-IS059 a disabled user is denied even with B0107", author(user(dis), profiles("P-DIS")), denied},
		{"CP-IS059 a disabled user claiming the right job role is denied", author(user(dis), profiles("P-DIS"), claims("R0680")), denied},
		{"CP-IS042 a user unknown to SDS is denied", author(user(ghost), profiles("P-MW")), denied},
		{"CP-IS042 naming another user's role profile is denied", author(user(jane), profiles("P-GP")), denied},
		{"CP-IS042 naming a role profile SDS does not hold is denied", author(user(jane), profiles("P-NONE")), denied},
		{"CP-IS042 naming no role profile is denied", author(user(jane)), denied},
		{"CP-IS042 naming an empty role profile id is denied", author(user(jane), profiles("")), denied},
		{"CP-IS042 naming two different role profiles is denied", author(user(jane), profiles("P-MW", "P-MW-2")), denied},
		{"CP-IS054 naming a B0107 profile and one without it is denied", author(user(jane), profiles("P-MW", "P-MW-ADMIN")), denied},
		{"CP-IS042 claiming a job role other than the profile's is denied", author(user(jane), profiles("P-MW"), claims("R0260")), denied},
		{"CP-IS087 a GP claiming to be a midwife is denied", author(user(ann), profiles("P-GP"), claims("R0680")), denied},
		{"CP-IS087 a nurse claiming a midwife triplet is denied", author(user(bob), profiles("P-BOB"), claims("S0010:G0020:R0680")), denied},
		{"CP-IS042 one of two job roles claimed not the profile's is denied", author(user(jane), profiles("P-MW"), claims("R0680", "R0660")), denied},
		{"CP-IS042 a triplet whose R part differs is denied", author(user(jane), profiles("P-MW"), claims("S0010:G0020:R0660")), denied},
		{"CP-IS042 an empty job role claim is no claim", author(user(jane), profiles("P-MW"), claims("")), "P-MW"},
		{"CP-IS042 naming two different user ids is denied", author(user(jane), alsoUser(ann), profiles("P-MW")), denied},
		{"CP-IS042 naming a second, unknown user id is denied", author(user(jane), alsoUser(ghost), profiles("P-MW")), denied},
		{"CP-IS042 naming no user id is denied", author(profiles("P-MW")), denied},
		{"CP-IS042 a user id named only outside the author is denied", author(alsoUser(jane), profiles("P-MW")), denied},
	}
	check := func(a cpis.Author) (decision, error) {
		u, found := directory[a.UserID]
		acc, err := cpis.Authorize(a, u, found)
		if err != nil {
			var e *cpis.Error
			if !errors.As(err, &e) || e.Kind != cpis.KindUnauthorized || cpis.MessageOf(err) == "" {
				return denied, fmt.Errorf("denial %v is not a KindUnauthorized *cpis.Error with a message", err)
			}
			if !reflect.DeepEqual(acc, cpis.Accessor{}) {
				return denied, fmt.Errorf("denied with an accessor %+v", acc)
			}
			return denied, nil
		}
		// CP-IS036, CP-IS038: the access is recorded under the SDS
		// record, not the message's claims.
		rp, _ := u.Profile(acc.RoleProfileID)
		want := cpis.Accessor{UserID: u.ID, RoleProfileID: rp.ID, Name: u.Name, JobRole: rp.JobRole, Org: rp.Org}
		if !reflect.DeepEqual(acc, want) {
			return granted(acc.RoleProfileID), fmt.Errorf("granted as %+v, want the SDS identity %+v", acc, want)
		}
		return granted(acc.RoleProfileID), nil
	}
	for _, tt := range tests {
		got, err := check(tt.author)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
		} else if got != tt.want {
			t.Errorf("%s: got %q, want %q (%q means denied)", tt.name, got, tt.want, denied)
		}
	}
}

// A disabled user's role profiles are not even looked at (CP-IS059): the
// denial says the account is disabled, not that the profile is missing.
func TestAuthorizeDisabledUserIsDeniedFirst(t *testing.T) {
	u := directory[dis]
	_, err := cpis.Authorize(author(user(dis), profiles("P-NOT-HERS")), u, true)
	if cpis.KindOf(err) != cpis.KindUnauthorized {
		t.Fatalf("disabled user: %v, want KindUnauthorized", err)
	}
	if msg := cpis.MessageOf(err); msg != "the SDS user is disabled" {
		t.Errorf("disabled user denied with %q", msg)
	}
}

// A system author is taken on the accredited endpoint's word (CP-NHS006,
// CP-NHS019): no SDS record stands behind it.
func TestSystemAccessor(t *testing.T) {
	pas := cpis.Endpoint{ASID: "200000000101", ODS: "RGT", Name: "CUH PAS"}
	ed := cpis.Endpoint{ASID: "200000000202", ODS: "RGN", Name: "PETERBOROUGH ED"}
	named := cpis.Name{Given: []string{"Sam"}, Family: "Clerk"}
	tests := []struct {
		name     string
		author   cpis.Author
		endpoint cpis.Endpoint
		want     cpis.Accessor
	}{
		{"CP-NHS019 the named person and organisation of a system author are recorded", cpis.Author{System: true, Name: named, Org: orgSurgery}, pas, cpis.Accessor{System: true, ASID: pas.ASID, Name: named, Org: orgSurgery}},
		{"CP-IS008 with no organisation given, the endpoint's organisation is recorded", cpis.Author{System: true, Name: named}, pas, cpis.Accessor{System: true, ASID: pas.ASID, Name: named, Org: cpis.Org{ODS: "RGT", Name: "CUH PAS"}}},
		{"CP-IS036 with no person named, the system's name is recorded", cpis.Author{System: true, SystemName: "Ward Whiteboard"}, pas, cpis.Accessor{System: true, ASID: pas.ASID, Name: cpis.Name{Family: "Ward Whiteboard"}, Org: cpis.Org{ODS: "RGT", Name: "CUH PAS"}}},
		{"CP-IS036 with neither person nor system named, the endpoint's name is recorded", cpis.Author{System: true}, ed, cpis.Accessor{System: true, ASID: ed.ASID, Name: cpis.Name{Family: "PETERBOROUGH ED"}, Org: cpis.Org{ODS: "RGN", Name: "PETERBOROUGH ED"}}},
		{"CP-IS087 a job role the system names decides unborn-plan visibility", cpis.Author{System: true, Name: named, JobRoles: []string{"S0010:G0020:R0680"}}, pas, cpis.Accessor{System: true, ASID: pas.ASID, Name: named, JobRole: cpis.JobRole{Code: "S0010:G0020:R0680"}, Org: cpis.Org{ODS: "RGT", Name: "CUH PAS"}}},
		{"CP-NHS018 the ASID recorded is the verified sender's, not the one the author claims", cpis.Author{System: true, ASID: "999999999999", Name: named}, pas, cpis.Accessor{System: true, ASID: pas.ASID, Name: named, Org: cpis.Org{ODS: "RGT", Name: "CUH PAS"}}},
	}
	for _, tt := range tests {
		if got := cpis.SystemAccessor(tt.author, tt.endpoint); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

// CP-IS047 counts accesses per NHS healthcare worker: Key says who that is.
func TestAccessorKey(t *testing.T) {
	pas := cpis.Endpoint{ASID: "200000000101", ODS: "RGT", Name: "CUH PAS"}
	ed := cpis.Endpoint{ASID: "200000000202", ODS: "RGN", Name: "PETERBOROUGH ED"}
	sam := cpis.Author{System: true, Name: cpis.Name{Family: "Sam"}}
	kim := cpis.Author{System: true, Name: cpis.Name{Family: "Kim"}}
	janeMW := cpis.Accessor{UserID: jane, RoleProfileID: "P-MW", ASID: pas.ASID}
	janeMgr := cpis.Accessor{UserID: jane, RoleProfileID: "P-MW-2", ASID: ed.ASID}
	annGP := cpis.Accessor{UserID: ann, RoleProfileID: "P-GP", ASID: pas.ASID}
	const same, different = true, false
	tests := []struct {
		name string
		a, b cpis.Accessor
		want bool
	}{
		{"CP-IS047 one user under two role profiles through two systems is one worker", janeMW, janeMgr, same},
		{"CP-IS047 two users are two workers", janeMW, annGP, different},
		{"CP-IS047 one person named by one system is one worker", cpis.SystemAccessor(sam, pas), cpis.SystemAccessor(sam, pas), same},
		{"CP-IS047 two people named by one system are two workers", cpis.SystemAccessor(sam, pas), cpis.SystemAccessor(kim, pas), different},
		{"CP-IS047 one name through two systems is two workers", cpis.SystemAccessor(sam, pas), cpis.SystemAccessor(sam, ed), different},
		{"CP-IS047 a system author is never an SDS user", cpis.SystemAccessor(cpis.Author{System: true, Name: cpis.Name{Family: jane}}, pas), janeMW, different},
	}
	for _, tt := range tests {
		if got := tt.a.Key() == tt.b.Key(); got != tt.want {
			t.Errorf("%s: keys %q and %q, same = %v", tt.name, tt.a.Key(), tt.b.Key(), got)
		}
	}
}
