package replica

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/benbjohnson/litestream/file"
	"github.com/prometheus/client_golang/prometheus"
)

// closeTimeout bounds the last sync at shutdown, so that a replica that
// does not answer cannot hold up a restart (what it missed stays here and
// is shipped at the next start).
const closeTimeout = 30 * time.Second

// Stream ships a database's new transactions to its replica, from Start
// until Close.
type Stream struct {
	url     string // redacted
	opt     Options
	client  *watched
	db      *litestream.DB
	rep     *litestream.Replica
	store   *litestream.Store
	started time.Time

	closeOnce sync.Once
	closed    error
}

// Start begins streaming the database at path to the replica. The file
// must exist with its schema in place: Litestream adds tables of its own,
// and a file with tables but no notpanel schema is refused by store.Open.
// An unusable configuration is an error; a replica that does not answer is
// not: it is logged, shown by Status, and caught up with once it answers.
func Start(ctx context.Context, path string, opt Options) (*Stream, error) {
	client, err := opt.client()
	if err != nil {
		return nil, err
	}
	db := litestream.NewDB(path)
	db.MonitorInterval = opt.interval()
	rep := litestream.NewReplicaWithClient(db, client)
	// The replica's monitor waits for the next tick of its own before it
	// ships a capture: ticking five times as often keeps that wait short,
	// so that a write is shipped within about one interval. It costs no
	// uploads: a tick with nothing new captured ships nothing.
	rep.SyncInterval = opt.interval() / 5
	db.Replica = rep
	if fc, ok := client.ReplicaClient.(*file.ReplicaClient); ok {
		fc.Replica = rep // the replica's files take the database's owner and mode
	}
	st := litestream.NewStore([]*litestream.DB{db}, levels())
	st.SnapshotRetention = snapshotRetention
	st.Logger = opt.slog()
	db.SetLogger(st.Logger.With("db", filepath.Base(path)))
	// Close makes its own bounded last sync (SyncAndWait); Litestream's
	// close then tries once more instead of retrying for 30 s.
	db.ShutdownSyncTimeout = 0
	if err := st.Open(ctx); err != nil {
		return nil, fmt.Errorf("replica: %w", err)
	}
	s := &Stream{url: Redacted(opt.URL), opt: opt, client: client, db: db, rep: rep, store: st, started: time.Now()}
	opt.Log.Info().Str("replica", s.url).Dur("interval", opt.interval()).Msg("replicating")
	return s, nil
}

// snapshotRetention is how long the replica keeps its daily snapshots, and
// the changes since the oldest: a point in time of the last two days (up to
// three) can be restored. Litestream's default, a day, would leave no way
// back to yesterday right after a new snapshot.
const snapshotRetention = 72 * time.Hour

// levels are Litestream's usual compaction levels: the replica keeps a
// file per shipment for a few minutes, then merges them every 30 s, 5 min
// and hour, beside a daily snapshot.
func levels() litestream.CompactionLevels {
	return litestream.CompactionLevels{
		{Level: 0},
		{Level: 1, Interval: 30 * time.Second},
		{Level: 2, Interval: 5 * time.Minute},
		{Level: 3, Interval: time.Hour},
	}
}

// Sync ships every transaction committed so far and returns once the
// replica holds them.
func (s *Stream) Sync(ctx context.Context) error { return s.db.SyncAndWait(ctx) }

// Close ships what is left and stops. The application's connections to
// the database must be closed first: a write after the last sync would not
// reach the replica. It waits for the last sync (at most 30 s) so that a
// clean stop loses nothing; an error says the replica missed the last
// writes, which are then shipped at the next start. Later calls return
// the first one's result.
func (s *Stream) Close(ctx context.Context) error {
	s.closeOnce.Do(func() { s.closed = s.close(ctx) })
	return s.closed
}

func (s *Stream) close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	log := s.opt.Log
	synced := s.Sync(ctx)
	if synced != nil {
		log.Error().Err(synced).Str("replica", s.url).Msg("replica: the last writes did not reach the replica; they are kept here and shipped at the next start")
	} else {
		log.Info().Str("replica", s.url).Str("txid", s.rep.Pos().TXID.String()).Msg("replica: every write is on the replica")
	}
	closed := make(chan error, 1)
	go func() { closed <- s.store.Close(ctx) }()
	select {
	case err := <-closed:
		if synced != nil {
			return fmt.Errorf("replica: last sync: %w", synced)
		}
		if err != nil {
			return fmt.Errorf("replica: %w", err)
		}
		return nil
	case <-time.After(closeTimeout + 5*time.Second):
		// A connection that hangs without honouring its context; the process
		// is about to end anyway.
		return errors.New("replica: gave up waiting for the replica client to stop")
	}
}

// Status is how far the replica is behind.
type Status struct {
	// LastSync is when a sync last succeeded; zero before the first.
	LastSync time.Time
	// Lag is how old the oldest write the replica lacks may be: 0 when it
	// holds every transaction captured here, else the time since the last
	// successful sync (or since the start, before the first).
	Lag time.Duration
	// Behind counts the transactions captured here and not on the replica.
	Behind uint64
	// Err is the replica's last failure, nil while it answers.
	Err error
}

// Status reports the replica's lag as of now.
func (s *Stream) Status() Status {
	now := time.Now()
	st := Status{LastSync: s.db.LastSuccessfulSyncAt(), Err: s.client.LastError()}
	since := st.LastSync
	if since.Before(s.started) {
		since = s.started
	}
	local, err := s.db.Pos()
	remote := s.rep.Pos()
	if err == nil && local.TXID > remote.TXID {
		st.Behind = uint64(local.TXID - remote.TXID)
	}
	if err != nil || local.TXID == 0 || st.Behind > 0 {
		st.Lag = now.Sub(since)
	}
	return st
}

// Healthy is nil unless no sync has succeeded for longer than maxLag, in
// which case it says so, with the replica's last error.
func (s *Stream) Healthy(maxLag time.Duration) error {
	st := s.Status()
	if st.Lag <= maxLag {
		return nil
	}
	msg := fmt.Sprintf("replica: no sync for %s (limit %s)", st.Lag.Round(time.Second), maxLag)
	if st.Err != nil {
		msg += ": " + st.Err.Error()
	}
	return errors.New(msg)
}

var (
	lastSyncDesc = prometheus.NewDesc("notpanel_replica_last_sync_timestamp_seconds",
		"Unix time of the last successful sync with the replica (0 before the first).", nil, nil)
	lagDesc = prometheus.NewDesc("notpanel_replica_lag_seconds",
		"How old the oldest write the replica lacks may be (0 when it holds every transaction captured).", nil, nil)
	behindDesc = prometheus.NewDesc("notpanel_replica_behind_transactions",
		"Transactions captured here and not yet on the replica.", nil, nil)
)

// Describe and Collect make the stream a Prometheus collector of its
// status.
func (s *Stream) Describe(ch chan<- *prometheus.Desc) {
	ch <- lastSyncDesc
	ch <- lagDesc
	ch <- behindDesc
}

func (s *Stream) Collect(ch chan<- prometheus.Metric) {
	st := s.Status()
	var last float64
	if !st.LastSync.IsZero() {
		last = float64(st.LastSync.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(lastSyncDesc, prometheus.GaugeValue, last)
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, st.Lag.Seconds())
	ch <- prometheus.MustNewConstMetric(behindDesc, prometheus.GaugeValue, float64(st.Behind))
}
