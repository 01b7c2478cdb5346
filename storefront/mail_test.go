package storefront_test

import (
	"io"
	"mime/quotedprintable"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"notpanel/storefront"
)

// smtpServer is a fake SMTP server on loopback that keeps the messages it
// is given. It offers no STARTTLS.
type smtpServer struct {
	addr string
	mu   sync.Mutex
	msgs []string
	rcpt []string
}

func newSMTPServer(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &smtpServer{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 fake ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		switch verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0]); verb {
		case "EHLO", "HELO":
			tp.PrintfLine("250-fake")
			tp.PrintfLine("250 8BITMIME")
		case "MAIL", "RSET", "NOOP":
			tp.PrintfLine("250 OK")
		case "RCPT":
			s.mu.Lock()
			s.rcpt = append(s.rcpt, line)
			s.mu.Unlock()
			tp.PrintfLine("250 OK")
		case "DATA":
			tp.PrintfLine("354 go on")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, string(b))
			s.mu.Unlock()
			tp.PrintfLine("250 queued")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("502 not here")
		}
	}
}

func (s *smtpServer) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

func TestSMTPMailer(t *testing.T) {
	srv := newSMTPServer(t)
	m, err := storefront.NewSMTP("smtp+insecure://"+srv.addr, "Boost <panel@boost.example>")
	if err != nil {
		t.Fatal(err)
	}
	link := "https://panel.example.com/reset?token=" + strings.Repeat("k", 60)
	if err := m.Send(ctx, "alice@example.com", "Set a new password for Boost", "Hello alice,\n\n"+link+"\n"); err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	head, body, _ := strings.Cut(strings.ReplaceAll(msgs[0], "\r\n", "\n"), "\n\n")
	for _, want := range []string{"Subject: Set a new password for Boost", "To: <alice@example.com>", `From: "Boost" <panel@boost.example>`,
		"Date: ", "Message-ID: "} {
		if !strings.Contains(head, want) {
			t.Errorf("the header lacks %q:\n%s", want, head)
		}
	}
	decoded := body
	if strings.Contains(head, "quoted-printable") {
		b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		decoded = string(b)
	}
	if !strings.Contains(decoded, link) || !strings.Contains(decoded, "Hello alice,") {
		t.Errorf("the body does not carry the link whole:\n%s", decoded)
	}
	if srv.rcpt[0] != "RCPT TO:<alice@example.com>" {
		t.Errorf("recipient %q", srv.rcpt[0])
	}

	// smtp:// requires STARTTLS: a server that offers none gets no mail,
	// and no password in the clear.
	tlsOnly, err := storefront.NewSMTP("smtp://user:secret@"+srv.addr, "panel@boost.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := tlsOnly.Send(ctx, "alice@example.com", "x", "y"); err == nil || len(srv.messages()) != 1 {
		t.Errorf("smtp:// to a server without STARTTLS: %v, %d messages", err, len(srv.messages()))
	}
	// A bad recipient is an error, not a mail.
	if err := m.Send(ctx, "not an address", "x", "y"); err == nil {
		t.Error("a bad recipient was accepted")
	}
}

func TestNewSMTP(t *testing.T) {
	good := []string{"smtp://user:pass@mail.example.com:587", "smtps://user:p%40ss@mail.example.com", "smtp+insecure://127.0.0.1:25",
		"smtp://mail.example.com"}
	for _, u := range good {
		if _, err := storefront.NewSMTP(u, "panel@example.com"); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	bad := []struct{ url, from, msg string }{
		{"", "panel@example.com", "--smtp-url: want smtp://user:password@host:587"},
		{"mail.example.com:587", "panel@example.com", "--smtp-url"},
		{"ftp://mail.example.com", "panel@example.com", `scheme "ftp"`},
		{"smtp://mail.example.com:99999", "panel@example.com", "bad port"},
		{"smtp://mail.example.com:x", "panel@example.com", "--smtp-url"},
		{"smtp://mail.example.com", "", "--mail-from is needed"},
		{"smtp://mail.example.com", "not an address", "--mail-from"},
	}
	for _, b := range bad {
		if _, err := storefront.NewSMTP(b.url, b.from); err == nil || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("NewSMTP(%q, %q) = %v, want %q", b.url, b.from, err, b.msg)
		}
	}
}
