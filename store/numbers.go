package store

import (
	"context"
	"strings"
)

// The classic dialect names orders and refills by their integer numbers.

// OrderIDsByNumber maps the account's order numbers among nums to their
// ids; other accounts' numbers and unknown ones are absent.
func (db *DB) OrderIDsByNumber(ctx context.Context, accountID int64, nums []int64) (map[int64]string, error) {
	return db.idsByNumber(ctx, "orders", accountID, nums)
}

// RefillIDsByNumber is OrderIDsByNumber for refills.
func (db *DB) RefillIDsByNumber(ctx context.Context, accountID int64, nums []int64) (map[int64]string, error) {
	return db.idsByNumber(ctx, "refills", accountID, nums)
}

func (db *DB) idsByNumber(ctx context.Context, table string, accountID int64, nums []int64) (map[int64]string, error) {
	if err := customer(accountID); err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(nums))
	if len(nums) == 0 {
		return out, nil
	}
	args := []any{accountID}
	for _, n := range nums {
		args = append(args, n)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT number, id FROM `+table+
		` WHERE +account_id = ? AND number IN (?`+strings.Repeat(",?", len(nums)-1)+`)`, args...)
	if err != nil {
		return nil, internal("read numbers", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int64
		var id string
		if err := rows.Scan(&n, &id); err != nil {
			return nil, internal("read numbers", err)
		}
		out[n] = id
	}
	return out, internal("read numbers", rows.Err())
}
