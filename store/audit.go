package store

import (
	"context"
	"fmt"
)

// Violation is one broken money invariant found by Audit.
type Violation struct {
	Rule    string `json:"rule"`
	Subject string `json:"subject"`
	Detail  string `json:"detail"`
}

func (v Violation) String() string { return v.Rule + ": " + v.Subject + ": " + v.Detail }

// auditRules are the invariants Audit checks. Each query returns rows of
// (subject, detail) that break the rule; no rows means it holds.
var auditRules = []struct{ rule, query string }{
	{"balance-matches-ledger", `
		SELECT 'user ' || a.id || ' (' || a.name || ')',
		       'balance ' || a.balance || ' but ledger sums to ' || coalesce(l.total, 0) || ' micro-units'
		FROM accounts a LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger GROUP BY account_id) l
		  ON l.account_id = a.id
		WHERE a.balance != coalesce(l.total, 0)`},
	{"last-ledger-row-matches-balance", `
		SELECT 'user ' || a.id || ' (' || a.name || ')',
		       'balance ' || a.balance || ' but last ledger row says ' || l.balance_after
		FROM accounts a JOIN (SELECT account_id, max(id) AS last FROM ledger GROUP BY account_id) m ON m.account_id = a.id
		  JOIN ledger l ON l.id = m.last
		WHERE a.balance != l.balance_after`},
	{"ledger-chain", `
		SELECT 'user ' || l.account_id || ' (' || a.name || ')',
		       'ledger row ' || l.id || ' says balance ' || l.balance_after || ' but the row before plus ' || l.amount || ' is ' || (l.prev + l.amount)
		FROM (SELECT id, account_id, amount, balance_after,
		             coalesce(lag(balance_after) OVER (PARTITION BY account_id ORDER BY id), 0) AS prev
		      FROM ledger) l JOIN accounts a ON a.id = l.account_id
		WHERE l.balance_after != l.prev + l.amount`},
	{"no-negative-balance", `
		SELECT 'user ' || id || ' (' || name || ')', 'balance ' || balance FROM accounts WHERE balance < 0`},
	{"charges-and-refunds-name-an-order", `
		SELECT 'user ' || l.account_id || ' (' || a.name || ')', 'ledger row ' || l.id || ': ' || l.kind || ' of no order'
		FROM ledger l JOIN accounts a ON a.id = l.account_id
		WHERE l.kind IN ('charge', 'refund') AND l.order_id IS NULL`},
	{"one-charge-per-order", `
		SELECT 'order ' || o.id, count(l.id) || ' charge rows'
		FROM orders o LEFT JOIN ledger l ON l.order_id = o.id AND l.kind = 'charge'
		GROUP BY o.id HAVING count(l.id) != 1`},
	{"charge-matches-order", `
		SELECT 'order ' || o.id, 'order charge ' || o.charge || ' but ledger charged ' || (-l.amount)
		FROM orders o JOIN ledger l ON l.order_id = o.id AND l.kind = 'charge'
		WHERE -l.amount != o.charge OR l.account_id != o.account_id`},
	{"refunds-within-charge", `
		SELECT 'order ' || o.id, 'refunded ' || sum(l.amount) || ' of a charge of ' || o.charge
		FROM orders o JOIN ledger l ON l.order_id = o.id AND l.kind = 'refund'
		GROUP BY o.id HAVING sum(l.amount) > o.charge OR min(l.amount) <= 0`},
	{"cancelled-failed-fully-refunded-once", `
		SELECT 'order ' || o.id, o.status || ' with ' || count(l.id) || ' refund rows totalling ' || coalesce(sum(l.amount), 0) || ' of ' || o.charge
		FROM orders o LEFT JOIN ledger l ON l.order_id = o.id AND l.kind = 'refund'
		WHERE o.status IN ('cancelled', 'failed')
		GROUP BY o.id HAVING (o.charge > 0 AND count(l.id) != 1) OR coalesce(sum(l.amount), 0) != o.charge`},
	{"refunded-fully-refunded", `
		SELECT 'order ' || o.id, 'refunded with refunds totalling ' || coalesce(sum(l.amount), 0) || ' of ' || o.charge
		FROM orders o LEFT JOIN ledger l ON l.order_id = o.id AND l.kind = 'refund'
		WHERE o.status = 'refunded'
		GROUP BY o.id HAVING coalesce(sum(l.amount), 0) != o.charge`},
	{"partial-refunded-once", `
		SELECT 'order ' || o.id, 'partial with ' || count(l.id) || ' refund rows totalling ' || coalesce(sum(l.amount), 0)
		FROM orders o LEFT JOIN ledger l ON l.order_id = o.id AND l.kind = 'refund'
		WHERE o.status = 'partial'
		GROUP BY o.id HAVING count(l.id) > 1
		   OR coalesce(sum(l.amount), 0) != o.charge * min(max(coalesce(o.remains, 0), 0), o.units) / o.units`},
	{"no-refund-while-open-or-completed", `
		SELECT 'order ' || o.id, o.status || ' but refunded ' || sum(l.amount)
		FROM orders o JOIN ledger l ON l.order_id = o.id AND l.kind = 'refund'
		WHERE o.status IN ('pending', 'processing', 'in_progress', 'completed')
		GROUP BY o.id`},
	{"credited-deposit-credited-once", `
		SELECT 'deposit ' || d.id, 'credited ' || d.credited || ' with ' || count(l.id) || ' ledger rows totalling ' || coalesce(sum(l.amount), 0)
		FROM deposits d LEFT JOIN ledger l ON l.deposit_id = d.id
		WHERE d.status = 'credited'
		GROUP BY d.id HAVING count(l.id) != 1 OR sum(l.amount) != d.credited
		   OR min(l.account_id) != d.account_id OR min(l.kind) != 'deposit' OR max(l.kind) != 'deposit'`},
	{"deposit-rows-name-a-credited-deposit", `
		SELECT 'user ' || l.account_id || ' (' || a.name || ')',
		       'ledger row ' || l.id || ' credits deposit ' || l.deposit_id || ', which is ' || coalesce(d.status, 'missing')
		FROM ledger l JOIN accounts a ON a.id = l.account_id LEFT JOIN deposits d ON d.id = l.deposit_id
		WHERE l.deposit_id IS NOT NULL AND (d.status IS NULL OR d.status != 'credited')`},
}

// Audit checks the money invariants over the whole database in one snapshot:
// every balance equals the sum of its ledger and each ledger row follows
// from the one before, no balance is negative, every charge and refund
// belongs to an order, every order has exactly one charge, refunds never exceed the charge, cancelled
// and failed orders have exactly one full refund, refunded orders are
// refunded in full, partial orders exactly one partial refund, and open or
// completed orders none. A partial refund must equal floor(charge × remains /
// units). Each credited deposit has exactly one ledger row, of its amount,
// and every ledger row that names a deposit names a credited one.
func (db *DB) Audit(ctx context.Context) ([]Violation, error) {
	conn, err := db.reader.Conn(ctx)
	if err != nil {
		return nil, internal("audit", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, internal("audit", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	var out []Violation
	for _, r := range auditRules {
		rows, err := conn.QueryContext(ctx, r.query)
		if err != nil {
			return nil, internal(fmt.Sprintf("audit %s", r.rule), err)
		}
		for rows.Next() {
			v := Violation{Rule: r.rule}
			if err := rows.Scan(&v.Subject, &v.Detail); err != nil {
				rows.Close()
				return nil, internal("audit "+r.rule, err)
			}
			out = append(out, v)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, internal("audit "+r.rule, err)
		}
	}
	return out, nil
}
