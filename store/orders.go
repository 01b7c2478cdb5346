package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"notpanel/fault"
)

// Order statuses (API.md §3). The last five are terminal.
const (
	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
	StatusPartial    = "partial"
	StatusCancelled  = "cancelled"
	StatusRefunded   = "refunded"
	StatusFailed     = "failed"
)

// Terminal reports whether an order in status s can no longer change.
func Terminal(s string) bool {
	switch s {
	case StatusCompleted, StatusPartial, StatusCancelled, StatusRefunded, StatusFailed:
		return true
	}
	return false
}

// Limits on order input beyond the service's own min and max.
const (
	MaxRequestID = 128
	MaxLink      = 1000
	MaxRuns      = 1000
	MaxInterval  = 60 * 24 * 30 // minutes
)

// OrderInput is an add request as the customer sent it. Numbers are kept as
// text so that validation can say exactly what was wrong.
type OrderInput struct {
	ServiceID    int64
	RequestID    string
	Link         string
	Quantity     string
	Runs         string
	Interval     string
	Comments     string
	Usernames    string
	Username     string
	AnswerNumber string
}

// fingerprint identifies the parameters of an add, so that a retry with the
// same request_id can be told from a reuse with other parameters.
func (in OrderInput) fingerprint() []byte {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(in.ServiceID))
	h.Write(n[:])
	for _, f := range []string{in.Link, in.Quantity, in.Runs, in.Interval, in.Comments, in.Usernames, in.Username, in.AnswerNumber} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}

// orderPlan is a validated add: what will be stored and charged.
type orderPlan struct {
	quantity, runs, interval, units, charge int64
	link, extra                             string
}

// ParseCount reads a non-negative whole number as customers send it.
func ParseCount(name, s string) (int64, error) {
	if s == "" || len(s) > 12 || !allDigits(s) {
		return 0, Errorf(Invalid, "Invalid parameter: %s (must be a whole number)", name)
	}
	v, _ := strconv.ParseInt(s, 10, 64)
	return v, nil
}

// ValidLink reports whether s is an http(s) URL with a host, at most MaxLink
// bytes, without spaces or control characters.
func ValidLink(s string) bool {
	if len(s) == 0 || len(s) > MaxLink || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return false
	}
	return u.Hostname() != ""
}

// MaxLine bounds one line of a Custom Comments or Mentions list, in
// characters.
const MaxLine = 1000

// isLineBreak reports the characters any provider might split a list on:
// \n, \r (so \r\n too), vertical tab, form feed, NEL and the Unicode line
// and paragraph separators. Splitting on all of them, and forwarding the
// lines joined by \n alone, means no provider can count more lines than
// were billed.
func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}

