package store_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"notpanel/store"
)

func TestCheckPassword(t *testing.T) {
	const (
		short    = "Password must be at least 8 characters"
		long     = "Password must be at most 128 characters"
		common   = "Password is too common; choose one that is not on the lists of the passwords people use most"
		easy     = "Password is too easy to guess; use a few unrelated words or a password manager"
		username = "Password must not be your user name"
	)
	tests := []struct {
		name, user, password string
		want                 string // "" for accepted
	}{
		{"Passphrase", "alice", "correct horse battery staple", ""},
		{"ManagerMade", "alice", "tQ7#vLp2!xZr", ""},
		{"ExactlyEight", "alice", "gh7Tq-Wz", ""},
		{"LongestAllowed", "alice", strings.Repeat("river stone ", 10) + "blue sky", ""},
		{"UnicodePassphrase", "alice", "Zoë wandert über Brücken", ""},
		{"TwelveRandomDigits", "alice", "839201748392", ""},
		{"NameInsideLongPassphrase", "alice", "alice likes quiet green mountains", ""},
		{"ShortRunAroundRandomDigits", "alice", "Zx9-184736295", ""},

		{"Empty", "alice", "", short},
		{"Seven", "alice", "gh7Tq-W", short},
		{"SevenRunesInMoreBytes", "alice", "ééééééé", short},
		{"TooLong", "alice", strings.Repeat("a", 129), long},
		{"NotUTF8", "alice", "abcdefg\xff", "Password is not valid text"},

		{"Common", "alice", "password", common},
		{"CommonCapitalised", "alice", "Password", common},
		{"CommonUpper", "alice", "SUNSHINE", common},
		{"CommonDigitsAfter", "alice", "password2024", common},
		{"CommonDigitsBefore", "alice", "123password", common},
		{"CommonSymbolsAfter", "alice", "Password1!", common},
		{"CommonDollarAfter", "alice", "password$", common},
		{"CommonLeet", "alice", "P@ssw0rd", common},
		{"CommonLeetAndSymbols", "alice", "P@$$w0rd!", common},
		{"CommonLeetOneAsL", "alice", "f1ower123", common},
		{"CommonLeetOneAsI", "alice", "1lov3you", common},
		{"CommonLeadingAt", "alice", "@dmin2024", common},
		{"CommonLeadingDollar", "alice", "$ecret99", common},
		{"CommonWithSpaces", "alice", "  iloveyou  ", common},
		{"CommonDigitsInside", "alice", "A1b2c3d4!", common},
		{"CommonKeyboard", "alice", "1qaz2wsx", common},
		{"PanelsOwnName", "alice", "Notpanel123", common},

		{"DigitsRun", "alice", "12345678", easy},
		{"DigitsRunAround", "alice", "890123456789", easy},
		{"DigitsDown", "alice", "987654321", easy},
		{"Alphabet", "alice", "abcdefghij", easy},
		{"AlphabetBackwards", "alice", "ZYXWVUTSR", easy},
		{"AlphabetAndDigits", "alice", "abcdefgh12", easy},
		{"KeyboardRow", "alice", "WERTYUIOP", easy},
		{"KeyboardRowBackwards", "alice", "lkjhgfdsa", easy},
		{"KeyboardColumns", "alice", "1q2w3e4r5t", easy},
		{"OneCharacter", "alice", "aaaaaaaaaa", easy},
		{"OneMultibyteCharacter", "alice", "éééééééééé", easy},
		{"ShortUnitRepeated", "alice", "abcabcabc", easy},
		{"PairRepeated", "alice", "hahahahaha", easy},
		{"RepeatWithDigits", "alice", "zzzz1234", easy},
		{"ShortWordManyDigits", "alice", "ab123456", easy},
		{"OnlySymbols", "alice", "!@#$%^&*", easy},

		{"UserName", "alicesmith", "alicesmith", username},
		{"UserNameOtherCase", "AliceSmith", "ALICESMITH", username},
		{"UserNameAndDigits", "alice", "alice2024!", username},
		{"UserNameLeet", "alice", "Al1ce-2024", username},
		{"NoUserGiven", "", "Al1ce-2024", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := store.CheckPassword(tt.user, tt.password)
			if tt.want == "" {
				if err != nil {
					t.Errorf("CheckPassword(%q, %q) = %v, want accepted", tt.user, tt.password, err)
				}
				return
			}
			wantErr(t, err, store.Invalid, tt.want)
		})
	}
}

