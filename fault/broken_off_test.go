//go:build !notpanel_broken

package fault_test

import (
	"testing"

	"notpanel/fault"
)

// A normal build has no way to switch a broken variant on.
func TestNeverBroken(t *testing.T) {
	for _, v := range fault.Variants {
		t.Setenv(fault.EnvBroken, v)
		if fault.Broken(v) {
			t.Errorf("variant %s is on in a normal build", v)
		}
	}
}
