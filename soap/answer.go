package soap

import (
	"spinegw/cpis"
	"spinegw/hl7"
)

// Answer is the one table from an error kind to its wire answer: either a
// SOAP fault (HTTP 500) for transport-level errors, or an HL7 query failure
// (QUQI_IN010000UK14, HTTP 200) once the message has been accepted as a
// CP-IS query. Every kind appears here once.
func Answer(err error) (*Fault, *hl7.Failure) {
	msg := cpis.MessageOf(err)
	switch cpis.KindOf(err) {
	case cpis.KindNotWellFormed:
		return &Fault{Code: TMSNotWellFormed, Description: "The message is not well formed: " + msg}, nil
	case cpis.KindHostile:
		return &Fault{Code: TMSNotWellFormed, Description: "The message is refused: " + msg}, nil
	case cpis.KindTransport:
		return &Fault{Code: TMSDefault, Description: "Invalid message transport: " + msg}, nil
	case cpis.KindUnknownAction:
		return &Fault{Code: TMSDefault, Description: "Unsupported interaction: " + msg}, nil
	case cpis.KindAddressing:
		return &Fault{Code: TMSDefault, Description: "Invalid message addressing: " + msg}, nil
	case cpis.KindInvalid:
		f := hl7.SMSP("SMSP-0001", msg)
		return nil, &f
	case cpis.KindUnauthorized:
		f := hl7.SMSP("SMSP-0005", msg)
		return nil, &f
	case cpis.KindNotFound:
		f := hl7.NotFound()
		return nil, &f
	default:
		return &Fault{Code: TMSDefault, Description: "System failure to process message - default"}, nil
	}
}
