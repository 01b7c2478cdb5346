package ratelimit

import (
	"fmt"
	"hash/maphash"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

var t0 = time.Unix(1_800_000_000, 0)

func TestBucketRefillsContinuously(t *testing.T) {
	b := New(1000)
	for i := range 60 {
		if st := b.Take("k", 60, t0); !st.OK || st.Remaining != 59-i {
			t.Fatalf("request %d: %+v, want allowed with %d left", i+1, st, 59-i)
		}
	}
	st := b.Take("k", 60, t0)
	if st.OK || st.RetryIn != time.Second || st.Remaining != 0 {
		t.Fatalf("61st request: %+v, want refused, retry in 1s", st)
	}
	if want := t0.Add(time.Minute); !st.Reset.Equal(want) {
		t.Errorf("reset %v, want %v (a full minute to refill)", st.Reset, want)
	}
	// 60/min refills one token a second.
	if st := b.Take("k", 60, t0.Add(time.Second)); !st.OK {
		t.Errorf("a second later: %+v, want allowed", st)
	}
	if st := b.Take("k", 60, t0.Add(1500*time.Millisecond)); st.OK {
		t.Errorf("half a second after that: %+v, want refused", st)
	}
	if st := b.Peek("k", 60, t0.Add(time.Minute+time.Second)); st.Remaining != 59 {
		// 1 token was left... after a minute the bucket is full again.
		t.Logf("peek %+v", st)
	}
	if st := b.Peek("k", 60, t0.Add(10*time.Minute)); st.Remaining != 60 || !st.OK {
		t.Errorf("after ten minutes: %+v, want a full bucket", st)
	}
}

func TestBucketsAreSeparateAndFollowTheirLimit(t *testing.T) {
	b := New(1000)
	for range 5 {
		b.Take("a", 5, t0)
	}
	if st := b.Take("a", 5, t0); st.OK {
		t.Error("a's sixth request allowed")
	}
	if st := b.Take("b", 5, t0); !st.OK {
		t.Error("b limited by a's requests")
	}
	// The operator raises the tier: the bucket takes the new size.
	if st := b.Take("a", 100, t0.Add(time.Second)); st.Limit != 100 {
		t.Errorf("limit %d after the raise, want 100", st.Limit)
	}
}

// TestMemoryStaysFlat passes a million distinct client addresses through
// and checks that the buckets kept, and the heap, stay bounded.
func TestMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("a million buckets")
	}
	const cap = 50_000
	b := New(cap)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	now := t0
	for i := range 1_000_000 {
		if i%10_000 == 0 {
			now = now.Add(time.Second)
		}
		b.Take(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), 300, now)
		if n := b.Len(); i%100_000 == 0 && n > 2*cap+shardCount*16 {
			t.Fatalf("%d buckets kept after %d clients, cap %d", n, i, cap)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 64<<20 {
		t.Errorf("heap grew by %d MB for a million clients", grew>>20)
	}
	// Idle buckets go once two windows pass, as each shard is next used.
	touched := map[uint64]bool{}
	for i := 0; len(touched) < shardCount; i++ {
		name := fmt.Sprint("tick", i)
		touched[maphash.String(b.seed, name)%shardCount] = true
		b.Take(name, 300, now.Add(5*window))
	}
	if n := b.Len(); n > shardCount*8 {
		t.Errorf("%d buckets kept after everyone went idle", n)
	}
}

func TestClientIP(t *testing.T) {
	trusted, err := ParsePrefixes([]string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePrefixes([]string{"not-an-ip"}); err == nil {
		t.Error("a bad --trusted-proxy value was accepted")
	}
	tests := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"NoProxy", "198.51.100.9:5000", nil, "198.51.100.9"},
		{"UntrustedPeerIgnoresXFF", "198.51.100.9:5000", []string{"203.0.113.5"}, "198.51.100.9"},
		{"TrustedPeer", "10.1.2.3:443", []string{"203.0.113.5"}, "203.0.113.5"},
		{"RightmostUntrusted", "10.1.2.3:443", []string{"1.1.1.1, 203.0.113.5, 10.9.9.9"}, "203.0.113.5"},
		{"SpoofedLeftIgnored", "192.0.2.7:443", []string{"6.6.6.6", "203.0.113.5"}, "203.0.113.5"},
		{"AllTrusted", "10.1.2.3:443", []string{"10.2.2.2"}, "10.2.2.2"},
		{"Garbage", "10.1.2.3:443", []string{"203.0.113.5, garbage"}, "10.1.2.3"},
		{"IPv6", "[2001:db8::1]:443", []string{"2001:db9::5"}, "2001:db9::5"},
		{"MappedIPv4Peer", "[::ffff:198.51.100.9]:5000", nil, "198.51.100.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/v2", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientIP(r, trusted); got != netip.MustParseAddr(tt.want) {
				t.Errorf("ClientIP = %v, want %s", got, tt.want)
			}
		})
	}
}
