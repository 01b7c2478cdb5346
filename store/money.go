package store

import (
	"math/bits"
	"strconv"
	"strings"
)

// Money amounts are int64 micro-units: 1 = 0.000001 of the panel currency.
// No float is ever used on the money path.

// MicrosPerUnit is the number of micro-units in one unit of the currency.
const MicrosPerUnit = 1_000_000

// MaxAmount bounds every amount an operator can type: 1e12 currency units.
const MaxAmount = 1_000_000_000_000 * MicrosPerUnit

// FormatMoney prints micro-units as a decimal string with at least two and at
// most six decimals: 900000 → "0.90", 278190 → "0.27819".
func FormatMoney(m int64) string {
	var b strings.Builder
	u := uint64(m)
	if m < 0 {
		b.WriteByte('-')
		u = uint64(-(m + 1)) + 1 // also right for math.MinInt64
	}
	b.WriteString(strconv.FormatUint(u/MicrosPerUnit, 10))
	frac := strconv.FormatUint(u%MicrosPerUnit+MicrosPerUnit, 10)[1:] // six digits
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	b.WriteByte('.')
	b.WriteString(frac)
	return b.String()
}

// ParseMoney reads a decimal amount such as "12", "-3.5" or "0.000001" into
// micro-units. It refuses exponents, more than six decimals, thousands
// separators and anything beyond ±MaxAmount.
func ParseMoney(s string) (int64, error) {
	orig := s
	bad := Errorf(Invalid, "Invalid amount %q: want a decimal number with at most 6 decimals", orig)
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && frac == "" || hasDot && frac == "" || len(frac) > 6 || len(whole) > 13 {
		return 0, bad
	}
	if !allDigits(whole) || !allDigits(frac) {
		return 0, bad
	}
	var w int64
	if whole != "" {
		w, _ = strconv.ParseInt(whole, 10, 64) // at most 13 digits: cannot fail
	}
	f, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	// Compare before scaling: 13 digits × 10⁶ can overflow int64 and wrap.
	if w > MaxAmount/MicrosPerUnit || w*MicrosPerUnit+f > MaxAmount {
		return 0, Errorf(Invalid, "Invalid amount %q: larger than %s", orig, FormatMoney(MaxAmount))
	}
	v := w*MicrosPerUnit + f
	if neg {
		v = -v
	}
	return v, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Charge is what an order of units costs at rate (micro-units per 1000
// units): ceil(rate × units / 1000). It fails when the result would not fit.
func Charge(rate, units int64) (int64, error) {
	if rate < 0 || units < 0 {
		return 0, Errorf(Invalid, "Invalid order size")
	}
	hi, lo := bits.Mul64(uint64(rate), uint64(units))
	if hi >= 1000 { // the quotient would not fit in 64 bits
		return 0, Errorf(Invalid, "Order too large")
	}
	q, r := bits.Div64(hi, lo, 1000)
	if q > MaxAmount { // checked before rounding up, which could wrap q to 0
		return 0, Errorf(Invalid, "Order too large")
	}
	if r != 0 {
		q++
	}
	if q > MaxAmount {
		return 0, Errorf(Invalid, "Order too large")
	}
	return int64(q), nil
}

// PartialRefund is the refund of a partial order: floor(charge × remains /
// units), with remains clamped to [0, units].
func PartialRefund(charge, remains, units int64) int64 {
	if units <= 0 || remains <= 0 || charge <= 0 {
		return 0
	}
	if remains > units {
		remains = units
	}
	hi, lo := bits.Mul64(uint64(charge), uint64(remains))
	q, _ := bits.Div64(hi, lo, uint64(units)) // charge×remains/units ≤ charge: no overflow
	return int64(q)
}
