package payment

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"notpanel/store"
)

// maxWebhook bounds a webhook's body.
const maxWebhook = 1 << 20

// webhookReadBack bounds the read-back a webhook starts before it is
// answered; past it the reconciler carries on.
const webhookReadBack = 10 * time.Second

// ServeHTTP serves POST /payments/NAME/webhook, the gateways' webhooks.
// The signature is checked on the raw body before anything in it is
// believed: a missing or bad one is 401, a gateway without a webhook
// secret 403, an unknown gateway 404. A valid webhook makes its deposit
// due for a read-back and is answered 200 once that is recorded; the
// read-back then runs at once, and a credit is decided on the gateway's
// answer to it, never on the webhook. A webhook about an expired or failed
// deposit has its gateway asked again too, for money paid late.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeAnswer(w, http.StatusMethodNotAllowed, "Method not allowed: use POST")
		return
	}
	name, ok := webhookGateway(r.URL.Path)
	if !ok {
		writeAnswer(w, http.StatusNotFound, "Unknown gateway")
		return
	}
	log := s.log.With().Str("gateway", name).Logger()
	g, err := s.db.FindGateway(r.Context(), name)
	if store.ErrorCode(err) == store.NotFound || g.Status == store.GatewayRemoved {
		s.metrics.webhook(name, "unknown-gateway")
		writeAnswer(w, http.StatusNotFound, "Unknown gateway")
		return
	}
	if err != nil {
		log.Error().Err(err).Msg("webhook: read gateway")
		writeAnswer(w, http.StatusInternalServerError, "Internal error")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhook+1))
	if err != nil || len(body) > maxWebhook {
		writeAnswer(w, http.StatusRequestEntityTooLarge, "Body unreadable or too large")
		return
	}
	gw, err := open(g, s.client)
	if err != nil {
		log.Error().Err(err).Msg("webhook")
		writeAnswer(w, http.StatusInternalServerError, "Internal error")
		return
	}
	ref, err := gw.Verify(r.Header, body)
	switch {
	case errors.Is(err, ErrNoSecret):
		s.metrics.webhook(g.Name, "no-secret")
		log.Warn().Msg("webhook refused: the gateway has no webhook secret (gateway add --webhook-secret); deposits are still read back on schedule")
		writeAnswer(w, http.StatusForbidden, "Webhooks are not set up for this gateway")
		return
	case err != nil:
		s.metrics.webhook(g.Name, "bad-signature")
		log.Warn().Err(err).Msg("webhook refused")
		writeAnswer(w, http.StatusUnauthorized, "Invalid signature")
		return
	case ref == "":
		s.metrics.webhook(g.Name, "ignored")
		writeAnswer(w, http.StatusOK, "ignored")
		return
	}
	d, err := s.db.DepositByReference(r.Context(), g.ID, ref)
	if errors.Is(err, store.ErrDepositNotFound) {
		// A checkout made by something else on the same account.
		s.metrics.webhook(g.Name, "ignored")
		log.Info().Str("reference", truncate(ref, 64)).Msg("webhook about a checkout that is not a deposit: ignored")
		writeAnswer(w, http.StatusOK, "ignored")
		return
	}
	ctx := context.WithoutCancel(r.Context()) // once started, a gateway hanging up does not cut it short
	if err == nil && d.Status == store.DepositPending {
		// A deposit already settled has nothing to record: a webhook
		// repeated (or replayed) about it costs a read, not a write.
		_, err = s.db.DepositDue(ctx, d.ID)
	}
	if err != nil {
		log.Error().Err(err).Msg("webhook: record")
		writeAnswer(w, http.StatusInternalServerError, "Internal error") // the gateway sends it again
		return
	}
	s.metrics.webhook(g.Name, "recorded")
	if askable(d) {
		rctx, cancel := context.WithTimeout(ctx, webhookReadBack)
		if _, err := s.Refresh(rctx, d.ID); err != nil {
			log.Warn().Err(err).Str("deposit", d.ID).Msg("read-back after a webhook failed; the reconciler tries again")
		}
		cancel()
	}
	writeAnswer(w, http.StatusOK, "recorded")
}

// webhookGateway reads NAME from /payments/NAME/webhook.
func webhookGateway(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/payments/")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, "/webhook")
	return name, ok && name != "" && !strings.Contains(name, "/")
}

// writeAnswer writes a small JSON answer: {"status":…} for a 2xx,
// {"error":…} otherwise.
func writeAnswer(w http.ResponseWriter, code int, msg string) {
	key := "error"
	if code < 300 {
		key = "status"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, `{"`+key+`":"`+msg+`"}`+"\n")
}
