// Package bench measures a running spinegw gateway against a bare net/http
// handler that returns a response of the same size, on the same machine and
// in the same run, so that the cost of the gateway itself (HL7 parsing,
// RBAC, the SQLite read and the committed access-history write, the response
// build) shows as a ratio rather than as an absolute figure that depends on
// the machine.
//
// Two measurements, alternated with the bare reference in pairs because a
// shared machine drifts over minutes:
//
//   - closed loop: a fixed number of clients (CP-IS086: many concurrent
//     users) each sending CP-IS NHS Queries back to back; it yields the
//     sustainable rate and server CPU per query;
//   - open loop: queries sent on a schedule fixed in advance at a given rate,
//     latency measured from each query's planned send time, so that a stalled
//     server cannot hide its backlog by slowing the client down (coordinated
//     omission).
//
// Server CPU comes from /proc/<pid>/stat of the server process, which makes
// the figures Linux-only.
package bench
