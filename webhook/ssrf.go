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
	"strings"
	"syscall"

	"notpanel/store"
)

// block is an address range a webhook may never reach, and why.
type block struct {
	prefix netip.Prefix
	why    string
}

func blocks(rows [][2]string) []block {
	out := make([]block, len(rows))
	for i, r := range rows {
		out[i] = block{netip.MustParsePrefix(r[0]), r[1]}
	}
	return out
}

// blocked4 is every entry of IANA's IPv4 Special-Purpose Address Registry
// (RFC 6890 and its updates), those marked globally reachable included:
// anycast relays and AS112 servers are no place for a customer's webhook,
// and refusing a whole registry entry keeps the list easy to check against
// the registry. Multicast and the limited broadcast address come from their
// own registries.
var blocked4 = blocks([][2]string{
	{"0.0.0.0/8", "this network"},                     // RFC 791
	{"10.0.0.0/8", "private"},                         // RFC 1918
	{"100.64.0.0/10", "carrier-grade NAT"},            // RFC 6598
	{"127.0.0.0/8", "loopback"},                       // RFC 1122
	{"169.254.0.0/16", "link-local (cloud metadata)"}, // RFC 3927
	{"172.16.0.0/12", "private"},                      // RFC 1918
	{"192.0.0.0/24", "IETF protocol assignments"},     // RFC 6890; holds 192.0.0.0/29, .8, .9, .10, .170, .171
	{"192.0.2.0/24", "documentation"},                 // RFC 5737
	{"192.31.196.0/24", "AS112"},                      // RFC 7535
	{"192.52.193.0/24", "AMT"},                        // RFC 7450
	{"192.88.99.0/24", "6to4 relay anycast"},          // RFC 7526
	{"192.168.0.0/16", "private"},                     // RFC 1918
	{"192.175.48.0/24", "AS112 direct delegation"},    // RFC 7534
	{"198.18.0.0/15", "benchmarking"},                 // RFC 2544
	{"198.51.100.0/24", "documentation"},              // RFC 5737
	{"203.0.113.0/24", "documentation"},               // RFC 5737
	{"224.0.0.0/4", "multicast"},                      // RFC 5771
	{"240.0.0.0/4", "reserved"},                       // RFC 1112, with 255.255.255.255/32 (RFC 919)
})

// blocked6 is every entry of IANA's IPv6 Special-Purpose Address Registry,
// plus the deprecated IPv4-compatible and site-local blocks. Only global
// unicast (2000::/3) is allowed at all, so the entries outside it (the
// IPv4-mapped, NAT64, discard, unique local, link-local, multicast and SRv6
// blocks) are listed only to name why an address was refused.
var blocked6 = blocks([][2]string{
	{"::/128", "unspecified"},                        // RFC 4291
	{"::1/128", "loopback"},                          // RFC 4291
	{"::/96", "IPv4-compatible"},                     // RFC 4291, deprecated
	{"::ffff:0:0/96", "IPv4-mapped"},                 // RFC 4291
	{"64:ff9b::/96", "NAT64"},                        // RFC 6052
	{"64:ff9b:1::/48", "NAT64 (local use)"},          // RFC 8215
	{"100::/64", "discard-only"},                     // RFC 6666
	{"100:0:0:1::/64", "dummy prefix"},               // RFC 9780
	{"2001::/23", "IETF protocol assignments"},       // RFC 2928; holds Teredo, PCP/TURN/DNS-SD anycast, benchmarking, AMT, AS112, ORCHID, DET
	{"2001:db8::/32", "documentation"},               // RFC 3849
	{"2002::/16", "6to4"},                            // RFC 3056
	{"2620:4f:8000::/48", "AS112 direct delegation"}, // RFC 7534
	{"3fff::/20", "documentation"},                   // RFC 9637
	{"5f00::/16", "SRv6 SIDs"},                       // RFC 9602
	{"fc00::/7", "unique local (private)"},           // RFC 4193
	{"fe80::/10", "link-local"},                      // RFC 4291
	{"fec0::/10", "site-local"},                      // RFC 3879, deprecated
	{"ff00::/8", "multicast"},                        // RFC 4291
})

var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// Refused says why a webhook may not reach a, or "" when it may. An
// address with a zone (fe80::1%eth0, ::1%lo) names an interface of this
// machine and is refused whatever the address: no prefix contains a zoned
// address, so it would otherwise slip past every range below.
func Refused(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "not an address"
	case a.Zone() != "":
		return "an address with a zone"
	}
	list := blocked4
	if a.Is6() {
		list = blocked6
	}
	for _, b := range list {
		if b.prefix.Contains(a) {
			return b.why
		}
	}
	if a.Is6() && !globalUnicast6.Contains(a) {
		return "not global unicast"
	}
	return ""
}

// Resolver looks a host name up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ErrDestination is the one answer for every destination the policy
// refuses, whatever the address's class and whether the name resolved at
// all: a customer must not learn from it which internal names exist or
// where they point. Why it was refused travels in the error's cause, for
// the server's log.
const ErrDestination = "Webhook URL must point to a public internet address"

func refuseDestination(format string, args ...any) error {
	return &store.Error{Code: store.Invalid, Message: ErrDestination, Err: fmt.Errorf(format, args...)}
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
		name := strings.ToLower(strings.TrimSuffix(host, "."))
		if name == "localhost" || strings.HasSuffix(name, ".localhost") {
			return refuseDestination("host %q is a loopback name", host)
		}
		if addrs, err = r.LookupNetIP(ctx, "ip", host); err != nil || len(addrs) == 0 {
			return refuseDestination("host %q does not resolve: %v", host, err)
		}
	}
	for _, a := range addrs {
		if why := Refused(a); why != "" {
			return refuseDestination("host %q resolves to %s (%s)", host, a, why)
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
		return checkDial(address)
	}
	return d
}

// checkDial is the connect-time check of one address as the dialer names it
// ("[fe80::1%eth0]:443" included).
func checkDial(address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: refusing to connect to %s", address)
	}
	if why := Refused(ap.Addr()); why != "" {
		return fmt.Errorf("webhook: refusing to connect to %s (%s)", ap.Addr(), why)
	}
	return nil
}
