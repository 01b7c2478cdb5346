package store

// Migrate exposes migrate to the external tests, which call it with made-up
// upgrade steps to exercise the upgrade path.
var Migrate = migrate
