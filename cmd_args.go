package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
)

// usageError points at the help of the command that was being parsed, or
// explains a negative number that liftNegatives could not move.
func usageError(err error, args []string) error {
	if strings.HasPrefix(err.Error(), "unknown flag -") && slices.ContainsFunc(args, isNegativeNumber) {
		return fmt.Errorf("%w (put a negative amount last, or after --: notpanel funds add alice -- -5)", err)
	}
	cmd := "notpanel"
	var pe *kong.ParseError
	if errors.As(err, &pe) && pe.Context != nil {
		if n := pe.Context.Selected(); n != nil {
			cmd = n.FullPath()
		}
	}
	return fmt.Errorf("%w (see %s --help)", err, cmd)
}

// isNegativeNumber reports whether s looks like -5 or -0.25. No notpanel
// flag starts with a digit or a dot, so such a token is always a value.
func isNegativeNumber(s string) bool {
	return len(s) > 1 && s[0] == '-' && (s[1] >= '0' && s[1] <= '9' || s[1] == '.')
}

// liftNegatives lets "funds add alice -5" work: kong reads "-5" as a short
// flag, but takes anything after "--" as a positional. Negative numbers that
// are the last positionals are moved behind "--"; one followed by another
// positional stays, since moving it would reorder the arguments, and kong
// then reports it. A negative number right after a "--flag" is that flag's
// value and also stays (kong suggests --flag=-5 for it).
func liftNegatives(args []string) []string {
	end := slices.Index(args, "--")
	if end < 0 {
		end = len(args)
	}
	var kept, lifted []string
	for i, arg := range args[:end] {
		flagValue := i > 0 && strings.HasPrefix(args[i-1], "--") && !strings.Contains(args[i-1], "=")
		switch {
		case isNegativeNumber(arg) && !flagValue:
			lifted = append(lifted, arg)
		case len(lifted) > 0 && !strings.HasPrefix(arg, "-") && !flagValue:
			return args
		default:
			kept = append(kept, arg)
		}
	}
	if len(lifted) == 0 {
		return args
	}
	out := append(append(kept, "--"), lifted...)
	if end < len(args) {
		out = append(out, args[end+1:]...)
	}
	return out
}

// checkLimit refuses a listing's --limit below 1, which would print nothing
// and look like an empty list.
func checkLimit(n int) error {
	if n < 1 {
		return fmt.Errorf("--limit must be at least 1, not %d", n)
	}
	return nil
}
