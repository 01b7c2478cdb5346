package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"notpanel/store"
)

// specialPurpose holds one address from every entry of IANA's IPv4 and IPv6
// Special-Purpose Address Registries (and of the multicast, broadcast,
// IPv4-compatible and site-local blocks), then the spellings of loopback
// and private addresses that hide them: zoned, IPv4-mapped, IPv4-compatible,
// NAT64, 6to4 and Teredo.
var specialPurpose = []string{
	// IPv4 registry.
	"0.1.2.3", "0.0.0.0", "10.20.30.40", "100.100.100.100", "127.0.0.1", "127.8.8.8",
	"169.254.169.254", "172.20.0.1", "172.31.255.255", "192.0.0.100", "192.0.0.1", "192.0.0.8",
	"192.0.0.9", "192.0.0.10", "192.0.0.170", "192.0.0.171", "192.0.2.55", "192.31.196.1",
	"192.52.193.1", "192.88.99.1", "192.168.1.1", "192.175.48.6", "198.18.0.1", "198.19.255.255",
	"198.51.100.7", "203.0.113.9", "240.0.0.1", "250.1.2.3", "255.255.255.255",
	"224.0.0.251", "239.255.255.250",
	// IPv6 registry.
	"::1", "::", "::ffff:1.2.3.4", "64:ff9b::808:808", "64:ff9b:1::1", "100::1", "100:0:0:1::1",
	"2001:1ff::1", "2001:0:53aa:64c::1", "2001:1::1", "2001:1::2", "2001:1::3", "2001:2::1",
	"2001:3::1", "2001:4:112::1", "2001:10::1", "2001:20::1", "2001:30::1", "2001:db8::1",
	"2002:5db8:d822::1", "2620:4f:8000::1", "3fff::1", "5f00::1", "fc00::1", "fd00:ec2::254",
	"fe80::1", "fec0::1", "ff02::1", "4000::1",
	// Zoned: an interface of this machine, whatever the address.
	"::1%lo", "fe80::1%eth0", "fd00::2%eth0", "2606:4700:4700::1111%eth0", "fe80::1%1",
	// IPv4-mapped, even of a public address.
	"::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "::ffff:192.168.0.1", "::ffff:8.8.8.8",
	// IPv4-compatible.
	"::127.0.0.1", "::7f00:1", "::10.0.0.1", "::169.254.169.254",
	// NAT64.
	"64:ff9b::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::a00:1",
	// 6to4 and Teredo.
	"2002:7f00:1::1", "2002:a00:1::1", "2002:c0a8:101::1", "2001:0:4136:e378:8000:63bf:80ff:fffe",
}

// public are addresses a webhook may reach, some just outside a blocked
// range, so that the policy is not broader than its list.
var public = []string{
	"8.8.8.8", "1.1.1.1", "93.184.216.34", "11.0.0.1", "100.128.0.1", "172.32.0.1", "192.0.3.1",
	"192.169.0.1", "198.20.0.1", "223.255.255.254",
	"2606:4700:4700::1111", "2a00:1450:4001::1", "2001:4860:4860::8888", "2001:200::1", "2003::1",
}

func TestRefusedAddresses(t *testing.T) {
	for _, s := range specialPurpose {
		if Refused(netip.MustParseAddr(s)) == "" {
			t.Errorf("%s is allowed, want refused", s)
		}
	}
	for _, s := range public {
		if why := Refused(netip.MustParseAddr(s)); why != "" {
			t.Errorf("%s refused as %s, want allowed", s, why)
		}
	}
	if Refused(netip.Addr{}) == "" {
		t.Error("the zero address is allowed")
	}
}

// Every special-purpose address is refused at registration, as a literal in
// the URL and behind a name, with the one message that tells nothing of the
// address; and again at connect time, as the dialer sees it.
func TestPolicyAtRegistrationAndDial(t *testing.T) {
	safe := Dialer(false)
	for _, s := range specialPurpose {
		a := netip.MustParseAddr(s)
		literal := "https://" + netip.AddrPortFrom(a, 8443).String() + "/x"
		literal = strings.Replace(literal, "%", "%25", 1)
		dns := fakeDNS{"hook.example.com": {s}}
		for _, raw := range []string{literal, "https://hook.example.com/x"} {
			err := CheckURL(context.Background(), dns, raw, false)
			if err == nil {
				t.Errorf("%s accepted at registration", raw)
				continue
			}
			if msg := store.ErrorMessage(err); msg != ErrDestination {
				t.Errorf("%s: answered %q, want %q", raw, msg, ErrDestination)
			}
		}
		if err := safe.Control("tcp", netip.AddrPortFrom(a, 443).String(), nil); err == nil {
			t.Errorf("%s allowed at connect time", s)
		}
	}
	for _, s := range public {
		a := netip.MustParseAddr(s)
		if err := CheckURL(context.Background(), fakeDNS{"hook.example.com": {s}}, "https://hook.example.com/x", false); err != nil {
			t.Errorf("%s refused at registration: %v", s, err)
		}
		if err := safe.Control("tcp", netip.AddrPortFrom(a, 443).String(), nil); err != nil {
			t.Errorf("%s refused at connect time: %v", s, err)
		}
	}
}

