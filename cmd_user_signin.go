package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"notpanel/store"
)

// The storefront commands of user: how a customer signs in.

type userSetPasswordCmd struct {
	User string `arg:"" help:"Account name or id."`
}

func (c *userSetPasswordCmd) Help() string {
	return `At a terminal the password is typed twice and not shown. Otherwise the first line on stdin is the password:

  printf '%s\n' "$PASSWORD" | notpanel user set-password alice

A password the sign-up page would refuse (shorter than 8 characters, a common one, the user name) is refused with the reason. Accounts made with user add have no password until this command or a reset link gives them one.`
}

func (c *userSetPasswordCmd) Run(ctx context.Context, a *app) error {
	db, acc, err := a.openAccount(ctx, c.User)
	if err != nil {
		return err
	}
	password, err := a.readPassword(ctx, acc.Name)
	if err != nil {
		return err
	}
	if err := db.SetPassword(ctx, acc.ID, password); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "password of %s (id %d) set; every browser signed in to the account was signed out\n", acc.Name, acc.ID)
	noteSuspended(a, acc)
	return nil
}

// noteSuspended tells the operator giving a suspended account a way in that
// it stays shut until unsuspended.
func noteSuspended(a *app, acc store.Account) {
	if acc.Status != store.AccountActive {
		fmt.Fprintf(a.stderr, "%s is suspended: it signs in after notpanel user unsuspend %s\n", acc.Name, acc.Name)
	}
}

// maxPasswordLine is the most read from a pipe: MaxPassword characters of
// four bytes and a line break. A longer line is cut, and the rules then
// refuse what was read, never a part taken as the whole.
const maxPasswordLine = 4*store.MaxPassword + 3

// readPassword reads a new password for the account named user: typed
// twice without echo at a terminal, or else the first line on stdin.
func (a *app) readPassword(ctx context.Context, user string) (string, error) {
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(a.stderr, "New password for %s: ", user)
		first, err := readSecret(ctx, int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", err
		}
		if err := store.CheckPassword(user, first); err != nil {
			return "", err
		}
		fmt.Fprint(a.stderr, "The same again: ")
		second, err := readSecret(ctx, int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", err
		}
		if first != second {
			return "", errors.New("the two passwords differ; nothing changed")
		}
		return first, nil
	}
	line, err := bufio.NewReader(io.LimitReader(a.stdin, maxPasswordLine)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", fmt.Errorf("no password on stdin: type it at a terminal, or pipe it in: "+
			`printf '%%s\n' "$PASSWORD" | notpanel user set-password %s`, user)
	}
	return line, nil
}

// readSecret reads a line from the terminal fd without echo. Interrupted
// (Ctrl-C), it gives the terminal its echo back before returning, which
// term.ReadPassword, still blocked on the read, would not.
func readSecret(ctx context.Context, fd int) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	type line struct {
		b   []byte
		err error
	}
	read := make(chan line, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		read <- line{b, err}
	}()
	select {
	case l := <-read:
		if l.err != nil {
			return "", fmt.Errorf("read the password: %w", l.err)
		}
		return string(l.b), nil
	case <-ctx.Done():
		term.Restore(fd, state)
		return "", errors.New("interrupted; nothing changed")
	}
}

type userResetLinkCmd struct {
	User string `arg:"" help:"Account name or id."`
}

func (c *userResetLinkCmd) Help() string {
	return `The link is <site URL>/reset?token=…; it works once, within an hour, and using it signs every browser of the account out. Send it to the customer over a channel you trust: whoever opens it chooses the password.

It needs the panel's public address, set once with: notpanel site set --url https://panel.example.com`
}

func (c *userResetLinkCmd) Run(ctx context.Context, a *app) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	site, err := db.Site(ctx)
	if err != nil {
		return err
	}
	if site.URL == "" {
		return errors.New("no site URL is set, and a reset link needs the panel's public address: " +
			"set it once with notpanel site set --url https://panel.example.com")
	}
	acc, err := db.FindAccount(ctx, c.User)
	if err != nil {
		return err
	}
	token, err := db.CreateResetToken(ctx, acc.ID)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, site.URL+"/reset?token="+url.QueryEscape(token))
	fmt.Fprintf(a.stderr, "reset link for %s (id %d): it works once, until %s; using it signs every browser of the account out\n",
		acc.Name, acc.ID, when(time.Now().Add(store.ResetTTL).Unix()))
	noteSuspended(a, acc)
	return nil
}

type userReset2FACmd struct {
	User string `arg:"" help:"Account name or id."`
}

func (c *userReset2FACmd) Help() string {
	return `Afterwards the password alone signs in, so first make sure the request comes from the account's owner (the e-mail address on file, a payment only they know of). The recovery codes stop working; the customer may turn two-factor sign-in on again from the account page.`
}

func (c *userReset2FACmd) Run(ctx context.Context, a *app) error {
	db, acc, err := a.openAccount(ctx, c.User)
	if err != nil {
		return err
	}
	creds, err := db.AccountCredentials(ctx, acc.ID)
	if err != nil {
		return err
	}
	if !creds.TwoFactor {
		return fmt.Errorf("%s (id %d) has no two-factor sign-in to turn off", acc.Name, acc.ID)
	}
	if err := db.DisableTOTP(ctx, acc.ID, "", true); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "two-factor sign-in of %s (id %d) is off and its recovery codes are void: "+
		"it signs in with the password alone and may turn two-factor on again\n", acc.Name, acc.ID)
	return nil
}

type userSignoutCmd struct {
	User string `arg:"" help:"Account name or id."`
}

func (c *userSignoutCmd) Run(ctx context.Context, a *app) error {
	db, acc, err := a.openAccount(ctx, c.User)
	if err != nil {
		return err
	}
	n, err := db.EndSessions(ctx, acc.ID)
	if err != nil {
		return err
	}
	sessions := "browser sessions"
	if n == 1 {
		sessions = "browser session"
	}
	fmt.Fprintf(a.stderr, "%d %s of %s (id %d) ended; its API keys still work (notpanel key revoke ends those)\n",
		n, sessions, acc.Name, acc.ID)
	return nil
}
