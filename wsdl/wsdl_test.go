package wsdl

import (
	"bytes"
	"context"
	"crypto/tls"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"spinegw/hl7/schema"
	"spinegw/internal/libxml2"
	"spinegw/soap"
)

func parse(t *testing.T, b []byte) *libxml2.Document {
	t.Helper()
	doc, err := libxml2.Parse(b, libxml2.ParseOptions{})
	if err != nil {
		t.Fatalf("not well formed: %v", err)
	}
	t.Cleanup(doc.Free)
	return doc
}

const (
	nsWSDL = "http://schemas.xmlsoap.org/wsdl/"
	nsSOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
	nsXSD  = "http://www.w3.org/2001/XMLSchema"
)

// The rendered WSDL is well formed, whatever the host, and carries no
// placeholder; the host is escaped, never markup.
func TestRenderWellFormed(t *testing.T) {
	for _, base := range []string{"http://127.0.0.1:8080", "https://gw.example", `http://a"b<c>&d`} {
		doc := parse(t, Render(base))
		if bytes.Contains(Render(base), []byte(basePlaceholder)) {
			t.Fatalf("%s: placeholder left", base)
		}
		root := doc.Root()
		if root.NamespaceURI() != nsWSDL || root.LocalName() != "definitions" {
			t.Fatalf("root %s", root.LocalName())
		}
		port := root.Child(nsWSDL, "service").Child(nsWSDL, "port").Child(nsSOAP, "address")
		if got := port.Attr("location"); got != base+"/sync-service" {
			t.Errorf("soap:address %q, want %q", got, base+"/sync-service")
		}
		for _, s := range root.Child(nsWSDL, "types").Children(nsXSD, "schema") {
			for c := s.FirstChildElement(); c != nil; c = c.NextSiblingElement() {
				if loc := c.Attr("schemaLocation"); !strings.HasPrefix(loc, base+"/") {
					t.Errorf("schemaLocation %q not under %q", loc, base)
				}
			}
		}
	}
}

// Every operation of the binding carries the SOAPAction the SOAP server
// accepts for it, and the binding covers the portType: the WSDL and the
// server cannot drift apart.
func TestActionsAreTheServers(t *testing.T) {
	root := parse(t, Render("http://h")).Root()
	want := map[string]string{"NHSQuery": soap.ActionQuery, "LocalAuthorityUpload": soap.ActionUpload}
	got := map[string]string{}
	for _, op := range root.Child(nsWSDL, "binding").Children(nsWSDL, "operation") {
		got[op.Attr("name")] = op.Child(nsSOAP, "operation").Attr("soapAction")
	}
	for name, action := range want {
		if got[name] != action {
			t.Errorf("%s: soapAction %q, server accepts %q", name, got[name], action)
		}
	}
	pt := root.Child(nsWSDL, "portType").Children(nsWSDL, "operation")
	if len(pt) != len(want) || len(got) != len(want) {
		t.Errorf("%d portType operations, %d bound, want %d", len(pt), len(got), len(want))
	}
	for _, op := range pt {
		if _, ok := got[op.Attr("name")]; !ok {
			t.Errorf("portType operation %s is not bound", op.Attr("name"))
		}
	}
}

