package libxml2

/*
#cgo pkg-config: libxml-2.0
#include <stdlib.h>
#include <libxml/tree.h>

// gw_outer_xml serialises the subtree at node as a standalone UTF-8
// document. Copying into a fresh document makes libxml2 declare, on the new
// root, every namespace the subtree used from its ancestors.
static int gw_outer_xml(xmlNodePtr node, xmlChar **out, int *len) {
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	if (doc == NULL) return -1;
	xmlNodePtr copy = xmlDocCopyNode(node, doc, 1);
	if (copy == NULL) { xmlFreeDoc(doc); return -1; }
	xmlDocSetRootElement(doc, copy);
	xmlReconciliateNs(doc, copy);
	xmlDocDumpMemoryEnc(doc, out, len, "UTF-8");
	xmlFreeDoc(doc);
	return *out == NULL ? -1 : 0;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// OuterXML returns the element n and everything under it as a standalone XML
// document, with the namespaces it uses from its ancestors declared on it. A
// message carried inside a SOAP Body can so be handed on as a document of its
// own (an LA Upload File sent over SOAP goes through the same pipeline as one
// taken from a mailbox).
func (n *Node) OuterXML() ([]byte, error) {
	if n == nil || n.p == nil {
		return nil, errors.New("libxml2: no node")
	}
	var out *C.xmlChar
	var size C.int
	if C.gw_outer_xml(n.p, &out, &size) != 0 {
		return nil, errors.New("libxml2: the element could not be serialised")
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), size), nil
}
