package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"notpanel/store"
)

func TestFixtures(t *testing.T) {
	if s := Schema(t); !strings.Contains(s, "CREATE TABLE orders") {
		t.Fatalf("Schema did not find schema.sql: %.80q", s)
	}
	db := Open(t)
	svc := Service(t, db, store.Service{Name: "F", Rate: 1_000_000, Min: 1, Max: 10})
	if svc.Provider != "upstream" || svc.Type != store.TypeDefault || svc.Category == "" {
		t.Errorf("Service did not fill in defaults: %+v", svc)
	}
	a, key := Account(t, db, "alice", 5_000_000)
	p, err := db.Authenticate(context.Background(), key)
	if err != nil || p.AccountID != a.ID || a.Balance != 5_000_000 {
		t.Errorf("Account: %+v %v %+v", p, err, a)
	}
	if _, err := Raw(t, db).Exec(`UPDATE accounts SET balance = balance + 1 WHERE id = ?`, a.ID); err != nil {
		t.Fatal(err)
	}
	vs, _ := db.Audit(context.Background())
	if len(vs) == 0 {
		t.Error("a balance changed behind the ledger's back was not caught")
	}
}

func TestClock(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	c := NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	done := make(chan struct{})
	go func() { c.Advance(time.Minute); close(done) }() // moved from another goroutine
	<-done
	c.Advance(time.Second)
	if got := c.Now().Sub(start); got != time.Minute+time.Second {
		t.Errorf("moved %v, want 1m1s", got)
	}
}

func TestOpenWith(t *testing.T) {
	c := NewClock(time.Unix(1_800_000_000, 0))
	db := OpenWith(t, store.Options{Now: c.Now})
	c.Advance(time.Hour)
	a, _ := Account(t, db, "alice", 0)
	if want := int64(1_800_000_000 + 3600); a.Created != want {
		t.Errorf("account created at %d, want the clock's %d", a.Created, want)
	}
}