// The WSDL's own schemas compile, and describe the wire: the header blocks
// of a request the conformance corpus sends and of a reply the gateway
// writes are valid against them, and so is the fault detail it writes.
func TestOwnSchemasDescribeTheWire(t *testing.T) {
	compile := func(name string) *libxml2.Schema {
		s, err := libxml2.CompileSchema(Own, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(s.Free)
		return s
	}
	wsa, hl7h, nasp := compile("addressing.xsd"), compile("hl7header.xsd"), compile("errorList.xsd")
	check := func(what string, header *libxml2.Node) int {
		n := 0
		for h := header.FirstChildElement(); h != nil; h = h.NextSiblingElement() {
			var s *libxml2.Schema
			switch h.NamespaceURI() {
			case soap.NSAddressing:
				s = wsa
			case soap.NSHL7:
				s = hl7h
			default:
				continue
			}
			n++
			if errs := s.ValidateElement(h); len(errs) > 0 {
				t.Errorf("%s: header %s: %v", what, h.LocalName(), errs)
			}
		}
		return n
	}
	req, err := os.ReadFile("../conformance/cases/positive-cpp/request.xml")
	if err != nil {
		t.Fatal(err)
	}
	if n := check("request", parse(t, req).Root().Child(soap.NSEnvelope, "Header")); n != 7 {
		t.Errorf("request: %d header blocks checked, want 7", n)
	}
	var reply bytes.Buffer
	_ = soap.WriteReply(&reply, soap.ReplyHeader{MessageID: "uuid:0E5A4F2C-0000-4000-8000-000000000001", Action: soap.ActionQueryResponse,
		To: "https://rke.client", From: "https://spine.example/sync-service", RcvASID: "200000000101", SndASID: "990000000001",
		RelatesTo: "uuid:5C0E1D2A-0000-4000-8000-000000000001"}, []byte(`<x xmlns="urn:example"/>`))
	if n := check("reply", parse(t, reply.Bytes()).Root().Child(soap.NSEnvelope, "Header")); n != 7 {
		t.Errorf("reply: %d header blocks checked, want 7", n)
	}
	var fault bytes.Buffer
	_ = soap.WriteFault(&fault, soap.Fault{Code: soap.TMSNotWellFormed, Description: "not well formed"})
	list := parse(t, fault.Bytes()).Root().Child(soap.NSEnvelope, "Body").Child(soap.NSEnvelope, "Fault").Child("", "detail").Child(soap.NSErrorList, "errorList")
	if list == nil {
		t.Fatal("no errorList in the fault")
	}
	if errs := nasp.ValidateElement(list); len(errs) > 0 {
		t.Errorf("fault detail: %v", errs)
	}
	// And they are not vacuous: a block missing what the gateway requires fails.
	bad := parse(t, []byte(`<wsa:From xmlns:wsa="`+soap.NSAddressing+`"/>`)).Root()
	if errs := wsa.ValidateElement(bad); len(errs) == 0 {
		t.Error("wsa:From without an Address was accepted")
	}
	bad = parse(t, []byte(`<hl7:communicationFunctionRcv xmlns:hl7="urn:hl7-org:v3"><hl7:device><hl7:id root="1"/></hl7:device></hl7:communicationFunctionRcv>`)).Root()
	if errs := hl7h.ValidateElement(bad); len(errs) == 0 {
		t.Error("a device id without extension was accepted")
	}
}

// Every schema the WSDL includes compiles together with what it includes,
// from the set the gateway validates with.
func TestIncludedSchemasCompile(t *testing.T) {
	root := parse(t, Render("http://h")).Root()
	n := 0
	for _, s := range root.Child(nsWSDL, "types").Children(nsXSD, "schema") {
		for _, inc := range s.Children(nsXSD, "include") {
			loc := inc.Attr("schemaLocation")
			var fsys fs.FS
			var name string
			switch {
			case strings.HasPrefix(loc, "http://h"+SchemaPath):
				fsys, name = schema.FS, strings.TrimPrefix(loc, "http://h"+SchemaPath)
			case strings.HasPrefix(loc, "http://h"+OwnPath):
				fsys, name = Own, strings.TrimPrefix(loc, "http://h"+OwnPath)
			default:
				t.Fatalf("include %s is neither the set nor the WSDL's own", loc)
			}
			sc, err := libxml2.CompileSchema(fsys, name)
			if err != nil {
				t.Errorf("%s: %v", loc, err)
				continue
			}
			sc.Free()
			n++
		}
	}
	if n != 6 {
		t.Errorf("%d includes compiled, want 6", n)
	}
}

// The base follows the request: its Host, https over TLS, the listener's
// address when no Host was named.
func TestBase(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/sync-service?wsdl", nil)
	r.Host = "gw.example:8080"
	if got := Base(r); got != "http://gw.example:8080" {
		t.Errorf("plain: %s", got)
	}
	r.TLS = &tls.ConnectionState{}
	if got := Base(r); got != "https://gw.example:8080" {
		t.Errorf("TLS: %s", got)
	}
	r = httptest.NewRequest(http.MethodGet, "/sync-service?wsdl", nil)
	r.Host = ""
	r = r.WithContext(contextWithLocalAddr(r, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 9000}))
	if got := Base(r); got != "http://10.0.0.1:9000" {
		t.Errorf("no Host: %s", got)
	}
}

// Over a real TLS listener the WSDL names https.
func TestServiceOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(Service(http.NotFoundHandler()))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/sync-service?wsdl")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if !strings.Contains(b.String(), `<soap:address location="`+srv.URL+`/sync-service"/>`) || !strings.HasPrefix(srv.URL, "https://") {
		t.Errorf("soap:address is not %s: %s", srv.URL, b.String())
	}
}

