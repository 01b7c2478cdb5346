package replicatest_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"notpanel/replica/replicatest"
)

// The S3 store serves its bucket, and answers 503 while down.
func TestS3(t *testing.T) {
	s := replicatest.NewS3(t)
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := u.Query().Get("endpoint")
	get := func() int {
		resp, err := http.Get(endpoint + "/backups")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != http.StatusOK {
		t.Errorf("listing the bucket: %d", code)
	}
	s.SetDown(true)
	if code := get(); code != http.StatusServiceUnavailable {
		t.Errorf("listing the bucket while down: %d, want 503", code)
	}
	s.SetDown(false)
	if code := get(); code != http.StatusOK || s.Requests.Load() != 2 {
		t.Errorf("listing the bucket once up: %d after %d requests", code, s.Requests.Load())
	}
}

// The SFTP server lets its user in with the key, under its host key, into
// its directory; while down it refuses connections and drops open ones.
func TestSFTP(t *testing.T) {
	s := replicatest.NewSFTP(t)
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(s.Key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	_, _, hostKey, _, _, err := ssh.ParseKnownHosts([]byte(s.HostKey))
	if err != nil {
		t.Fatal(err)
	}
	dial := func(user string) (*ssh.Client, error) {
		return ssh.Dial("tcp", u.Host, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: ssh.FixedHostKey(hostKey)})
	}
	if _, err := dial("intruder"); err == nil {
		t.Errorf("another user got in")
	}
	conn, err := dial("backup")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := sftp.NewClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Create("hello")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("hi"))
	f.Close()
	if b, err := os.ReadFile(filepath.Join(s.Dir, "hello")); err != nil || string(b) != "hi" {
		t.Errorf("file written over sftp: %q %v", b, err)
	}
	if sess, err := conn.NewSession(); err == nil {
		if err := sess.RequestSubsystem("shell"); err == nil {
			t.Errorf("a subsystem other than sftp was granted")
		}
		sess.Close()
	}

	s.SetDown(true)
	if _, err := c.Stat("hello"); err == nil {
		t.Errorf("an open connection still works while down")
	}
	if _, err := dial("backup"); err == nil {
		t.Errorf("connected while down")
	}
	s.SetDown(false)
	if conn, err := dial("backup"); err != nil {
		t.Errorf("connect once up: %v", err)
	} else {
		conn.Close()
	}
	if !strings.HasPrefix(s.URL, "sftp://backup@127.0.0.1:") {
		t.Errorf("URL %s", s.URL)
	}
}
