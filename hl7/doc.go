// Package hl7 reads and writes the HL7 V3 messages of the CP-IS NHS Query
// interaction, in namespace urn:hl7-org:v3:
//
//   - QUPC_IN000006GB01, the NHS Query (MCCI_MT010101UK12 wrapper,
//     QUQI_MT050000UK01 control act, QUPC_MT000006GB01 payload), read by
//     ParseQuery into a Query;
//   - REPC_IN000007GB01, the NHS Query Response (REPC_MT000007GB01 payload),
//     built by QueryResponse from a cpis.Answer;
//   - QUQI_IN010000UK14, the query failure ("Query Act Failed"), built by
//     QueryFailure from a Failure;
//   - every message root the gateway receives or emits, checked against its
//     XML Schema (and, for the query, the Spine checks) by a Validator.
//
// Elements are matched by namespace URI and local name, never by prefix:
// senders write any prefix or a default namespace. Built messages are the HL7
// element alone, with urn:hl7-org:v3 as the default namespace and no XML
// declaration; the soap package wraps them in a SOAP Body. The schema is the
// authority on every element emitted: each builder's output validates against
// the official CP-IS schema set.
package hl7
