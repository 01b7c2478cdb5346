package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/julienschmidt/httprouter"

	"notpanel/store"
)

// The classic dialect (API.md §8) serves the same accounts, keys, limits
// and money at /classic/api/v2 in the shapes reseller software expects:
// integer order and refill numbers, Title-Case statuses, errors as HTTP 200
// with {"error": …} (429 and 500 keep their codes), and request_id
// optional.

var classicOrderStatus = map[string]string{
	store.StatusPending: "Pending", store.StatusProcessing: "Processing", store.StatusInProgress: "In progress",
	store.StatusCompleted: "Completed", store.StatusPartial: "Partial", store.StatusCancelled: "Canceled",
	store.StatusFailed: "Canceled", store.StatusRefunded: "Refunded",
}

var classicRefillStatus = map[string]string{
	store.RefillPending: "Pending", store.RefillProcessing: "In progress", store.RefillCompleted: "Completed",
	store.RefillRejected: "Rejected",
}

var (
	errIncorrectRequest = store.Errorf(store.Invalid, "Incorrect request")
	errIncorrectOrder   = store.Errorf(store.NotFound, "Incorrect order ID")
	errIncorrectRefill  = store.Errorf(store.NotFound, "Incorrect refill ID")
)

// classicMessage is the classic wording of an error.
func classicMessage(err error) string {
	switch {
	case errors.Is(err, store.ErrOrderNotFound):
		return errIncorrectOrder.Message
	case errors.Is(err, store.ErrRefillNotFound):
		return errIncorrectRefill.Message
	case errors.Is(err, store.ErrServiceNotFound):
		return "Incorrect service ID"
	case errors.Is(err, store.ErrInsufficientBalance):
		return "Not enough funds on balance"
	}
	return store.ErrorMessage(err)
}

var classic = &dialect{
	actions: map[string]action{
		"services":      (*api).services,
		"balance":       (*api).balance,
		"add":           (*api).classicAdd,
		"status":        (*api).classicStatus,
		"cancel":        (*api).classicCancel,
		"refill":        (*api).classicRefill,
		"refill_status": (*api).classicRefillStatus,
	},
	unknown: func(string) error { return errIncorrectRequest }, // also for a missing action
	fail: func(a *api, w http.ResponseWriter, r *http.Request, err error) {
		if code := statusOf(err); code == http.StatusTooManyRequests || code == http.StatusInternalServerError {
			a.fail(w, r, err) // 429 and 500 keep their codes
			return
		}
		writeJSON(w, http.StatusOK, errorBody(classicMessage(err)))
	},
}

// classicV2 is the classic API endpoint.
func (a *api) classicV2(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	a.endpoint(w, r, classic)
}

func (a *api) classicAdd(ctx context.Context, c *call) (any, error) {
	if c.f["request_id"] == "" {
		// Without a request_id there is no retry to recognise: a fresh one.
		c.f["request_id"] = "classic-" + store.NewID("")
	}
	o, err := a.placeOrder(ctx, c)
	if err != nil {
		return nil, err
	}
	return object{{"order", o.Number}}, nil
}

// byNumber reads the one-or-many parameter of a classic call (numbers)
// and resolves the account's among them: idOf gives the id an entry as sent
// names, "" for anything else (not a number, unknown, another account's).
func (a *api) byNumber(ctx context.Context, c *call, single, plural string) (raw []string, idOf func(string) string, batch bool, err error) {
	raw, batch, err = c.f.ids(single, plural)
	if err != nil {
		return nil, nil, false, err
	}
	lookup := a.db.OrderIDsByNumber
	if single == "refill" {
		lookup = a.db.RefillIDsByNumber
	}
	ids, err := lookup(ctx, c.p.AccountID, numbersOf(raw))
	if err != nil {
		return nil, nil, false, err
	}
	return raw, func(s string) string {
		n, _ := numberOf(s)
		return ids[n]
	}, batch, nil
}

