package webhook

import (
	"context"
	"net/netip"
	"net/url"
	"testing"
)

// FuzzCheckURL feeds arbitrary URLs to the registration check: it must
// never panic, and whatever it accepts must be https and name an address
// the policy allows.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://hooks.example.com/x", "https://127.0.0.1/", "https://[::ffff:10.0.0.1]:8443/a",
		"http://93.184.216.34/", "https://user@93.184.216.34/", "https://0x7f000001/", "https://%5B::1%5D/", "//x", "",
		"https://[::1%25lo]:18443/x", "https://[fe80::1%25eth0]/x", "https://[fd00::2%25eth0]/x", "https://[::127.0.0.1]/x",
		"https://[::ffff:7f00:1]/x", "https://[64:ff9b::7f00:1]/x", "https://[2002:7f00:1::1]/x", "https://[2606:4700::1%25eth0]/",
		"https://2130706433/", "https://0177.0.0.1/", "https://127.1/", "https://vm./", "https://LOCALHOST./x",
		"https://[::1%2525lo]/", "https://[fe80::1%25]/"} {
		f.Add(s)
	}
	dns := fakeDNS{"hooks.example.com": {"93.184.216.34"}, "inside.example.com": {"10.0.0.5"}}
	f.Fuzz(func(t *testing.T, raw string) {
		if err := CheckURL(context.Background(), dns, raw, false); err != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.User != nil {
			t.Fatalf("accepted %q", raw)
		}
		if a, err := netip.ParseAddr(u.Hostname()); err == nil && Refused(a) != "" {
			t.Fatalf("accepted %q, a refused address", raw)
		}
		if addrs, err := dns.LookupNetIP(context.Background(), "ip", u.Hostname()); err == nil {
			for _, a := range addrs {
				if Refused(a) != "" {
					t.Fatalf("accepted %q, which resolves to %s", raw, a)
				}
			}
		}
	})
}
