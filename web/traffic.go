package web

import (
	"strings"
	"sync"
	"time"

	"spinegw/soap"
)

// Traffic keeps the last exchanges of the SOAP endpoint and the HTTP
// mailbox and counts every exchange since the gateway started, from what
// their observers are told (soap.Exchange): time, interaction, sender ASID,
// outcome, latency.
// It never holds content or patient data. It is safe for concurrent use.
type Traffic struct {
	mu      sync.Mutex
	ring    []soap.Exchange
	next    int // where the next exchange goes in ring
	full    bool
	counts  TrafficCounts
	started time.Time
}

// TrafficCounts counts exchanges since start, by what they got.
type TrafficCounts struct {
	Queries  int `json:"queries"`  // CP-IS NHS Queries answered by an HL7 message (not faults)
	Positive int `json:"positive"` // of which with plans shown
	NotFound int `json:"notFound"` // of which NHS Number Not Found
	Refused  int `json:"refused"`  // of which refused: validation or authorisation (SMSP-0001, SMSP-0005)
	Uploads  int `json:"uploads"`  // LA Upload files answered with a FileResponse
	Faults   int `json:"faults"`   // exchanges answered with a SOAP fault, whatever they were
	Mailbox  int `json:"mailbox"`  // requests to the HTTP mailbox, whatever their status
}

// NewTraffic keeps the last size exchanges.
func NewTraffic(size int) *Traffic {
	if size <= 0 {
		size = 50
	}
	return &Traffic{ring: make([]soap.Exchange, size), started: time.Now()}
}

// Observe records one exchange: give it to soap.Config.Observe or
// soap.Server.Observe.
func (t *Traffic) Observe(e soap.Exchange) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ring[t.next] = e
	t.next = (t.next + 1) % len(t.ring)
	if t.next == 0 {
		t.full = true
	}
	c := &t.counts
	switch {
	case strings.HasPrefix(e.Interaction, "Mailbox"):
		c.Mailbox++
	case strings.HasPrefix(e.Outcome, "fault"):
		c.Faults++
	case e.Interaction == "File":
		c.Uploads++
	default:
		c.Queries++
		switch e.Outcome {
		case "positive":
			c.Positive++
		case "not-found":
			c.NotFound++
		default:
			c.Refused++
		}
	}
}

// Snapshot returns the exchanges kept, newest first, the counts and when
// counting started.
func (t *Traffic) Snapshot() ([]soap.Exchange, TrafficCounts, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.next
	if t.full {
		n = len(t.ring)
	}
	out := make([]soap.Exchange, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, t.ring[(t.next-i+len(t.ring))%len(t.ring)])
	}
	return out, t.counts, t.started
}
