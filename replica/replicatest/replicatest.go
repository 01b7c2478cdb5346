// Package replicatest runs replicas for tests in the test's own process: an
// S3 store (gofakes3 in memory) and an SFTP server (golang.org/x/crypto/ssh
// with github.com/pkg/sftp over a directory), each on a loopback port and
// each able to go down and come back on demand.
package replicatest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Env is what a process needs in its environment to reach S3 replicas:
// test credentials, and no AWS_CA_BUNDLE (set on some machines), which
// the S3 client refuses.
var Env = map[string]string{
	"AWS_ACCESS_KEY_ID":     "notpanel-test",
	"AWS_SECRET_ACCESS_KEY": "notpanel-test-secret",
	"AWS_CA_BUNDLE":         "",
}

// SetEnv puts Env into the test's environment (so the test cannot run in
// parallel with others).
func SetEnv(t testing.TB) {
	for k, v := range Env {
		t.Setenv(k, v)
	}
}

// S3 is an in-memory S3 store holding one bucket.
type S3 struct {
	// URL is a replica URL in the bucket, at the path notpanel.
	URL string
	// Requests counts the requests answered while up.
	Requests atomic.Int64

	down atomic.Bool
}

// NewS3 starts a store with the bucket "backups"; it stops with the test.
func NewS3(t testing.TB) *S3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("backups"); err != nil {
		t.Fatal(err)
	}
	fake := gofakes3.New(backend).Server()
	s := &S3{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			http.Error(w, "<Error><Code>ServiceUnavailable</Code><Message>down for the test</Message></Error>", http.StatusServiceUnavailable)
			return
		}
		s.Requests.Add(1)
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = "s3://backups/notpanel?endpoint=" + srv.URL + "&region=us-east-1"
	return s
}

// SetDown makes the store answer every request with 503 (true) or serve
// again (false).
func (s *S3) SetDown(down bool) { s.down.Store(down) }

// SFTP is an SSH server whose sftp subsystem serves a directory.
type SFTP struct {
	// URL is a replica URL on the server, in the directory notpanel.
	URL string
	// Key is the private key file the user logs in with.
	Key string
	// HostKey is the server's public key, as ssh-keyscan prints it.
	HostKey string
	// Dir is the directory served.
	Dir string

	ln    net.Listener
	down  atomic.Bool
	mu    sync.Mutex
	conns map[net.Conn]bool
}

// NewSFTP starts a server for the user "backup" with a fresh key pair; it
// stops with the test.
func NewSFTP(t testing.TB) *SFTP {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	userPub, userPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	userKey, err := ssh.NewPublicKey(userPub)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(userPriv, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &SFTP{Key: filepath.Join(dir, "id_ed25519"), Dir: filepath.Join(dir, "served"), conns: map[net.Conn]bool{}}
	if err := os.WriteFile(s.Key, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(s.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if c.User() == "backup" && string(key.Marshal()) == string(userKey.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	cfg.AddHostKey(hostSigner)
	if s.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.ln.Close(); s.drop() })
	s.HostKey = s.ln.Addr().String() + " " + string(ssh.MarshalAuthorizedKey(hostSigner.PublicKey()))
	s.URL = "sftp://backup@" + s.ln.Addr().String() + "/notpanel"
	go s.accept(cfg)
	return s
}

// SetDown drops every connection and refuses new ones (true), or accepts
// them again (false).
func (s *SFTP) SetDown(down bool) {
	s.down.Store(down)
	if down {
		s.drop()
	}
}

func (s *SFTP) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
		delete(s.conns, c)
	}
}

func (s *SFTP) accept(cfg *ssh.ServerConfig) {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		if s.down.Load() {
			conn.Close()
			continue
		}
		s.mu.Lock()
		s.conns[conn] = true
		s.mu.Unlock()
		go s.serve(conn, cfg)
	}
}

// serve runs one SSH connection: sessions whose subsystem is sftp.
func (s *SFTP) serve(conn net.Conn, cfg *ssh.ServerConfig) {
	defer func() {
		conn.Close()
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
	}()
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, reqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range reqs {
				ok := req.Type == "subsystem" && len(req.Payload) > 4 && string(req.Payload[4:]) == "sftp"
				req.Reply(ok, nil)
				if !ok {
					continue
				}
				srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.Dir))
				if err != nil {
					return
				}
				srv.Serve()
				srv.Close()
				return
			}
		}()
	}
}
