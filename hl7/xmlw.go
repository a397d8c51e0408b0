package hl7

import (
	"sync"
	"unicode/utf8"
)

// xmlWriter writes a message straight into a byte slice, with no tree in
// between: building an element tree only to serialise it cost hundreds to
// thousands of allocations a message. A message is its HL7 element
// alone, with neither XML declaration nor indentation.
//
// The builders write their own markup as literal XML, names and fixed
// attribute values together (`<id root="` + oidASID + `" extension="`), so
// that the code reads as the message does and a message takes far fewer
// copies than it would element by element. Everything else goes through
// attrValue or charData, which escape it. Markup, and the element names
// given to open, close and textElement, are never made from data.
//
// Every write extends w.b by reslicing and copying rather than with append:
// append stores the slice's pointer back into w whenever the length appended
// is not a constant, and a pointer stored into the heap costs a GC write
// barrier while a collection is marking, which, under load, it often is.
// Only grow stores a pointer, a few times a message at most.
type xmlWriter struct {
	b []byte
}

// writers recycles buffers: a query response is 8-30 KB, and growing a new
// buffer to that size for each reply would copy it several times.
var writers = sync.Pool{New: func() any {
	return &xmlWriter{b: make([]byte, 0, 16<<10)}
}}

// maxPooled bounds the buffer kept for the next message, so that one
// unusually large reply does not pin its memory for good.
const maxPooled = 256 << 10

func getWriter() *xmlWriter {
	w := writers.Get().(*xmlWriter)
	w.b = w.b[:0]
	return w
}

// bytes returns a copy of what was written, exactly sized, and puts the
// writer back in the pool: the copy is the caller's, the buffer is not.
func (w *xmlWriter) bytes() []byte {
	out := append([]byte(nil), w.b...)
	if cap(w.b) <= maxPooled {
		writers.Put(w)
	}
	return out
}

// markup writes the builder's own markup as it is.
func (w *xmlWriter) markup(s string) {
	n := len(w.b)
	if len(s) > cap(w.b)-n {
		w.grow(len(s))
	}
	w.b = w.b[:n+len(s)]
	copy(w.b[n:], s)
}

// attrValue writes s escaped as an attribute value between double quotes.
func (w *xmlWriter) attrValue(s string) { w.escape(s, true) }

// charData writes s escaped as character data.
func (w *xmlWriter) charData(s string) { w.escape(s, false) }

// open writes the start tag of element tag, without attributes.
func (w *xmlWriter) open(tag string) {
	w.markup("<")
	w.markup(tag)
	w.markup(">")
}

// close writes the end tag of element tag.
func (w *xmlWriter) close(tag string) {
	w.markup("</")
	w.markup(tag)
	w.markup(">")
}

// textElement writes element tag holding s; an empty s gives an empty
// element.
func (w *xmlWriter) textElement(tag, s string) {
	if s == "" {
		w.markup("<")
		w.markup(tag)
		w.markup("/>")
		return
	}
	w.open(tag)
	w.charData(s)
	w.close(tag)
}

// raw writes p, which the builder has made and knows to need no escaping
// (digits, an upper-case UUID), as it is.
func (w *xmlWriter) raw(p []byte) {
	n := len(w.b)
	if len(p) > cap(w.b)-n {
		w.grow(len(p))
	}
	w.b = w.b[:n+len(p)]
	copy(w.b[n:], p)
}

// grow makes room for at least n more bytes, doubling the buffer so that a
// message grows it a few times at most.
func (w *xmlWriter) grow(n int) {
	b := make([]byte, len(w.b), max(2*cap(w.b), len(w.b)+n))
	copy(b, w.b)
	w.b = b
}

// replacement stands for a character XML 1.0 cannot carry: a control
// character other than tab, line feed and carriage return, U+FFFE or U+FFFF,
// or a byte that is not UTF-8. No escape can write those, and a parser must
// refuse the whole message if it meets one. They are replaced rather than
// dropped so that a name or reason that held one shows a mark where it was,
// and never reads as another plausible value (Ann<NUL>Marie is not
// AnnMarie).
const replacement = "\uFFFD"

// plain marks the bytes written as they are in both attribute values and
// character data; the rest need a look in escape. Bytes from 0x80 are not
// plain: they must be checked to be UTF-8.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `&<>"` {
		t[c] = false
	}
	return t
}()

// escape writes s as an attribute value between double quotes (attr) or as
// character data, so that a parser reads back s exactly, save the characters
// XML cannot carry, replaced.
//
// & and < must be escaped; > too, so that "]]>" never appears in character
// data; " in attribute values. Carriage returns are written as references,
// as are tab and line feed in attribute values: a parser normalises line
// ends in character data, and turns all three into spaces in attribute
// values, losing them.
func (w *xmlWriter) escape(s string, attr bool) {
	last := 0 // s[last:i] is still to be copied as it is
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		var esc string
		n := 1
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '"':
			if !attr {
				i++
				continue
			}
			esc = "&quot;"
		case c == '\r':
			esc = "&#xD;"
		case c == '\t' || c == '\n':
			if !attr {
				i++
				continue
			}
			if c == '\t' {
				esc = "&#x9;"
			} else {
				esc = "&#xA;"
			}
		case c < 0x20:
			esc = replacement
		default:
			var r rune
			r, n = utf8.DecodeRuneInString(s[i:])
			// RuneError of one byte is a byte that is not UTF-8; of three, a
			// U+FFFD that was in s, which XML allows.
			if !(r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF) {
				i += n
				continue
			}
			esc = replacement
		}
		w.markup(s[last:i])
		w.markup(esc)
		i += n
		last = i
	}
	w.markup(s[last:])
}