func TestPasswordHash(t *testing.T) {
	t.Parallel() // argon2 is slow under -race: the hashing tests overlap
	phc := store.HashPassword("correct horse battery staple")
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=19456,t=2,p=1" {
		t.Fatalf("hash %q: want $argon2id$v=19$m=19456,t=2,p=1$salt$key", phc)
	}
	if strings.Contains(phc, "horse") {
		t.Fatalf("hash %q holds the password", phc)
	}
	if again := store.HashPassword("correct horse battery staple"); again == phc {
		t.Errorf("two hashes of one password are equal: the salt is not fresh")
	}
	if !store.VerifyPassword(phc, "correct horse battery staple") {
		t.Errorf("the password does not verify against its own hash")
	}
	// An unknown name is checked against a hash of the same cost, so that
	// it answers no sooner than a wrong password.
	dummy := strings.Split(store.DummyHash(), "$")
	if len(dummy) != 6 || dummy[3] != parts[3] || len(dummy[4]) != len(parts[4]) || len(dummy[5]) != len(parts[5]) {
		t.Errorf("dummy hash %q: want the parameters and sizes of %q", store.DummyHash(), phc)
	}
	for _, wrong := range []string{"", "Correct horse battery staple"} {
		if store.VerifyPassword(phc, wrong) {
			t.Errorf("%q verifies against the hash of another password", wrong)
		}
	}
	// A hash made with other parameters (an older default, say) is read
	// with its own.
	salt := []byte("a salt of sixteen")
	key := argon2.IDKey([]byte("correct horse battery staple"), salt, 1, 8192, 2, 24)
	b64 := base64.RawStdEncoding
	older := "$argon2id$v=19$m=8192,t=1,p=2$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
	if !store.VerifyPassword(older, "correct horse battery staple") {
		t.Errorf("a hash with m=8192,t=1,p=2 and a 24-byte key does not verify")
	}
	if store.VerifyPassword(strings.Replace(older, "t=1", "t=2", 1), "correct horse battery staple") {
		t.Errorf("a hash verifies with parameters other than its own")
	}
	bad := map[string]string{
		"Empty":           "",
		"NotPHC":          "correct horse battery staple",
		"Bcrypt":          "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"Argon2i":         strings.Replace(phc, "argon2id", "argon2i", 1),
		"OtherVersion":    strings.Replace(phc, "v=19", "v=16", 1),
		"NoVersion":       strings.Replace(phc, "$v=19", "", 1),
		"Leading":         "x" + phc,
		"MissingParam":    strings.Replace(phc, ",p=1", "", 1),
		"ExtraParam":      strings.Replace(phc, "p=1", "p=1,k=2", 1),
		"ParamsSwapped":   strings.Replace(phc, "m=19456,t=2", "t=2,m=19456", 1),
		"ZeroPasses":      strings.Replace(phc, "t=2", "t=0", 1),
		"ManyPasses":      strings.Replace(phc, "t=2", "t=17", 1),
		"ZeroMemory":      strings.Replace(phc, "m=19456", "m=0", 1),
		"HugeMemory":      strings.Replace(phc, "m=19456", "m=262145", 1),
		"NegativeMemory":  strings.Replace(phc, "m=19456", "m=-1", 1),
		"ThreadsOverflow": strings.Replace(phc, "p=1", "p=256", 1),
		"TrailingJunk":    strings.Replace(phc, "p=1", "p=1x", 1),
		"PlusSign":        strings.Replace(phc, "t=2", "t=+2", 1),
		"LeadingZero":     strings.Replace(phc, "t=2", "t=02", 1),
		"SaltNotBase64":   strings.Replace(phc, parts[4], "!!!!", 1),
		"SaltPadded":      strings.Replace(phc, parts[4], parts[4]+"==", 1),
		"SaltTooShort":    strings.Replace(phc, parts[4], "c2FsdA", 1),
		"NoKey":           strings.TrimSuffix(phc, parts[5]),
		"KeyTooShort":     strings.Replace(phc, parts[5], parts[5][:20], 1),
		"KeyNotBase64":    strings.Replace(phc, parts[5], "#"+parts[5][1:], 1),
		"ExtraField":      phc + "$x",
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			if store.VerifyPassword(s, "correct horse battery staple") {
				t.Errorf("VerifyPassword(%q) = true, want false", s)
			}
		})
	}
}
