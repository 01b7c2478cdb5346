package store

import (
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// configSignal is a small file beside the database, NAME-config, that every
// config change rewrites once it is committed, by this process or another
// (the CLI). A server asks the database for the config version only when the
// file's content differs from what it was at the last ask, or a second has
// passed (a change whose process died between its commit and the rewrite):
// one pread instead of a read transaction on every request.
type configSignal struct {
	f *os.File // nil when the file cannot be opened: every ask reads the database

	mu      sync.Mutex
	stamp   [stampLen]byte // the content when version was read
	version int64
	at      time.Time // when version was read; zero: nothing cached
}

const stampLen = 20

func openSignal(dbPath string) *configSignal {
	f, err := os.OpenFile(dbPath+"-config", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return &configSignal{}
	}
	return &configSignal{f: f}
}

// read returns the file's content (zeros for an empty file); ok is false
// when it cannot be read.
func (s *configSignal) read() (stamp [stampLen]byte, ok bool) {
	if s.f == nil {
		return stamp, false
	}
	if _, err := s.f.ReadAt(stamp[:], 0); err != nil && !errors.Is(err, io.EOF) {
		return stamp, false
	}
	return stamp, true
}

// cached returns the version read at stamp, if it is recent enough.
func (s *configSignal) cached(stamp [stampLen]byte, now time.Time) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at.IsZero() || stamp != s.stamp || now.Sub(s.at) >= time.Second {
		return 0, false
	}
	return s.version, true
}

// remember caches version, read from the database after stamp was.
func (s *configSignal) remember(stamp [stampLen]byte, version int64, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stamp, s.version, s.at = stamp, version, now
}

// touch rewrites the file after a committed config change, so that every
// server on the database reads the version again at its next ask.
func (s *configSignal) touch() {
	if s.f == nil {
		return
	}
	var b [stampLen]byte
	strconv.AppendInt(b[:0], time.Now().UnixNano(), 10)
	s.f.WriteAt(b[:], 0)
}

func (s *configSignal) close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}
