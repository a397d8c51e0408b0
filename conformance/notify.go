package conformance

import (
	"fmt"
	"time"

	"spinegw/cpis"
)

// Notification and lifecycle cases. A notification is made by the daily
// cycle or by a PDS change, not in answer to a request, and a record's
// lifecycle plays out over days, so these cases are steps run against
// spinegw's admin listener and HTTP mailbox (see Step). Replay runs them
// after every request/response case, and the cases that move the clock
// last of all (Case.Phase). Every case that moves the clock moves it to the
// same instant, nextDay, so that they may run in any order among
// themselves, or alone.

// The LA whose HTTP mailbox the cases read, and its endpoint.
const (
	mailboxLA   = "V145"
	mailboxASID = islingtonLA
)

// Numbers the notification cases change in PDS. Each is held by V145 and
// asked about by no request/response case that runs later.
const (
	supersededNHS  = cppChild // CPP at V145 (ISL-1001)
	replacementNHS = "9990004005"
	inactivatedNHS = mother // UCP at V145 (ISL-1002)
	accessedNHS    = twoLAs // held by V145 and V150
)

// nextDay is the instant the clock-moving cases set: the day after the
// suite's, after its daily cycle.
const nextDay = "2026-11-23T10:00:00Z"

var toNextDay = Step{Admin: &AdminStep{Path: "/admin/clock", Body: `{"to": "` + nextDay + `"}`}}

type notifySpec struct {
	name, title string
	reqs        []string
	query       *spec // the query the case sends first, if any
	steps       []Step
	expect      Expect
}

func notificationExpect(root string, more ...Assert) Expect {
	return Expect{Status: 200, Root: root, Valid: root, Assert: more}
}

