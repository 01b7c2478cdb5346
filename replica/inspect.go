package replica

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/superfly/ltx"
)

// Report describes a replica and how far it is behind the database here,
// as far as another process can tell: from the replica's files and from
// the replication state serve keeps beside the database.
type Report struct {
	// URL is the replica, its secrets hidden.
	URL string `json:"replica"`
	// LastSync is when the newest file on the replica was made; zero when
	// the replica is empty.
	LastSync time.Time `json:"last_sync"`
	// ReplicaTXID is the newest transaction on the replica.
	ReplicaTXID uint64 `json:"replica_txid"`
	// LocalTXID is the newest transaction captured here for the replica (0
	// when serve never replicated this database).
	LocalTXID uint64 `json:"local_txid"`
	// Behind counts the transactions captured here and not on the replica.
	Behind uint64 `json:"behind_transactions"`
	// Lag is the age of the oldest of those, 0 when there is none.
	Lag time.Duration `json:"lag_ns"`
	// Bytes and Files measure what the replica stores, every level and
	// snapshot included.
	Bytes int64 `json:"bytes"`
	Files int   `json:"files"`
}

// Inspect reads the replica and the local replication state of the
// database at path.
func Inspect(ctx context.Context, path string, opt Options) (Report, error) {
	client, err := opt.client()
	if err != nil {
		return Report{}, err
	}
	r := Report{URL: Redacted(opt.URL)}
	if err := client.ReplicaClient.Init(ctx); err != nil {
		return r, fmt.Errorf("replica %s: %w", r.URL, err)
	}
	err = eachFile(ctx, client.ReplicaClient, func(f *ltx.FileInfo) {
		r.Files++
		r.Bytes += f.Size
		if uint64(f.MaxTXID) > r.ReplicaTXID {
			r.ReplicaTXID = uint64(f.MaxTXID)
		}
		if f.CreatedAt.After(r.LastSync) {
			r.LastSync = f.CreatedAt
		}
	})
	if err != nil {
		return r, fmt.Errorf("replica %s: %w", r.URL, err)
	}
	oldest, err := localState(path, &r)
	if err != nil {
		return r, err
	}
	if r.LocalTXID > r.ReplicaTXID {
		r.Behind = r.LocalTXID - r.ReplicaTXID
		r.Lag = time.Since(oldest)
	}
	return r, nil
}

// localState fills in the newest transaction captured beside the database
// at path and returns when the oldest one the replica lacks was captured.
func localState(path string, r *Report) (time.Time, error) {
	dir := litestream.NewDB(path).LTXLevelDir(0) // where serve's Litestream keeps them
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, err
	}
	var first string
	var firstTXID ltx.TXID
	for _, e := range ents {
		min, max, err := ltx.ParseFilename(e.Name())
		if err != nil {
			continue
		}
		if uint64(max) > r.LocalTXID {
			r.LocalTXID = uint64(max)
		}
		if uint64(max) > r.ReplicaTXID && (first == "" || min < firstTXID) {
			first, firstTXID = e.Name(), min
		}
	}
	if first == "" {
		return time.Time{}, nil
	}
	f, err := os.Open(filepath.Join(dir, first))
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	hdr, _, err := ltx.PeekHeader(f)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return time.UnixMilli(hdr.Timestamp), nil
}

// Erase deletes every file of the replica, for a scratch replica such as
// the one bench makes.
func Erase(ctx context.Context, opt Options) error {
	client, err := opt.client()
	if err != nil {
		return err
	}
	return client.DeleteAll(ctx)
}
