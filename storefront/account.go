package storefront

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pquerna/otp"

	"notpanel/store"
)

// accountPage is /account: balance, e-mail, password, two-factor, the
// low-balance alert.
type accountPage struct {
	base
	Email       string
	Credentials store.Credentials
	LowBalance  string
	// Enrolment of two-factor sign-in, between "turn on" and the first
	// code: the secret (kept in a hidden field), its QR code and its
	// setup key for typing.
	TOTPSecret, TOTPQR, TOTPKey string
	// RecoveryCodes are shown once, right after two-factor is turned on.
	RecoveryCodes []string
	// Error is shown beside the form it concerns.
	Error, ErrorAt string
}

func (s *site) accountPage(r *http.Request, v *visit) (accountPage, error) {
	p := accountPage{base: s.base(r, v, "Account", "account")}
	var err error
	if p.Email, err = s.db.Email(r.Context(), v.Account.ID); err != nil {
		return p, err
	}
	if p.Credentials, err = s.db.AccountCredentials(r.Context(), v.Account.ID); err != nil {
		return p, err
	}
	if v.Account.LowBalance > 0 {
		p.LowBalance = store.FormatMoney(v.Account.LowBalance)
	}
	return p, nil
}

func (s *site) accountShow(w http.ResponseWriter, r *http.Request, v *visit) {
	p, err := s.accountPage(r, v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "account", p)
}

// accountError shows the account page with a message beside one form.
func (s *site) accountError(w http.ResponseWriter, r *http.Request, v *visit, at string, err error) {
	msg, ok := userError(err)
	if !ok {
		s.internal(w, r, err)
		return
	}
	p, perr := s.accountPage(r, v)
	if perr != nil {
		s.internal(w, r, perr)
		return
	}
	p.Error, p.ErrorAt = msg, at
	s.render(w, r, http.StatusBadRequest, "account", p)
}

func (s *site) passwordChange(w http.ResponseWriter, r *http.Request, v *visit) {
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		s.accountError(w, r, v, "password", store.Errorf(store.Invalid, "The two new passwords are not the same."))
		return
	}
	if err := s.db.ChangePassword(r.Context(), v.Account.ID, r.PostFormValue("current"), r.PostFormValue("password"), v.token); err != nil {
		s.accountError(w, r, v, "password", err)
		return
	}
	s.log.Info().Int64("account", v.Account.ID).Msg("storefront: password changed")
	redirect(w, r, "/account?notice=password")
}

func (s *site) emailChange(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := s.db.SetEmail(r.Context(), v.Account.ID, r.PostFormValue("email")); err != nil {
		s.accountError(w, r, v, "email", err)
		return
	}
	redirect(w, r, "/account?notice=email")
}

func (s *site) lowBalanceChange(w http.ResponseWriter, r *http.Request, v *visit) {
	raw := strings.TrimSpace(r.PostFormValue("amount"))
	if raw == "" {
		raw = "0"
	}
	amount, err := store.ParseMoney(raw)
	if err != nil || amount < 0 {
		s.accountError(w, r, v, "lowbalance", store.Errorf(store.Invalid, "Write the amount as a number such as 5 or 12.50."))
		return
	}
	if _, err := s.db.SetLowBalance(r.Context(), strconv.FormatInt(v.Account.ID, 10), amount); err != nil {
		s.accountError(w, r, v, "lowbalance", err)
		return
	}
	redirect(w, r, "/account?notice=lowbalance")
}

