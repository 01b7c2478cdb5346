package replica

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// renameNew renames from to to, refusing (with os.ErrExist) when to
// exists: the check and the rename are one step, so that nothing written
// meanwhile under that name is replaced.
func renameNew(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return renameChecked(from, to) // a file system without it
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
