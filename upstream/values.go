package upstream

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"notpanel/store"
)

// Providers send numbers as JSON numbers or as strings ("157", 157, "157.0",
// " 157 "), ids as numbers or strings, and booleans as true, "1" or "yes".
// These helpers read such values without trusting their type.

// text returns a JSON scalar as text: a string's content, a number's literal,
// "" for null or anything else.
func text(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}
	if raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' {
		return string(raw)
	}
	return ""
}

// count reads a non-negative count; ok is false when raw is not a number.
// Fractions are truncated and negatives clamp to zero.
func count(raw json.RawMessage) (int64, bool) {
	s := text(raw)
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return max(n, 0), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	if f <= 0 {
		return 0, true
	}
	if f >= math.MaxInt64/2 {
		return math.MaxInt64 / 2, true
	}
	return int64(f), true
}

// id reads an order or refill id given as a number or a string.
func id(raw json.RawMessage) string {
	s := text(raw)
	if len(s) > 100 {
		return ""
	}
	return s
}

// amount reads money given as a string or a number, keeping six decimals
// (cut, not rounded). Encoders write small and large numbers with an
// exponent (1.5e-5), which is read as its value, not its digits.
func amount(raw json.RawMessage) (int64, bool) {
	s := text(raw)
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 1e13 {
			return 0, false
		}
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	if whole, frac, ok := strings.Cut(s, "."); ok && len(frac) > 6 && allDigits(frac) {
		s = whole + "." + frac[:6]
	}
	m, err := store.ParseMoney(s)
	return m, err == nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// flag reads a boolean given as true/false, 1/0 or their strings.
func flag(raw json.RawMessage) bool {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(string(raw)), `"`)) {
	case "true", "1", "yes", "on":
		return true
	}
	return false
}

// errorText returns the text of an {"error": …} member, which providers send
// as a string, an object or a number; "" when there is none. Panels that
// always send the member say "no error" with null, false, 0, "" or an empty
// object or list.
func errorText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch s := text(raw); {
	case s == "0":
		return ""
	case s != "":
		return s
	case raw[0] == '"' || string(raw) == "null" || string(raw) == "false":
		return "" // an empty or blank string
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		for _, k := range []string{"message", "error", "msg"} {
			if s := text(obj[k]); s != "" {
				return s
			}
		}
		if len(obj) == 0 {
			return ""
		}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil && len(list) == 0 {
		return ""
	}
	return truncate(string(raw), 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Status maps a provider's status text to notpanel's order status, "" when
// the text is not one we know (the caller keeps the raw text visible).
func Status(raw string) string {
	s := strings.ToLower(strings.TrimSpace(raw))
	s = strings.NewReplacer("_", " ", "-", " ").Replace(s)
	switch s {
	case "pending", "processing", "queued", "awaiting", "accepted":
		return store.StatusProcessing
	case "in progress", "inprogress", "active", "running", "started":
		return store.StatusInProgress
	case "completed", "complete", "done", "success", "finished":
		return store.StatusCompleted
	case "partial", "partially completed":
		return store.StatusPartial
	case "canceled", "cancelled", "canceled by admin", "cancelled by admin":
		return store.StatusCancelled
	case "refunded":
		return store.StatusRefunded
	case "fail", "failed", "error":
		return store.StatusFailed
	}
	return ""
}

// RefillStatus maps a provider's refill status text to notpanel's, "" when
// unknown.
func RefillStatus(raw string) string {
	s := strings.ToLower(strings.TrimSpace(raw))
	s = strings.NewReplacer("_", " ", "-", " ").Replace(s)
	switch s {
	case "pending", "queued", "awaiting":
		return store.RefillPending
	case "in progress", "inprogress", "processing", "active":
		return store.RefillProcessing
	case "completed", "complete", "done", "success":
		return store.RefillCompleted
	case "rejected", "canceled", "cancelled", "refused", "error", "failed", "fail":
		return store.RefillRejected
	}
	return ""
}
