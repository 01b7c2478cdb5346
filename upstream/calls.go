package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"

	"notpanel/store"
)

// Cancels asks the provider to cancel up to 100 orders. The answer maps each
// id to "" when the provider accepted the cancel, or to its refusal. Ids
// missing from the answer are absent.
func (c *Client) Cancels(ctx context.Context, ids []string) (map[string]string, error) {
	raw, err := c.call(ctx, url.Values{"action": {"cancel"}, "orders": {strings.Join(ids, ",")}}, MaxBody)
	if err != nil {
		return nil, downgrade(err)
	}
	return parseCancels(raw, ids)
}

// parseCancels reads a cancel answer about ids.
func parseCancels(raw json.RawMessage, ids []string) (map[string]string, error) {
	var rows []struct {
		Order  json.RawMessage `json:"order"`
		Cancel json.RawMessage `json:"cancel"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		// A single cancel answered as one object: {"cancel": …}.
		var one struct {
			Cancel json.RawMessage `json:"cancel"`
		}
		if len(ids) != 1 || json.Unmarshal(raw, &one) != nil || len(one.Cancel) == 0 {
			return nil, &Error{Class: Temporary, Msg: "cancel answer is not a list of rows"}
		}
		return map[string]string{ids[0]: cancelRefusal(ids[0], one.Cancel, nil)}, nil
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		if k := id(r.Order); k != "" {
			out[k] = cancelRefusal(k, r.Cancel, r.Error)
		}
	}
	return out, nil
}

// cancelRefusal reads the cancel row of order: "" for accepted, else why
// not. Only a clear yes counts as accepted, since an accepted cancel
// refunds the customer: 1 or true (as a number, a boolean or a string), or
// the order's own id echoed as notpanel answers, which is never a bare
// number (a classic row {"order":0,"cancel":0} echoes the id too, and
// means no). Anything else, such as a sentence in place of the 1, is a
// refusal.
func cancelRefusal(order string, cancel, rowErr json.RawMessage) string {
	if msg := errorText(rowErr); msg != "" {
		return msg
	}
	var obj struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(cancel, &obj) == nil && len(obj.Error) > 0 {
		if msg := errorText(obj.Error); msg != "" {
			return msg
		}
	}
	s := text(cancel)
	if s == "1" || strings.EqualFold(s, "true") || string(bytes.TrimSpace(cancel)) == "true" || s == order && !bareNumber(order) {
		return ""
	}
	switch strings.ToLower(s) {
	case "", "0", "false", "no":
		return "provider did not accept the cancel"
	}
	return truncate(s, 200)
}

// Refill asks for a refill of the provider's order and returns the
// provider's refill id.
func (c *Client) Refill(ctx context.Context, orderID string) (string, error) {
	raw, err := c.call(ctx, url.Values{"action": {"refill"}, "order": {orderID}}, MaxBody)
	if err != nil {
		return "", downgrade(err)
	}
	var out struct {
		Refill json.RawMessage `json:"refill"`
	}
	json.Unmarshal(raw, &out)
	if r := id(out.Refill); r != "" && r != "0" {
		return r, nil
	}
	return "", &Error{Class: Temporary, Msg: "refill answer without a refill id: " + truncate(string(raw), 120)}
}

// RefillState is a provider's word on one refill.
type RefillState struct {
	Status string // notpanel refill status, "" when Raw is not understood
	Raw    string
	Err    string
}

// RefillStatuses asks about up to 100 refills in one call.
func (c *Client) RefillStatuses(ctx context.Context, ids []string) (map[string]RefillState, error) {
	raw, err := c.call(ctx, url.Values{"action": {"refill_status"}, "refills": {strings.Join(ids, ",")}}, MaxBody)
	if err != nil {
		return nil, downgrade(err)
	}
	return parseRefillStatuses(raw, ids)
}

// parseRefillStatuses reads a refill_status answer about ids.
func parseRefillStatuses(raw json.RawMessage, ids []string) (map[string]RefillState, error) {
	var rows []struct {
		Refill json.RawMessage `json:"refill"`
		Status json.RawMessage `json:"status"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		var one struct {
			Status json.RawMessage `json:"status"`
		}
		if len(ids) != 1 || json.Unmarshal(raw, &one) != nil || len(one.Status) == 0 {
			return nil, &Error{Class: Temporary, Msg: "refill_status answer is not a list of rows"}
		}
		rows = append(rows[:0], struct {
			Refill json.RawMessage `json:"refill"`
			Status json.RawMessage `json:"status"`
			Error  json.RawMessage `json:"error"`
		}{Refill: json.RawMessage(`"` + ids[0] + `"`), Status: one.Status})
	}
	out := make(map[string]RefillState, len(rows))
	for _, r := range rows {
		k := id(r.Refill)
		if k == "" {
			continue
		}
		st := RefillState{Raw: truncate(text(r.Status), 64), Err: errorText(r.Error)}
		if st.Err == "" && st.Raw == "" {
			st.Err = errorText(r.Status) // {"status":{"error":"…"}}
		}
		st.Status = RefillStatus(st.Raw)
		out[k] = st
	}
	return out, nil
}

