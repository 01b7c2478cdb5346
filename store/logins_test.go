package store_test

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"notpanel/store"
	"notpanel/store/storetest"
)

const (
	goodPassword  = "correct horse battery staple"
	otherPassword = "violet kettle under the bridge"
)

func TestSignUp(t *testing.T) {
	t.Parallel() // argon2 is slow under -race: the hashing tests overlap
	db, clock := clocked(t)
	alice := signUp(t, db, "alice", goodPassword)
	if a, c, err := db.SignIn(ctx, "alice", goodPassword); err != nil || a != alice || !c.HasPassword {
		t.Fatalf("SignIn after SignUp = %+v, %+v, %v", a, c, err)
	}
	used, err := db.CreateInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SignUp(ctx, "first", goodPassword, used, true); err != nil {
		t.Fatalf("SignUp with a fresh invitation: %v", err)
	}
	expiring, _ := db.CreateInvite(ctx)
	clock.Advance(store.InviteTTL - time.Second)
	fresh, _ := db.CreateInvite(ctx) // made a month after expiring: still good when that one is not
	late, _ := db.CreateInvite(ctx)
	clock.Advance(time.Second)
	reset, _ := db.CreateResetToken(ctx, 1)

	const refused = "This invitation code is not valid or was used already"
	tests := []struct {
		name, user, password, invite string
		require                      bool
		code                         store.Code
		message                      string
	}{
		{"OK", "bob", goodPassword, "", false, "", ""},
		{"OKUnicodeName", "Zoë", goodPassword, "", false, "", ""},
		{"InvitationIgnoredWhenOpen", "carol", goodPassword, "not a code", false, "", ""},
		{"Invitation", "dave", goodPassword, fresh, true, "", ""},
		{"InvitationAsTyped", "erin", goodPassword, "  " + strings.ToUpper(late) + "\n", true, "", ""},
		{"ErrNameTaken", "alice", goodPassword, "", false, store.Conflict, `User "alice" already exists`},
		{"ErrNameTakenInAnotherCase", "ALICE", goodPassword, "", false, store.Conflict, `User "ALICE" already exists`},
		{"ErrNameEmpty", "", goodPassword, "", false, store.Invalid, `Invalid user name "": 1 to 64 characters`},
		{"ErrNameSpace", "mr bean", goodPassword, "", false, store.Invalid, `Invalid user name "mr bean": use letters, digits and . _ - @`},
		{"ErrNameNumber", "42", goodPassword, "", false, store.Invalid, `Invalid user name "42": a name cannot be a number (numbers address ids)`},
		{"ErrNameTooLong", strings.Repeat("x", 65), goodPassword, "", false, store.Invalid, `Invalid user name "` + strings.Repeat("x", 65) + `": 1 to 64 characters`},
		{"ErrPasswordShort", "frank", "short", "", false, store.Invalid, "Password must be at least 8 characters"},
		{"ErrPasswordCommon", "frank", "Sunshine1", "", false, store.Invalid, "Password is too common; choose one that is not on the lists of the passwords people use most"},
		{"ErrPasswordIsName", "frankie", "Frankie99", "", false, store.Invalid, "Password must not be your user name"},
		{"ErrInvitationMissing", "frank", goodPassword, " ", true, store.Invalid, "An invitation code is needed to sign up here"},
		{"ErrInvitationUsed", "frank", goodPassword, used, true, store.Invalid, refused},
		{"ErrInvitationExpired", "frank", goodPassword, expiring, true, store.Invalid, refused},
		{"ErrInvitationUnknown", "frank", goodPassword, "abcdefghijklmnopqrstuvwxyz", true, store.Invalid, refused},
		{"ErrResetTokenIsNoInvitation", "frank", goodPassword, reset, true, store.Invalid, refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := db.SignUp(ctx, tt.user, tt.password, tt.invite, tt.require)
			if tt.message != "" {
				wantErr(t, err, tt.code, tt.message)
				if tt.code != store.Conflict {
					if _, err := db.FindAccount(ctx, tt.user); store.ErrorCode(err) != store.NotFound {
						t.Errorf("a refused sign-up left account %q behind (%v)", tt.user, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Name != tt.user || a.Tier != "standard" || a.Status != store.AccountActive || a.Balance != 0 {
				t.Errorf("account = %+v, want %s, active, standard, no money", a, tt.user)
			}
			if c, err := db.AccountCredentials(ctx, a.ID); err != nil || !c.HasPassword || c.TwoFactor {
				t.Errorf("credentials after SignUp = %+v, %v; want a password", c, err)
			}
		})
	}
	// The invitation went with the account that spent it: a second use of
	// the same code is refused although it was given in another spelling.
	_, err = db.SignUp(ctx, "grace", goodPassword, strings.ToUpper(fresh), true)
	wantErr(t, err, store.Invalid, refused)
}

func TestSignIn(t *testing.T) {
	t.Parallel() // argon2 is slow under -race: the hashing tests overlap
	db := storetest.Open(t)
	alice := signUp(t, db, "Alice", goodPassword)
	signUp(t, db, "mallory", goodPassword)
	if _, err := db.SetAccountStatus(ctx, "mallory", store.AccountSuspended); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateAccount(ctx, "nopass", ""); err != nil { // made by user add: no password yet
		t.Fatal(err)
	}
	tests := []struct {
		name, user, password string
		want                 int64 // account id, 0 for a refusal
		err                  error
	}{
		{"OK", "Alice", goodPassword, alice.ID, nil},
		{"OKNameInAnotherCase", "aLICE", goodPassword, alice.ID, nil},
		{"ErrWrongPassword", "Alice", otherPassword, 0, store.ErrSignIn},
		{"ErrPasswordInAnotherCase", "Alice", strings.ToUpper(goodPassword), 0, store.ErrSignIn},
		{"ErrUnknownName", "bob", goodPassword, 0, store.ErrSignIn},
		{"ErrEmptyName", "", goodPassword, 0, store.ErrSignIn},
		{"ErrLongName", strings.Repeat("a", 100), goodPassword, 0, store.ErrSignIn},
		{"ErrNoPasswordSet", "nopass", "", 0, store.ErrSignIn},
		{"ErrNoPasswordSetAnyTyped", "nopass", goodPassword, 0, store.ErrSignIn},
		{"ErrSuspendedWrongPassword", "mallory", otherPassword, 0, store.ErrSignIn},
		{"ErrSuspendedRightPassword", "mallory", goodPassword, 0, store.ErrAccountSuspended},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // every case hashes once; two cores do it in half the time
			a, c, err := db.SignIn(ctx, tt.user, tt.password)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || store.ErrorMessage(err) != store.ErrorMessage(tt.err) {
					t.Errorf("SignIn = %v, want %v", err, tt.err)
				}
				if a != (store.Account{}) || c != (store.Credentials{}) {
					t.Errorf("a refused sign-in returned %+v, %+v", a, c)
				}
				return
			}
			if err != nil || a.ID != tt.want || !c.HasPassword {
				t.Errorf("SignIn = %+v, %+v, %v; want account %d with a password", a, c, err, tt.want)
			}
		})
	}
}

