package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"notpanel/store"
	"notpanel/store/storetest"
)

// insertNote writes one ledger-free row through Update: a setting named n.
func insertSetting(db *store.DB, name string, fail bool) error {
	return db.Update(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, 'x')`, name); err != nil {
			return err
		}
		if fail {
			return store.Errorf(store.Invalid, "refused %s", name)
		}
		return nil
	})
}

func settingExists(t *testing.T, db *store.DB, name string) bool {
	t.Helper()
	var n int
	if err := storetest.Raw(t, db).QueryRow(`SELECT count(*) FROM settings WHERE name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestGroupCommitRollsBackOnlyTheFailingWrite(t *testing.T) {
	db := storetest.Open(t)
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = insertSetting(db, "s"+itoa(int64(i)), i%3 == 0) })
	}
	wg.Wait()
	for i := range n {
		failed := i%3 == 0
		if (errs[i] != nil) != failed {
			t.Errorf("write %d: err %v, want failure %v", i, errs[i], failed)
		}
		if settingExists(t, db, "s"+itoa(int64(i))) == failed {
			t.Errorf("write %d: row present %v, want %v", i, !failed, !failed)
		}
	}
	commits, writes := db.WriteStats()
	if writes < n*2/3 || commits > writes/2 {
		t.Errorf("%d writes in %d commits: concurrent writes were not grouped", writes, commits)
	}
}

func TestWriterSurvivesAPanic(t *testing.T) {
	db := storetest.Open(t)
	err := db.Update(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('boom', 'x')`)
		panic("bad write")
	})
	if store.ErrorCode(err) != store.Internal {
		t.Fatalf("panicking write: %v, want an internal error", err)
	}
	if settingExists(t, db, "boom") {
		t.Error("the panicking write was committed")
	}
	if err := insertSetting(db, "after", false); err != nil || !settingExists(t, db, "after") {
		t.Errorf("write after the panic: %v", err)
	}
}

func TestCancelledWriteIsNotRun(t *testing.T) {
	db := storetest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := db.Update(ctx, func(ctx context.Context, tx *store.Tx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("cancelled write: err %v, ran %v", err, ran)
	}
}

func TestWriteAfterClose(t *testing.T) {
	db, err := store.Open(context.Background(), t.TempDir()+"/c.db", store.Options{Schema: storetest.Schema(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := insertSetting(db, "late", false); store.ErrorCode(err) != store.Internal {
		t.Errorf("write after Close: %v", err)
	}
}