// Balance returns our balance at the provider and its currency.
func (c *Client) Balance(ctx context.Context) (int64, string, error) {
	raw, err := c.call(ctx, url.Values{"action": {"balance"}}, MaxBody)
	if err != nil {
		return 0, "", downgrade(err)
	}
	var out struct {
		Balance  json.RawMessage `json:"balance"`
		Currency json.RawMessage `json:"currency"`
	}
	json.Unmarshal(raw, &out)
	b, ok := amount(out.Balance)
	if !ok {
		return 0, "", &Error{Class: Temporary, Msg: "balance answer without a readable balance: " + truncate(string(raw), 120)}
	}
	return b, truncate(text(out.Currency), 8), nil
}

// Service is one entry of a provider's catalog.
type Service struct {
	ID       string
	Name     string
	Type     string
	Category string
	Rate     int64 // micro-units per 1000
	Min, Max int64
	Refill   bool
	Cancel   bool
	Dripfeed bool
}

// Services returns the provider's catalog. Entries that cannot be read (no
// id, no rate, min above max) are skipped and counted in skipped.
func (c *Client) Services(ctx context.Context) (services []Service, skipped int, err error) {
	raw, err := c.call(ctx, url.Values{"action": {"services"}}, MaxServicesBody)
	if err != nil {
		return nil, 0, downgrade(err)
	}
	return parseServices(raw)
}

// parseServices reads a services answer.
func parseServices(raw json.RawMessage) (services []Service, skipped int, err error) {
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, 0, &Error{Class: Temporary, Msg: "services answer is not a list"}
	}
	for _, r := range rows {
		s := Service{ID: id(r["service"]), Name: truncate(text(r["name"]), 200), Type: text(r["type"]),
			Category: truncate(text(r["category"]), 200), Refill: flag(r["refill"]), Cancel: flag(r["cancel"]),
			Dripfeed: flag(r["dripfeed"])}
		var okRate, okMin, okMax bool
		s.Rate, okRate = amount(r["rate"])
		s.Min, okMin = count(r["min"])
		s.Max, okMax = count(r["max"])
		if s.ID == "" || s.Name == "" || !okRate || s.Rate < 0 || !okMin || !okMax || s.Min < 1 || s.Max < s.Min {
			skipped++
			continue
		}
		if s.Type == "" {
			s.Type = "Default"
		}
		services = append(services, s)
	}
	return services, skipped, nil
}

// Imported is s in the store's terms, for a catalog import.
func (s Service) Imported() store.ImportedService {
	return store.ImportedService{ProviderService: s.ID, Name: s.Name, Category: s.Category, Type: s.Type,
		Rate: s.Rate, Min: s.Min, Max: s.Max, Refill: s.Refill, Cancel: s.Cancel, Dripfeed: s.Dripfeed}
}

// bareNumber reports whether s is all ASCII digits, as classic order ids
// are.
func bareNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
