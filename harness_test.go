package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"notpanel/simulator"
	"notpanel/store"
	"notpanel/store/storetest"
)

var kills = flag.Int("kills", 20, "how often TestKillHarness kills the server")

// TestKillHarness runs `notpanel serve` (this test binary standing in for
// it) against a simulated provider while clients place and cancel orders,
// retrying with their request_id, and kills the server with SIGKILL at
// random moments. After every kill the database must pass integrity_check
// and the audit and hold every order a client was told about; at the end
// the provider must hold at most one order per order placed.
func TestKillHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a server process many times")
	}
	sim := simulator.New("sim-key", time.Now, 3)
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	path := dbPath(t)
	db := openStore(t, path)
	ctx := context.Background()
	if _, err := db.AddProvider(ctx, store.Provider{Name: "sim", URL: simSrv.URL, APIKey: "sim-key"}); err != nil {
		t.Fatal(err)
	}
	svc, err := db.AddService(ctx, store.Service{Name: "F", Category: "I", Type: store.TypeDefault, Rate: 1_000_000,
		Min: 50, Max: 10_000, Cancel: true, ProviderService: "1"}, "sim")
	if err != nil {
		t.Fatal(err)
	}
	_, key := storetest.Account(t, db, "alice", 1_000_000_000)
	db.SetTier(ctx, store.Tier{Name: "wide", KeyPerMin: 1e6, AccountPerMin: 1e6})
	db.SetAccountTier(ctx, "alice", "wide")

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "--db", path, "--log-level", "error", "serve", "--listen", addr,
			"--ip-per-min", "1000000000", "--worker-interval", "50ms", "--sync-interval", "1s")
		cmd.Env = append(os.Environ(), "NOTPANEL_RUN_MAIN=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				return cmd
			}
		}
		t.Fatal("server did not start")
		return nil
	}

	var mu sync.Mutex
	acked := map[string]string{} // order id → link
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(v url.Values) (int, map[string]any, error) {
		v.Set("key", key)
		resp, err := client.PostForm("http://"+addr+"/api/v2", v)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out, nil
	}
	for c := range 4 {
		wg.Go(func() {
			for seq := 0; ; seq++ {
				link := fmt.Sprintf("https://instagram.com/p/c%d-%d", c, seq)
				form := url.Values{"action": {"add"}, "service": {count(svc.ID)}, "request_id": {link},
					"link": {link}, "quantity": {"100"}}
				for { // the same request until it is answered
					select {
					case <-stop:
						return
					default:
					}
					code, out, err := post(form)
					if err == nil && code == 200 {
						mu.Lock()
						acked[out["order"].(string)] = link
						mu.Unlock()
						if seq%3 == 0 {
							post(url.Values{"action": {"cancel"}, "order": {out["order"].(string)}})
						}
						break
					}
					if err == nil && code != 500 && code != 499 {
						t.Errorf("add answered %d %v", code, out)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	check := func(round int) {
		t.Helper()
		db := openStore(t, path)
		var ok string
		if err := storetest.Raw(t, db).QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
			t.Fatalf("after kill %d: integrity_check %q %v", round, ok, err)
		}
		storetest.Audit(t, db)
		mu.Lock()
		ids := make([]string, 0, len(acked))
		for id := range acked {
			ids = append(ids, id)
		}
		mu.Unlock()
		for _, id := range ids {
			if _, err := db.FindOrder(ctx, id); err != nil {
				t.Fatalf("after kill %d: acknowledged order %s is gone: %v", round, id, err)
			}
		}
		db.Close()
	}
	cmd := start()
	for round := 1; round <= *kills; round++ {
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		check(round)
		cmd = start()
	}
	close(stop)
	wg.Wait()
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	check(*kills + 1)
	for link, n := range sim.Links() {
		if n > 1 {
			t.Errorf("the provider holds %d orders for %s", n, link)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < *kills {
		t.Errorf("only %d orders acknowledged over %d kills", len(acked), *kills)
	}
	t.Logf("%d orders acknowledged, %d at the provider, %d kills", len(acked), len(sim.Links()), *kills)
}
