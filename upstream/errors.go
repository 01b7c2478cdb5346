package upstream

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Class says what the worker should do after a failed call.
type Class int

// The error classes.
const (
	// Temporary: the provider did not act; try again later.
	Temporary Class = iota
	// Permanent: the provider refused this request for good.
	Permanent
	// Account: the provider refuses our account (bad key, suspended); stop
	// calling it until the operator steps in.
	Account
	// Unknown: the request reached the provider but no usable answer came
	// back, so it may or may not have been acted on.
	Unknown
	// Busy: the provider did not act because we call it too often (HTTP
	// 429, "too many requests"); slow down and try again. It says nothing
	// about the request itself.
	Busy
)

func (c Class) String() string {
	switch c {
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	case Account:
		return "account"
	case Busy:
		return "busy"
	default:
		return "unknown-outcome"
	}
}

// Error is a failed call to a provider.
type Error struct {
	Class Class
	// Msg explains the failure; for an error the provider wrote, its text.
	Msg string
	// MaybeDone marks an add to a notpanel provider reported Temporary
	// although its outcome is unknown: resending it is safe (request_id),
	// but until the provider answers, it may hold the order.
	MaybeDone bool
	// RetryAfter is how long a Busy provider asked us to wait (its
	// Retry-After header); 0 when it did not say.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Class, e.Msg) }

// ClassOf returns the class of err: Temporary for errors that are not
// *Error (a cancelled context, say).
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Temporary
}

// MaybeDone reports whether err is an add whose provider may have taken
// the order (see Error.MaybeDone).
func MaybeDone(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.MaybeDone
}

// RetryAfter returns how long a Busy provider asked us to wait, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// Refusals of an add that say the provider cannot take any order of the
// service now, whatever its link or quantity: a backup provider may.
var (
	goneErrors  = []string{"incorrect service", "service not found", "invalid service", "service is disabled", "service disabled"}
	fundsErrors = []string{"not enough funds", "insufficient balance", "insufficient funds", "low balance"}
)

// Unavailable reports whether err is an answer of a provider that
// certainly did not take an add and cannot take the service's orders now:
// the service is gone, our balance there is spent, or it refuses our
// account. Any other failure, and above all one whose outcome is unknown,
// is not.
func Unavailable(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.MaybeDone {
		return false
	}
	l := strings.ToLower(e.Msg)
	switch e.Class {
	case Account:
		return true
	case Permanent:
		return contains(l, goneErrors)
	case Temporary:
		return contains(l, fundsErrors)
	}
	return false
}

func contains(s string, patterns []string) bool {
	for _, p := range patterns {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// Message patterns seen from real panels, lower-cased. The first list that
// matches decides; text that matches none is Temporary, and the worker gives
// up on it after a bounded number of tries.
var (
	busyErrors = []string{
		"too many requests", "rate limit", "too many attempts", "slow down", "request limit",
	}
	accountErrors = []string{
		"invalid api key", "incorrect api key", "wrong api key", "api key is invalid", "invalid key",
		"incorrect key", "key not found", "account suspended", "account is suspended", "user is banned",
		"account disabled", "account is disabled", "unauthorized",
	}
	temporaryErrors = slices.Concat(fundsErrors, []string{
		"active order with this link", "active order with the same link", "wait until order",
		"try again", "maintenance", "temporarily", "internal error",
	})
	permanentErrors = slices.Concat(goneErrors, []string{
		"incorrect link", "invalid link", "link is invalid", "bad link",
		"quantity less than", "quantity more than", "minimal", "maximal", "incorrect quantity",
		"invalid quantity", "does not support", "not supported", "incorrect request", "missing required",
		"invalid parameter", "incorrect order", "order not found", "already used", "private account", "account is private",
	})
)

// classify turns a provider's error text into an *Error.
func classify(msg string) *Error {
	l := strings.ToLower(msg)
	for _, list := range []struct {
		c        Class
		patterns []string
	}{{Account, accountErrors}, {Busy, busyErrors}, {Temporary, temporaryErrors}, {Permanent, permanentErrors}} {
		if contains(l, list.patterns) {
			return &Error{Class: list.c, Msg: msg}
		}
	}
	return &Error{Class: Temporary, Msg: msg}
}
