package httpapi

import (
	"strings"
	"testing"

	"notpanel/webhook"
)

func TestWebhookActions(t *testing.T) {
	e := newEnv(t)
	code, got := e.call("action", "webhook.add", "url", "https://93.184.216.34/hook", "events", "order.completed,order.partial")
	m, _ := got.(map[string]any)
	id, _ := m["webhook"].(string)
	secret, _ := m["secret"].(string)
	if code != 200 || !strings.HasPrefix(id, "wh_") || !strings.HasPrefix(secret, "whsec_") || m["url"] != "https://93.184.216.34/hook" ||
		jsonString(t, m["events"]) != `["order.completed","order.partial"]` {
		t.Fatalf("webhook.add: %d %v", code, got)
	}
	code, got = e.call("action", "webhook.list")
	list, _ := got.([]any)
	if code != 200 || len(list) != 1 || strings.Contains(jsonString(t, got), "whsec_") {
		t.Errorf("webhook.list: %d %s (never the secret)", code, jsonString(t, got))
	}
	code, got = e.call("action", "webhook.test", "webhook", id)
	if ev, _ := got.(map[string]any)["event"].(string); code != 200 || !strings.HasPrefix(ev, "evt_") {
		t.Errorf("webhook.test: %d %v", code, got)
	}
	refused := []struct {
		params []string
		msg    string
	}{
		{[]string{"url", "http://93.184.216.34/hook"}, "Webhook URL must use https"},
		{[]string{"url", "https://10.0.0.1/hook"}, webhook.ErrDestination},
		{[]string{"url", "https://[::1]/hook"}, webhook.ErrDestination},
		{[]string{"url", "https://[::1%25lo]:18443/x"}, webhook.ErrDestination},
		{[]string{"url", "https://[fe80::1%25eth0]/x"}, webhook.ErrDestination},
		{[]string{"url", "https://[fd00::2%25eth0]/x"}, webhook.ErrDestination},
		{[]string{"url", "https://[::127.0.0.1]/x"}, webhook.ErrDestination},
		{[]string{"url", "https://localhost/x"}, webhook.ErrDestination},
		{[]string{"url", "https://93.184.216.34/hook", "events", "order.teleported"}, "Unknown event: order.teleported"},
		{nil, "Missing required parameter: url"},
	}
	for _, r := range refused {
		code, got := e.call(append([]string{"action", "webhook.add"}, r.params...)...)
		wantError(t, code, got, 400, r.msg)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `fe80::1%eth0`) || !strings.Contains(logs, "webhook URL refused") {
		t.Errorf("the log does not say which destination was refused and why:\n%s", logs)
	}
	for range 4 {
		e.call("action", "webhook.add", "url", "https://93.184.216.34/more")
	}
	code, got = e.call("action", "webhook.add", "url", "https://93.184.216.34/sixth")
	wantError(t, code, got, 400, "At most 5 webhooks per API key")
	code, got = e.call("action", "webhook.remove", "webhook", id)
	if code != 200 || !sameJSON(t, got, `{"removed":"`+id+`"}`) {
		t.Errorf("webhook.remove: %d %v", code, got)
	}
	code, got = e.call("action", "webhook.remove", "webhook", id)
	wantError(t, code, got, 400, "Webhook not found")
}
