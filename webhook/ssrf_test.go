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
)

func TestRefusedAddresses(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.8.8.8", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"169.254.169.254",               // cloud metadata
		"100.64.0.1", "100.127.255.254", // CGNAT
		"198.18.0.1", "198.19.255.255", // benchmarking
		"192.0.2.1", "198.51.100.7", "203.0.113.9", // documentation
		"224.0.0.1", "239.255.255.250", "255.255.255.255", "0.0.0.0", "240.0.0.1",
		"::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "2001:db8::1",
		"::ffff:127.0.0.1", "::ffff:8.8.8.8", // IPv4-mapped, even of a public address
		"64:ff9b::a00:1", "64:ff9b:1::1", // NAT64
		"2002:7f00:1::1", // 6to4
	}
	for _, s := range refused {
		if Refused(netip.MustParseAddr(s)) == "" {
			t.Errorf("%s is allowed, want refused", s)
		}
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001::1"} {
		if why := Refused(netip.MustParseAddr(s)); why != "" {
			t.Errorf("%s refused as %s, want allowed", s, why)
		}
	}
	if Refused(netip.Addr{}) == "" {
		t.Error("the zero address is allowed")
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
		{"https://[::ffff:10.0.0.1]/", false, "IPv4-mapped"},
		{"https://localhost/", false, "loopback"},
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
	var d net.Dialer
	if Dialer(false).Control == nil || d.Control != nil {
		t.Error("the safe dialer has no connect-time check")
	}
}
