package store_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"notpanel/store"
)

func TestFormatMoney(t *testing.T) {
	tests := []struct {
		name string
		in   int64
		want string
	}{
		{"TwoDecimalsKept", 900_000, "0.90"},
		{"TrailingZerosTrimmed", 278_190, "0.27819"},
		{"WholeAndCents", 47_320_000, "47.32"},
		{"Zero", 0, "0.00"},
		{"OneMicro", 1, "0.000001"},
		{"WholeUnit", 1_000_000, "1.00"},
		{"SixDecimals", 123_456_789, "123.456789"},
		{"NegativeCents", -900_000, "-0.90"},
		{"NegativeMicro", -1, "-0.000001"},
		{"NegativeWhole", -47_320_000, "-47.32"},
		{"MaxAmount", store.MaxAmount, "1000000000000.00"},
		{"MaxInt64", math.MaxInt64, "9223372036854.775807"},
		{"MinInt64", math.MinInt64, "-9223372036854.775808"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := store.FormatMoney(tt.in); got != tt.want {
				t.Errorf("FormatMoney(%d) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseMoney(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
	}{
		{"Whole", "12", 12_000_000},
		{"Cents", "0.90", 900_000},
		{"OneMicro", "0.000001", 1},
		{"NoWholePart", ".5", 500_000},
		{"LeadingZeros", "007.10", 7_100_000},
		{"ExplicitPlus", "+1", 1_000_000},
		{"NegativeFraction", "-0.5", -500_000},
		{"Negative", "-3.5", -3_500_000},
		{"NegativeZero", "-0", 0},
		{"MaxAmount", "1000000000000", store.MaxAmount},
		{"MaxAmountSixDecimals", "1000000000000.000000", store.MaxAmount},
		{"MinusMaxAmount", "-1000000000000", -store.MaxAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.ParseMoney(tt.in)
			if err != nil {
				t.Fatalf("ParseMoney(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseMoney(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseMoneyRefuses(t *testing.T) {
	tests := []struct{ name, in string }{
		{"Exponent", "1e3"},
		{"ThousandsSeparator", "1,000"},
		{"SevenDecimals", "0.1234567"},
		{"Empty", ""},
		{"DotOnly", "."},
		{"TrailingDot", "5."},
		{"Letters", "abc"},
		{"SignOnly", "-"},
		{"PlusOnly", "+"},
		{"DoubleSign", "--1"},
		{"MixedSigns", "+-1"},
		{"NegativeFractionSign", "1.-5"},
		{"TwoDots", "1.2.3"},
		{"LeadingSpace", " 1"},
		{"TrailingSpace", "1 "},
		{"Hex", "0x10"},
		{"NonASCIIDigit", "١"},
		{"Infinity", "Inf"},
		{"JustOverMaxAmount", "1000000000000.000001"},
		{"OverMaxAmountNegative", "-1000000000001"},
		// 13 digits pass the length check but overflow int64 once scaled.
		{"ThirteenNines", "9999999999999"},
		{"NegativeThirteenNines", "-9999999999999"},
		{"JustOverInt64", "9223372036854.775808"},
		{"AtInt64Boundary", "9223372036854.775807"},
		{"FourteenDigits", "10000000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.ParseMoney(tt.in)
			if err == nil {
				t.Fatalf("ParseMoney(%q) = %d, want an error", tt.in, got)
			}
			if code := store.ErrorCode(err); code != store.Invalid {
				t.Errorf("code = %s, want %s", code, store.Invalid)
			}
			if msg := store.ErrorMessage(err); !strings.Contains(msg, "Invalid amount") {
				t.Errorf("message = %q, want it to say Invalid amount", msg)
			}
		})
	}
}

func TestMoneyRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := []int64{0, 1, -1, 10, 999_999, 1_000_000, store.MaxAmount, -store.MaxAmount, store.MaxAmount - 1}
	for range 10_000 {
		values = append(values, r.Int64N(2*store.MaxAmount+1)-store.MaxAmount, r.Int64N(10_000_000_000))
	}
	for _, m := range values {
		s := store.FormatMoney(m)
		got, err := store.ParseMoney(s)
		if err != nil || got != m {
			t.Fatalf("ParseMoney(FormatMoney(%d) = %q) = %d, %v; want %d", m, s, got, err, m)
		}
	}
}

// refCharge is ceil(rate×units/1000) in exact arithmetic, and whether it is
// a valid charge (non-negative inputs, at most MaxAmount).
func refCharge(rate, units int64) (int64, bool) {
	if rate < 0 || units < 0 {
		return 0, false
	}
	p := new(big.Int).Mul(big.NewInt(rate), big.NewInt(units))
	p.Add(p, big.NewInt(999))
	p.Quo(p, big.NewInt(1000))
	if p.Cmp(big.NewInt(store.MaxAmount)) > 0 {
		return 0, false
	}
	return p.Int64(), true
}

func TestCharge(t *testing.T) {
	tests := []struct {
		name        string
		rate, units int64
		want        int64
		wantErr     bool
	}{
		{"ExactThousand", 900_000, 1000, 900_000, false},
		{"RoundsUp", 900_000, 1, 900, false},
		{"FractionOfAMicroRoundsUp", 1, 1, 1, false},
		{"ExactMicro", 1000, 1, 1, false},
		{"JustOverMicro", 1001, 1, 2, false},
		{"OddRate", 278_190, 3, 835, false},
		{"DripFeedUnits", 900_000, 500, 450_000, false},
		{"FreeService", 0, 1_000_000_000, 0, false},
		{"ZeroUnits", 900_000, 0, 0, false},
		{"MaxAmount", store.MaxAmount, 1000, store.MaxAmount, false},
		{"OverMaxAmount", store.MaxAmount, 1001, 0, true},
		{"LargestServiceOrder", store.MaxAmount, 1_000_000_000_000, 0, true},
		{"NegativeRate", -1, 10, 0, true},
		{"NegativeUnits", 10, -1, 0, true},
		{"ProductOverflows128Quotient", math.MaxInt64, math.MaxInt64, 0, true},
		// rate×units/1000 is just under 2^64 with a remainder: rounding up
		// must not wrap the quotient to zero (a free order).
		{"RoundUpAt2To64", 9_209_557_700_304_319_329, 2003, 0, true},
		{"RoundUpAt2To64ServiceRate", 999_877_720_944_742_350, 18_449, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, refOK := refCharge(tt.rate, tt.units)
			if refOK == tt.wantErr || (refOK && ref != tt.want) {
				t.Fatalf("bad test case: reference says %d, %v", ref, refOK)
			}
			got, err := store.Charge(tt.rate, tt.units)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Charge(%d, %d) = %d, want an error", tt.rate, tt.units, got)
				}
				if code := store.ErrorCode(err); code != store.Invalid {
					t.Errorf("code = %s, want %s", code, store.Invalid)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Charge(%d, %d) = %d, %v; want %d", tt.rate, tt.units, got, err, tt.want)
			}
		})
	}
}

func TestPartialRefund(t *testing.T) {
	tests := []struct {
		name                   string
		charge, remains, units int64
		want                   int64
	}{
		{"Half", 1000, 500, 1000, 500},
		{"RoundsDown", 1000, 1, 3, 333},
		{"RoundsDownToZero", 1, 1, 3, 0},
		{"NothingDelivered", 900_000, 1000, 1000, 900_000},
		{"AllDelivered", 900_000, 0, 1000, 0},
		{"RemainsAboveUnitsClamped", 900_000, 5000, 1000, 900_000},
		{"NegativeRemainsClamped", 900_000, -5, 1000, 0},
		{"ZeroUnits", 900_000, 10, 0, 0},
		{"NegativeUnits", 900_000, 10, -1, 0},
		{"FreeOrder", 0, 10, 100, 0},
		{"HugeNoOverflow", store.MaxAmount, 1_000_000_000_000 - 1, 1_000_000_000_000, store.MaxAmount - 1_000_000},
		{"HugeRoundsDown", math.MaxInt64, 2, 3, 6_148_914_691_236_517_204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := store.PartialRefund(tt.charge, tt.remains, tt.units); got != tt.want {
				t.Errorf("PartialRefund(%d, %d, %d) = %d, want %d", tt.charge, tt.remains, tt.units, got, tt.want)
			}
		})
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0.90", "12", "-3.5", ".5", "+1", "1e3", "9999999999999", "1000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := store.ParseMoney(s)
		if err != nil {
			return
		}
		if v > store.MaxAmount || v < -store.MaxAmount {
			t.Fatalf("ParseMoney(%q) = %d, beyond ±MaxAmount", s, v)
		}
		// The accepted text is a plain decimal: compare with exact arithmetic.
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("ParseMoney accepted %q, which is not a number", s)
		}
		r.Mul(r, big.NewRat(store.MicrosPerUnit, 1))
		if !r.IsInt() || r.Num().Cmp(big.NewInt(v)) != 0 {
			t.Fatalf("ParseMoney(%q) = %d, want %s", s, v, r.RatString())
		}
		out := store.FormatMoney(v)
		back, err := store.ParseMoney(out)
		if err != nil || back != v {
			t.Fatalf("ParseMoney(FormatMoney(%d) = %q) = %d, %v", v, out, back, err)
		}
	})
}

func FuzzCharge(f *testing.F) {
	f.Add(int64(900_000), int64(1000))
	f.Add(int64(1), int64(1))
	f.Add(int64(store.MaxAmount), int64(1001))
	f.Fuzz(func(t *testing.T, rate, units int64) {
		got, err := store.Charge(rate, units)
		want, ok := refCharge(rate, units)
		switch {
		case !ok && err == nil:
			t.Fatalf("Charge(%d, %d) = %d, want an error", rate, units, got)
		case ok && (err != nil || got != want):
			t.Fatalf("Charge(%d, %d) = %d, %v; want %d", rate, units, got, err, want)
		}
	})
}
