// Package exitcode carries horde's process exit codes through ordinary Go
// errors, so that only main decides to exit (as k6's errext does).
package exitcode

import (
	"errors"
	"fmt"
)

// The exit codes of DESIGN.md §1.
const (
	OK        = 0 // the test passed
	Failed    = 1 // the verdict failed: a threshold crossed, or failures with no thresholds
	BadInput  = 2 // usage, config, or a script that fails to load
	CannotRun = 3 // the test could not run (e.g. expected workers never came)
)

// Error is an error with the exit code it should end the process with.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// With wraps err with code. A nil err stays nil.
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Newf formats a new error with code.
func Newf(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// Code returns the exit code err asks for: 0 for nil, the code of the
// outermost *Error in its chain, and Failed for anything else.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failed
}
