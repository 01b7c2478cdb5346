package store

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
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
// line: a password that is one of them once its case, digits and symbols
// standing for letters, and digits and symbols at either end are set aside
// is refused (see passwordBases).
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
	lower := strings.ToLower(password)
	bases := passwordBases(lower)
	core := utf8.RuneCountInString(bases[2]) // the letters between the digits and symbols at either end
	switch {
	case slices.ContainsFunc(bases, func(b string) bool { return commonPasswords[b] }):
		return Errorf(Invalid, "Password is too common; choose one that is not on the lists of the passwords people use most")
	case core < 4 && n < 12 || guessable(lower) || n-core <= 4 && guessable(bases[2]):
		return Errorf(Invalid, "Password is too easy to guess; use a few unrelated words or a password manager")
	case name != "" && n < utf8.RuneCountInString(name)+6 && slices.ContainsFunc(
		[]string{lower, leet(lower, 'i'), leet(lower, 'l')},
		func(b string) bool { return strings.Contains(b, strings.ToLower(name)) }):
		return Errorf(Invalid, "Password must not be your user name")
	}
	return nil
}

// passwordBases are the forms of a lower-cased password looked up in the
// common list: as typed; without symbols at either end; and what is left
// once digits and symbols at either end are set aside and digits and
// symbols standing for letters are read as the letters (a 1 as an i and as
// an l). @ and $ at the start are letters too (@dmin, $ecret), at the end
// they are decoration (password$). The third is the core the other rules
// measure.
func passwordBases(lower string) []string {
	symbols := func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) }
	ends := func(r rune) bool { return unicode.IsDigit(r) || symbols(r) }
	core := strings.TrimFunc(lower, ends)
	lead := strings.TrimFunc(strings.NewReplacer("@", "a", "$", "s").Replace(lower), ends)
	return []string{lower, strings.TrimFunc(lower, symbols), core,
		leet(core, 'i'), leet(core, 'l'), leet(lead, 'i'), leet(lead, 'l')}
}

// leet reads the digits and symbols people put for letters as those
// letters, a 1 as one.
func leet(p string, one rune) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '0':
			return 'o'
		case '1':
			return one
		case '!', '|':
			return 'i'
		case '3':
			return 'e'
		case '4', '@':
			return 'a'
		case '5', '$':
			return 's'
		case '7', '+':
			return 't'
		case '8':
			return 'b'
		}
		return r
	}, p)
}

// sequences are runs people type instead of choosing: the alphabet, the
// digits (around from 9 to 0), and keyboard rows and columns of the usual
// layouts. A password inside one, forwards or backwards, is guessable.
var sequences = []string{"abcdefghijklmnopqrstuvwxyz", "01234567890123456789",
	"qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "azertyuiop", "1qaz2wsx3edc4rfv5tgb",
	"qazwsxedcrfvtgb", "1q2w3e4r5t6y7u8i9o0p"}

// guessable reports a password that is a short unit repeated (aaaaaaaa,
// abcabcab) or a run of one of the sequences.
func guessable(p string) bool {
	r := []rune(p)
	if len(r) == 0 {
		return true
	}
	for unit := 1; unit <= 4 && unit < len(r); unit++ {
		repeated := true
		for i := unit; i < len(r) && repeated; i++ {
			repeated = r[i] == r[i%unit]
		}
		if repeated {
			return true
		}
	}
	backwards := slices.Clone(r)
	slices.Reverse(backwards)
	for _, run := range sequences {
		if strings.Contains(run, p) || strings.Contains(run, string(backwards)) {
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
	return phcString(salt, key)
}

// phcString writes a salt and a key made with the current parameters.
func phcString(salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// verifyPassword checks password against a PHC string made by
// hashPassword (its own parameters, so that they may change later). A
// string that is not one, or whose parameters are out of bounds, matches
// no password.
func verifyPassword(phc, password string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return false
	}
	mem, ok1 := phcParam(params[0], "m=", 256*1024)
	passes, ok2 := phcParam(params[1], "t=", 16)
	threads, ok3 := phcParam(params[2], "p=", 255)
	b64 := base64.RawStdEncoding
	salt, err1 := b64.Strict().DecodeString(parts[4])
	want, err2 := b64.Strict().DecodeString(parts[5])
	if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil || len(salt) < 8 || len(want) < 16 || len(want) > 64 {
		return false
	}
	hashSlots <- struct{}{}
	got := argon2.IDKey([]byte(password), salt, passes, mem, uint8(threads), uint32(len(want)))
	<-hashSlots
	return subtle.ConstantTimeCompare(got, want) == 1
}

// phcParam reads one "name=value" parameter of a PHC string: a decimal
// from 1 to most.
func phcParam(s, name string, most uint32) (uint32, bool) {
	v, ok := strings.CutPrefix(s, name)
	n, err := strconv.ParseUint(v, 10, 32)
	if !ok || err != nil || n < 1 || n > uint64(most) || v != strconv.FormatUint(n, 10) {
		return 0, false
	}
	return uint32(n), true
}

// dummyHash is verified against when a name is unknown, so that signing in
// as nobody takes as long as a wrong password.
// It is written, not computed: hashing it on first use would make the first
// such sign-in after a start take twice as long, and tell.
func dummyHash() string { return dummyPHC }

var dummyPHC = phcString(make([]byte, 16), make([]byte, argonKeyLen))
