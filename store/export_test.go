package store

// Migrate exposes migrate to the external tests, which call it with made-up
// upgrade steps to exercise the upgrade path.
var Migrate = migrate

// SeeQueries has seen called with every query the database prepares from
// now on, reads and writes; set it before any concurrent use.
func (db *DB) SeeQueries(seen func(query string)) {
	db.read.seen = seen
	db.wtx.seen = seen
}

// OrderNumberIn is the number an order id carries; false when malformed.
func OrderNumberIn(id string) (int64, bool) {
	u, ok := parseULID(PrefixOrder, id)
	return orderNumber(u), ok
}

// Upgrades are the real upgrade steps, for tests that append made-up ones.
var Upgrades = upgrades

// Fingerprint is the digest of an add's parameters kept with its request_id.
func Fingerprint(in OrderInput) []byte { return in.fingerprint() }

// HashPassword and VerifyPassword are the password hash and its check;
// DummyHash is what an unknown name's password is checked against.
var (
	HashPassword   = hashPassword
	VerifyPassword = verifyPassword
	DummyHash      = dummyHash
)
