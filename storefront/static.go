package storefront

import (
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/julienschmidt/httprouter"

	"notpanel/store"
)

// staticHandler serves the embedded stylesheet and scripts. Their URLs
// carry the binary's build (?v=), so browsers may keep them a day.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(files, "static")
	fileServer := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := httprouter.ParamsFromContext(r.Context()).ByName("file")
		if p == "" || strings.HasSuffix(p, "/") {
			http.NotFound(w, r)
			return
		}
		setSecurityHeaders(w.Header())
		w.Header().Set("Cache-Control", "public, max-age=86400")
		r2 := r.Clone(r.Context())
		r2.URL.Path = p
		fileServer.ServeHTTP(w, r2)
	})
}

// theme serves the few CSS variables the operator sets (the accent
// colour), as a stylesheet of its own: the pages carry no inline style, so
// the Content-Security-Policy needs no 'unsafe-inline'.
func (s *site) theme(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	snap, err := s.snapshot(r.Context(), nil)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	accent := snap.Site().Accent
	if !store.AccentOK(accent) {
		accent = store.DefaultSite.Accent
	}
	body := fmt.Sprintf(":root{--accent:%s;--accent-ink:%s}\n", accent, inkOn(accent))
	h := w.Header()
	setSecurityHeaders(h)
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write([]byte(body))
}

// inkOn picks black or white text for a background colour, whichever
// reads better (WCAG relative luminance).
func inkOn(hex string) string {
	v, _ := strconv.ParseUint(hex[1:], 16, 32)
	lin := func(c uint64) float64 {
		f := float64(c) / 255
		if f <= 0.03928 {
			return f / 12.92
		}
		return math.Pow((f+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(v>>16&0xff) + 0.7152*lin(v>>8&0xff) + 0.0722*lin(v&0xff)
	if (l+0.05)/0.05 > 1.05/(l+0.05) {
		return "#111111"
	}
	return "#ffffff"
}
