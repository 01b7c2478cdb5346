// Package replica keeps a copy of the database off the machine with
// Litestream, built into the binary: serve ships every transaction to a
// replica (a directory, an S3 bucket of any S3-compatible store, or an SFTP
// server) within about a second, and Restore brings the database back from
// it, at its newest state or at a point in time.
//
// The application's side of the bargain (busy timeout, no checkpoints of
// its own that reset the WAL, its connections closed before the replica
// stops) is kept by package store and by serve; see store's package comment.
package replica

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/benbjohnson/litestream/file"
	"github.com/benbjohnson/litestream/s3"
	"github.com/benbjohnson/litestream/sftp"
	"github.com/rs/zerolog"
	"github.com/superfly/ltx"
	"golang.org/x/crypto/ssh"
)

// DefaultInterval is how often new writes are shipped when Options.Interval
// is zero: the writes of about this long, plus one upload, are what a
// sudden loss of the machine can cost.
const DefaultInterval = 250 * time.Millisecond

// Options say where the replica is and how to reach it.
type Options struct {
	// URL is file:///path, s3://bucket/path[?endpoint=…&region=…] or
	// sftp://user[:password]@host[:port]/path. An s3 replica takes its
	// credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
	URL string
	// SFTPKey is the private key file an sftp replica logs in with.
	SFTPKey string
	// SFTPHostKey is the sftp server's public host key, as ssh-keyscan or
	// known_hosts print it; the connection is refused for any other key.
	SFTPHostKey string
	// Interval is how often new writes are shipped; DefaultInterval when 0.
	Interval time.Duration
	// Log receives Litestream's own log lines as well as ours.
	Log zerolog.Logger
}

func (o Options) interval() time.Duration {
	if o.Interval <= 0 {
		return DefaultInterval
	}
	return o.Interval
}

// Redacted is the URL with any password hidden, for logs and messages.
func Redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "key") {
			q.Set(k, "xxxxx")
		}
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// client builds the Litestream client for the URL. Only the three kinds
// below are compiled in. The checks here are the ones an operator can fix
// at once; whether the replica answers is found out later, and does not
// stop the panel.
func (o Options) client() (*watched, error) {
	if o.URL == "" {
		return nil, errors.New("no replica URL given")
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("replica URL: %w", err)
	}
	var c litestream.ReplicaClient
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" || !path.IsAbs(u.Path) {
			return nil, fmt.Errorf("replica URL %s: a file replica needs an absolute path, as in file:///var/backups/notpanel", Redacted(o.URL))
		}
		c = file.NewReplicaClient(path.Clean(u.Path))
	case "s3":
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" || os.Getenv("AWS_SECRET_ACCESS_KEY") == "" {
			return nil, errors.New("an s3 replica needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
		}
		if os.Getenv("AWS_CA_BUNDLE") != "" {
			// The S3 client brings its own HTTP transport, which the AWS SDK
			// refuses to combine with a CA bundle.
			return nil, errors.New("AWS_CA_BUNDLE is set, which the s3 replica cannot use: unset it (the system's certificates are used)")
		}
		if c, err = s3.NewReplicaClientFromURL(u.Scheme, u.Host, strings.TrimPrefix(path.Clean("/"+u.Path), "/"), u.Query(), u.User); err != nil {
			return nil, fmt.Errorf("replica URL %s: %w", Redacted(o.URL), err)
		}
	case "sftp":
		if c, err = o.sftp(u); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("replica URL %s: want file:///path, s3://bucket/path or sftp://user@host/path", Redacted(o.URL))
	}
	c.SetLogger(o.slog())
	return &watched{ReplicaClient: c, log: o.Log}, nil
}

// sftp builds an sftp client that logs in with a key file or the URL's
// password and talks only to the server with the given host key.
func (o Options) sftp(u *url.URL) (litestream.ReplicaClient, error) {
	if u.User == nil || u.User.Username() == "" || u.Host == "" {
		return nil, fmt.Errorf("replica URL %s: an sftp replica needs a user and a host, as in sftp://backup@host.example/notpanel", Redacted(o.URL))
	}
	c := sftp.NewReplicaClient()
	c.Host, c.User = u.Host, u.User.Username()
	c.Password, _ = u.User.Password()
	c.Path = strings.TrimPrefix(path.Clean("/"+u.Path), "/")
	if c.Path == "" {
		return nil, fmt.Errorf("replica URL %s: an sftp replica needs a directory, as in sftp://backup@host.example/notpanel", Redacted(o.URL))
	}
	if o.SFTPKey == "" && c.Password == "" {
		return nil, errors.New("an sftp replica needs --sftp-key (a private key file) or a password in its URL")
	}
	if o.SFTPKey != "" {
		b, err := os.ReadFile(o.SFTPKey)
		if err != nil {
			return nil, fmt.Errorf("--sftp-key: %w", err)
		}
		if _, err := ssh.ParsePrivateKey(b); err != nil {
			return nil, fmt.Errorf("--sftp-key %s: %w (a key without a passphrase is needed)", o.SFTPKey, err)
		}
		c.KeyPath = o.SFTPKey
	}
	key, err := hostKey(o.SFTPHostKey)
	if err != nil {
		return nil, err
	}
	c.HostKey = key
	return c, nil
}

