package fault_test

import (
	"slices"
	"testing"

	"notpanel/fault"
)

func TestSetAndUndo(t *testing.T) {
	var got []string
	fault.Hit(fault.AfterAdd, "before") // nothing set: nothing happens
	undoAdd := fault.Set(fault.AfterAdd, func(s string) { got = append(got, "add "+s) })
	undoClaim := fault.Set(fault.AfterClaim, func(s string) { got = append(got, "claim "+s) })
	fault.Hit(fault.AfterClaim, "o1")
	fault.Hit(fault.AfterAdd, "o1")
	fault.Hit(fault.AfterRecord, "o1") // not set

	// A second Set of the same point replaces the first until undone.
	undoAgain := fault.Set(fault.AfterAdd, func(s string) { got = append(got, "again "+s) })
	fault.Hit(fault.AfterAdd, "o2")
	undoAgain()
	fault.Hit(fault.AfterAdd, "o3")

	undoAdd()
	fault.Hit(fault.AfterAdd, "o4")
	fault.Hit(fault.AfterClaim, "o4")
	undoClaim()
	fault.Hit(fault.AfterClaim, "o5")

	want := []string{"claim o1", "add o1", "again o2", "add o3", "claim o4"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNamesAreDistinct(t *testing.T) {
	for _, list := range [][]string{fault.Points, fault.Variants} {
		seen := map[string]bool{}
		for _, name := range list {
			if name == "" || seen[name] {
				t.Errorf("name %q empty or repeated in %q", name, list)
			}
			seen[name] = true
		}
	}
}