// A name that matches two accounts only in case (made before names were
// unique in any case) signs neither in by the ambiguous spelling.
func TestSignInAmbiguousCase(t *testing.T) {
	t.Parallel() // argon2 is slow under -race: the hashing tests overlap
	db := storetest.Open(t)
	signUp(t, db, "Sam", goodPassword)
	raw := storetest.Raw(t, db)
	if _, err := raw.ExecContext(ctx, `INSERT INTO accounts (name, tier, created_at) VALUES ('SAM', 'standard', 0)`); err != nil {
		t.Fatal(err)
	}
	_, _, err := db.SignIn(ctx, "sam", goodPassword)
	if !errors.Is(err, store.ErrSignIn) {
		t.Errorf("SignIn(sam) = %v, want %v", err, store.ErrSignIn)
	}
	if a, _, err := db.SignIn(ctx, "Sam", goodPassword); err != nil || a.Name != "Sam" {
		t.Errorf("SignIn(Sam), the exact name = %+v, %v", a, err)
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel() // argon2 is slow under -race: the hashing tests overlap
	db := storetest.Open(t)
	alice := signUp(t, db, "alice", goodPassword)
	bob := signUp(t, db, "bob", goodPassword)
	here, laptop, phone := session(t, db, alice.ID), session(t, db, alice.ID), session(t, db, alice.ID)
	bobs := session(t, db, bob.ID)

	err := db.ChangePassword(ctx, alice.ID, otherPassword, "another fine long passphrase", here)
	wantErr(t, err, store.Invalid, "Current password is wrong")
	err = db.ChangePassword(ctx, alice.ID, goodPassword, "alice123", here)
	wantErr(t, err, store.Invalid, "Password must not be your user name")
	if !live(t, db, laptop) || !live(t, db, phone) {
		t.Fatalf("a refused change ended sessions")
	}

	if err := db.ChangePassword(ctx, alice.ID, goodPassword, otherPassword, here); err != nil {
		t.Fatal(err)
	}
	if !live(t, db, here) {
		t.Errorf("the session that changed the password ended")
	}
	if live(t, db, laptop) || live(t, db, phone) {
		t.Errorf("the account's other sessions outlived the password change")
	}
	if !live(t, db, bobs) {
		t.Errorf("another account's session ended")
	}
	if _, _, err := db.SignIn(ctx, "alice", goodPassword); !errors.Is(err, store.ErrSignIn) {
		t.Errorf("the old password still signs in: %v", err)
	}
	if _, _, err := db.SignIn(ctx, "alice", otherPassword); err != nil {
		t.Errorf("the new password does not sign in: %v", err)
	}

	nopass, err := db.CreateAccount(ctx, "nopass", "")
	if err != nil {
		t.Fatal(err)
	}
	err = db.ChangePassword(ctx, nopass.ID, "", goodPassword, "")
	wantErr(t, err, store.Invalid, "Current password is wrong")
	err = db.ChangePassword(ctx, 999, goodPassword, otherPassword, "")
	wantErr(t, err, store.NotFound, "User 999 not found")
}

func TestSetPassword(t *testing.T) {
	t.Parallel() // argon2 is slow under -race: the hashing tests overlap
	db := storetest.Open(t)
	alice := signUp(t, db, "alice", goodPassword)
	bob := signUp(t, db, "bob", goodPassword)
	laptop, phone, bobs := session(t, db, alice.ID), session(t, db, alice.ID), session(t, db, bob.ID)
	link, err := db.CreateResetToken(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}

	err = db.SetPassword(ctx, alice.ID, "qwerty2024")
	wantErr(t, err, store.Invalid, "Password is too common; choose one that is not on the lists of the passwords people use most")
	if !live(t, db, laptop) {
		t.Fatalf("a refused password ended a session")
	}
	if err := db.SetPassword(ctx, alice.ID, otherPassword); err != nil {
		t.Fatal(err)
	}
	if live(t, db, laptop) || live(t, db, phone) {
		t.Errorf("sessions outlived the operator's set-password")
	}
	if !live(t, db, bobs) {
		t.Errorf("another account's session ended")
	}
	if _, err := db.ResetAccount(ctx, link); !errors.Is(err, store.ErrResetToken) {
		t.Errorf("a reset link made before the new password still works: %v", err)
	}
	if _, _, err := db.SignIn(ctx, "alice", otherPassword); err != nil {
		t.Errorf("the new password does not sign in: %v", err)
	}

	// An account made by user add has no password until the operator sets
	// one.
	carol, err := db.CreateAccount(ctx, "carol", "")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := db.AccountCredentials(ctx, carol.ID); err != nil || c.HasPassword {
		t.Fatalf("credentials of a new account = %+v, %v; want no password", c, err)
	}
	if err := db.SetPassword(ctx, carol.ID, goodPassword); err != nil {
		t.Fatal(err)
	}
	if a, c, err := db.SignIn(ctx, "carol", goodPassword); err != nil || a.ID != carol.ID || !c.HasPassword || c.Changed == 0 {
		t.Errorf("SignIn after SetPassword = %+v, %+v, %v", a, c, err)
	}
	err = db.SetPassword(ctx, 999, goodPassword)
	wantErr(t, err, store.NotFound, "User 999 not found")
}

// code is the authenticator app's code for secret at t.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode is a six-digit code that no step near at accepts.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	near := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		near[code(t, secret, at.Add(d))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !near[c] {
			return c
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

func TestTwoFactor(t *testing.T) {
	t.Parallel() // argon2 is slow under -race: the hashing tests overlap
	db, clock := clocked(t)
	alice := signUp(t, db, "alice", goodPassword)
	key, err := store.NewTOTP("My Panel", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if key.Issuer() != "My Panel" || key.AccountName() != "alice" || key.Period() != 30 {
		t.Errorf("key %s: want issuer My Panel, account alice, 30-second steps", key.URL())
	}
	secret := key.Secret()

	// Enrolment.
	_, err = db.EnableTOTP(ctx, alice.ID, secret, wrongCode(t, secret, clock.Now()))
	wantErr(t, err, store.Invalid, "That code does not match; check the time on your phone and try the next one")
	_, err = db.EnableTOTP(ctx, alice.ID, secret, "12345")
	wantErr(t, err, store.Invalid, "That code does not match; check the time on your phone and try the next one")
	if c, _ := db.AccountCredentials(ctx, alice.ID); c.TwoFactor {
		t.Fatalf("a wrong code turned two-factor on")
	}
	enrolled := code(t, secret, clock.Now())
	codes, err := db.EnableTOTP(ctx, alice.ID, secret, enrolled)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 11 || c[5] != '-' || strings.ToLower(c) != c || seen[c] {
			t.Errorf("recovery code %q: want ten distinct codes like abcde-fghij", c)
		}
		seen[c] = true
	}
	if len(codes) != store.RecoveryCodes {
		t.Errorf("%d recovery codes, want %d", len(codes), store.RecoveryCodes)
	}
	if c, err := db.AccountCredentials(ctx, alice.ID); err != nil || !c.TwoFactor || c.RecoveryLeft != 10 {
		t.Errorf("credentials = %+v, %v; want two-factor on with 10 recovery codes", c, err)
	}
	_, err = db.EnableTOTP(ctx, alice.ID, secret, code(t, secret, clock.Now()))
	wantErr(t, err, store.Conflict, "Two-factor sign-in is on already, or the account has no password")
	nopass, _ := db.CreateAccount(ctx, "nopass", "")
	_, err = db.EnableTOTP(ctx, nopass.ID, secret, code(t, secret, clock.Now()))
	wantErr(t, err, store.Conflict, "Two-factor sign-in is on already, or the account has no password")

	check := func(name, c string, want bool) {
		t.Helper()
		err := db.CheckSecondFactor(ctx, alice.ID, c)
		if want && err != nil {
			t.Errorf("%s: CheckSecondFactor(%q) = %v, want accepted", name, c, err)
		}
		if !want && !errors.Is(err, store.ErrSecondFactor) {
			t.Errorf("%s: CheckSecondFactor(%q) = %v, want %v", name, c, err, store.ErrSecondFactor)
		}
	}
	check("TheEnrolmentCode", enrolled, false)
	clock.Advance(30 * time.Second)
	now := code(t, secret, clock.Now())
	check("Wrong", wrongCode(t, secret, clock.Now()), false)
	check("Empty", "", false)
	check("TheNextStep", now, true)
	check("Replayed", now, false)
	check("ReplayedWithSpaces", now[:3]+" "+now[3:], false)

	clock.Advance(30 * time.Second)
	check("WithSpaces", " "+code(t, secret, clock.Now())[:3]+" "+code(t, secret, clock.Now())[3:]+" ", true)
	clock.Advance(30 * time.Second)
	ahead := code(t, secret, clock.Now().Add(30*time.Second)) // the phone's clock runs a step ahead
	check("OneStepAhead", ahead, true)
	check("OlderThanTheLastTaken", code(t, secret, clock.Now()), false)
	clock.Advance(5 * time.Minute)
	check("TooOld", code(t, secret, clock.Now().Add(-2*time.Minute)), false)

	// Recovery codes: each works once, however it is typed.
	check("Recovery", codes[0], true)
	check("RecoverySpent", codes[0], false)
	check("RecoveryAsTyped", " "+strings.ToUpper(strings.Replace(codes[1], "-", " ", 1))+" ", true)
	check("RecoveryWithoutDash", strings.ReplaceAll(codes[2], "-", ""), true)
	check("RecoveryUnknown", "abcde-fghij", false)
	if c, _ := db.AccountCredentials(ctx, alice.ID); c.RecoveryLeft != 7 {
		t.Errorf("%d recovery codes left, want 7", c.RecoveryLeft)
	}
	bob := signUp(t, db, "bob", goodPassword)
	if err := db.CheckSecondFactor(ctx, bob.ID, codes[3]); !errors.Is(err, store.ErrSecondFactor) {
		t.Errorf("alice's recovery code for bob, who has no two-factor: %v", err)
	}
	if err := db.CheckSecondFactor(ctx, 999, codes[3]); !errors.Is(err, store.ErrSecondFactor) {
		t.Errorf("a code for no account: %v", err)
	}

	// The customer turns it off with the password; the operator without.
	err = db.DisableTOTP(ctx, alice.ID, otherPassword, false)
	wantErr(t, err, store.Invalid, "Password is wrong")
	if c, _ := db.AccountCredentials(ctx, alice.ID); !c.TwoFactor {
		t.Fatalf("a wrong password turned two-factor off")
	}
	if err := db.DisableTOTP(ctx, alice.ID, goodPassword, false); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.AccountCredentials(ctx, alice.ID); c.TwoFactor || c.RecoveryLeft != 0 || !c.HasPassword {
		t.Errorf("credentials after DisableTOTP = %+v, want the password alone", c)
	}
	check("RecoveryAfterDisable", codes[4], false)
	clock.Advance(30 * time.Second)
	check("CodeAfterDisable", code(t, secret, clock.Now()), false)

	if _, err := db.EnableTOTP(ctx, alice.ID, secret, code(t, secret, clock.Now())); err != nil {
		t.Fatalf("enable again: %v", err)
	}
	if err := db.DisableTOTP(ctx, alice.ID, "", true); err != nil {
		t.Fatalf("the operator's DisableTOTP: %v", err)
	}
	if c, _ := db.AccountCredentials(ctx, alice.ID); c.TwoFactor {
		t.Errorf("two-factor still on after the operator turned it off")
	}
	err = db.DisableTOTP(ctx, nopass.ID, "", false)
	wantErr(t, err, store.Invalid, "Password is wrong")
}

// What works once works once when many ask at the same moment: a
// two-factor code, a recovery code, an invitation.
func TestOnceUnderConcurrency(t *testing.T) {
	t.Parallel() // argon2 is slow under -race: the hashing tests overlap
	db, clock := clocked(t)
	alice := signUp(t, db, "alice", goodPassword)
	key, _ := store.NewTOTP("notpanel", "alice")
	codes, err := db.EnableTOTP(ctx, alice.ID, key.Secret(), code(t, key.Secret(), clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	invite, _ := db.CreateInvite(ctx)
	clock.Advance(30 * time.Second)
	next := code(t, key.Secret(), clock.Now())
	for _, tt := range []struct {
		name string
		try  func(i int) error
	}{
		{"Code", func(int) error { return db.CheckSecondFactor(ctx, alice.ID, next) }},
		{"RecoveryCode", func(int) error { return db.CheckSecondFactor(ctx, alice.ID, codes[0]) }},
		{"Invitation", func(i int) error {
			_, err := db.SignUp(ctx, "guest"+strconv.Itoa(i), goodPassword, invite, true)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const n = 4
			errs := make(chan error, n)
			var start sync.WaitGroup
			start.Add(1)
			for i := range n {
				go func() {
					start.Wait()
					errs <- tt.try(i)
				}()
			}
			start.Done()
			took := 0
			for range n {
				if err := <-errs; err == nil {
					took++
				} else if c := store.ErrorCode(err); c != store.Unauthorized && c != store.Invalid {
					t.Errorf("a refused try: %v", err)
				}
			}
			if took != 1 {
				t.Errorf("%d of %d tries at once took it, want exactly 1", took, n)
			}
		})
	}
}