// lines splits a list into its non-empty, trimmed lines; it refuses a line
// over MaxLine characters or one holding a control character other than a
// tab.
func lines(name, s string) ([]string, error) {
	var out []string
	for _, l := range strings.FieldsFunc(s, isLineBreak) {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		if utf8.RuneCountInString(l) > MaxLine {
			return nil, Errorf(Invalid, "Invalid parameter: %s (a line is longer than %d characters)", name, MaxLine)
		}
		for _, r := range l {
			if r != '\t' && unicode.IsControl(r) {
				return nil, Errorf(Invalid, "Invalid parameter: %s (control characters)", name)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

func missing(name string) error { return Errorf(Invalid, "Missing required parameter: %s", name) }

// plan validates an add against its service and prices it.
func plan(svc Service, in OrderInput) (orderPlan, error) {
	var p orderPlan
	if !ValidLink(in.Link) {
		if in.Link == "" {
			return p, missing("link")
		}
		return p, ErrInvalidLink
	}
	p.link = in.Link
	extra := map[string]string{}
	var err error
	quantity := func() error {
		if in.Quantity == "" {
			return missing("quantity")
		}
		p.quantity, err = ParseCount("quantity", in.Quantity)
		return err
	}
	text := func(name, v string) error {
		if v == "" {
			return missing(name)
		}
		if !utf8.ValidString(v) || len(v) > 1000 || strings.ContainsAny(v, "\r\n\x00") {
			return Errorf(Invalid, "Invalid parameter: %s", name)
		}
		extra[name] = v
		return nil
	}
	textLines := func(name, v string) error {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return Errorf(Invalid, "Invalid parameter: %s", name)
		}
		ls, err := lines(name, v)
		if err != nil {
			return err
		}
		if len(ls) == 0 {
			return missing(name)
		}
		extra[name] = strings.Join(ls, "\n")
		p.quantity = int64(len(ls))
		return nil
	}
	switch svc.Type {
	case TypeDefault:
		err = quantity()
	case TypePackage:
		p.quantity = svc.Min
	case TypeComments:
		err = textLines("comments", in.Comments)
	case TypeMentionsList:
		err = textLines("usernames", in.Usernames)
	case TypeCommentLikes:
		if err = quantity(); err == nil {
			err = text("username", in.Username)
		}
	case TypePoll:
		if err = quantity(); err == nil {
			if in.AnswerNumber == "" {
				err = missing("answer_number")
			} else if n, perr := ParseCount("answer_number", in.AnswerNumber); perr != nil || n < 1 {
				err = Errorf(Invalid, "Invalid parameter: answer_number (must be a whole number from 1)")
			} else {
				extra["answer_number"] = strconv.FormatInt(n, 10)
			}
		}
	default:
		return p, Errorf(Internal, "service %d has unknown type %q", svc.ID, svc.Type)
	}
	if err != nil {
		return p, err
	}
	if p.quantity < svc.Min {
		return p, Errorf(Invalid, "Quantity less than minimal %d", svc.Min)
	}
	if p.quantity > svc.Max {
		return p, Errorf(Invalid, "Quantity more than maximal %d", svc.Max)
	}
	p.units = p.quantity
	if in.Runs != "" || in.Interval != "" {
		if !svc.Dripfeed {
			return p, ErrNoDripfeed
		}
		if in.Runs == "" {
			return p, missing("runs")
		}
		if in.Interval == "" {
			return p, missing("interval")
		}
		if p.runs, err = ParseCount("runs", in.Runs); err != nil || p.runs < 1 || p.runs > MaxRuns {
			return p, Errorf(Invalid, "Invalid parameter: runs (must be a whole number from 1 to %d)", MaxRuns)
		}
		if p.interval, err = ParseCount("interval", in.Interval); err != nil || p.interval < 1 || p.interval > MaxInterval {
			return p, Errorf(Invalid, "Invalid parameter: interval (minutes, a whole number from 1 to %d)", MaxInterval)
		}
		p.units = p.quantity * p.runs
	}
	if p.charge, err = Charge(svc.Rate, p.units); err != nil {
		return p, err
	}
	if len(extra) > 0 {
		b, _ := json.Marshal(extra)
		p.extra = string(b)
	}
	return p, nil
}

// ValidRequestID checks a customer's idempotency key.
func ValidRequestID(s string) error {
	if s == "" {
		return missing("request_id")
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxRequestID { // characters, as the message says
		return Errorf(Invalid, "Invalid parameter: request_id (at most %d characters)", MaxRequestID)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return Errorf(Invalid, "Invalid parameter: request_id (no control characters)")
		}
	}
	return nil
}

// PlaceOrder validates an add, then in one transaction debits the account,
// inserts the order and its charge row, and records the request_id. The same
// request_id with the same parameters returns the first order without a
// second charge; with other parameters it fails with ErrRequestIDReused.
func (db *DB) PlaceOrder(ctx context.Context, accountID int64, in OrderInput) (string, error) {
	o, err := db.placeOrder(ctx, accountID, in, db.Service, nil)
	return o.ID, err
}

// Placed is the order an add placed, or found placed by the same request_id.
type Placed struct {
	ID     string
	Number int64 // what the classic dialect answers
}

// placeOrder is PlaceOrder with the service looked up by service and, when
// check is set, check run first in the write transaction.
func (db *DB) placeOrder(ctx context.Context, accountID int64, in OrderInput, service func(context.Context, int64) (Service, error),
	check func(context.Context, *Tx) error) (Placed, error) {
	if err := customer(accountID); err != nil {
		return Placed{}, err
	}
	if err := ValidRequestID(in.RequestID); err != nil {
		return Placed{}, err
	}
	fp := in.fingerprint()
	svc, err := service(ctx, in.ServiceID)
	if err == nil && !svc.Enabled {
		err = ErrServiceNotFound
	}
	var p orderPlan
	if err == nil {
		p, err = plan(svc, in)
	}
	if err != nil {
		// A retry of an add that already succeeded gets its first answer,
		// even if the service has changed since and it would now fail.
		if first, found, lerr := lookupRequest(ctx, db.read, accountID, in.RequestID, fp); found || lerr != nil {
			return first, lerr
		}
		return Placed{}, err
	}
	at := db.now()
	now := at.Unix()
	var id string // given by record, with the order's number
	var number int64
	record := func(ctx context.Context, tx *Tx) error {
		if check != nil {
			if err := check(ctx, tx); err != nil {
				return err
			}
		}
		var err error
		if number, err = tx.newOrderNumber(ctx); err != nil {
			return err
		}
		id = OrderID(number, at, rand.Uint32())
		var runs, interval, extra any
		if p.runs > 0 {
			runs, interval = p.runs, p.interval
		}
		if p.extra != "" {
			extra = p.extra
		}
		// Writes are serialized, and the request_id's unique index settles
		// racing identical adds: the first records its order, the others
		// find the request_id taken and are rolled back, then answered from
		// the first.
		res, err := tx.ExecContext(ctx,
			`INSERT INTO orders (number, id, account_id, service_id, link, quantity, runs, interval, units, extra, charge,
			   remains, request_id, fingerprint, created_at, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (account_id, request_id) DO NOTHING`,
			number, id, accountID, svc.ID, p.link, p.quantity, runs, interval, p.units, extra, p.charge,
			p.units, in.RequestID, fp, now, now)
		if err != nil {
			return internal("insert order", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errDuplicateRequest
		}
		return nil
	}
	debit := func(ctx context.Context, tx *Tx) error {
		if _, err := move(ctx, tx, accountID, KindCharge, -p.charge, id, "", now); err != nil {
			return err
		}
		fault.Hit(fault.AfterDebit, id)
		return nil
	}
	if fault.Broken(fault.SplitDebit) {
		if err = db.Update(ctx, record); err == nil {
			err = db.Update(ctx, debit)
		}
	} else {
		err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
			if err := record(ctx, tx); err != nil {
				return err
			}
			return debit(ctx, tx)
		})
	}
	if err != nil && ErrorCode(err) != Internal {
		// A retry of an add that succeeded before gets its first answer,
		// whatever this attempt ran into (a balance spent since, say).
		if first, found, lerr := lookupRequest(ctx, db.read, accountID, in.RequestID, fp); found || lerr != nil {
			return first, lerr
		}
	}
	if err != nil {
		return Placed{}, err
	}
	return Placed{ID: id, Number: number}, nil
}

// errDuplicateRequest rolls back an add whose request_id turned out to be
// taken; placeOrder answers it from the record.
var errDuplicateRequest = Errorf(Conflict, "request_id taken")

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func lookupRequest(ctx context.Context, q queryer, accountID int64, requestID string, fp []byte) (Placed, bool, error) {
	var o Placed
	var stored []byte
	err := q.QueryRowContext(ctx,
		`SELECT id, number, fingerprint FROM orders WHERE account_id = ? AND request_id = ?`,
		accountID, requestID).Scan(&o.ID, &o.Number, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return Placed{}, false, nil
	}
	if err != nil {
		return Placed{}, false, internal("read request_id", err)
	}
	if string(stored) != string(fp) {
		return Placed{}, true, ErrRequestIDReused
	}
	return o, true, nil
}
