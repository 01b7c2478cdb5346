package upstream

import (
	"reflect"
	"testing"
	"time"

	"notpanel/store"
)

func TestStatuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		ids  []string
		body string
		want map[string]OrderStatus
	}{
		{"MixedTypes", []string{"1", "2", "3"},
			`{"1":{"status":"Completed","start_count":"157","remains":0,"charge":"0.27","currency":"USD"},
			  "2":{"status":"In progress","start_count":157,"remains":"157.0"},
			  "3":{"status":"Partial","start_count":" 12 ","remains":-4}}`,
			map[string]OrderStatus{
				"1": {Status: store.StatusCompleted, Raw: "Completed", StartCount: 157, Remains: 0, HasRemains: true},
				"2": {Status: store.StatusInProgress, Raw: "In progress", StartCount: 157, Remains: 157, HasRemains: true},
				"3": {Status: store.StatusPartial, Raw: "Partial", StartCount: 12, Remains: 0, HasRemains: true},
			}},
		{"PerRowErrors", []string{"7", "8", "9"},
			`{"7":{"error":"Incorrect order ID"},"8":"garbage","9":{"status":"Pending"}}`,
			map[string]OrderStatus{
				"7": {Err: "Incorrect order ID"},
				"8": {Err: "malformed row"},
				"9": {Status: store.StatusProcessing, Raw: "Pending"},
			}},
		{"UnknownStatusKeptRaw", []string{"5"},
			`{"5":{"status":"Awaiting moderation","remains":"100"}}`,
			map[string]OrderStatus{"5": {Raw: "Awaiting moderation", Remains: 100, HasRemains: true}}},
		{"SingleUnkeyed", []string{"42"},
			`{"status":"Canceled","start_count":"0","remains":"1000"}`,
			map[string]OrderStatus{"42": {Status: store.StatusCancelled, Raw: "Canceled", Remains: 1000, HasRemains: true}}},
		{"MissingIDsAbsent", []string{"1", "2"}, `{"1":{"status":"Refunded"}}`,
			map[string]OrderStatus{"1": {Status: store.StatusRefunded, Raw: "Refunded"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, answer(200, tt.body))
			got, err := f.client(store.DialectClassic, time.Second).Statuses(ctx, tt.ids)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Statuses =\n%+v\nwant\n%+v", got, tt.want)
			}
			form := f.last(t)
			if form.Get("action") != "status" || form.Get("orders") != joinIDs(tt.ids) {
				t.Errorf("sent %v", form)
			}
		})
	}
}

func joinIDs(ids []string) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ","
		}
		s += id
	}
	return s
}

func TestBulkAnswersThatAreNotRows(t *testing.T) {
	for _, body := range []string{`[1,2]`, `"ok"`, `{"status":"Completed"}`, `true`, htmlPage} {
		f := newFake(t, answer(200, body))
		c := f.client(store.DialectClassic, time.Second)
		ids := []string{"1", "2"}
		if _, err := c.Statuses(ctx, ids); body != `{"status":"Completed"}` && ClassOf(err) != Temporary {
			t.Errorf("Statuses(%s): %v, want temporary", body, err)
		}
		if _, err := c.Cancels(ctx, ids); ClassOf(err) != Temporary || err == nil {
			t.Errorf("Cancels(%s): %v, want temporary", body, err)
		}
		if _, err := c.RefillStatuses(ctx, ids); ClassOf(err) != Temporary || err == nil {
			t.Errorf("RefillStatuses(%s): %v, want temporary", body, err)
		}
	}
}

