// Package webhook holds what webhook delivery needs to be safe: the policy
// of which addresses a customer's webhook may reach, checked when it is
// registered and again at connect time.
package webhook

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"notpanel/store"
	"strings"
	"syscall"
)

// blockedRanges are the special-purpose address blocks a webhook may never
// reach: a customer must not make the server call its own loopback, the
// operator's private network, or the cloud's metadata service.
var blockedRanges = func() []struct {
	prefix netip.Prefix
	why    string
} {
	var out []struct {
		prefix netip.Prefix
		why    string
	}
	for _, r := range [][2]string{
		{"0.0.0.0/8", "this network"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "carrier-grade NAT"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local (cloud metadata)"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "IETF protocol assignments"},
		{"192.0.2.0/24", "documentation"},
		{"192.88.99.0/24", "6to4 relay"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"198.51.100.0/24", "documentation"},
		{"203.0.113.0/24", "documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"},
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"::ffff:0:0/96", "IPv4-mapped"},
		{"64:ff9b::/96", "NAT64"},
		{"64:ff9b:1::/48", "NAT64"},
		{"100::/64", "discard"},
		{"2001::/23", "IETF protocol assignments"},
		{"2001:db8::/32", "documentation"},
		{"2002::/16", "6to4"},
		{"fc00::/7", "unique local (private)"},
		{"fe80::/10", "link-local"},
		{"ff00::/8", "multicast"},
	} {
		out = append(out, struct {
			prefix netip.Prefix
			why    string
		}{netip.MustParsePrefix(r[0]), r[1]})
	}
	return out
}()

// Refused says why a webhook may not reach a, or "" when it may.
func Refused(a netip.Addr) string {
	if !a.IsValid() {
		return "not an address"
	}
	for _, r := range blockedRanges {
		if r.prefix.Contains(a) {
			return r.why
		}
	}
	return ""
}

// Resolver looks a host name up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL decides whether a customer may register raw as a webhook URL:
// https, no credentials in it, and a host whose every address may be
// reached. With insecure (serve --webhook-allow-insecure, for development
// and tests only) http and every address class are allowed.
func CheckURL(ctx context.Context, r Resolver, raw string, insecure bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" || len(raw) > 1000 {
		return store.Errorf(store.Invalid, "Invalid webhook URL")
	}
	switch {
	case u.User != nil:
		return store.Errorf(store.Invalid, "Webhook URL must not carry credentials")
	case u.Scheme == "https":
	case u.Scheme == "http" && insecure:
	default:
		return store.Errorf(store.Invalid, "Webhook URL must use https")
	}
	if insecure {
		return nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
			return store.Errorf(store.Invalid, "Webhook URL must not point to a loopback, private or special-purpose address")
		}
		if addrs, err = r.LookupNetIP(ctx, "ip", host); err != nil || len(addrs) == 0 {
			return store.Errorf(store.Invalid, "Webhook URL host %q does not resolve", host)
		}
	}
	for _, a := range addrs {
		if why := Refused(a); why != "" {
			return store.Errorf(store.Invalid, "Webhook URL must not point to a loopback, private or special-purpose address (%s is %s)", a, why)
		}
	}
	return nil
}

// Dialer returns a dialer that refuses, at connect time, every address a
// webhook may not reach, so that a name that resolved to a public address
// at registration and to a private one now (DNS rebinding) still fails.
// With insecure it refuses nothing.
func Dialer(insecure bool) *net.Dialer {
	d := &net.Dialer{}
	if insecure {
		return d
	}
	d.Control = func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook: refusing to connect to %s", address)
		}
		if why := Refused(ap.Addr()); why != "" {
			return fmt.Errorf("webhook: refusing to connect to %s (%s)", ap.Addr(), why)
		}
		return nil
	}
	return d
}