func notifyCorpus() []notifySpec {
	recipient := Assert{XPath: "//hl7:primaryInformationRecipient//hl7:representedSourceOrganization/hl7:id", Attr: "extension", Equals: mailboxLA}
	return []notifySpec{
		{name: "notification-access-to-service", title: "An access to a child is notified to the LA the next morning (the clock moves a day)",
			reqs:  []string{"CP-IS022", "CP-IS023", "CP-IS025", "CP-IS037", "CP-IS070"},
			query: &spec{user: doctor, nhs: accessedNHS},
			steps: []Step{
				{Send: "request.xml"},
				toNextDay,
				{Mailbox: &MailboxStep{ODS: mailboxLA, ASID: mailboxASID, Root: "CP-ISAccessToServiceNotification", Contains: accessedNHS}},
			},
			expect: notificationExpect("CP-ISAccessToServiceNotification", recipient,
				Assert{XPath: "//hl7:pertinentCP-ISRecordAccess[.//hl7:person.id/hl7:value/@extension='" + accessedNHS + "']//hl7:pertinentCP-ISNHSQuery", Count: count(1)},
				Assert{XPath: "//hl7:pertinentCP-ISRecordAccess[.//hl7:person.id/hl7:value/@extension='" + accessedNHS + "']//hl7:person.id/hl7:value[@root='2.16.840.1.113883.2.1.3.2.4.18.24']", Attr: "extension", Equals: "ISL-1003"},
				Assert{XPath: "//hl7:pertinentCP-ISRecordAccess[.//hl7:person.id/hl7:value/@extension='" + accessedNHS + "']//hl7:author//hl7:id[@extension='" + doctor + "']", Count: count(1)},
				Assert{XPath: "//hl7:effectiveTime", Attr: "value", Equals: "20261123020000+0000"},
				// CP-IS029: the access cpp-end-plus-365-last-day made on the
				// plan's last visible day is not notified, the run having
				// purged the record.
				Assert{XPath: "//hl7:person.id/hl7:value[@extension='" + cppLastDay + "']", Count: count(0)})},
		{name: "notification-access-none", title: "An LA none of whose children was accessed in the period gets a notification with zero records",
			reqs: []string{"CP-IS025"},
			steps: []Step{
				{Admin: &AdminStep{Path: "/admin/daily"}},
				{Mailbox: &MailboxStep{ODS: mailboxLA, ASID: mailboxASID, Root: "CP-ISAccessToServiceNotification", Contains: `value="20261122020000+0000"`}},
			},
			expect: notificationExpect("CP-ISAccessToServiceNotification", recipient,
				Assert{XPath: "//hl7:pertinentTotalReturnedRecords/hl7:value", Attr: "value", Equals: "0"},
				Assert{XPath: "//hl7:pertinentInformation1", Count: count(0)})},
		{name: "notification-inactive-superseded", title: "An NHS number superseded in PDS is notified to the LA holding records under it, naming the new number",
			reqs: []string{"CP-IS012", "CP-IS019", "CP-IS023"},
			steps: []Step{
				{Admin: &AdminStep{Path: "/admin/pds/supersede", Body: fmt.Sprintf(`{"old": %q, "new": %q}`, supersededNHS, replacementNHS),
					ReplyContains: `"notifications":1`}},
				// The same change again owes nothing more: each LA is told once.
				{Admin: &AdminStep{Path: "/admin/pds/supersede", Body: fmt.Sprintf(`{"old": %q, "new": %q}`, supersededNHS, replacementNHS),
					ReplyContains: `"notifications":0`}},
				{Mailbox: &MailboxStep{ODS: mailboxLA, ASID: mailboxASID, Root: "CP-ISInactiveNHSNumberNotification", Contains: supersededNHS}},
			},
			expect: notificationExpect("CP-ISInactiveNHSNumberNotification", recipient,
				Assert{XPath: "//hl7:pDSInactivePatient", Count: count(1)},
				Assert{XPath: "//hl7:pDSInactivePatient/hl7:id[@root='2.16.840.1.113883.2.1.4.1']", Attr: "extension", Equals: supersededNHS},
				Assert{XPath: "//hl7:pDSInactivePatient/hl7:replacedBy/hl7:newVersion/hl7:id", Attr: "extension", Equals: replacementNHS})},
		{name: "notification-inactive-no-replacement", title: "An NHS number PDS marks inactive with no replacement is notified without a new number",
			reqs: []string{"CP-IS012", "CP-IS023"},
			steps: []Step{
				{Admin: &AdminStep{Path: "/admin/pds/inactivate", Body: fmt.Sprintf(`{"old": %q}`, inactivatedNHS)}},
				{Mailbox: &MailboxStep{ODS: mailboxLA, ASID: mailboxASID, Root: "CP-ISInactiveNHSNumberNotification", Contains: inactivatedNHS}},
			},
			expect: notificationExpect("CP-ISInactiveNHSNumberNotification", recipient,
				Assert{XPath: "//hl7:pDSInactivePatient", Count: count(1)},
				Assert{XPath: "//hl7:pDSInactivePatient/hl7:id[@root='2.16.840.1.113883.2.1.4.1']", Attr: "extension", Equals: inactivatedNHS},
				Assert{XPath: "//hl7:replacedBy", Count: count(0)})},
		{name: "lifecycle-cpp-gone-after-end-plus-365", title: "A CPP shown on end date + 365 days is gone the next day, after the daily cycle (the clock moves a day)",
			reqs:  []string{"CP-IS010", "CP-IS032"},
			query: &spec{user: doctor, nhs: cppLastDay},
			steps: []Step{toNextDay, {Send: "request.xml"}}, expect: notFound()},
		{name: "lifecycle-ucp-gone-on-due-plus-28", title: "An unborn plan shown to a midwife on due date + 27 days is gone on due date + 28 (the clock moves a day)",
			reqs:  []string{"CP-IS011", "CP-IS033"},
			query: &spec{user: midwife, nhs: ucpLastDay},
			steps: []Step{toNextDay, {Send: "request.xml"}}, expect: notFound()},
		{name: "lifecycle-delete-date-to-come-still-shown", title: "A plan whose delete date is still to come is still shown the next day (the clock moves a day)",
			reqs:   []string{"CP-IS009"},
			query:  &spec{user: doctor, nhs: deleteLate},
			steps:  []Step{toNextDay, {Send: "request.xml"}},
			expect: positive(1, planCount("COCT_TP146105GB01.CPPInformation", 1))},
	}
}

// generateNotifications writes the notification cases.
func generateNotifications(dir string, suite Suite, now time.Time, users map[string]cpis.User, ep cpis.Endpoint) error {
	for i, s := range notifyCorpus() {
		ex := s.expect
		ex.Title, ex.Requirements, ex.Steps = s.title, s.reqs, s.steps
		var body []byte
		if s.query != nil {
			u := users[s.query.user]
			if len(u.RoleProfiles) == 0 {
				return fmt.Errorf("case %s: user %s not in the world", s.name, s.query.user)
			}
			p := NewQuery(suite.GatewayASID, ep, u, u.RoleProfiles[0], s.query.nhs, now)
			p.MessageID = fmt.Sprintf("3B0C4D5E-0000-4000-8000-%012d", i+1)
			p.QueryID = fmt.Sprintf("4C1D5E6F-0000-4000-8000-%012d", i+1)
			body = p.Render()
			ex.SOAPAction, ex.ContentType = p.Action, "text/xml; charset=UTF-8"
		}
		if err := writeCase(dir, s.name, body, ex); err != nil {
			return err
		}
	}
	return nil
}
