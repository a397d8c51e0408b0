package web_test

import (
	"fmt"
	"testing"
	"time"

	"spinegw/soap"
	"spinegw/web"
)

// Traffic keeps the newest exchanges, newest first, and counts them all by
// what they got.
func TestTrafficRing(t *testing.T) {
	tr := web.NewTraffic(3)
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	outcomes := []struct{ interaction, outcome string }{
		{"Mailbox list", "HTTP 200"}, {"QUPC_IN000006GB01", "positive"}, {"QUPC_IN000006GB01", "not-found"}, {"QUPC_IN000006GB01", "unauthorized"},
		{"QUPC_IN000006GB01", "invalid"}, {"File", "CPF02"}, {"", "fault 201"}, {"File", "fault 200"},
	}
	for i, o := range outcomes {
		tr.Observe(soap.Exchange{At: base.Add(time.Duration(i) * time.Second), Interaction: o.interaction, Sender: fmt.Sprint(i), Outcome: o.outcome})
	}
	recent, counts, _ := tr.Snapshot()
	if len(recent) != 3 || recent[0].Sender != "7" || recent[1].Sender != "6" || recent[2].Sender != "5" {
		t.Errorf("recent %+v", recent)
	}
	want := web.TrafficCounts{Queries: 4, Positive: 1, NotFound: 1, Refused: 2, Uploads: 1, Faults: 2, Mailbox: 1}
	if counts != want {
		t.Errorf("counts %+v, want %+v", counts, want)
	}
	tr = web.NewTraffic(3)
	tr.Observe(soap.Exchange{Sender: "a"})
	if recent, _, _ := tr.Snapshot(); len(recent) != 1 || recent[0].Sender != "a" {
		t.Errorf("one exchange: %+v", recent)
	}
}
