//go:build notpanel_broken

package fault

import "os"

var broken = os.Getenv(EnvBroken)

// Broken reports whether the deliberately wrong variant is switched on: in
// this build, the one named by NOTPANEL_BROKEN.
func Broken(variant string) bool { return variant == broken }
