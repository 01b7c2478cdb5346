package store_test

import (
	"strings"
	"testing"

	"notpanel/store"
)

func TestPlaceOrder(t *testing.T) {
	const link = "https://instagram.com/p/abc"
	tests := []struct {
		name                    string
		svc                     string
		in                      store.OrderInput
		wantQuantity, wantUnits int64
		wantCharge              int64
		wantRuns, wantInterval  int64
		wantExtra               string
		wantLink                string // link when not the default
	}{
		{name: "Default", svc: store.TypeDefault, in: store.OrderInput{Quantity: "1000"},
			wantQuantity: 1000, wantUnits: 1000, wantCharge: 900_000},
		{name: "DefaultAtMin", svc: store.TypeDefault, in: store.OrderInput{Quantity: "50"},
			wantQuantity: 50, wantUnits: 50, wantCharge: 45_000},
		{name: "DefaultAtMax", svc: store.TypeDefault, in: store.OrderInput{Quantity: "10000"},
			wantQuantity: 10_000, wantUnits: 10_000, wantCharge: 9_000_000},
		// ceil(900000 × 100 × 5 / 1000)
		{name: "DripFeedBillsQuantityTimesRuns", svc: store.TypeDefault, in: store.OrderInput{Quantity: "100", Runs: "5", Interval: "10"},
			wantQuantity: 100, wantUnits: 500, wantCharge: 450_000, wantRuns: 5, wantInterval: 10},
		{name: "PackageBillsMin", svc: store.TypePackage, in: store.OrderInput{Quantity: "999999"},
			wantQuantity: 100, wantUnits: 100, wantCharge: 500_000},
		{name: "PackageWithoutQuantity", svc: store.TypePackage,
			wantQuantity: 100, wantUnits: 100, wantCharge: 500_000},
		{name: "CustomCommentsCountsNonEmptyLines", svc: store.TypeComments,
			in:           store.OrderInput{Quantity: "50", Comments: "Nice!\n\n  Great post \r\nwow\n\n"},
			wantQuantity: 3, wantUnits: 3, wantCharge: 6000, wantExtra: `{"comments":"Nice!\nGreat post\nwow"}`},
		// A lone \r, a vertical tab, a form feed, NEL and U+2028 split lines
		// as \n does: a provider splitting on any of them must not deliver
		// more than was billed. What is forwarded is joined by \n alone.
		{name: "CustomCommentsSplitOnEveryLineBreak", svc: store.TypeComments,
			in:           store.OrderInput{Comments: "one\rtwo\r\nthree\vfour\ffive\u0085six\u2028seven\u2029eight\tstill eight"},
			wantQuantity: 8, wantUnits: 8, wantCharge: 16_000, wantExtra: `{"comments":"one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\tstill eight"}`},
		{name: "CustomCommentsLineOf1000Characters", svc: store.TypeComments,
			in:           store.OrderInput{Comments: strings.Repeat("я", 1000) + "\rb"},
			wantQuantity: 2, wantUnits: 2, wantCharge: 4000, wantExtra: `{"comments":"` + strings.Repeat("я", 1000) + `\nb"}`},
		{name: "MentionsCustomList", svc: store.TypeMentionsList, in: store.OrderInput{Usernames: "bob\ncarol\n"},
			wantQuantity: 2, wantUnits: 2, wantCharge: 3000, wantExtra: `{"usernames":"bob\ncarol"}`},
		{name: "CommentLikes", svc: store.TypeCommentLikes, in: store.OrderInput{Quantity: "100", Username: "bob"},
			wantQuantity: 100, wantUnits: 100, wantCharge: 30_000, wantExtra: `{"username":"bob"}`},
		// ceil(278190 × 11 / 1000) = ceil(3060.09)
		{name: "PollRoundsUp", svc: store.TypePoll, in: store.OrderInput{Quantity: "11", AnswerNumber: "2"},
			wantQuantity: 11, wantUnits: 11, wantCharge: 3061, wantExtra: `{"answer_number":"2"}`},
		{name: "PollAnswerNumberNormalised", svc: store.TypePoll, in: store.OrderInput{Quantity: "10", AnswerNumber: "007"},
			wantQuantity: 10, wantUnits: 10, wantCharge: 2782, wantExtra: `{"answer_number":"7"}`},
		{name: "FreeService", svc: "Free", in: store.OrderInput{Quantity: "10"},
			wantQuantity: 10, wantUnits: 10, wantCharge: 0},
		{name: "LinkOf1000Bytes", svc: store.TypeDefault, in: store.OrderInput{Quantity: "50", Link: "https://x.example/" + strings.Repeat("a", 1000-18)},
			wantQuantity: 50, wantUnits: 50, wantCharge: 45_000, wantLink: "https://x.example/" + strings.Repeat("a", 1000-18)},
		{name: "HTTPLinkWithQueryAndUnicode", svc: store.TypeDefault, in: store.OrderInput{Quantity: "50", Link: "http://t.me/chan?x=1&y=é#top"},
			wantQuantity: 50, wantUnits: 50, wantCharge: 45_000, wantLink: "http://t.me/chan?x=1&y=é#top"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 100_000_000)
			in := tt.in
			in.ServiceID, in.RequestID = f.svc[tt.svc].ID, "r1"
			if in.Link == "" {
				in.Link = link
			}
			id, err := f.db.PlaceOrder(ctx, f.acct.ID, in)
			if err != nil {
				t.Fatalf("PlaceOrder: %v", err)
			}
			if _, ok := store.ParseID(store.PrefixOrder, id); !ok {
				t.Errorf("order id %q is not an ord_ id", id)
			}
			got := f.order(t, id)
			want := store.Order{ID: id, Number: got.Number, AccountID: f.acct.ID, ServiceID: in.ServiceID,
				Link: in.Link, Quantity: tt.wantQuantity, Runs: tt.wantRuns, Interval: tt.wantInterval,
				Units: tt.wantUnits, Extra: tt.wantExtra, Charge: tt.wantCharge, Status: store.StatusPending,
				Remains: tt.wantUnits, Created: got.Created, Updated: got.Updated}
			if got != want {
				t.Errorf("order =\n%+v\nwant\n%+v", got, want)
			}
			if b := f.balance(t, f.acct.ID); b != 100_000_000-tt.wantCharge {
				t.Errorf("balance = %d, want %d", b, 100_000_000-tt.wantCharge)
			}
			rows := f.checkLedger(t, f.acct.ID)
			last := rows[len(rows)-1]
			if len(rows) != 2 || last.Kind != store.KindCharge || last.Amount != -tt.wantCharge || last.OrderID != id {
				t.Errorf("ledger = %+v, want the deposit then a charge of %d for %s", rows, tt.wantCharge, id)
			}
		})
	}
}