// Only ?wsdl / ?WSDL get the WSDL; anything else goes to the SOAP endpoint.
func TestServiceDelegates(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := Service(next)
	for target, want := range map[string]int{
		"/sync-service?wsdl": 200, "/sync-service?WSDL": 200, "/sync-service?x=1&wsdl": 200,
		"/sync-service": http.StatusTeapot, "/sync-service?xsd": http.StatusTeapot, "/sync-service?Wsdl": http.StatusTeapot,
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		if w.Code != want {
			t.Errorf("%s: HTTP %d, want %d", target, w.Code, want)
		}
	}
}

func serveSchemaPath(h http.Handler, p string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.URL.Path = p // as a mux would hand it over, unescaped and uncleaned
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Schemas serves the set's .xsd files and nothing else: no path out of the
// set, no other file in it.
func TestSchemasStayInTheSet(t *testing.T) {
	set := fstest.MapFS{
		"Schemas/A.xsd":   {Data: []byte("<xs:schema/>")},
		"shared/b.xsd":    {Data: []byte("<xs:schema/>")},
		"shared/notes.md": {Data: []byte("secret")},
	}
	h := Schemas(SchemaPath, set)
	if w := serveSchemaPath(h, "/schemas/shared/b.xsd"); w.Code != 200 || w.Body.String() != "<xs:schema/>" {
		t.Fatalf("a schema of the set: HTTP %d %q", w.Code, w.Body.String())
	}
	for _, p := range []string{"/schemas/../wsdl.go", "/schemas/shared/../../x.xsd", "/schemas//etc/passwd.xsd", "/schemas/shared/notes.md",
		"/schemas/shared", "/schemas/shared/", "/schemas/./Schemas/A.xsd", `/schemas/shared\..\b.xsd`, "/schemas/missing.xsd", "/other/Schemas/A.xsd"} {
		if w := serveSchemaPath(h, p); w.Code != 404 {
			t.Errorf("%s: HTTP %d %q", p, w.Code, w.Body.String())
		}
	}
	w := serveSchemaPath(h, "/schemas/")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `href="/schemas/Schemas/A.xsd"`) || strings.Contains(w.Body.String(), "notes.md") {
		t.Errorf("index: %d %s", w.Code, w.Body.String())
	}
}

// With --schemas DIR the set is read through os.Root: a link pointing out of
// DIR is not followed.
func TestSchemasDirLinkOut(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.xsd"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.xsd"), []byte("<xs:schema/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.xsd"), filepath.Join(dir, "out.xsd")); err != nil {
		t.Skip(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	h := Schemas(SchemaPath, root.FS())
	if w := serveSchemaPath(h, "/schemas/in.xsd"); w.Code != 200 {
		t.Errorf("in.xsd: HTTP %d", w.Code)
	}
	if w := serveSchemaPath(h, "/schemas/out.xsd"); w.Code == 200 || strings.Contains(w.Body.String(), "secret") {
		t.Errorf("a link out of the set was followed: HTTP %d %q", w.Code, w.Body.String())
	}
}

// The embedded set is served whole: every file Entry names is listed.
func TestEmbeddedSetListed(t *testing.T) {
	list, err := List(schema.FS)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, p := range list {
		have[p] = true
	}
	for _, root := range schema.Roots() {
		p, _ := schema.Entry(root)
		if !have[p] {
			t.Errorf("%s (%s) not listed", p, root)
		}
	}
}

// FuzzSchemaPath: whatever path is asked, what is served is a file of the
// set, byte for byte.
func FuzzSchemaPath(f *testing.F) {
	for _, s := range []string{"Schemas/QUPC_IN000006GB01.xsd", "../go.mod", "shared/../shared/datatypes.xsd", "", "/", "..", "a\\b.xsd", "shared//x.xsd"} {
		f.Add(s)
	}
	files := map[string][]byte{}
	list, _ := List(schema.FS)
	for _, p := range list {
		files[p], _ = fs.ReadFile(schema.FS, p)
	}
	h := Schemas(SchemaPath, schema.FS)
	f.Fuzz(func(t *testing.T, p string) {
		w := serveSchemaPath(h, SchemaPath+p)
		if w.Code != 200 || p == "" {
			return
		}
		want, ok := files[p]
		if !ok || !bytes.Equal(w.Body.Bytes(), want) {
			t.Fatalf("%q served %d bytes that are not that file of the set", p, w.Body.Len())
		}
	})
}

func contextWithLocalAddr(r *http.Request, a net.Addr) context.Context {
	return context.WithValue(r.Context(), http.LocalAddrContextKey, a)
}
