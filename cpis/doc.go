// Package cpis is the core of spinegw: the rules of the Child Protection -
// Information Sharing service, free of any wire format or storage.
//
// It holds the domain types (NHS numbers, plans, records, users and role
// profiles, access events), the rules that decide who may see what and when
// (role-based access control, retention windows, the midwife rule for unborn
// plans, access-history thinning) and the one error type every layer maps to
// a wire answer. It imports no XML and no SQL package, and it never reads the
// wall clock: the time is always passed in.
package cpis
