package store

import (
	"errors"
	"fmt"
)

// Code classifies an error for the outside world. httpapi maps each code to
// one HTTP status in a single place; the CLI prints the message.
type Code string

// The error codes. Messages of Invalid, NotFound, Conflict, Unauthorized,
// Forbidden and Unavailable errors are written for the customer and sent as
// they are;
// Internal errors are logged and answered with a generic text.
const (
	Invalid      Code = "invalid"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	Unauthorized Code = "unauthorized"
	Forbidden    Code = "forbidden"
	// Unavailable: a system outside notpanel (a payment gateway) did not
	// answer usefully; trying again later may work.
	Unavailable Code = "unavailable"
	Internal    Code = "internal"
)

// Error is an error with a code and a customer-facing message. Err, when
// set, is the underlying cause, kept for the log only.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// internal wraps an unexpected failure (usually from the driver).
func internal(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: Internal, Message: op, Err: err}
}

// ErrorCode returns the code of err: the code of the first *Error in its
// chain, or Internal for any other non-nil error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorMessage returns the customer-facing message of err. Internal errors
// never leak their cause.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "Internal error"
}

// Messages shared by the API and the CLI.
var (
	ErrInvalidKey          = Errorf(Unauthorized, "Invalid API key")
	ErrAccountSuspended    = Errorf(Forbidden, "Account suspended")
	ErrOrderNotFound       = Errorf(NotFound, "Order not found")
	ErrRefillNotFound      = Errorf(NotFound, "Refill not found")
	ErrServiceNotFound     = Errorf(NotFound, "Service not found")
	ErrInsufficientBalance = Errorf(Invalid, "Insufficient balance")
	ErrInvalidLink         = Errorf(Invalid, "Invalid link")
	ErrNoDripfeed          = Errorf(Invalid, "Service does not support drip-feed")
	ErrRequestIDReused     = Errorf(Conflict, "request_id already used with different parameters")
	ErrNoCancel            = Errorf(Invalid, "Service does not support cancellation")
	ErrNoRefill            = Errorf(Invalid, "Service does not support refill")
)