// hostKey reads a host key as ssh-keyscan prints it ("host type base64"),
// as a known_hosts or authorized_keys line, or bare ("type base64"), and
// returns it in the form Litestream's sftp client expects.
func hostKey(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("an sftp replica needs --sftp-host-key, the server's public host key (ssh-keyscan -t ed25519 HOST prints it)")
	}
	if _, _, pub, _, _, err := ssh.ParseKnownHosts([]byte(s)); err == nil {
		return string(ssh.MarshalAuthorizedKey(pub)), nil
	}
	if pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s)); err == nil {
		return string(ssh.MarshalAuthorizedKey(pub)), nil
	}
	return "", fmt.Errorf("--sftp-host-key %q is not a public key (want a line such as \"ssh-ed25519 AAAA…\")", s)
}

// watched wraps a Litestream client: it connects lazily, so that a replica
// that cannot be reached at start does not stop the panel, and it keeps the
// last error, for the operator's endpoints.
type watched struct {
	litestream.ReplicaClient
	log zerolog.Logger

	mu      sync.Mutex
	lastErr error
}

// Init tries to connect; a failure is remembered and tried again on the
// next call instead of being returned (it would stop Litestream from
// starting at all).
func (c *watched) Init(ctx context.Context) error {
	c.ready(ctx)
	return nil
}

// ready connects if not connected yet (the clients' Init is idempotent).
func (c *watched) ready(ctx context.Context) error {
	if err := c.ReplicaClient.Init(ctx); err != nil {
		return c.outcome(err)
	}
	return nil
}

// outcome records how the replica answered a call and returns err: it says
// loudly when the replica stops answering and when it answers again. A
// cancelled call says nothing about the replica.
func (c *watched) outcome(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	answered := err == nil || errors.Is(err, os.ErrNotExist)
	c.mu.Lock()
	was := c.lastErr
	if answered {
		c.lastErr = nil
	} else {
		c.lastErr = err
	}
	c.mu.Unlock()
	switch {
	case answered && was != nil:
		c.log.Info().Msg("replica: the replica answers again; shipping the writes that waited")
	case !answered && was == nil:
		c.log.Error().Err(err).Msg("replica: cannot reach the replica; the panel keeps serving and the writes wait here until it answers")
	}
	return err
}

// LastError is the replica's last failure, or nil once it answers again.
func (c *watched) LastError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

func (c *watched) LTXFiles(ctx context.Context, level int, seek ltx.TXID, useMetadata bool) (ltx.FileIterator, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	it, err := c.ReplicaClient.LTXFiles(ctx, level, seek, useMetadata)
	if err != nil {
		return nil, c.outcome(err)
	}
	return &listing{FileIterator: it, c: c}, nil
}

// listing is a listing of the replica's files: most clients report its
// failures only as it is read.
type listing struct {
	ltx.FileIterator
	c    *watched
	done bool
}

func (l *listing) Next() bool {
	if l.FileIterator.Next() {
		return true
	}
	l.finish(l.FileIterator.Err())
	return false
}

func (l *listing) Close() error {
	err := l.FileIterator.Close()
	l.finish(err)
	return err
}

// finish records the listing's outcome once.
func (l *listing) finish(err error) {
	if !l.done {
		l.done = true
		l.c.outcome(err)
	}
}

func (c *watched) OpenLTXFile(ctx context.Context, level int, minTXID, maxTXID ltx.TXID, offset, size int64) (io.ReadCloser, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	rc, err := c.ReplicaClient.OpenLTXFile(ctx, level, minTXID, maxTXID, offset, size)
	return rc, c.outcome(err)
}

func (c *watched) WriteLTXFile(ctx context.Context, level int, minTXID, maxTXID ltx.TXID, r io.Reader) (*ltx.FileInfo, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	info, err := c.ReplicaClient.WriteLTXFile(ctx, level, minTXID, maxTXID, r)
	return info, c.outcome(err)
}

func (c *watched) DeleteLTXFiles(ctx context.Context, a []*ltx.FileInfo) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	return c.outcome(c.ReplicaClient.DeleteLTXFiles(ctx, a))
}

func (c *watched) DeleteAll(ctx context.Context) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	return c.outcome(c.ReplicaClient.DeleteAll(ctx))
}

// Validate checks the options as Start would, without reaching the
// replica.
func (o Options) Validate() error {
	_, err := o.client()
	return err
}