// twoFactorStart shows a new secret to scan. Nothing is stored until the
// first code from the app confirms it.
func (s *site) twoFactorStart(w http.ResponseWriter, r *http.Request, v *visit) {
	p, err := s.accountPage(r, v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if p.Credentials.TwoFactor {
		redirect(w, r, "/account")
		return
	}
	key, err := store.NewTOTP(p.Site.Name, v.Account.Name)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.enrol(&p, key.Secret(), key.URL())
	s.render(w, r, http.StatusOK, "account", p)
}

// enrol puts a secret to scan on the account page: a QR code of its
// otpauth URL (a data: image, allowed by the page's policy) and the key
// in groups of four for typing.
func (s *site) enrol(p *accountPage, secret, otpURL string) {
	p.TOTPSecret = secret
	var groups []string
	for i := 0; i < len(secret); i += 4 {
		groups = append(groups, secret[i:min(i+4, len(secret))])
	}
	p.TOTPKey = strings.Join(groups, " ")
	if img, err := qrImage(otpURL); err == nil {
		p.TOTPQR = img
	}
}

func (s *site) twoFactorConfirm(w http.ResponseWriter, r *http.Request, v *visit) {
	secret := strings.TrimSpace(r.PostFormValue("secret"))
	codes, err := s.db.EnableTOTP(r.Context(), v.Account.ID, secret, r.PostFormValue("code"))
	if err != nil {
		msg, ok := userError(err)
		if !ok {
			s.internal(w, r, err)
			return
		}
		p, perr := s.accountPage(r, v)
		if perr != nil {
			s.internal(w, r, perr)
			return
		}
		if !p.Credentials.TwoFactor && secret != "" {
			s.enrol(&p, secret, totpURL(p.Site.Name, v.Account.Name, secret))
		}
		p.Error, p.ErrorAt = msg, "2fa"
		s.render(w, r, http.StatusBadRequest, "account", p)
		return
	}
	s.log.Info().Int64("account", v.Account.ID).Msg("storefront: two-factor sign-in on")
	p, err := s.accountPage(r, v)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p.RecoveryCodes, p.Notice = codes, notices["2fa-on"]
	s.render(w, r, http.StatusOK, "account", p)
}

func (s *site) twoFactorOff(w http.ResponseWriter, r *http.Request, v *visit) {
	if err := s.db.DisableTOTP(r.Context(), v.Account.ID, r.PostFormValue("password"), false); err != nil {
		s.accountError(w, r, v, "2fa", err)
		return
	}
	s.log.Info().Int64("account", v.Account.ID).Msg("storefront: two-factor sign-in off")
	redirect(w, r, "/account?notice=2fa-off")
}

// signOutEverywhere ends every session of the account but this one.
func (s *site) signOutEverywhere(w http.ResponseWriter, r *http.Request, v *visit) {
	if _, err := s.db.EndSessions(r.Context(), v.Account.ID); err != nil {
		s.internal(w, r, err)
		return
	}
	// This browser's session ended too: sign it in again, afresh.
	if err := s.signIn(r.Context(), w, r, &visit{secure: v.secure, ip: v.ip}, v.Account.ID, false); err != nil {
		s.internal(w, r, err)
		return
	}
	redirect(w, r, "/account?notice=everywhere")
}

// transactionsPage is /transactions: the account's ledger, newest first.
type transactionsPage struct {
	base
	Rows []store.LedgerEntry
	Next string
}

// RowsPerPage is the length of a page of /transactions.
const RowsPerPage = 50

func (s *site) transactions(w http.ResponseWriter, r *http.Request, v *visit) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	rows, err := s.db.AccountLedger(r.Context(), v.Account.ID, before, RowsPerPage+1)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := transactionsPage{base: s.base(r, v, "Transactions", "transactions")}
	if len(rows) > RowsPerPage {
		rows = rows[:RowsPerPage]
		p.Next = "/transactions?before=" + strconv.FormatInt(rows[len(rows)-1].ID, 10)
	}
	p.Rows = rows
	s.render(w, r, http.StatusOK, "transactions", p)
}

func parseExtra(raw string) map[string]string {
	out := map[string]string{}
	if raw != "" {
		json.Unmarshal([]byte(raw), &out)
	}
	return out
}

// qrImage is the QR code of an otpauth URL, as a data: URL of a PNG.
func qrImage(otpURL string) (string, error) {
	key, err := otp.NewKeyFromURL(otpURL)
	if err != nil {
		return "", err
	}
	img, err := key.Image(200, 200)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// totpURL is the otpauth URL of a secret being enrolled, as the app reads
// it (issuer, account, 30-second six-digit SHA-1 codes).
func totpURL(issuer, account, secret string) string {
	v := url.Values{"secret": {secret}, "issuer": {issuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + url.PathEscape(issuer) + ":" + url.PathEscape(account) + "?" + v.Encode()
}
