//go:build !notpanel_broken

package fault

// Broken reports whether the deliberately wrong variant is switched on;
// never, in this build.
func Broken(variant string) bool { return false }