func TestPlaceOrderRefuses(t *testing.T) {
	f := newFixture(t, 100_000_000)
	poor := fundedAccount(t, f, "poor", 44_999)
	enabled := false
	expensive := addService(t, f, store.Service{Name: "Gold", Rate: store.MaxAmount, Min: 1, Max: store.MaxQuantity})
	off := addService(t, f, store.Service{Name: "Old", Rate: 1000, Min: 1, Max: 10})
	if _, err := f.db.UpdateService(ctx, off.ID, store.ServicePatch{Enabled: &enabled}); err != nil {
		t.Fatal(err)
	}
	def, comments := f.svc[store.TypeDefault].ID, f.svc[store.TypeComments].ID
	invalid := func(p string) string { return "Invalid parameter: " + p }
	tests := []struct {
		name    string
		acct    int64 // f.acct when 0
		in      store.OrderInput
		code    store.Code
		message string
	}{
		{"ServiceNotFound", 0, store.OrderInput{ServiceID: 9999, Quantity: "100"}, store.NotFound, "Service not found"},
		{"ServiceDisabled", 0, store.OrderInput{ServiceID: off.ID, Quantity: "5"}, store.NotFound, "Service not found"},
		{"InsufficientBalance", poor, store.OrderInput{ServiceID: def, Quantity: "50"}, store.Invalid, "Insufficient balance"},
		{"QuantityBelowMin", 0, store.OrderInput{ServiceID: def, Quantity: "49"}, store.Invalid, "Quantity less than minimal 50"},
		{"QuantityZero", 0, store.OrderInput{ServiceID: def, Quantity: "0"}, store.Invalid, "Quantity less than minimal 50"},
		{"QuantityAboveMax", 0, store.OrderInput{ServiceID: def, Quantity: "10001"}, store.Invalid, "Quantity more than maximal 10000"},
		{"CommentsAboveMax", 0, store.OrderInput{ServiceID: comments, Comments: strings.Repeat("hi\n", 101)}, store.Invalid, "Quantity more than maximal 100"},
		{"MentionsBelowMin", 0, store.OrderInput{ServiceID: f.svc[store.TypeMentionsList].ID, Usernames: "bob\n\n"}, store.Invalid, "Quantity less than minimal 2"},
		{"LinkFTP", 0, store.OrderInput{ServiceID: def, Quantity: "100", Link: "ftp://instagram.com/p/abc"}, store.Invalid, "Invalid link"},
		{"LinkNoHost", 0, store.OrderInput{ServiceID: def, Quantity: "100", Link: "https://"}, store.Invalid, "Invalid link"},
		{"LinkPortOnly", 0, store.OrderInput{ServiceID: def, Quantity: "100", Link: "https://:443/p"}, store.Invalid, "Invalid link"},
		{"LinkNoScheme", 0, store.OrderInput{ServiceID: def, Quantity: "100", Link: "instagram.com/p/abc"}, store.Invalid, "Invalid link"},
		{"LinkSpace", 0, store.OrderInput{ServiceID: def, Quantity: "100", Link: "https://instagram.com/p/a b"}, store.Invalid, "Invalid link"},
		{"LinkNewline", 0, store.OrderInput{ServiceID: def, Quantity: "100", Link: "https://instagram.com/p/a\nb"}, store.Invalid, "Invalid link"},
		{"LinkUserinfo", 0, store.OrderInput{ServiceID: def, Quantity: "100", Link: "https://u:p@instagram.com/"}, store.Invalid, "Invalid link"},
		{"LinkJavascript", 0, store.OrderInput{ServiceID: def, Quantity: "100", Link: "javascript:alert(1)"}, store.Invalid, "Invalid link"},
		{"LinkBadUTF8", 0, store.OrderInput{ServiceID: def, Quantity: "100", Link: "https://x.example/\xff"}, store.Invalid, "Invalid link"},
		{"LinkOver1000Bytes", 0, store.OrderInput{ServiceID: def, Quantity: "100", Link: "https://x.example/" + strings.Repeat("a", 1001-18)}, store.Invalid, "Invalid link"},
		{"DripFeedNotSupported", 0, store.OrderInput{ServiceID: f.svc["NoRefill"].ID, Quantity: "100", Runs: "2", Interval: "5"}, store.Invalid, "Service does not support drip-feed"},
		{"IntervalOnlyNotSupported", 0, store.OrderInput{ServiceID: f.svc["NoRefill"].ID, Quantity: "100", Interval: "5"}, store.Invalid, "Service does not support drip-feed"},
		{"MissingLink", 0, store.OrderInput{ServiceID: def, Quantity: "100", Link: "-"}, store.Invalid, "Missing required parameter: link"},
		{"MissingQuantity", 0, store.OrderInput{ServiceID: def}, store.Invalid, "Missing required parameter: quantity"},
		{"MissingComments", 0, store.OrderInput{ServiceID: comments}, store.Invalid, "Missing required parameter: comments"},
		{"BlankComments", 0, store.OrderInput{ServiceID: comments, Comments: " \n\r\n\t\n"}, store.Invalid, "Missing required parameter: comments"},
		{"MissingUsernames", 0, store.OrderInput{ServiceID: f.svc[store.TypeMentionsList].ID}, store.Invalid, "Missing required parameter: usernames"},
		{"MissingUsername", 0, store.OrderInput{ServiceID: f.svc[store.TypeCommentLikes].ID, Quantity: "100"}, store.Invalid, "Missing required parameter: username"},
		{"MissingAnswerNumber", 0, store.OrderInput{ServiceID: f.svc[store.TypePoll].ID, Quantity: "100"}, store.Invalid, "Missing required parameter: answer_number"},
		{"MissingRuns", 0, store.OrderInput{ServiceID: def, Quantity: "100", Interval: "5"}, store.Invalid, "Missing required parameter: runs"},
		{"MissingInterval", 0, store.OrderInput{ServiceID: def, Quantity: "100", Runs: "5"}, store.Invalid, "Missing required parameter: interval"},
		{"MissingRequestID", 0, store.OrderInput{ServiceID: def, Quantity: "100", RequestID: "-"}, store.Invalid, "Missing required parameter: request_id"},
		{"QuantityNotANumber", 0, store.OrderInput{ServiceID: def, Quantity: "abc"}, store.Invalid, invalid("quantity (must be a whole number)")},
		{"QuantityNegative", 0, store.OrderInput{ServiceID: def, Quantity: "-100"}, store.Invalid, invalid("quantity (must be a whole number)")},
		{"QuantityDecimal", 0, store.OrderInput{ServiceID: def, Quantity: "100.5"}, store.Invalid, invalid("quantity (must be a whole number)")},
		{"QuantityHuge", 0, store.OrderInput{ServiceID: def, Quantity: "99999999999999999999"}, store.Invalid, invalid("quantity (must be a whole number)")},
		{"RunsZero", 0, store.OrderInput{ServiceID: def, Quantity: "100", Runs: "0", Interval: "5"}, store.Invalid, invalid("runs (must be a whole number from 1 to 1000)")},
		{"RunsTooMany", 0, store.OrderInput{ServiceID: def, Quantity: "100", Runs: "1001", Interval: "5"}, store.Invalid, invalid("runs (must be a whole number from 1 to 1000)")},
		{"IntervalZero", 0, store.OrderInput{ServiceID: def, Quantity: "100", Runs: "2", Interval: "0"}, store.Invalid, invalid("interval (minutes, a whole number from 1 to 43200)")},
		{"AnswerNumberZero", 0, store.OrderInput{ServiceID: f.svc[store.TypePoll].ID, Quantity: "100", AnswerNumber: "0"}, store.Invalid, invalid("answer_number (must be a whole number from 1)")},
		{"UsernameWithNewline", 0, store.OrderInput{ServiceID: f.svc[store.TypeCommentLikes].ID, Quantity: "100", Username: "bob\nroot"}, store.Invalid, invalid("username")},
		{"CommentsLoneCRAboveMax", 0, store.OrderInput{ServiceID: comments, Comments: strings.Repeat("hi\r", 500)}, store.Invalid, "Quantity more than maximal 100"},
		{"CommentsLineTooLong", 0, store.OrderInput{ServiceID: comments, Comments: "ok\n" + strings.Repeat("a", 1001)}, store.Invalid, invalid("comments (a line is longer than 1000 characters)")},
		{"CommentsOneHugeLine", 0, store.OrderInput{ServiceID: comments, Comments: strings.Repeat("spam ", 180_000)}, store.Invalid, invalid("comments (a line is longer than 1000 characters)")},
		{"CommentsControlCharacter", 0, store.OrderInput{ServiceID: comments, Comments: "a\x1bb\nc"}, store.Invalid, invalid("comments (control characters)")},
		{"UsernamesLineTooLong", 0, store.OrderInput{ServiceID: f.svc[store.TypeMentionsList].ID, Usernames: "bob\n" + strings.Repeat("c", 1001)}, store.Invalid, invalid("usernames (a line is longer than 1000 characters)")},
		{"CommentsWithNUL", 0, store.OrderInput{ServiceID: comments, Comments: "a\x00b"}, store.Invalid, invalid("comments")},
		{"RequestIDTooLong", 0, store.OrderInput{ServiceID: def, Quantity: "100", RequestID: strings.Repeat("r", 129)}, store.Invalid, invalid("request_id (at most 128 characters)")},
		{"RequestIDOf129Characters", 0, store.OrderInput{ServiceID: def, Quantity: "100", RequestID: strings.Repeat("я", 129)}, store.Invalid, invalid("request_id (at most 128 characters)")},
		{"RequestIDBadUTF8", 0, store.OrderInput{ServiceID: def, Quantity: "100", RequestID: "a\xffb"}, store.Invalid, invalid("request_id (at most 128 characters)")},
		{"RequestIDControlChar", 0, store.OrderInput{ServiceID: def, Quantity: "100", RequestID: "a\tb"}, store.Invalid, invalid("request_id (no control characters)")},
		{"OrderTooLarge", 0, store.OrderInput{ServiceID: expensive.ID, Quantity: "1000000"}, store.Invalid, "Order too large"},
	}
	before := f.count(t, `SELECT count(*) FROM ledger`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acct := tt.acct
			if acct == 0 {
				acct = f.acct.ID
			}
			in := tt.in
			switch in.Link {
			case "":
				in.Link = "https://instagram.com/p/abc"
			case "-":
				in.Link = ""
			}
			switch in.RequestID {
			case "":
				in.RequestID = "req-" + tt.name
			case "-":
				in.RequestID = ""
			}
			balance := f.balance(t, acct)
			id, err := f.db.PlaceOrder(ctx, acct, in)
			if id != "" {
				t.Errorf("PlaceOrder returned order %q with an error", id)
			}
			wantErr(t, err, tt.code, tt.message)
			if got := f.balance(t, acct); got != balance {
				t.Errorf("balance %d → %d after a refused add", balance, got)
			}
		})
	}
	if n := f.count(t, `SELECT count(*) FROM orders`); n != 0 {
		t.Errorf("%d orders after refused adds, want 0", n)
	}
	if after := f.count(t, `SELECT count(*) FROM ledger`); after != before {
		t.Errorf("%d ledger rows written by refused adds", after-before)
	}
}

