package payment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Cryptomus signs a callback over its body as PHP re-encodes it:
// json_decode($body, true), the "sign" key removed, then json_encode. To
// check the signature, the body is decoded here as PHP decodes it (an
// ordered array; numeric-string keys become integers; {} and [] alike become
// an empty array; integers past int64 become floats) and encoded as PHP's
// json_encode writes it: "/" escaped as "\/", control characters as
// \u00xx, lists only for keys 0..n-1 in order, floats in PHP's shortest
// form (1.0e+25), and non-ASCII either escaped as \uxxxx (PHP's default)
// or kept as UTF-8 (JSON_UNESCAPED_UNICODE), U+2028 and U+2029 escaped in
// both.

// phpValue is a decoded JSON value as PHP holds it.
type phpValue struct {
	kind byte // 'a' array, 's' string, 'i' integer, 'f' float, 't' true, 'F' false, 'z' null
	str  string
	i    int64
	f    float64
	arr  *phpArray
}

// phpArray is PHP's ordered array: keys are int64 or string.
type phpArray struct {
	keys []any // int64 or string, in insertion order
	vals []*phpValue
	pos  map[any]int
}

func (a *phpArray) set(k any, v *phpValue) {
	if a.pos == nil {
		a.pos = map[any]int{}
	}
	if i, ok := a.pos[k]; ok {
		a.vals[i] = v // a repeated key keeps its first place
		return
	}
	a.pos[k] = len(a.keys)
	a.keys = append(a.keys, k)
	a.vals = append(a.vals, v)
}

func (a *phpArray) get(k string) (*phpValue, bool) {
	i, ok := a.pos[phpKey(k)]
	if !ok {
		return nil, false
	}
	return a.vals[i], true
}

// remove deletes key k, keeping the others in order.
func (a *phpArray) remove(k string) {
	key := phpKey(k)
	i, ok := a.pos[key]
	if !ok {
		return
	}
	a.keys = append(a.keys[:i], a.keys[i+1:]...)
	a.vals = append(a.vals[:i], a.vals[i+1:]...)
	delete(a.pos, key)
	for j := i; j < len(a.keys); j++ {
		a.pos[a.keys[j]] = j
	}
}

// phpKey is the key PHP stores for the string k: an integer when k is one
// written canonically ("7", "-3", not "07" or "-0"), else the string.
func phpKey(k string) any {
	s := strings.TrimPrefix(k, "-")
	if s == "" || len(s) > 1 && s[0] == '0' || k == "-0" {
		return k
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return k
		}
	}
	n, err := strconv.ParseInt(k, 10, 64)
	if err != nil {
		return k
	}
	return n
}

// maxPHPDepth is json_decode's default nesting limit.
const maxPHPDepth = 512

var errNotPHPJSON = errors.New("not a JSON document PHP would decode")

// decodePHP decodes body as json_decode($body, true) does.
func decodePHP(body []byte) (*phpValue, error) {
	if !utf8.Valid(body) {
		return nil, errNotPHPJSON
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := decodePHPValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotPHPJSON // something after the value
	}
	return v, nil
}

func decodePHPValue(dec *json.Decoder, depth int) (*phpValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, errNotPHPJSON
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxPHPDepth || t != '{' && t != '[' {
			return nil, errNotPHPJSON
		}
		arr := &phpArray{}
		for n := int64(0); dec.More(); n++ {
			var key any = n
			if t == '{' {
				k, err := dec.Token()
				s, ok := k.(string)
				if err != nil || !ok {
					return nil, errNotPHPJSON
				}
				key = phpKey(s)
			}
			v, err := decodePHPValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr.set(key, v)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, errNotPHPJSON
		}
		return &phpValue{kind: 'a', arr: arr}, nil
	case string:
		return &phpValue{kind: 's', str: t}, nil
	case json.Number:
		s := string(t)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return &phpValue{kind: 'i', i: n}, nil
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, errNotPHPJSON
		}
		if math.IsInf(f, 0) {
			return nil, errNotPHPJSON // PHP decodes it, then cannot encode it
		}
		return &phpValue{kind: 'f', f: f}, nil
	case bool:
		if t {
			return &phpValue{kind: 't'}, nil
		}
		return &phpValue{kind: 'F'}, nil
	case nil:
		return &phpValue{kind: 'z'}, nil
	}
	return nil, errNotPHPJSON
}

