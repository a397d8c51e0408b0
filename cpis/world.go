package cpis

// World is what the emulator stands in for: Spine's directory (SDS
// endpoints, users and role profiles), demographics (PDS), the local
// authorities and the CP-IS records they hold. A world file describes one;
// loading it merges it into the store.
type World struct {
	Endpoints        []Endpoint
	Users            []User
	Patients         []Patient
	LocalAuthorities []LocalAuthority
	Records          []Record // Record.LA carries only the ODS code
}
