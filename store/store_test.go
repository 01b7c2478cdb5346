package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

func TestViewIsReadOnly(t *testing.T) {
	f := newFixture(t, 1_000_000)
	var balance int64
	err := f.db.View(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT balance FROM accounts WHERE name = 'alice'`).Scan(&balance); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE accounts SET balance = 0`)
		return err
	})
	if err == nil {
		t.Errorf("a write inside View succeeded")
	}
	if balance != 1_000_000 || f.balance(t, f.acct.ID) != 1_000_000 {
		t.Errorf("balance read %d, now %d; want 1000000 both", balance, f.balance(t, f.acct.ID))
	}
}

func TestUpdateRollsBackOnError(t *testing.T) {
	f := newFixture(t, 1_000_000)
	boom := errors.New("boom")
	err := f.db.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET balance = 0`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Update = %v, want boom", err)
	}
	if got := f.balance(t, f.acct.ID); got != 1_000_000 {
		t.Errorf("balance = %d after a failed Update, want 1000000", got)
	}
	storetest.Audit(t, f.db)
}

func TestErrors(t *testing.T) {
	cause := errors.New("disk I/O error")
	wrapped := fmt.Errorf("place order: %w", store.ErrInsufficientBalance)
	tests := []struct {
		name        string
		err         error
		wantCode    store.Code
		wantMessage string
	}{
		{"Nil", nil, "", "Internal error"},
		{"Plain", cause, store.Internal, "Internal error"},
		{"Coded", store.ErrOrderNotFound, store.NotFound, "Order not found"},
		{"Wrapped", wrapped, store.Invalid, "Insufficient balance"},
		{"InternalHidesCause", &store.Error{Code: store.Internal, Message: "read order", Err: cause}, store.Internal, "Internal error"},
		{"ConflictWithCause", &store.Error{Code: store.Conflict, Message: "Busy", Err: cause}, store.Conflict, "Busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := store.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
			if got := store.ErrorMessage(tt.err); got != tt.wantMessage {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.wantMessage)
			}
		})
	}
	e := &store.Error{Code: store.Internal, Message: "read order", Err: cause}
	if got := e.Error(); got != "read order: disk I/O error" {
		t.Errorf("Error() = %q; the log needs the cause", got)
	}
	if !errors.Is(e, cause) {
		t.Errorf("the cause is not reachable with errors.Is")
	}
	if got := store.ErrNoRefill.Error(); got != "Service does not support refill" {
		t.Errorf("Error() = %q", got)
	}
}

// A clean Close folds the WAL into the database file and removes it, so
// that the file alone is the whole database (a copy of it, a look at it
// with the sqlite3 shell).
func TestCloseFoldsTheWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notpanel.db")
	db := storetest.OpenPath(t, path)
	if _, err := db.CreateAccount(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the -wal is still there after a clean close: %v", err)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM accounts WHERE name = 'alice'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the database file alone holds %d alices (%v), want 1", n, err)
	}
}
