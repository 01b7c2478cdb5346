package storefront

import (
	"net/http"
	"slices"
	"strings"

	"notpanel/store"
	"notpanel/webhook"
)

// keysPage is /keys: the account's API keys. A new key is shown once, on
// the answer to its creation, and never again.
type keysPage struct {
	base
	Keys    []store.APIKey
	Active  int
	Max     int
	NewKey  string
	NewName string
	Label   string
	Error   string
}

func (s *site) keysPage(r *http.Request, v *visit) (keysPage, error) {
	p := keysPage{base: s.base(r, v, "API keys", "keys"), Max: store.MaxActiveKeys}
	var err error
	p.Keys, err = s.db.AccountKeys(r.Context(), v.Account.ID)
	for _, k := range p.Keys {
		if k.Revoked == 0 {
			p.Active++
		}
	}
	slices.Reverse(p.Keys) // newest first
	return p, err
}

func (s *site) keyList(w http.ResponseWriter, r *http.Request, v *visit) {
	p, err := s.keysPage(r, v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "keys", p)
}

func (s *site) keyCreate(w http.ResponseWriter, r *http.Request, v *visit) {
	label := strings.TrimSpace(r.PostFormValue("label"))
	raw, k, err := s.db.CreateAccountKey(r.Context(), v.Account.ID, label)
	p, perr := s.keysPage(r, v)
	if perr != nil {
		s.internal(w, r, perr)
		return
	}
	if err != nil {
		msg, ok := userError(err)
		if !ok {
			s.internal(w, r, err)
			return
		}
		p.Error, p.Label = msg, label
		s.render(w, r, http.StatusBadRequest, "keys", p)
		return
	}
	s.log.Info().Int64("account", v.Account.ID).Str("key", k.ID).Msg("storefront: API key created")
	p.NewKey, p.NewName = raw, k.Label
	s.render(w, r, http.StatusOK, "keys", p)
}

func (s *site) keyRevoke(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := s.db.RevokeAccountKey(r.Context(), v.Account.ID, v.params.ByName("id")); err != nil {
		msg, ok := userError(err)
		if !ok {
			s.internal(w, r, err)
			return
		}
		p, perr := s.keysPage(r, v)
		if perr != nil {
			s.internal(w, r, perr)
			return
		}
		p.Error = msg
		s.render(w, r, http.StatusBadRequest, "keys", p)
		return
	}
	s.log.Info().Int64("account", v.Account.ID).Str("key", v.params.ByName("id")).Msg("storefront: API key revoked")
	redirect(w, r, "/keys?notice=revoked")
}

// webhooksPage is /webhooks: the account's webhooks, each belonging to one
// of its keys as on the API. A new webhook's signing secret is shown once.
type webhooksPage struct {
	base
	Hooks []store.Webhook
	Keys  []store.APIKey // active ones, to add a webhook to
	// ActiveKeys are the ids of Keys: a webhook of another key (revoked)
	// is sent nothing.
	ActiveKeys []string
	Events     []string
	NewSecret  string
	NewURL     string
	URL, KeyID string
	Chosen     []string
	Error      string
}

func (s *site) webhooksPage(r *http.Request, v *visit) (webhooksPage, error) {
	p := webhooksPage{base: s.base(r, v, "Webhooks", "webhooks"), Events: store.EventTypes}
	var err error
	if p.Hooks, err = s.db.Webhooks(r.Context(), store.Customer(v.Account.ID), ""); err != nil {
		return p, err
	}
	keys, err := s.db.AccountKeys(r.Context(), v.Account.ID)
	for _, k := range keys {
		if k.Revoked == 0 {
			p.Keys, p.ActiveKeys = append(p.Keys, k), append(p.ActiveKeys, k.ID)
		}
	}
	return p, err
}

func (s *site) webhookList(w http.ResponseWriter, r *http.Request, v *visit) {
	p, err := s.webhooksPage(r, v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "webhooks", p)
}

