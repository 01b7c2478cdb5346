package store_test

import (
	"slices"
	"strings"
	"testing"

	"notpanel/store"
)

// auditMix is a database after a realistic day: deposits, an adjustment,
// orders in every state with the money the worker would have moved.
type auditMix struct {
	*fixture
	bob                                                                  int64
	pending, processing, completed, partial, cancelled, refunded, failed string
}

func newAuditMix(t *testing.T) *auditMix {
	t.Helper()
	m := &auditMix{fixture: newFixture(t, 50_000_000)}
	m.bob = fundedAccount(t, m.fixture, "bob", 3_000_000)
	if _, err := m.db.AddFunds(ctx, "bob", -1_000_000, "chargeback"); err != nil {
		t.Fatal(err)
	}
	a := m.acct.ID
	m.pending = m.add(t, a, store.TypeDefault, 100)
	m.processing = m.add(t, m.bob, store.TypeDefault, 200)
	m.setStatus(t, m.processing, store.StatusProcessing)
	if err := m.cancel(t, store.Customer(m.bob), m.processing); err != nil { // queued, no money
		t.Fatal(err)
	}
	m.completed = m.add(t, a, store.TypeDefault, 1000)
	m.setStatus(t, m.completed, store.StatusCompleted)
	m.partial = m.add(t, a, store.TypeDefault, 100)
	m.exec(t, `UPDATE orders SET status = 'partial', remains = 40 WHERE id = ?`, m.partial)
	m.rawRefund(t, m.partial, store.PartialRefund(90_000, 40, 100))
	m.cancelled = m.add(t, a, store.TypeDefault, 300)
	if err := m.cancel(t, store.Customer(a), m.cancelled); err != nil {
		t.Fatal(err)
	}
	m.refunded = m.add(t, a, store.TypeDefault, 400)
	m.setStatus(t, m.refunded, store.StatusInProgress)
	if _, err := m.db.RefundOrder(ctx, m.refunded, ""); err != nil {
		t.Fatal(err)
	}
	m.failed = m.add(t, m.bob, store.TypeDefault, 500)
	m.setStatus(t, m.failed, store.StatusFailed)
	m.rawRefund(t, m.failed, 450_000)
	free := m.add(t, a, "Free", 10)
	if err := m.cancel(t, store.Customer(a), free); err != nil {
		t.Fatal(err)
	}
	return m
}

// rawLedger appends a ledger row for acct and sets its balance to
// newBalance, bypassing the store.
func (m *auditMix) rawLedger(t *testing.T, acct int64, kind string, amount int64, order any, balanceAfter, newBalance int64) {
	t.Helper()
	m.exec(t, `UPDATE accounts SET balance = ? WHERE id = ?`, newBalance, acct)
	m.exec(t, `INSERT INTO ledger (account_id, kind, amount, balance_after, order_id, created_at) VALUES (?, ?, ?, ?, ?, 0)`,
		acct, kind, amount, balanceAfter, order)
}

func TestAuditCleanAfterRealisticMix(t *testing.T) {
	m := newAuditMix(t)
	vs, err := m.db.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 0 {
		t.Errorf("violations on a clean database: %v", vs)
	}
	m.checkLedger(t, m.acct.ID)
	m.checkLedger(t, m.bob)
}