// encodePHP writes v as json_encode does, with JSON_UNESCAPED_UNICODE when
// rawUnicode is set.
func encodePHP(buf *bytes.Buffer, v *phpValue, rawUnicode bool) {
	switch v.kind {
	case 'a':
		a := v.arr
		list := true
		for i, k := range a.keys {
			if n, ok := k.(int64); !ok || n != int64(i) {
				list = false
				break
			}
		}
		if list {
			buf.WriteByte('[')
			for i, e := range a.vals {
				if i > 0 {
					buf.WriteByte(',')
				}
				encodePHP(buf, e, rawUnicode)
			}
			buf.WriteByte(']')
			return
		}
		buf.WriteByte('{')
		for i, k := range a.keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			switch k := k.(type) {
			case int64:
				buf.WriteByte('"')
				buf.WriteString(strconv.FormatInt(k, 10))
				buf.WriteByte('"')
			case string:
				encodePHPString(buf, k, rawUnicode)
			}
			buf.WriteByte(':')
			encodePHP(buf, a.vals[i], rawUnicode)
		}
		buf.WriteByte('}')
	case 's':
		encodePHPString(buf, v.str, rawUnicode)
	case 'i':
		buf.WriteString(strconv.FormatInt(v.i, 10))
	case 'f':
		buf.WriteString(phpFloat(v.f))
	case 't':
		buf.WriteString("true")
	case 'F':
		buf.WriteString("false")
	default:
		buf.WriteString("null")
	}
}

const hexDigits = "0123456789abcdef"

func encodePHPString(buf *bytes.Buffer, s string, rawUnicode bool) {
	buf.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			buf.WriteString(`\"`)
		case r == '\\':
			buf.WriteString(`\\`)
		case r == '/':
			buf.WriteString(`\/`)
		case r == '\b':
			buf.WriteString(`\b`)
		case r == '\f':
			buf.WriteString(`\f`)
		case r == '\n':
			buf.WriteString(`\n`)
		case r == '\r':
			buf.WriteString(`\r`)
		case r == '\t':
			buf.WriteString(`\t`)
		case r < 0x20 || r == 0x2028 || r == 0x2029 || r >= 0x80 && !rawUnicode:
			if r > 0xffff {
				r -= 0x10000
				writeU16(buf, 0xd800+(r>>10))
				writeU16(buf, 0xdc00+(r&0x3ff))
				continue
			}
			writeU16(buf, r)
		default:
			buf.WriteRune(r)
		}
	}
	buf.WriteByte('"')
}

func writeU16(buf *bytes.Buffer, r rune) {
	buf.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		buf.WriteByte(hexDigits[(r>>shift)&0xf])
	}
}

// phpFloat formats f as PHP's json_encode does with serialize_precision
// -1: the shortest digits that read back as f, in fixed notation unless
// its decimal exponent is below -4 or above 16, then as 1.5e+25.
func phpFloat(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±xx
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	decpt := x + 1 // f = 0.digits × 10^decpt
	var b strings.Builder
	b.WriteString(sign)
	switch {
	case decpt < -3 || decpt > 17:
		b.WriteByte(digits[0])
		b.WriteByte('.')
		if len(digits) == 1 {
			b.WriteByte('0')
		} else {
			b.WriteString(digits[1:])
		}
		if x < 0 {
			fmt.Fprintf(&b, "e-%d", -x)
		} else {
			fmt.Fprintf(&b, "e+%d", x)
		}
	case decpt <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -decpt))
		b.WriteString(digits)
	default:
		if len(digits) <= decpt {
			b.WriteString(digits)
			b.WriteString(strings.Repeat("0", decpt-len(digits)))
		} else {
			b.WriteString(digits[:decpt])
			b.WriteByte('.')
			b.WriteString(digits[decpt:])
		}
	}
	return b.String()
}