func TestCancels(t *testing.T) {
	const refused = "provider did not accept the cancel"
	for _, tt := range []struct {
		name string
		ids  []string
		body string
		want map[string]string
	}{
		{"ClassicRows", []string{"9", "10", "11", "12", "13"},
			`[{"order":9,"cancel":1},{"order":"10","cancel":{"error":"Incorrect order ID"}},
			  {"order":11,"error":"Order cannot be canceled"},{"order":12,"cancel":0},{"order":13,"cancel":"1"}]`,
			map[string]string{"9": "", "10": "Incorrect order ID", "11": "Order cannot be canceled", "12": refused, "13": ""}},
		{"NotpanelRows", []string{"ord_A", "ord_B"},
			`[{"order":"ord_A","cancel":"ord_A"},{"order":"ord_B","error":"Order cannot be cancelled (already completed)"}]`,
			map[string]string{"ord_A": "", "ord_B": "Order cannot be cancelled (already completed)"}},
		{"BooleansAndText", []string{"1", "2", "3", "4"},
			`[{"order":1,"cancel":true},{"order":2,"cancel":false},{"order":3,"cancel":"Order is already completed"},{"order":4,"cancel":null}]`,
			map[string]string{"1": "", "2": refused, "3": "Order is already completed", "4": refused}},
		// A "no" never reads as "yes", whatever the ids: a classic row
		// echoing its own number, 0 included, is not a notpanel echo.
		{"EchoedNumbersAreNotYes", []string{"0", "7", "8", "9"},
			`[{},{"order":"0","cancel":0},{"order":7,"cancel":7},{"order":8,"cancel":"8"},{"order":9,"cancel":2}]`,
			map[string]string{"0": refused, "7": "7", "8": "8", "9": "2"}},
		{"SingleObject", []string{"9"}, `{"cancel":1}`, map[string]string{"9": ""}},
		{"SingleRefused", []string{"9"}, `{"cancel":{"error":"Cancel is disabled"}}`, map[string]string{"9": "Cancel is disabled"}},
		{"RowsWithoutIDsSkipped", []string{"1"}, `[{"cancel":1},{"order":null,"cancel":1},{"order":1,"cancel":1}]`,
			map[string]string{"1": ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, answer(200, tt.body))
			got, err := f.client(store.DialectClassic, time.Second).Cancels(ctx, tt.ids)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Cancels = %q, want %q", got, tt.want)
			}
			if form := f.last(t); form.Get("action") != "cancel" || form.Get("orders") != joinIDs(tt.ids) {
				t.Errorf("sent %v", form)
			}
		})
	}
}

func TestRefill(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		status     int
		want       string
		class      Class
	}{
		{"StringID", `{"refill":"55"}`, 200, "55", 0},
		{"NumberID", `{"refill":56}`, 200, "56", 0},
		{"ZeroID", `{"refill":0}`, 200, "", Temporary},
		{"NoID", `{}`, 200, "", Temporary},
		{"Refused", `{"error":"Refill is not supported for this service"}`, 200, "", Permanent},
		{"HTML", htmlPage, 200, "", Temporary},
		{"BadKey", `{"error":"Invalid API key"}`, 200, "", Account},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, answer(tt.status, tt.body))
			got, err := f.client(store.DialectClassic, time.Second).Refill(ctx, "9001")
			if tt.want != "" {
				if got != tt.want || err != nil {
					t.Fatalf("Refill = %q, %v; want %q", got, err, tt.want)
				}
			} else if err == nil || ClassOf(err) != tt.class {
				t.Fatalf("Refill = %q, %v; want a %s error", got, err, tt.class)
			}
			if form := f.last(t); form.Get("action") != "refill" || form.Get("order") != "9001" {
				t.Errorf("sent %v", form)
			}
		})
	}
}

func TestRefillStatuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		ids  []string
		body string
		want map[string]RefillState
	}{
		{"Rows", []string{"1", "2", "3", "4", "5"},
			`[{"refill":1,"status":"Completed"},{"refill":"2","status":{"error":"Refill not found"}},
			  {"refill":3,"error":"Incorrect refill ID"},{"refill":4,"status":"Being checked"},{"refill":5,"status":"In progress"}]`,
			map[string]RefillState{
				"1": {Status: store.RefillCompleted, Raw: "Completed"},
				"2": {Err: "Refill not found"},
				"3": {Err: "Incorrect refill ID"},
				"4": {Raw: "Being checked"},
				"5": {Status: store.RefillProcessing, Raw: "In progress"},
			}},
		{"SingleObject", []string{"8"}, `{"status":"Rejected"}`,
			map[string]RefillState{"8": {Status: store.RefillRejected, Raw: "Rejected"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, answer(200, tt.body))
			got, err := f.client(store.DialectClassic, time.Second).RefillStatuses(ctx, tt.ids)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RefillStatuses =\n%+v\nwant\n%+v", got, tt.want)
			}
			if form := f.last(t); form.Get("action") != "refill_status" || form.Get("refills") != joinIDs(tt.ids) {
				t.Errorf("sent %v", form)
			}
		})
	}
}

