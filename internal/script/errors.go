package script

import (
	"errors"
	"fmt"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// LoadError is a script that could not be loaded: a syntax error, a runtime
// error at the top level, a missing or malformed file, a bad load() or a
// wrong argument given to a builtin. Error() reads "file:line:col: message"
// when the position is known.
type LoadError struct {
	File      string // the file as the user named it; "" if unknown
	Line, Col int    // 1-based; 0 when unknown
	Msg       string
	// Traceback is the Starlark call stack at a runtime error, or "".
	Traceback string
	Err       error // the underlying error, if any
}

// Error implements error.
func (e *LoadError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	default:
		return e.Msg
	}
}

// Unwrap returns the underlying error.
func (e *LoadError) Unwrap() error { return e.Err }

// RuntimeError is a Starlark error raised while a task or hook ran. Its
// Error() is the message; Traceback() gives the call stack with the
// script's file:line:col, for the script-errors view.
type RuntimeError struct {
	Msg   string
	Trace string
	err   error
}

// Error implements error.
func (e *RuntimeError) Error() string { return e.Msg }

// Traceback returns the Starlark backtrace of the error.
func (e *RuntimeError) Traceback() string { return e.Trace }

// Unwrap returns the underlying *starlark.EvalError.
func (e *RuntimeError) Unwrap() error { return e.err }

// loadErrorAt makes a LoadError at pos, when pos is known.
func loadErrorAt(pos syntax.Position, msg string, err error) *LoadError {
	le := &LoadError{Msg: msg, Err: err}
	if pos.IsValid() {
		le.File = pos.Filename()
		le.Line, le.Col = int(pos.Line), int(pos.Col)
		if le.Col == 0 {
			le.Col = 1
		}
	}
	return le
}

// toLoadError turns whatever failed while compiling or executing a file at
// load time into a *LoadError. file is used when no position is known.
func toLoadError(file string, err error) *LoadError {
	// The innermost LoadError wins: a broken module loaded by the script is
	// reported at its own position, not at the load() statement.
	var le *LoadError
	if errors.As(err, &le) {
		var ee *starlark.EvalError
		if le.Traceback == "" && errors.As(err, &ee) {
			le.Traceback = ee.Backtrace()
		}
		return le
	}
	var se syntax.Error
	if errors.As(err, &se) {
		return loadErrorAt(se.Pos, se.Msg, err)
	}
	var rl resolve.ErrorList
	if errors.As(err, &rl) && len(rl) > 0 {
		msg := rl[0].Msg
		if len(rl) > 1 {
			msg = fmt.Sprintf("%s (and %d more errors)", msg, len(rl)-1)
		}
		return loadErrorAt(rl[0].Pos, msg, err)
	}
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		le := loadErrorAt(scriptPos(ee.CallStack), ee.Msg, err)
		le.Traceback = ee.Backtrace()
		if le.File == "" {
			le.File = file
		}
		return le
	}
	return &LoadError{File: file, Msg: err.Error(), Err: err}
}

// scriptPos is the innermost position of a call stack that is in a script
// file rather than in a builtin.
func scriptPos(stack starlark.CallStack) syntax.Position {
	for i := len(stack) - 1; i >= 0; i-- {
		if p := stack[i].Pos; p.IsValid() && p.Filename() != "<builtin>" {
			return p
		}
	}
	return syntax.Position{}
}
