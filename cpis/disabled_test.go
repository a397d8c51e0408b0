package cpis_test

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"spinegw/cpis"
)

// CP-IS059: a disabled user's name is taken out of the access history shown
// to others; the entry stays.
func TestHideDisabled(t *testing.T) {
	named := cpis.Name{Prefix: "Ms", Given: []string{"Jane"}, Family: "Midwife"}
	off := func(id string) bool { return id == "U-OFF" }
	for _, tc := range []struct {
		why  string
		acc  cpis.Accessor
		hide bool
	}{
		{"a disabled user's name is hidden", cpis.Accessor{UserID: "U-OFF", Name: named}, true},
		{"an enabled user's name stays", cpis.Accessor{UserID: "U-ON", Name: named}, false},
		{"a system author naming the same id is the system's record", cpis.Accessor{System: true, UserID: "U-OFF", Name: named}, false},
		{"an entry without user id is left", cpis.Accessor{Name: named}, false},
	} {
		ev := []cpis.AccessEvent{{ID: "E1", Accessor: tc.acc}}
		ev[0].Accessor.JobRole = cpis.JobRole{Code: "R0680", Name: "Midwife"}
		cpis.HideDisabled(ev, off)
		if got := ev[0].Accessor.Name.IsZero(); got != tc.hide {
			t.Errorf("%s: name hidden = %v", tc.why, got)
		}
		if ev[0].ID != "E1" || ev[0].Accessor.JobRole.Code != "R0680" || ev[0].Accessor.UserID != tc.acc.UserID {
			t.Errorf("%s: the entry changed beyond the name: %+v", tc.why, ev[0])
		}
	}
}

// Through the service: the midwife reads a record, then her account is
// disabled; the GP's answer still lists her access, without her name. The
// store keeps the name: enabled again, it shows again.
func TestServiceHidesDisabledUsersInHistory(t *testing.T) {
	store := newStore()
	store.users = maps.Clone(directory)
	svc := &cpis.Service{Store: store, Clock: cpis.ClockFunc(func() time.Time { return now })}
	ctx := context.Background()
	if _, err := svc.Answer(ctx, query(child, user(jane), profiles("P-MW"))); err != nil {
		t.Fatal(err)
	}
	historyName := func() cpis.Name {
		t.Helper()
		ans, err := svc.Answer(ctx, query(child, user(ann), profiles("P-GP")))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ans.History {
			if e.Accessor.UserID == jane {
				if e.Accessor.JobRole.Code != "R0680" {
					t.Errorf("the midwife's entry lost its job role: %+v", e.Accessor)
				}
				return e.Accessor.Name
			}
		}
		t.Fatalf("the midwife's access is not in the history: %+v", ans.History)
		return cpis.Name{}
	}
	if n := historyName(); n.Family != "Midwife" {
		t.Fatalf("enabled: name %+v", n)
	}
	u := store.users[jane]
	u.Enabled = false
	store.users[jane] = u
	if n := historyName(); !n.IsZero() {
		t.Errorf("CP-IS059: a disabled user's name is shown to others: %+v", n)
	}
	u.Enabled = true
	store.users[jane] = u
	if n := historyName(); n.Family != "Midwife" {
		t.Errorf("enabled again: name %+v", n)
	}

	// A directory that cannot be read: no answer, and nothing recorded.
	recorded := len(store.events)
	store.failUser = errors.New("directory down")
	if _, err := svc.Answer(ctx, systemQuery(child)); err == nil {
		t.Error("answered without knowing who is disabled")
	}
	if len(store.events) != recorded {
		t.Errorf("an unanswered query was recorded")
	}
}