// A refused destination answers the same whatever the name resolved to,
// and whether it resolved at all, so that a customer cannot map the
// server's internal names; the log gets the detail.
func TestRefusalTellsNothingOfTheAddress(t *testing.T) {
	dns := fakeDNS{"vm": {"::ffff:127.0.0.1"}, "db.internal": {"10.0.0.5"}}
	var answers []string
	for _, raw := range []string{"https://vm/x", "https://db.internal/x", "https://nowhere.internal/x", "https://[::1]/x", "https://localhost/x"} {
		err := CheckURL(context.Background(), dns, raw, false)
		if err == nil {
			t.Fatalf("%s accepted", raw)
		}
		answers = append(answers, store.ErrorMessage(err))
		if !strings.Contains(err.Error(), strings.TrimPrefix(strings.Split(raw, "/")[2], "[")[:2]) {
			t.Errorf("%s: the cause %q does not name the host for the log", raw, err)
		}
	}
	for _, a := range answers {
		if a != answers[0] || strings.ContainsAny(a, ":0123456789") {
			t.Errorf("answers differ or name an address: %q", answers)
		}
	}
}

// fakeDNS answers names from a table.
type fakeDNS map[string][]string

func (f fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range f[host] {
		out = append(out, netip.MustParseAddr(s))
	}
	if len(out) == 0 {
		return nil, errors.New("no such host")
	}
	return out, nil
}

func TestCheckURL(t *testing.T) {
	dns := fakeDNS{
		"hooks.example.com":  {"93.184.216.34"},
		"inside.example.com": {"10.0.0.5"},
		"mixed.example.com":  {"93.184.216.34", "127.0.0.1"}, // one bad address is enough
		"meta.example.com":   {"169.254.169.254"},
	}
	tests := []struct {
		url      string
		insecure bool
		want     string // "" when allowed, else part of the message
	}{
		{"https://hooks.example.com/notpanel", false, ""},
		{"https://93.184.216.34/hook", false, ""},
		{"http://hooks.example.com/hook", false, "must use https"},
		{"ftp://hooks.example.com/hook", false, "must use https"},
		{"https://user:pw@hooks.example.com/", false, "credentials"},
		{"https://inside.example.com/", false, "private"},
		{"https://mixed.example.com/", false, "loopback"},
		{"https://meta.example.com/", false, "link-local"},
		{"https://127.0.0.1/", false, "loopback"},
		{"https://[::1]/", false, "loopback"},
		{"https://[::1%25lo]:18443/x", false, "zone"},
		{"https://[fe80::1%25eth0]/x", false, "zone"},
		{"https://[::127.0.0.1]/x", false, "IPv4-compatible"},
		{"https://[::ffff:10.0.0.1]/", false, "IPv4-mapped"},
		{"https://localhost/", false, "loopback"},
		{"https://LocalHost./", false, "loopback"},
		{"https://nowhere.example.com/", false, "does not resolve"},
		{"https:///nohost", false, "Invalid webhook URL"},
		{"not a url at all", false, "Invalid webhook URL"},
		{"http://127.0.0.1:8080/dev", true, ""},
	}
	for _, tt := range tests {
		err := CheckURL(context.Background(), dns, tt.url, tt.insecure)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v, want allowed", tt.url, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want an error about %q", tt.url, err, tt.want)
		}
	}
}

// The dialer refuses at connect time what the check refused at
// registration: a name that now resolves to loopback gets nowhere.
func TestDialerRefusesAtConnectTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: Dialer(false).DialContext}}
	if _, err := client.Get(srv.URL); err == nil || !strings.Contains(err.Error(), "refusing to connect") {
		t.Errorf("loopback reached through the safe dialer: %v", err)
	}
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: Dialer(true).DialContext}}
	resp, err := insecure.Get(srv.URL)
	if err != nil {
		t.Fatalf("insecure dialer: %v", err)
	}
	resp.Body.Close()
	// The same loopback spelt with a zone: the insecure dialer reaches it,
	// so the safe one's refusal is the policy at work, not a bad address.
	zoned := strings.Replace(srv.URL, "127.0.0.1", "[::1%25lo]", 1)
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		defer l.Close()
		zoned = "http://[::1%25lo]:" + strings.TrimPrefix(l.Addr().String(), "[::1]:")
		resp, err := insecure.Get(zoned)
		if err != nil {
			t.Fatalf("insecure dialer to %s: %v", zoned, err)
		}
		resp.Body.Close()
	}
	if _, err := client.Get(zoned); err == nil || !strings.Contains(err.Error(), "refusing to connect") {
		t.Errorf("%s reached through the safe dialer: %v", zoned, err)
	}
	var d net.Dialer
	if Dialer(false).Control == nil || d.Control != nil {
		t.Error("the safe dialer has no connect-time check")
	}
}