// numberOf reads an entry of a classic call as a number; false for
// anything else.
func numberOf(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// numbersOf lists the numbers among the entries.
func numbersOf(raw []string) []int64 {
	var nums []int64
	for _, s := range raw {
		if n, ok := numberOf(s); ok {
			nums = append(nums, n)
		}
	}
	return nums
}

// resolved lists the ids the entries name.
func resolved(raw []string, idOf func(string) string) []string {
	var out []string
	for _, s := range raw {
		if id := idOf(s); id != "" {
			out = append(out, id)
		}
	}
	return out
}

func (a *api) classicStatus(ctx context.Context, c *call) (any, error) {
	raw, batch, err := c.f.ids("order", "orders")
	if err != nil {
		return nil, err
	}
	orders, err := a.db.OrderStatusesByNumber(ctx, c.p.AccountID, numbersOf(raw))
	if err != nil {
		return nil, err
	}
	view := func(s string) (object, bool) {
		n, ok := numberOf(s)
		o, found := orders[n]
		if !ok || !found {
			return nil, false
		}
		return object{{"charge", store.FormatMoney(o.Charge)}, {"start_count", strconv.FormatInt(o.StartCount, 10)},
			{"status", classicOrderStatus[o.Status]}, {"remains", strconv.FormatInt(o.Remains, 10)},
			{"currency", c.snap.Currency()}}, true
	}
	if !batch {
		v, ok := view(raw[0])
		if !ok {
			return nil, errIncorrectOrder
		}
		return v, nil
	}
	out := make(object, 0, len(raw))
	for _, s := range raw {
		if v, ok := view(s); ok {
			out = append(out, member{s, v})
		} else {
			out = append(out, member{s, errorBody(errIncorrectOrder.Message)})
		}
	}
	return out, nil
}

// orderRefs turns classic order numbers into ord_ ids for the store; a
// number that is not the account's becomes a malformed id, which the store
// answers as unknown.
func (a *api) orderRefs(ctx context.Context, c *call) (refs []string, byRef map[string]string, batch bool, err error) {
	raw, idOf, batch, err := a.byNumber(ctx, c, "order", "orders")
	if err != nil {
		return nil, nil, false, err
	}
	byRef = map[string]string{}
	for _, s := range raw {
		ref := idOf(s)
		if ref == "" {
			ref = "unknown:" + s
		}
		byRef[ref] = s
		refs = append(refs, ref)
	}
	return refs, byRef, batch, nil
}

func classicNumber(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return s
}

func (a *api) classicCancel(ctx context.Context, c *call) (any, error) {
	refs, byRef, _, err := a.orderRefs(ctx, c)
	if err != nil {
		return nil, err
	}
	res, err := a.db.CancelOrders(ctx, store.Customer(c.p.AccountID), refs)
	if err != nil {
		return nil, err
	}
	out := make([]object, len(res))
	for i, r := range res {
		n := classicNumber(byRef[r.ID])
		if r.Err != nil {
			out[i] = object{{"order", n}, {"cancel", errorBody(classicMessage(r.Err))}}
		} else {
			out[i] = object{{"order", n}, {"cancel", 1}}
		}
	}
	return out, nil
}

func (a *api) classicRefill(ctx context.Context, c *call) (any, error) {
	refs, byRef, batch, err := a.orderRefs(ctx, c)
	if err != nil {
		return nil, err
	}
	res, err := a.db.RequestRefills(ctx, store.Customer(c.p.AccountID), refs)
	if err != nil {
		return nil, err
	}
	var made []string
	for _, r := range res {
		if r.Err == nil {
			made = append(made, r.Result)
		}
	}
	refills, err := a.db.Refills(ctx, c.p.AccountID, made) // their numbers, in one read
	if err != nil {
		return nil, err
	}
	refill := func(r store.RowResult) (any, error) {
		if r.Err != nil {
			return nil, r.Err
		}
		rf, ok := refills[r.Result]
		if !ok {
			return nil, store.Errorf(store.Internal, "refill %s not found after it was made", r.Result)
		}
		return rf.Number, nil
	}
	if !batch {
		n, err := refill(res[0])
		if err != nil {
			return nil, err
		}
		return object{{"refill", n}}, nil
	}
	out := make([]object, len(res))
	for i, r := range res {
		n, err := refill(r)
		if store.ErrorCode(err) == store.Internal {
			return nil, err
		}
		if err != nil {
			out[i] = object{{"order", classicNumber(byRef[r.ID])}, {"refill", errorBody(classicMessage(err))}}
		} else {
			out[i] = object{{"order", classicNumber(byRef[r.ID])}, {"refill", n}}
		}
	}
	return out, nil
}

func (a *api) classicRefillStatus(ctx context.Context, c *call) (any, error) {
	raw, idOf, batch, err := a.byNumber(ctx, c, "refill", "refills")
	if err != nil {
		return nil, err
	}
	refills, err := a.db.Refills(ctx, c.p.AccountID, resolved(raw, idOf))
	if err != nil {
		return nil, err
	}
	status := func(s string) (string, bool) {
		r, ok := refills[idOf(s)]
		return classicRefillStatus[r.Status], ok
	}
	if !batch {
		st, ok := status(raw[0])
		if !ok {
			return nil, errIncorrectRefill
		}
		return object{{"status", st}}, nil
	}
	out := make([]object, len(raw))
	for i, s := range raw {
		if st, ok := status(s); ok {
			out[i] = object{{"refill", classicNumber(s)}, {"status", st}}
		} else {
			out[i] = object{{"refill", classicNumber(s)}, {"status", errorBody(errIncorrectRefill.Message)}}
		}
	}
	return out, nil
}