func TestAuditFindsBrokenInvariants(t *testing.T) {
	tests := []struct {
		name      string
		breakIt   func(t *testing.T, m *auditMix)
		wantRules []string
		subject   func(m *auditMix) string // must appear in a violation's subject
	}{
		{"BalanceDoesNotMatchLedgerSum", func(t *testing.T, m *auditMix) {
			b := m.balance(t, m.acct.ID)
			m.rawLedger(t, m.acct.ID, store.KindAdjustment, 5, nil, b, b)
		}, []string{"balance-matches-ledger", "ledger-chain"}, func(m *auditMix) string { return "(alice)" }},
		{"BalanceEditedDirectly", func(t *testing.T, m *auditMix) {
			m.exec(t, `UPDATE accounts SET balance = balance + 1 WHERE id = ?`, m.bob)
		}, []string{"balance-matches-ledger", "last-ledger-row-matches-balance"}, func(m *auditMix) string { return "(bob)" }},
		{"LastRowWrongBalanceAfter", func(t *testing.T, m *auditMix) {
			b := m.balance(t, m.acct.ID)
			m.rawLedger(t, m.acct.ID, store.KindAdjustment, 0, nil, b+7, b)
		}, []string{"last-ledger-row-matches-balance", "ledger-chain"}, func(m *auditMix) string { return "(alice)" }},
		{"MidLedgerRowWrongBalanceAfter", func(t *testing.T, m *auditMix) {
			m.exec(t, `DROP TRIGGER ledger_no_update`)
			m.exec(t, `UPDATE ledger SET balance_after = balance_after + 3 WHERE id = (SELECT min(id) FROM ledger WHERE account_id = ?)`, m.acct.ID)
		}, []string{"ledger-chain"}, func(m *auditMix) string { return "(alice)" }},
		{"NegativeBalance", func(t *testing.T, m *auditMix) {
			m.exec(t, `PRAGMA ignore_check_constraints = ON`)
			b := m.balance(t, m.bob)
			m.rawLedger(t, m.bob, store.KindAdjustment, -b-5, nil, -5, -5)
		}, []string{"no-negative-balance"}, func(m *auditMix) string { return "(bob)" }},
		{"OrderWithoutCharge", func(t *testing.T, m *auditMix) {
			m.exec(t, `INSERT INTO orders (id, account_id, service_id, link, quantity, units, charge, request_id, fingerprint,
				  created_at, updated_at)
				VALUES ('ord_01HG9X7KJP4N5Q6R7S8T9V0W1X', ?, ?, 'https://x.example', 100, 100, 90000, 'raw', x'', 0, 0)`,
				m.acct.ID, m.svc[store.TypeDefault].ID)
		}, []string{"one-charge-per-order"}, func(m *auditMix) string { return "ord_01HG9X7KJP4N5Q6R7S8T9V0W1X" }},
		{"ChargeOfNoOrder", func(t *testing.T, m *auditMix) {
			b := m.balance(t, m.bob) - 90_000
			m.rawLedger(t, m.bob, store.KindCharge, -90_000, nil, b, b)
		}, []string{"charges-and-refunds-name-an-order"}, func(m *auditMix) string { return "(bob)" }},
		{"ChargedTwice", func(t *testing.T, m *auditMix) {
			b := m.balance(t, m.acct.ID) - 90_000
			m.rawLedger(t, m.acct.ID, store.KindCharge, -90_000, m.pending, b, b)
		}, []string{"one-charge-per-order"}, func(m *auditMix) string { return m.pending }},
		{"ChargeDiffersFromOrder", func(t *testing.T, m *auditMix) {
			m.exec(t, `UPDATE orders SET charge = charge + 1 WHERE id = ?`, m.pending)
		}, []string{"charge-matches-order"}, func(m *auditMix) string { return m.pending }},
		{"ChargedToAnotherAccount", func(t *testing.T, m *auditMix) {
			m.exec(t, `UPDATE orders SET account_id = ? WHERE id = ?`, m.bob, m.pending)
		}, []string{"charge-matches-order"}, func(m *auditMix) string { return m.pending }},
		{"ZeroAmountRefund", func(t *testing.T, m *auditMix) {
			b := m.balance(t, m.acct.ID)
			m.rawLedger(t, m.acct.ID, store.KindRefund, 0, m.refunded, b, b)
		}, []string{"refunds-within-charge"}, func(m *auditMix) string { return m.refunded }},
		{"RefundAboveCharge", func(t *testing.T, m *auditMix) {
			b := m.balance(t, m.acct.ID) + 1
			m.rawLedger(t, m.acct.ID, store.KindRefund, 1, m.refunded, b, b)
		}, []string{"refunded-fully-refunded", "refunds-within-charge"}, func(m *auditMix) string { return m.refunded }},
		{"FailedWithoutRefund", func(t *testing.T, m *auditMix) {
			m.setStatus(t, m.pending, store.StatusFailed)
		}, []string{"cancelled-failed-fully-refunded-once"}, func(m *auditMix) string { return m.pending }},
		{"CancelledRefundedInTwoHalves", func(t *testing.T, m *auditMix) {
			m.setStatus(t, m.partial, store.StatusCancelled)
			b := m.balance(t, m.acct.ID) + 54_000
			m.rawLedger(t, m.acct.ID, store.KindRefund, 54_000, m.partial, b, b)
		}, []string{"cancelled-failed-fully-refunded-once"}, func(m *auditMix) string { return m.partial }},
		{"RefundedWithoutRefund", func(t *testing.T, m *auditMix) {
			m.setStatus(t, m.completed, store.StatusRefunded)
		}, []string{"refunded-fully-refunded"}, func(m *auditMix) string { return m.completed }},
		{"PartialWithoutRefund", func(t *testing.T, m *auditMix) {
			m.exec(t, `UPDATE orders SET status = 'partial', remains = 500 WHERE id = ?`, m.completed)
		}, []string{"partial-refunded-once"}, func(m *auditMix) string { return m.completed }},
		{"PartialRefundedTwice", func(t *testing.T, m *auditMix) {
			b := m.balance(t, m.acct.ID) + 1
			m.rawLedger(t, m.acct.ID, store.KindRefund, 1, m.partial, b, b)
		}, []string{"partial-refunded-once"}, func(m *auditMix) string { return m.partial }},
		{"CompletedButRefunded", func(t *testing.T, m *auditMix) {
			m.setStatus(t, m.cancelled, store.StatusCompleted)
		}, []string{"no-refund-while-open-or-completed"}, func(m *auditMix) string { return m.cancelled }},
		{"PendingButRefunded", func(t *testing.T, m *auditMix) {
			b := m.balance(t, m.acct.ID) + 10
			m.rawLedger(t, m.acct.ID, store.KindRefund, 10, m.pending, b, b)
		}, []string{"no-refund-while-open-or-completed"}, func(m *auditMix) string { return m.pending }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newAuditMix(t)
			tt.breakIt(t, m)
			vs, err := m.db.Audit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var rules []string
			found := false
			for _, v := range vs {
				if !slices.Contains(rules, v.Rule) {
					rules = append(rules, v.Rule)
				}
				if strings.Contains(v.Subject, tt.subject(m)) && v.Detail != "" {
					found = true
				}
				if !strings.HasPrefix(v.String(), v.Rule+": "+v.Subject+": ") {
					t.Errorf("String() = %q", v.String())
				}
			}
			slices.Sort(rules)
			if !slices.Equal(rules, tt.wantRules) {
				t.Errorf("rules fired = %v, want %v\n%v", rules, tt.wantRules, vs)
			}
			if !found {
				t.Errorf("no violation names %s: %v", tt.subject(m), vs)
			}
		})
	}
}

// The ledger is append-only at the database level too.
func TestLedgerIsAppendOnly(t *testing.T) {
	f := newFixture(t, 1_000_000)
	for _, q := range []string{`UPDATE ledger SET amount = amount + 1`, `DELETE FROM ledger`} {
		_, err := f.raw.ExecContext(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only trigger to refuse", q, err)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM ledger`); n != 1 {
		t.Errorf("%d ledger rows, want 1", n)
	}
}
