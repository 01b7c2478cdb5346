package storefront

import (
	"net"
	"net/http"
	"strconv"
	"strings"

	"notpanel/store"
	"notpanel/webhook"
)

// servicesPage is /services: the catalog by category, filterable.
type servicesPage struct {
	base
	Categories []category
	Query      string
	Total      int
	Shown      int
}

// serviceList filters on the server by ?q= (words of a name, a category or
// an id), so the filter works without JavaScript; services.js filters as
// one types.
func (s *site) serviceList(w http.ResponseWriter, r *http.Request, v *visit) {
	snap, err := s.snapshot(r.Context(), v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 100 {
		q = q[:100]
	}
	all := snap.Catalog()
	var shown []store.Service
	for _, svc := range all {
		if matches(svc, q) {
			shown = append(shown, svc)
		}
	}
	s.render(w, r, http.StatusOK, "services", servicesPage{base: s.base(r, v, "Services", "services"),
		Categories: categories(shown), Query: q, Total: len(all), Shown: len(shown)})
}

// matches reports whether every word of q is in the service's name,
// category, type or id.
func matches(svc store.Service, q string) bool {
	hay := strings.ToLower(svc.Name + " " + svc.Category + " " + svc.Type + " #" + strconv.FormatInt(svc.ID, 10))
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// apiPage is /api: the customer API's documentation.
type apiPage struct {
	base
	Endpoint, Classic string
	Events            []string
	Services          []store.Service
	HasKey            bool
}

func (s *site) apiDoc(w http.ResponseWriter, r *http.Request, v *visit) {
	snap, err := s.snapshot(r.Context(), v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := apiPage{base: s.base(r, v, "API", "api"), Events: store.EventTypes}
	origin := siteOrigin(p.Site, r, v)
	p.Endpoint, p.Classic = origin+"/api/v2", origin+"/classic/api/v2"
	if cat := snap.Catalog(); len(cat) > 0 {
		p.Services = cat[:1]
	}
	if v.Account != nil {
		keys, err := s.db.AccountKeys(r.Context(), v.Account.ID)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		for _, k := range keys {
			p.HasKey = p.HasKey || k.Revoked == 0
		}
	}
	s.render(w, r, http.StatusOK, "api", p)
}

// termsPage is /terms.
type termsPage struct{ base }

func (s *site) terms(w http.ResponseWriter, r *http.Request, v *visit) {
	s.render(w, r, http.StatusOK, "terms", termsPage{base: s.base(r, v, "Terms of service", "terms")})
}

// siteOrigin is the panel's address as the operator set it, else the one
// the request reached: only for showing (the API page's examples) and for
// the customer's own return address from a checkout, never to credit or
// authorize anything.
func siteOrigin(site store.Site, r *http.Request, v *visit) string {
	if site.URL != "" {
		return site.URL
	}
	if v.secure {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (s *site) resolver() webhook.Resolver {
	if s.cfg.Resolver != nil {
		return s.cfg.Resolver
	}
	return net.DefaultResolver
}
