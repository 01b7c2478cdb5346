// Package ratelimit keeps the token buckets that limit API requests: per
// client IP, per API key and per account (API.md §4). A bucket of N a
// minute holds N tokens and refills continuously at N/60 a second. Buckets
// that nobody uses are forgotten, and the number kept is capped, so memory
// stays bounded however many clients pass by.
package ratelimit

import (
	"hash/maphash"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Buckets is a set of token buckets by name (an IP, a key id, an account
// id). It is safe for concurrent use.
type Buckets struct {
	shards [shardCount]shard
	seed   maphash.Seed
	max    int // per shard
}

const shardCount = 32

// A shard keeps its buckets in two generations: every window the older one
// is dropped. A bucket untouched for a whole window has refilled (a window
// is at least a minute, the time any bucket takes to fill), so forgetting
// it changes nothing. When a shard holds too many buckets it turns its
// generation early, which forgets the least recently used half.
type shard struct {
	mu        sync.Mutex
	cur, prev map[string]*rate.Limiter
	turned    time.Time
}

// window is how long a generation lasts.
const window = time.Minute

// New returns buckets that keep at most about maxBuckets at a time.
func New(maxBuckets int) *Buckets {
	b := &Buckets{seed: maphash.MakeSeed(), max: max(maxBuckets/shardCount, 16)}
	for i := range b.shards {
		b.shards[i].cur = map[string]*rate.Limiter{}
	}
	return b
}

// State is a bucket after a request was counted, or refused.
type State struct {
	OK        bool
	Limit     int           // tokens a minute
	Remaining int           // whole tokens left
	Reset     time.Time     // when the bucket is full again
	RetryIn   time.Duration // when refused: until the next token
}

// Take counts one request against the bucket called name, which holds
// perMin tokens a minute, at time now.
func (b *Buckets) Take(name string, perMin int, now time.Time) State {
	l := b.bucket(name, perMin, now)
	st := State{Limit: perMin, OK: l.AllowN(now, 1)}
	tokens := l.TokensAt(now)
	st.Remaining = max(int(math.Floor(tokens)), 0)
	perSec := float64(perMin) / 60
	st.Reset = now.Add(time.Duration((float64(perMin) - tokens) / perSec * float64(time.Second)))
	if !st.OK {
		st.RetryIn = time.Duration((1 - tokens) / perSec * float64(time.Second))
	}
	return st
}

// Peek reports the bucket called name without counting a request.
func (b *Buckets) Peek(name string, perMin int, now time.Time) State {
	l := b.bucket(name, perMin, now)
	tokens := l.TokensAt(now)
	perSec := float64(perMin) / 60
	return State{OK: tokens >= 1, Limit: perMin, Remaining: max(int(math.Floor(tokens)), 0),
		Reset: now.Add(time.Duration((float64(perMin) - tokens) / perSec * float64(time.Second)))}
}

// bucket finds or makes the bucket, with its limit brought up to date (an
// operator may change a tier while its buckets live).
func (b *Buckets) bucket(name string, perMin int, now time.Time) *rate.Limiter {
	s := &b.shards[maphash.String(b.seed, name)%shardCount]
	s.mu.Lock()
	defer s.mu.Unlock()
	switch idle := now.Sub(s.turned); {
	case idle >= 2*window:
		// Both generations are older than a window: all full, all gone.
		s.prev, s.cur, s.turned = nil, map[string]*rate.Limiter{}, now
	case idle >= window || len(s.cur) >= b.max:
		s.prev, s.cur, s.turned = s.cur, make(map[string]*rate.Limiter, len(s.cur)), now
	}
	l, ok := s.cur[name]
	if !ok {
		if l, ok = s.prev[name]; ok {
			delete(s.prev, name)
		} else {
			l = rate.NewLimiter(rate.Limit(float64(perMin)/60), perMin)
		}
		s.cur[name] = l
	}
	if l.Burst() != perMin {
		l.SetLimitAt(now, rate.Limit(float64(perMin)/60))
		l.SetBurstAt(now, perMin)
	}
	return l
}

// Len is how many buckets are kept now.
func (b *Buckets) Len() int {
	n := 0
	for i := range b.shards {
		s := &b.shards[i]
		s.mu.Lock()
		n += len(s.cur) + len(s.prev)
		s.mu.Unlock()
	}
	return n
}
