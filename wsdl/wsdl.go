// Package wsdl serves spinegw's hand-written WSDL 1.1 description of the CP-IS
// synchronous service (document/literal, SOAP 1.1 over HTTP) and the schemas
// it includes: the message schema set the gateway validates with, and three
// small schemas of the WSDL's own for the SOAP header blocks (WS-Addressing
// 2004/08, the HL7 communicationFunctionRcv/Snd devices) and the fault
// detail (nasp:errorList).
//
// URLs (see docs/wsdl.md):
//
//	GET /sync-service?wsdl       the WSDL, its addresses those of the host asked
//	GET /schemas/                an index of the schema set
//	GET /schemas/<path>          a schema of the set, by its path in the set
//	GET /wsdl/<name>.xsd         the WSDL's own schemas
package wsdl

import (
	"bytes"
	"embed"
	"encoding/xml"
	"fmt"
	"html"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
)

//go:embed sync-service.wsdl
var wsdlTemplate string

// Own holds the WSDL's own schemas, served under /wsdl/.
//
//go:embed addressing.xsd errorList.xsd hl7header.xsd
var Own embed.FS

// Paths under which the documents are served.
const (
	ServicePath = "/sync-service"
	SchemaPath  = "/schemas/"
	OwnPath     = "/wsdl/"
)

// basePlaceholder stands in the template for the scheme and host the WSDL is
// served from.
const basePlaceholder = "{{.Base}}"

// Render returns the WSDL with its addresses (the service's soap:address and
// every schemaLocation) under base, e.g. "https://gw.example:8443".
func Render(base string) []byte {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(base))
	return []byte(strings.ReplaceAll(wsdlTemplate, basePlaceholder, b.String()))
}

// Base returns the scheme and host a request reached the gateway at: https
// when it came over TLS, and the Host it named (the listener's address when
// it named none, as an HTTP/1.0 request may).
func Base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		} else {
			host = "localhost"
		}
	}
	return scheme + "://" + host
}

// wantsWSDL reports whether the query string asks for the WSDL: "?wsdl" or
// "?WSDL".
func wantsWSDL(r *http.Request) bool {
	q := r.URL.Query()
	_, lower := q["wsdl"]
	_, upper := q["WSDL"]
	return lower || upper
}

// Service answers GET /sync-service: the WSDL when the query string asks for
// it, otherwise whatever next (the SOAP endpoint) answers.
func Service(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !wantsWSDL(r) {
			next.ServeHTTP(w, r)
			return
		}
		doc := Render(Base(r))
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Header().Set("Content-Length", fmt.Sprint(len(doc)))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(doc)
	})
}

// schemaFile reads name from fsys if it is a schema (a regular .xsd file)
// inside it. Names that are not valid fs paths ("..", absolute, empty
// elements, backslashes) are refused before fsys is asked.
func schemaFile(fsys fs.FS, name string) ([]byte, bool) {
	if !fs.ValidPath(name) || name == "." || strings.ContainsRune(name, '\\') || path.Ext(name) != ".xsd" {
		return nil, false
	}
	st, err := fs.Stat(fsys, name)
	if err != nil || !st.Mode().IsRegular() {
		return nil, false
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, false
	}
	return b, true
}

func serveSchema(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

// Schemas serves the schema set fsys under prefix (SchemaPath): each .xsd by
// its path in the set, and at prefix itself a plain index of them. Nothing
// outside the set is served: paths are checked with fs.ValidPath, and fsys
// itself must not follow links out of its directory (os.Root's FS does not).
func Schemas(prefix string, fsys fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if name == "" {
			index(w, fsys)
			return
		}
		b, ok := schemaFile(fsys, name)
		if !ok {
			http.NotFound(w, r)
			return
		}
		serveSchema(w, b)
	})
}

// OwnSchemas serves the WSDL's own schemas under prefix (OwnPath).
func OwnSchemas(prefix string) http.Handler {
	return Schemas(prefix, Own)
}

// List returns the paths of the .xsd files in fsys, sorted.
func List(fsys fs.FS) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && path.Ext(p) == ".xsd" {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// href is p as a URL path inside an HTML attribute.
func href(p string) string {
	return html.EscapeString((&url.URL{Path: p}).EscapedPath())
}

func index(w http.ResponseWriter, fsys fs.FS) {
	set, err := List(fsys)
	if err != nil {
		http.Error(w, "the schema set cannot be listed", http.StatusInternalServerError)
		return
	}
	own, _ := List(Own)
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>spinegw schemas</title></head><body>\n")
	b.WriteString("<h1>Schemas</h1>\n<p>The CP-IS message schemas the gateway validates with, as the WSDL at <a href=\"" + ServicePath + "?wsdl\">" + ServicePath + "?wsdl</a> includes them.</p>\n<ul>\n")
	for _, p := range set {
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a></li>\n", href(SchemaPath+p), html.EscapeString(p))
	}
	b.WriteString("</ul>\n<h2>The WSDL's own schemas</h2>\n<ul>\n")
	for _, p := range own {
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a></li>\n", href(OwnPath+p), html.EscapeString(p))
	}
	b.WriteString("</ul>\n</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}
