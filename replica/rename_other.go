//go:build !linux

package replica

// renameNew renames from to to, refusing (with os.ErrExist) when to
// exists.
func renameNew(from, to string) error { return renameChecked(from, to) }