func TestBalance(t *testing.T) {
	for _, tt := range []struct {
		body     string
		want     int64
		currency string
		ok       bool
	}{
		{`{"balance":"100.84292","currency":"USD"}`, 100_842_920, "USD", true},
		{`{"balance":100.5,"currency":"EUR"}`, 100_500_000, "EUR", true},
		{`{"balance":"12.123456789"}`, 12_123_456, "", true},
		{`{"balance":"abc","currency":"USD"}`, 0, "", false},
		{`{"currency":"USD"}`, 0, "", false},
		{`{"error":"Invalid API key"}`, 0, "", false},
	} {
		f := newFake(t, answer(200, tt.body))
		got, cur, err := f.client(store.DialectClassic, time.Second).Balance(ctx)
		if tt.ok != (err == nil) || got != tt.want || cur != tt.currency {
			t.Errorf("Balance(%s) = %d, %q, %v; want %d, %q (ok %v)", tt.body, got, cur, err, tt.want, tt.currency, tt.ok)
		}
		if form := f.last(t); form.Get("action") != "balance" || form.Get("key") != "k3y" {
			t.Errorf("sent %v", form)
		}
	}
}

func TestServices(t *testing.T) {
	body := `[
	 {"service":1,"name":"Followers","type":"Default","category":"Instagram","rate":"0.90","min":"50","max":"10000","refill":true,"cancel":"1","dripfeed":false},
	 {"service":"2","name":"Comments","type":"Custom Comments","category":"YouTube","rate":12,"min":1,"max":"100.0","refill":"0","cancel":0,"dripfeed":"yes"},
	 {"service":3,"name":"No type","category":"TikTok","rate":"0.0512345678","min":100,"max":100000},
	 {"name":"No id","rate":"1","min":1,"max":2},
	 {"service":5,"name":"No rate","min":1,"max":2},
	 {"service":6,"name":"Min above max","rate":"1","min":10,"max":2},
	 {"service":7,"name":"Negative rate","rate":"-1","min":1,"max":2},
	 {"service":8,"name":"","rate":"1","min":1,"max":2},
	 {"service":9,"name":"Zero min","rate":"1","min":0,"max":2},
	 {"service":10,"name":"Bad max","rate":"1","min":1,"max":"lots"}
	]`
	f := newFake(t, answer(200, body))
	got, skipped, err := f.client(store.DialectClassic, time.Second).Services(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Service{
		{ID: "1", Name: "Followers", Type: "Default", Category: "Instagram", Rate: 900_000, Min: 50, Max: 10000, Refill: true, Cancel: true},
		{ID: "2", Name: "Comments", Type: "Custom Comments", Category: "YouTube", Rate: 12_000_000, Min: 1, Max: 100, Dripfeed: true},
		{ID: "3", Name: "No type", Type: "Default", Category: "TikTok", Rate: 51_234, Min: 100, Max: 100000},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Services =\n%+v\nwant\n%+v", got, want)
	}
	if skipped != 7 {
		t.Errorf("skipped %d, want 7", skipped)
	}
	for _, bad := range []string{`{"1":{}}`, htmlPage} {
		f := newFake(t, answer(200, bad))
		if _, _, err := f.client(store.DialectClassic, time.Second).Services(ctx); err == nil || ClassOf(err) != Temporary {
			t.Errorf("Services(%.20s): %v, want temporary", bad, err)
		}
	}
}
