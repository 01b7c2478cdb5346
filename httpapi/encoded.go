package httpapi

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
)

// encoded is a whole answer encoded once and written many times (the
// catalog): as it is, and gzipped for a client that accepts gzip. A catalog
// of a hundred services is about 20 KB, a tenth of that gzipped.
type encoded struct {
	plain, gzipped []byte
}

// encode makes an encoded answer of a JSON body.
func encode(body []byte) (*encoded, error) {
	plain := append(body[:len(body):len(body)], '\n')
	var z bytes.Buffer
	zw, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(plain); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &encoded{plain: plain, gzipped: z.Bytes()}, nil
}

// write sends the answer with status 200, gzipped when r accepts it.
func (e *encoded) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Vary", "Accept-Encoding")
	body := e.plain
	if acceptsGzip(r.Header.Values("Accept-Encoding")) {
		body = e.gzipped
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// acceptsGzip reads Accept-Encoding: true when gzip (or x-gzip) is listed
// without q=0 ("*" is not taken as gzip: a client that names no coding
// gets plain JSON).
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			params := strings.Split(part, ";")
			coding := strings.TrimSpace(params[0])
			if !strings.EqualFold(coding, "gzip") && !strings.EqualFold(coding, "x-gzip") {
				continue
			}
			for _, p := range params[1:] {
				name, value, _ := strings.Cut(p, "=")
				if strings.EqualFold(strings.TrimSpace(name), "q") {
					if q, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil && q == 0 {
						return false
					}
				}
			}
			return true
		}
	}
	return false
}