func addService(t *testing.T, f *fixture, s store.Service) store.Service {
	t.Helper()
	if s.Category == "" {
		s.Category = "Other"
	}
	if s.Type == "" {
		s.Type = store.TypeDefault
	}
	s.ProviderService = "7"
	out, err := f.db.AddService(ctx, s, "upstream")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fundedAccount(t *testing.T, f *fixture, name string, balance int64) int64 {
	t.Helper()
	a, err := f.db.CreateAccount(ctx, name, "")
	if err != nil {
		t.Fatal(err)
	}
	if balance > 0 {
		if _, err := f.db.AddFunds(ctx, name, balance, ""); err != nil {
			t.Fatal(err)
		}
	}
	return a.ID
}

// Drip-feed is billed on quantity × runs as a whole, rounded up once.
func TestPlaceOrderDripFeedCharge(t *testing.T) {
	f := newFixture(t, 1_000_000_000)
	svc := addService(t, f, store.Service{Name: "Drip", Rate: 278_190, Min: 10, Max: 1000, Dripfeed: true})
	tests := []struct {
		name                  string
		quantity, runs        string
		wantUnits, wantCharge int64
	}{
		{"OneRun", "11", "1", 11, 3061},
		{"RoundedOnceNotPerRun", "11", "3", 33, 9181}, // ceil(9180.27), not 3 × 3061
		{"ManyRuns", "1000", "1000", 1_000_000, 278_190_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := f.db.PlaceOrder(ctx, f.acct.ID, store.OrderInput{ServiceID: svc.ID, RequestID: tt.name,
				Link: "https://x.example/a", Quantity: tt.quantity, Runs: tt.runs, Interval: "60"})
			if err != nil {
				t.Fatal(err)
			}
			o := f.order(t, id)
			if o.Units != tt.wantUnits || o.Charge != tt.wantCharge {
				t.Errorf("units, charge = %d, %d; want %d, %d", o.Units, o.Charge, tt.wantUnits, tt.wantCharge)
			}
		})
	}
	f.checkLedger(t, f.acct.ID)
}