// webhookAdd registers a webhook under the rules of the API's webhook.add:
// the same event names, the same address policy, at most five a key.
func (s *site) webhookAdd(w http.ResponseWriter, r *http.Request, v *visit) {
	p, err := s.webhooksPage(r, v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p.URL, p.KeyID, p.Chosen = strings.TrimSpace(r.PostFormValue("url")), r.PostFormValue("key"), r.PostForm["events"]
	fail := func(err error) {
		msg, ok := userError(err)
		if !ok {
			s.internal(w, r, err)
			return
		}
		p.Error = msg
		s.render(w, r, http.StatusBadRequest, "webhooks", p)
	}
	var key *store.APIKey
	for i := range p.Keys {
		if p.Keys[i].ID == p.KeyID {
			key = &p.Keys[i]
		}
	}
	if key == nil {
		fail(store.Errorf(store.Invalid, "Choose which of your API keys the webhook belongs to (create one first if you have none)."))
		return
	}
	events, err := store.ParseEvents(strings.Join(p.Chosen, ","))
	if err != nil {
		fail(err)
		return
	}
	if p.URL == "" {
		fail(store.Errorf(store.Invalid, "Missing required parameter: url"))
		return
	}
	if err := webhook.CheckURL(r.Context(), s.resolver(), p.URL, s.cfg.WebhookInsecure); err != nil {
		s.log.Info().Int64("account", v.Account.ID).Err(err).Msg("webhook URL refused")
		fail(err)
		return
	}
	hook, secret, err := s.db.AddWebhook(r.Context(), store.Principal{AccountID: v.Account.ID, KeyID: key.ID, Tier: v.Account.Tier}, p.URL, events)
	if err != nil {
		fail(err)
		return
	}
	p, err = s.webhooksPage(r, v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p.NewSecret, p.NewURL = secret, hook.URL
	s.render(w, r, http.StatusOK, "webhooks", p)
}

// ownWebhook finds one of the account's webhooks by id: another account's
// is not found.
func (s *site) ownWebhook(r *http.Request, v *visit) (store.Webhook, bool, error) {
	hooks, err := s.db.Webhooks(r.Context(), store.Customer(v.Account.ID), "")
	if err != nil {
		return store.Webhook{}, false, err
	}
	id := store.CanonicalID(store.PrefixWebhook, v.params.ByName("id"))
	for _, h := range hooks {
		if h.ID == id {
			return h, true, nil
		}
	}
	return store.Webhook{}, false, nil
}

func (s *site) webhookRemove(w http.ResponseWriter, r *http.Request, v *visit) {
	h, ok, err := s.ownWebhook(r, v)
	switch {
	case err != nil:
		s.internal(w, r, err)
	case !ok:
		s.notFound(w, r)
	default:
		if err := s.db.RemoveWebhook(r.Context(), h.KeyID, h.ID); err != nil {
			s.internal(w, r, err)
			return
		}
		redirect(w, r, "/webhooks?notice=hookremoved")
	}
}

func (s *site) webhookTest(w http.ResponseWriter, r *http.Request, v *visit) {
	h, ok, err := s.ownWebhook(r, v)
	switch {
	case err != nil:
		s.internal(w, r, err)
	case !ok:
		s.notFound(w, r)
	default:
		// Nothing is delivered to the webhooks of a revoked key: a test
		// would never arrive.
		p, err := s.webhooksPage(r, v)
		if err == nil && !slices.Contains(p.ActiveKeys, h.KeyID) {
			err = store.Errorf(store.Invalid, "The API key of this webhook is revoked, so nothing is sent to it. Add the webhook again under an active key.")
		}
		if err == nil {
			_, err = s.db.TestWebhook(r.Context(), h.KeyID, h.ID)
		}
		if err != nil {
			if msg, ok := userError(err); ok {
				p.Error = msg
				s.render(w, r, http.StatusBadRequest, "webhooks", p)
				return
			}
			s.internal(w, r, err)
			return
		}
		redirect(w, r, "/webhooks?notice=hooktest")
	}
}
