package payment

import (
	"fmt"
	"strings"

	"notpanel/store"
)

// Gateways count money in their own ways: Stripe in the currency's minor
// unit (cents, or yen), the crypto gateways in decimal strings. The panel
// counts micro-units; these convert, exactly or not at all.

// exponents are the ISO 4217 currencies whose minor unit is not the
// hundredth, as Stripe counts them.
var exponents = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "JPY": 0, "KMF": 0, "KRW": 0, "MGA": 0, "PYG": 0, "RWF": 0,
	"UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3,
}

// minorUnit is how many micro-units one minor unit of currency is.
func minorUnit(currency string) int64 {
	e, ok := exponents[strings.ToUpper(currency)]
	if !ok {
		e = 2
	}
	unit := int64(store.MicrosPerUnit)
	for range e {
		unit /= 10
	}
	return unit
}

// toMinor converts micro-units to the currency's minor unit; an amount
// finer than the minor unit is refused rather than rounded.
func toMinor(amount int64, currency string) (int64, error) {
	unit := minorUnit(currency)
	if amount%unit != 0 {
		return 0, store.Errorf(store.Invalid, "Amount %s has more decimals than %s allows", store.FormatMoney(amount), strings.ToUpper(currency))
	}
	return amount / unit, nil
}

// fromMinor converts the currency's minor unit to micro-units.
func fromMinor(minor int64, currency string) (int64, error) {
	unit := minorUnit(currency)
	if minor < 0 || minor > store.MaxAmount/unit {
		return 0, fmt.Errorf("amount %d out of range", minor)
	}
	return minor * unit, nil
}

// parseDecimal reads a gateway's decimal amount ("10.00", "10.00000000",
// "12") into micro-units. Digits past the sixth decimal are dropped, so a
// credit is never more than what was paid.
func parseDecimal(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 6 {
		frac = frac[:6]
	}
	if frac != "" {
		whole += "." + frac
	}
	v, err := store.ParseMoney(whole)
	if err != nil || v < 0 || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("amount %q is not a decimal number", truncate(s, 40))
	}
	return v, nil
}

// truncate shortens outside text for logs and errors.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
