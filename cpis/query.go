package cpis

import (
	"context"
	"time"
)

// Query is a CP-IS NHS Query (QUPC_IN000006GB01) as the core sees it.
type Query struct {
	MessageID string   // the HL7 message id
	Sender    Endpoint // the accredited sending system, from CheckSender
	NHSNumber string   // as received; checked by Answer
	Author    Author
}

// Answer is a positive answer: what the NHS Query Response carries.
type Answer struct {
	NHSNumber NHSNumber
	Patient   Patient // zero NHSNumber if PDS does not know the subject
	Holdings  []Holding
	History   []AccessEvent // earlier accesses, newest first (CP-IS047, CP-IS048)
	Event     AccessEvent   // this access as recorded (Shown decided), committed before the answer is returned
	At        time.Time
}

// Subject is everything the store holds for one NHS number that a query
// needs, read together.
type Subject struct {
	Patient    Patient // zero if PDS does not know the number
	HasPatient bool
	Records    []Record      // every LA's record for the number
	History    []AccessEvent // shown events, newest first, at least HistoryLimit of them when there are that many
}

// Store is the persistence the query service needs. Implementations return
// an *Error of KindNotFound for unknown endpoints and users.
type Store interface {
	Endpoint(ctx context.Context, asid string) (Endpoint, error)
	User(ctx context.Context, id string) (User, error)
	Subject(ctx context.Context, nhs NHSNumber) (Subject, error)
	// RecordAccess durably stores ev, deciding Shown with FirstInWindow
	// inside its write transaction, and returns only once it is committed
	// (CP-IS068). It returns the event as recorded, Shown set (CP-IS047).
	RecordAccess(ctx context.Context, ev AccessEvent) (AccessEvent, error)
}

// Service answers CP-IS NHS Queries.
type Service struct {
	Store Store
	Clock Clock
}

// CheckSender verifies that asid is an accredited endpoint (CP-NHS018,
// CP-SC025).
func (s *Service) CheckSender(ctx context.Context, asid string) (Endpoint, error) {
	ep, err := s.Store.Endpoint(ctx, asid)
	if err != nil {
		if KindOf(err) == KindNotFound {
			return Endpoint{}, Errorf(KindAddressing, "sender", "the sending ASID is not an accredited endpoint")
		}
		return Endpoint{}, err
	}
	return ep, nil
}

// hideDisabled removes from a history the names of SDS users disabled now
// (CP-IS059), looking each user up once. A user the directory no longer
// knows keeps the name recorded: only a disabled account is hidden.
func (s *Service) hideDisabled(ctx context.Context, history []AccessEvent) error {
	var failed error
	seen := map[string]bool{}
	HideDisabled(history, func(id string) bool {
		if off, ok := seen[id]; ok {
			return off
		}
		u, err := s.Store.User(ctx, id)
		switch {
		case err == nil:
			seen[id] = !u.Enabled
		case KindOf(err) == KindNotFound:
			seen[id] = false
		default:
			if failed == nil {
				failed = err
			}
			seen[id] = false
		}
		return seen[id]
	})
	return failed
}

// Answer decides a query: the NHS number's check digit, then RBAC, then
// visibility at the clock's now. A positive answer's access event is
// committed before Answer returns (CP-IS068); refused and negative queries
// record nothing.
func (s *Service) Answer(ctx context.Context, q Query) (Answer, error) {
	nhs, err := ParseNHSNumber(q.NHSNumber)
	if err != nil {
		return Answer{}, err
	}
	endpoint := q.Sender
	var acc Accessor
	if q.Author.System {
		acc = SystemAccessor(q.Author, endpoint)
	} else {
		user, err := s.Store.User(ctx, q.Author.UserID)
		found := err == nil
		if err != nil && KindOf(err) != KindNotFound {
			return Answer{}, err
		}
		if acc, err = Authorize(q.Author, user, found); err != nil {
			return Answer{}, err
		}
		acc.ASID = endpoint.ASID
	}
	subj, err := s.Store.Subject(ctx, nhs)
	if err != nil {
		return Answer{}, err
	}
	now := s.Clock.Now()
	var birth time.Time
	if subj.HasPatient {
		birth = subj.Patient.BirthDate
	}
	holdings := VisibleHoldings(subj.Records, birth, Today(now), Viewer{JobRole: acc.JobRole.Code})
	if len(holdings) == 0 {
		return Answer{}, Errorf(KindNotFound, "query", "NHS Number Not Found")
	}
	// Decided before the access is recorded, so that a failed directory
	// read leaves nothing recorded for an unanswered query.
	history := ThinHistory(subj.History)
	if err := s.hideDisabled(ctx, history); err != nil {
		return Answer{}, err
	}
	ev := AccessEvent{ID: q.MessageID, NHSNumber: nhs, At: now, Accessor: acc}
	for _, h := range holdings {
		ev.LAs = append(ev.LAs, h.LA.ODS)
	}
	ev, err = s.Store.RecordAccess(ctx, ev)
	if err != nil {
		return Answer{}, err
	}
	ans := Answer{NHSNumber: nhs, Holdings: holdings, History: history, Event: ev, At: now}
	if subj.HasPatient {
		ans.Patient = subj.Patient
	}
	return ans, nil
}
