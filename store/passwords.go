package store

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password rules: what a customer may choose.
const (
	MinPassword = 8
	MaxPassword = 128 // characters; argon2 takes any length, but a form field need not
)

// argon2id parameters: 19 MiB and two passes (OWASP's first choice for
// argon2id), one lane. A hash takes tens of milliseconds on a small VPS.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// hashSlots bounds the password hashes computed at once: each holds 19 MiB,
// and a flood of sign-ins must not take the server's memory with it.
var hashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// commonPasswords are the bases of the passwords people pick most, one a
// line: a password that is one of them once its case, common letter-for-
// digit swaps and trailing digits and symbols are set aside is refused.
//
//go:embed passwords_common.txt
var commonPasswordsText string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonPasswordsText, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}()

// CheckPassword says why password may not be chosen by the account named
// name, or nil.
func CheckPassword(name, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return Errorf(Invalid, "Password is not valid text")
	case n < MinPassword:
		return Errorf(Invalid, "Password must be at least %d characters", MinPassword)
	case n > MaxPassword:
		return Errorf(Invalid, "Password must be at most %d characters", MaxPassword)
	}
	base := passwordBase(password)
	switch {
	case commonPasswords[base] || commonPasswords[strings.ToLower(password)]:
		return Errorf(Invalid, "Password is too common; choose one that is not on the lists of the passwords people use most")
	case len(base) < 4 && n < 12 || sequence(strings.ToLower(password)):
		return Errorf(Invalid, "Password is too easy to guess; use a few unrelated words or a password manager")
	case name != "" && strings.Contains(strings.ToLower(password), strings.ToLower(name)) && n < len(name)+6:
		return Errorf(Invalid, "Password must not be your user name")
	}
	return nil
}

// passwordBase strips what people add to a common word to pass a rule:
// case, digits and symbols at either end, and digits standing for letters.
func passwordBase(p string) string {
	p = strings.ToLower(p)
	p = strings.TrimFunc(p, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || r == ' ' })
	return strings.Map(func(r rune) rune {
		switch r {
		case '0':
			return 'o'
		case '1', '!':
			return 'i'
		case '3':
			return 'e'
		case '4', '@':
			return 'a'
		case '5', '$':
			return 's'
		case '7':
			return 't'
		}
		return r
	}, p)
}

// sequence reports a password that is one character repeated, or a run
// along the alphabet, the digits or a keyboard row.
func sequence(p string) bool {
	if strings.Count(p, p[:1]) == len(p) {
		return true
	}
	for _, run := range []string{"abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm",
		"1qaz2wsx3edc", "qazwsxedc", "09876543210", "zyxwvutsrqponmlkjihgfedcba"} {
		if strings.Contains(run, p) {
			return true
		}
	}
	return false
}

// hashPassword returns the argon2id PHC string of password with a fresh
// salt.
func hashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	hashSlots <- struct{}{}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	<-hashSlots
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// verifyPassword checks password against a PHC string made by
// hashPassword (its own parameters, so that they may change later).
func verifyPassword(phc, password string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var mem, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &time, &threads); err != nil ||
		mem == 0 || mem > 256*1024 || time == 0 || time > 16 || threads == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	hashSlots <- struct{}{}
	got := argon2.IDKey([]byte(password), salt, time, mem, threads, uint32(len(want)))
	<-hashSlots
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when a name is unknown, so that signing in
// as nobody takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() string { return hashPassword("not a password anyone has: " + rand.Text()) })
