package world_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"spinegw/cpis"
	"spinegw/world"
)

// example is the world file of the format's documentation.
const example = `
endpoints:                      # systems accredited to call the gateway
  - {asid: "200000000101", ods: RKE, name: Whittington Hospital PAS}
users:
  - id: "200009876204"          # SDS user id
    name: {prefix: Mrs, given: Paula, family: Palmer}
    enabled: true
    role_profiles:
      - id: "100077650987"      # SDS role profile id
        job_role: {code: R0680, name: Midwife}
        org: {ods: RKE, name: The Whittington Hospital NHS Trust}
        activities: [B0107, B0264]
patients:                       # PDS
  - {nhs_number: "9995260182", given: [Louise], family: Doyle, birth_date: "2000-09-26", gender: female,
     superseded_by: "", sensitive: false, date_of_death: ""}
local_authorities:
  - {ods: "V145", name: London Borough of Islington, telecom: {emergency: "tel:02075277777", office: "tel:02075272000"}, uploads_enabled: true}
records:
  - nhs_number: "9995260182"
    la: "V145"
    local_id: "LA-1001"
    plans:
      - {type: UCP, start: "2026-05-01", end: "2027-01-10"}
`

func TestParseExample(t *testing.T) {
	got, err := world.Parse([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	want := cpis.World{
		Endpoints: []cpis.Endpoint{{ASID: "200000000101", ODS: "RKE", Name: "Whittington Hospital PAS"}},
		Users: []cpis.User{{
			ID:      "200009876204",
			Name:    cpis.Name{Prefix: "Mrs", Given: []string{"Paula"}, Family: "Palmer"},
			Enabled: true,
			RoleProfiles: []cpis.RoleProfile{{
				ID:         "100077650987",
				JobRole:    cpis.JobRole{Code: "R0680", Name: "Midwife"},
				Org:        cpis.Org{ODS: "RKE", Name: "The Whittington Hospital NHS Trust"},
				Activities: []string{"B0107", "B0264"},
			}},
		}},
		Patients: []cpis.Patient{{
			NHSNumber: "9995260182",
			Name:      cpis.Name{Given: []string{"Louise"}, Family: "Doyle"},
			BirthDate: cpis.Date(2000, time.September, 26),
			Gender:    "female",
		}},
		LocalAuthorities: []cpis.LocalAuthority{{
			ODS: "V145", Name: "London Borough of Islington",
			Emergency: "tel:02075277777", Office: "tel:02075272000", UploadsEnabled: true,
		}},
		Records: []cpis.Record{{
			NHSNumber: "9995260182",
			LA:        cpis.LocalAuthority{ODS: "V145"},
			LocalID:   "LA-1001",
			Plans: []cpis.Plan{{
				Type:  cpis.UCP,
				Start: cpis.Date(2026, time.May, 1),
				End:   cpis.Date(2027, time.January, 10),
			}},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(example)\n got %+v\nwant %+v", got, want)
	}
}

func TestDefaults(t *testing.T) {
	w, err := world.Parse([]byte(`
users:
  - id: "200009876204"
    name: {given: Paula, family: Palmer}
local_authorities:
  - {ods: V145, name: Islington, telecom: {emergency: "tel:1"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if !w.Users[0].Enabled {
		t.Error("a user without enabled should be enabled")
	}
	if !w.LocalAuthorities[0].UploadsEnabled {
		t.Error("a local authority without uploads_enabled should accept uploads")
	}
	if w.Users[0].RoleProfiles != nil {
		t.Errorf("role profiles = %#v, want nil", w.Users[0].RoleProfiles)
	}
}

// CP-IS012: a patient PDS marks inactive with no replacement; inactive is
// optional, false by default, and may stand beside superseded_by.
func TestInactivePatients(t *testing.T) {
	w, err := world.Parse([]byte(`
patients:
  - {nhs_number: "9995260182", inactive: true}
  - {nhs_number: "9995260107", inactive: true, superseded_by: "9995260115"}
  - {nhs_number: "9995260123"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if p := w.Patients[0]; !p.Inactive || p.SupersededBy != "" {
		t.Errorf("inactive without replacement: %+v", p)
	}
	if p := w.Patients[1]; !p.Inactive || p.SupersededBy != "9995260115" {
		t.Errorf("inactive and superseded: %+v", p)
	}
	if w.Patients[2].Inactive {
		t.Error("a patient without inactive should be active")
	}
	if _, err := world.Parse([]byte("patients:\n  - {nhs_number: \"9995260182\", inactive: \"maybe\"}\n")); err == nil {
		t.Error("inactive: \"maybe\" accepted")
	}
}

// YAML would read these unquoted values as numbers and timestamps; the
// world file takes them as written.
func TestUnquotedScalars(t *testing.T) {
	w, err := world.Parse([]byte(`
endpoints:
  - {asid: 200000000101, ods: RKE}
local_authorities:
  - {ods: V145, name: Islington, telecom: {emergency: "tel:1"}}
records:
  - {nhs_number: 9995260182, la: V145, plans: [{type: UCP, start: 2026-05-01, end: 2027-01-10}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if w.Endpoints[0].ASID != "200000000101" || w.Records[0].NHSNumber != "9995260182" ||
		!w.Records[0].Plans[0].Start.Equal(cpis.Date(2026, time.May, 1)) {
		t.Errorf("parsed %+v", w)
	}
}

func TestSampleFile(t *testing.T) {
	w, err := world.ReadFile(filepath.Join("testdata", "sample.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if n := []int{len(w.Endpoints), len(w.Users), len(w.Patients), len(w.LocalAuthorities), len(w.Records)}; !reflect.DeepEqual(n, []int{2, 3, 4, 2, 3}) {
		t.Errorf("counts (endpoints, users, patients, LAs, records) = %v", n)
	}
	if u := w.Users[2]; u.Enabled {
		t.Errorf("user %s should be disabled", u.ID)
	}
	if la := w.LocalAuthorities[1]; la.UploadsEnabled || la.Office != "" {
		t.Errorf("Camden = %+v, want uploads disabled and no office telephone", la)
	}
	if got := w.Users[1].RoleProfiles[0].JobRole.RCode(); got != "R0260" {
		t.Errorf("triplet job role R code = %q", got)
	}
	if got := w.Patients[3].SupersededBy; got != "9995260115" {
		t.Errorf("superseded_by = %q", got)
	}
	if got := w.Records[2].Plans[0].Delete; !got.Equal(cpis.Date(2026, time.December, 31)) {
		t.Errorf("delete date = %v", got)
	}
}

func TestReadFileMissing(t *testing.T) {
	_, err := world.ReadFile(filepath.Join(t.TempDir(), "absent.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestReadFileNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(path, []byte("endpoint: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := world.ReadFile(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want the path in it", err)
	}
}

// Each case is one strictness rule: a world file breaking it, and words the
// error must contain (the line first, where the rule has one).
func TestRefuses(t *testing.T) {
	const la = "local_authorities:\n  - {ods: V145, name: Islington, telecom: {emergency: \"tel:1\"}}\n"
	rec := func(plans string) string {
		return la + "records:\n  - nhs_number: \"9995260182\"\n    la: V145\n    plans:\n" + plans
	}
	for _, tc := range []struct{ why, yaml, want string }{
		{"an unknown top-level key", "endpoint: []\n", `line 1: unknown key "endpoint"`},
		{"an unknown nested key", "users:\n  - id: \"1\"\n    nmae: {family: X}\n", `line 3: unknown key "nmae"`},
		{"an unknown key in a plan", rec("      - {type: CPP, start: \"2024-01-01\", finish: \"2024-02-01\"}\n"), `line 7: unknown key "finish"`},
		{"a key given twice", "endpoints: []\nendpoints: []\n", `line 2: mapping key "endpoints" already defined at line 1`},
		{"a list where a name is expected", "endpoints:\n  - {asid: [1], ods: RKE}\n", "line 2: cannot unmarshal"},
		{"two YAML documents", "endpoints: []\n---\nusers: []\n", "line 2: a world file holds one YAML document"},
		{"an empty file", "# nothing\n", "holds no YAML document"},
		{"malformed YAML", "endpoints: [\n", "line"},

		{"an ASID of 11 digits", "endpoints:\n  - {asid: \"20000000010\", ods: RKE}\n", "line 2: endpoints[0].asid: an ASID is 12 digits"},
		{"an ASID with letters", "endpoints:\n  - {asid: \"20000000010X\", ods: RKE}\n", "an ASID is 12 digits"},
		{"two endpoints with one ASID", "endpoints:\n  - {asid: \"200000000101\", ods: RKE}\n  - {asid: \"200000000101\", ods: RRV}\n",
			"line 3: endpoints[1].asid: ASID 200000000101 is already an endpoint at line 2"},
		{"an endpoint without ODS code", "endpoints:\n  - {asid: \"200000000101\"}\n", "endpoints[0].ods: an ODS code is required"},

		{"two users with one id", "users:\n  - {id: \"200009876204\"}\n  - {id: \"200009876204\"}\n", "line 3: users[1].id: user 200009876204 is already defined at line 2"},
		{"a user without id", "users:\n  - {name: {family: X}}\n", "users[0].id: an SDS user id is required"},
		{"a role profile id used twice", "users:\n  - id: \"1\"\n    role_profiles:\n      - {id: \"9\", job_role: {code: R0680}, org: {ods: RKE}}\n  - id: \"2\"\n    role_profiles:\n      - {id: \"9\", job_role: {code: R0680}, org: {ods: RKE}}\n",
			"line 7: users[1].role_profiles[0].id: role profile 9 is already defined at line 4"},
		{"a job role that is not an R code", "users:\n  - id: \"1\"\n    role_profiles:\n      - {id: \"9\", job_role: {code: Midwife}, org: {ods: RKE}}\n",
			"line 4: users[0].role_profiles[0].job_role.code: a job role code is an R code"},
		{"a triplet without its R part", "users:\n  - id: \"1\"\n    role_profiles:\n      - {id: \"9\", job_role: {code: \"S0010:G0020\"}, org: {ods: RKE}}\n", "job_role.code"},
		{"an activity that is not a B code", "users:\n  - id: \"1\"\n    role_profiles:\n      - {id: \"9\", job_role: {code: R0680}, org: {ods: RKE}, activities: [View]}\n",
			"users[0].role_profiles[0].activities[0]: an RBAC activity is a B code"},
		{"an activity listed twice", "users:\n  - id: \"1\"\n    role_profiles:\n      - {id: \"9\", job_role: {code: R0680}, org: {ods: RKE}, activities: [B0107, B0107]}\n", "activity B0107 is listed twice"},
		{"enabled that is not a boolean", "users:\n  - {id: \"1\", enabled: maybe}\n", "line 2: cannot unmarshal"},

		{"a patient NHS number with a bad check digit", "patients:\n  - {nhs_number: \"9995260183\"}\n", "line 2: patients[0].nhs_number: an NHS number is ten digits with a valid Modulus 11 check digit"},
		{"a patient NHS number of nine digits", "patients:\n  - {nhs_number: \"999526018\"}\n", "patients[0].nhs_number"},
		{"a patient without NHS number", "patients:\n  - {family: Doyle}\n", "patients[0].nhs_number: an NHS number is required"},
		{"a superseded_by with a bad check digit", "patients:\n  - {nhs_number: \"9995260182\", superseded_by: \"9995260183\"}\n", "patients[0].superseded_by: an NHS number is ten digits"},
		{"a patient superseded by itself", "patients:\n  - {nhs_number: \"9995260182\", superseded_by: \"9995260182\"}\n", "superseded by its own NHS number"},
		{"two patients with one NHS number", "patients:\n  - {nhs_number: \"9995260182\"}\n  - {nhs_number: \"9995260182\"}\n", "line 3: patients[1].nhs_number: the NHS number is already a patient at line 2"},
		{"a birth date in another format", "patients:\n  - {nhs_number: \"9995260182\", birth_date: \"26/09/2000\"}\n", "line 2: patients[0].birth_date: a date is YYYY-MM-DD"},
		{"a birth date that does not exist", "patients:\n  - {nhs_number: \"9995260182\", birth_date: \"2001-02-29\"}\n", "a date is YYYY-MM-DD"},
		{"a date with a time", "patients:\n  - {nhs_number: \"9995260182\", birth_date: \"2000-09-26T10:00:00Z\"}\n", "a date is YYYY-MM-DD"},
		{"a death before birth", "patients:\n  - {nhs_number: \"9995260182\", birth_date: \"2000-09-26\", date_of_death: \"1999-01-01\"}\n", "the date of death is before the birth date"},
		{"an unknown gender", "patients:\n  - {nhs_number: \"9995260182\", gender: F}\n", "patients[0].gender: gender is male, female, other or unknown"},

		{"a local authority without emergency telephone", "local_authorities:\n  - {ods: V145, name: Islington}\n", "local_authorities[0].telecom.emergency: a local authority needs an emergency duty telephone"},
		{"a telephone that is not a tel: URI", "local_authorities:\n  - {ods: V145, name: Islington, telecom: {emergency: \"02075277777\"}}\n", "a telephone is a tel: URI"},
		{"a local authority without name", "local_authorities:\n  - {ods: V145, telecom: {emergency: \"tel:1\"}}\n", "local_authorities[0].name: a local authority needs a name"},
		{"two local authorities with one ODS code", la + "  - {ods: V145, name: Islington again, telecom: {emergency: \"tel:2\"}}\n", "line 3: local_authorities[1].ods: local authority V145 is already defined at line 2"},
		{"an ODS code with a space", "local_authorities:\n  - {ods: \"V 145\", name: Islington, telecom: {emergency: \"tel:1\"}}\n", "an ODS code is letters and digits"},

		{"a record for a local authority not in the file", "records:\n  - nhs_number: \"9995260182\"\n    la: V145\n    plans:\n      - {type: CPP, start: \"2024-01-01\"}\n",
			"line 3: records[0].la: local authority V145 is not defined in local_authorities of this file"},
		{"a record NHS number with a bad check digit", la + "records:\n  - {nhs_number: \"9995260183\", la: V145, plans: [{type: CPP, start: \"2024-01-01\"}]}\n", "line 4: records[0].nhs_number: an NHS number is ten digits"},
		{"two records for one NHS number and LA", la + "records:\n  - {nhs_number: \"9995260182\", la: V145, plans: [{type: CPP, start: \"2024-01-01\"}]}\n  - {nhs_number: \"9995260182\", la: V145, plans: [{type: LAC, start: \"2024-01-01\"}]}\n",
			"line 5: records[1]: local authority V145 already holds a record for this NHS number at line 4"},
		{"a plan type that is not CPP, LAC or UCP", rec("      - {type: CIN, start: \"2024-01-01\"}\n"), "line 7: records[0].plans[0].type: a plan type is CPP, LAC or UCP"},
		{"a lower-case plan type", rec("      - {type: cpp, start: \"2024-01-01\"}\n"), "a plan type is CPP, LAC or UCP"},
		{"an unborn plan without due date", rec("      - {type: UCP, start: \"2026-05-01\"}\n"), "records[0].plans[0].end: an unborn child plan (UCP) needs an end date"},
		{"a plan without start date", rec("      - {type: CPP}\n"), "records[0].plans[0].start: a plan needs a start date"},
		{"a plan ending before it starts", rec("      - {type: CPP, start: \"2024-01-01\", end: \"2023-12-31\"}\n"), "records[0].plans[0].end: the plan ends before it starts"},
		{"a plan with a bad delete date", rec("      - {type: CPP, start: \"2024-01-01\", delete: \"tomorrow\"}\n"), "records[0].plans[0].delete: a date is YYYY-MM-DD"},
		{"two plans of one type in a record", rec("      - {type: CPP, start: \"2024-01-01\"}\n      - {type: CPP, start: \"2025-01-01\"}\n"), "records[0].plans[1].type: the record already holds a CPP plan"},
		{"a record without plans", la + "records:\n  - {nhs_number: \"9995260182\", la: V145}\n", "records[0].plans: a record holds one to three plans"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			w, err := world.Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("accepted, giving %+v", w)
			}
			if k := cpis.KindOf(err); k != cpis.KindInvalid {
				t.Errorf("kind = %v, want invalid (%v)", k, err)
			}
			if !strings.Contains(cpis.MessageOf(err), tc.want) {
				t.Errorf("message %q\ndoes not contain %q", cpis.MessageOf(err), tc.want)
			}
		})
	}
}

// An identifier is never repeated in an NHS number error: the line points at
// it, and the message may travel further than the file.
func TestNHSNumberNotInMessage(t *testing.T) {
	_, err := world.Parse([]byte("patients:\n  - {nhs_number: \"9995260183\"}\n"))
	if err == nil || strings.Contains(err.Error(), "9995260183") {
		t.Errorf("err = %v", err)
	}
}

func TestManyErrorsAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("endpoints:\n")
	for i := 0; i < 50; i++ {
		b.WriteString("  - {asid: \"1\", ods: RKE}\n")
	}
	_, err := world.Parse([]byte(b.String()))
	if msg := cpis.MessageOf(err); !strings.Contains(msg, "and 40 more") {
		t.Errorf("message = %q", msg)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(example))
	if data, err := os.ReadFile(filepath.Join("testdata", "sample.yaml")); err == nil {
		f.Add(data)
	}
	f.Add([]byte("records:\n  - {nhs_number: \"9995260182\", la: V145, plans: [{type: UCP, start: \"2026-05-01\"}]}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("users:\n  - &u {id: \"1\"}\n  - *u\n"))
	f.Add([]byte("users:\n  - name: {given: {x: 1}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := world.Parse(data)
		if err != nil {
			if cpis.KindOf(err) != cpis.KindInvalid {
				t.Fatalf("error of kind %v: %v", cpis.KindOf(err), err)
			}
			return
		}
		// Whatever is accepted holds to the rules the store relies on.
		for _, r := range w.Records {
			if !cpis.ValidNHSNumber(string(r.NHSNumber)) {
				t.Fatalf("accepted record NHS number %q", r.NHSNumber)
			}
			for _, p := range r.Plans {
				if !p.Type.Valid() || p.Start.IsZero() || p.Type == cpis.UCP && p.End.IsZero() {
					t.Fatalf("accepted plan %+v", p)
				}
			}
		}
		for _, e := range w.Endpoints {
			if len(e.ASID) != 12 {
				t.Fatalf("accepted ASID %q", e.ASID)
			}
		}
	})
}
