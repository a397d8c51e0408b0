// Package schema holds spinegw's own XML Schemas for the CP-IS HL7 V3
// messages, embedded in the binary, and the mapping from a message's root
// element to the schema that validates it.
//
// Provenance: these XSDs were written for spinegw from the published CP-IS
// message definitions (element names, namespaces, cardinalities, data type
// flavours, vocabularies and OIDs, as documented in the CP-IS Domain Message
// Specification and visible in NHS Digital's schema set). No text of the
// official NHS schema files is reused; the official set may not be
// redistributed with the project. Its schemas accept and refuse the same
// instances as the official set for the CP-IS message types, which the
// package's differential tests check against the official files (as libxml2
// compiles them, which is how spinegw uses either set).
//
// Known differences, all on instances no conforming sender produces:
//
//   - Elements the model prohibits (maxOccurs="0": templateId in the CP-IS
//     templates, translation in a CV, qualifier in a CE, a thumbnail's own
//     thumbnail) are refused here. libxml2 compiles such a particle in the
//     official set as "at most once, then nothing may follow", so the
//     official set accepts the prohibited element when it is the last child.
//   - xsi:type naming one of the official set's derived types (CS on a CV,
//     II.NPfIT.uuid.mandatory on an id) is refused here: these schemas
//     declare flat types under their own names, not the official derivation
//     tree. xsi:type naming the declared type itself (II, PN, CV ...) works.
//   - Only the entry's root element (and npfitlc:contentId) is declared
//     globally, so a bare fragment such as a ControlActEvent is refused; the
//     official entry schemas also declare their fragments globally.
//
// Users who have the official schema set (an NHS DMS pack, or the CPIS folder
// of NHS Digital's SPINE_schema repository) can validate against it instead
// with --schemas DIR: the official set has the same entry paths, so Entry
// serves both.
//
// Layout (all paths relative to FS):
//
//	Schemas/<interaction or message type>.xsd   entry points, one per root element
//	shared/datatypes.xsd      HL7 primitive and general data types
//	shared/flavours.xsd       NHS data type flavours, class attribute groups
//	shared/localisation.xsd   the NPFIT:HL7:Localisation contentId element
//	shared/sds.xsd            SDS person, system and organisation agents
//	shared/wrapper.xsd        transmission wrapper header, devices, acknowledgement
//	shared/controlact.xsd     control act reason and query acknowledgement
//	shared/cpis-cmet.xsd      CP-IS author, subject and recipient templates, local authority
//	shared/cpis-plans.xsd     CPP, LAC and UCP plan templates (query response and upload)
//	shared/cpis-query.xsd     the NHS query act (query payload and access history entry)
//
// A new message type is an entry schema that includes the shared files it
// needs and declares its root element.
package schema

import "embed"

// FS is the schema tree: FS contains "Schemas/QUPC_IN000006GB01.xsd" and the
// shared files its entries include by relative path.
//
//go:embed Schemas/*.xsd shared/*.xsd
var FS embed.FS

// entries maps an HL7 root element local name to its entry schema. The
// interactions are named after themselves; the file-based CP-IS messages
// have plain root element names and are validated by their message type.
var entries = map[string]string{
	"QUPC_IN000006GB01":                  "Schemas/QUPC_IN000006GB01.xsd",
	"REPC_IN000007GB01":                  "Schemas/REPC_IN000007GB01.xsd",
	"QUQI_IN010000UK14":                  "Schemas/QUQI_IN010000UK14.xsd",
	"MCCI_IN010000UK13":                  "Schemas/MCCI_IN010000UK13.xsd",
	"File":                               "Schemas/REPC_MT000002GB01.xsd",
	"FileResponse":                       "Schemas/REPC_MT000003GB01.xsd",
	"CP-ISAccessToServiceNotification":   "Schemas/REPC_MT000004GB01.xsd",
	"CP-ISInactiveNHSNumberNotification": "Schemas/REPC_MT000005GB01.xsd",
}

// Entry returns the slash-separated path, relative to the root of a schema
// set, of the entry schema for an HL7 message whose root element has local
// name root (namespace urn:hl7-org:v3). The same path is valid in FS and in
// the official CP-IS schema set. ok is false for a root spinegw has no
// schema for.
func Entry(root string) (path string, ok bool) {
	path, ok = entries[root]
	return path, ok
}

// Roots returns the root element names Entry knows, in no particular order.
func Roots() []string {
	out := make([]string, 0, len(entries))
	for r := range entries {
		out = append(out, r)
	}
	return out
}
