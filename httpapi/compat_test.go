package httpapi

import (
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"notpanel/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestClassicCompat replays what stock reseller clients send (the PHP Api
// class that panels hand out: key, action, service, link, quantity, runs,
// interval, comma-joined orders and refills, a browser user agent) and
// compares each answer with the transcript in testdata/TestClassicCompat.
// Run with -update to rewrite the transcript after a deliberate change.
func TestClassicCompat(t *testing.T) {
	e := newEnv(t)
	drip := storeServiceWithDripfeed(t, e)
	steps := []struct {
		name string
		form url.Values
	}{
		{"services", url.Values{"action": {"services"}}},
		{"balance", url.Values{"action": {"balance"}}},
		{"add", url.Values{"action": {"add"}, "service": {"1"}, "link": {"https://instagram.com/p/abc"}, "quantity": {"1000"}}},
		{"add-dripfeed", url.Values{"action": {"add"}, "service": {drip}, "link": {"https://instagram.com/p/abc"}, "quantity": {"100"}, "runs": {"3"}, "interval": {"30"}}},
		{"add-bad-service", url.Values{"action": {"add"}, "service": {"9999"}, "link": {"https://instagram.com/p/abc"}, "quantity": {"1000"}}},
		{"status", url.Values{"action": {"status"}, "order": {"1"}}},
		{"multi-status", url.Values{"action": {"status"}, "orders": {"1,2,404"}}},
		{"cancel", url.Values{"action": {"cancel"}, "orders": {"1,404"}}},
		{"refill-not-allowed", url.Values{"action": {"refill"}, "order": {"2"}}},
		{"refill-without-action", url.Values{"order": {"2"}}},
		{"multi-refill-status", url.Values{"action": {"refill_status"}, "refills": {"1,2"}}},
		{"bad-key", url.Values{"action": {"balance"}, "key": {"wrong"}}},
	}
	dir := filepath.Join("testdata", t.Name())
	for _, s := range steps {
		form := url.Values{"key": {e.key}}
		for k, v := range s.form {
			form[k] = v
		}
		req, _ := http.NewRequest("POST", e.srv.URL+"/classic/api/v2", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", "Mozilla/4.0 (compatible; MSIE 5.01; Windows NT 5.0)")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		delete(s.form, "key")
		got, _ := json.MarshalIndent(map[string]any{"request": s.form, "status": resp.StatusCode, "answer": body}, "", "  ")
		path := filepath.Join(dir, s.name+".json")
		if *update {
			os.MkdirAll(dir, 0o755)
			os.WriteFile(path, append(got, '\n'), 0o644)
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run go test -run TestClassicCompat -update to create it)", s.name, err)
		}
		if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
			t.Errorf("%s: answer changed:\n%s\nwant (%s):\n%s", s.name, got, path, want)
		}
	}
}

func storeServiceWithDripfeed(t *testing.T, e *env) string {
	t.Helper()
	on := true
	if _, err := e.db.UpdateService(t.Context(), e.svc.ID, store.ServicePatch{Dripfeed: &on}); err != nil {
		t.Fatal(err)
	}
	return "1"
}
