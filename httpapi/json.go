package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// Answers are written by appending JSON straight into a buffer: the
// shapes are small and fixed (objects of strings, lists of them), and
// encoding/json would re-validate and re-compact every Marshaler's output,
// which for a 100-order status costs more than reading the orders.

// object is a JSON object whose members keep their order.
type object []member

type member struct {
	key   string
	value any
}

// MarshalJSON lets encoding/json embed an object where one is nested in
// other values (tests use it to compare answers).
func (o object) MarshalJSON() ([]byte, error) { return appendJSON(nil, o) }

// appendJSON appends v: strings, bools, integers, objects and lists of
// objects directly, anything else through encoding/json.
func appendJSON(b []byte, v any) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case string:
		return appendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case object:
		b = append(b, '{')
		for i, m := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m.key)
			b = append(b, ':')
			if b, err = appendJSON(b, m.value); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []object:
		b = append(b, '[')
		for i, o := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSON(b, o); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	default:
		j, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return append(b, j...), nil
	}
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string. Control characters are escaped,
// invalid UTF-8 becomes U+FFFD, and U+2028/U+2029 are escaped so that the
// answer is also safe inside JavaScript.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// writeJSON writes v as the answer with the given status.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := appendJSON(make([]byte, 0, 256), v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"Internal error"}`)
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// With its length known the answer goes out in one piece, not chunked.
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}
