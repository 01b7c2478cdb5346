package storefront

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"
)

// smtpMailer sends mail through the operator's SMTP server.
type smtpMailer struct {
	host, from string
	opts       []mail.Option
}

// NewSMTP makes a Mailer from serve --smtp-url and --mail-from:
// smtp://user:pass@host:587 (STARTTLS, required), smtps://user:pass@host:465
// (TLS from the first byte), or smtp+insecure://host:port (no TLS, for a
// relay on the same machine or a test server). The password may be
// percent-encoded.
func NewSMTP(raw, from string) (Mailer, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("--smtp-url: want smtp://user:password@host:587")
	}
	if from == "" {
		return nil, errors.New("--mail-from is needed with --smtp-url: the address mails are sent from")
	}
	port := 0
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("--smtp-url: bad port %q", p)
		}
	}
	opts := []mail.Option{mail.WithTimeout(20 * time.Second), mail.WithTLSConfig(&tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12})}
	switch u.Scheme {
	case "smtp":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithPort(cmp.Or(port, 587)))
	case "smtps":
		opts = append(opts, mail.WithSSL(), mail.WithPort(cmp.Or(port, 465)))
	case "smtp+insecure":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS), mail.WithPort(cmp.Or(port, 25)))
	default:
		return nil, fmt.Errorf("--smtp-url: scheme %q: want smtp, smtps or smtp+insecure", u.Scheme)
	}
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(u.User.Username()), mail.WithPassword(pass))
	}
	m := &smtpMailer{host: u.Hostname(), from: from, opts: opts}
	if _, err := mail.NewClient(m.host, m.opts...); err != nil {
		return nil, fmt.Errorf("--smtp-url: %w", err)
	}
	msg := mail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("--mail-from: %w", err)
	}
	return m, nil
}

// Send sends one plain-text message, within the request's time.
func (m *smtpMailer) Send(ctx context.Context, to, subject, body string) error {
	msg := mail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return err
	}
	if err := msg.To(to); err != nil {
		return err
	}
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(mail.TypeTextPlain, body)
	c, err := mail.NewClient(m.host, m.opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}
