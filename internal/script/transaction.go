package script

import (
	"fmt"
	"strconv"
	"time"

	"go.starlark.net/starlark"

	"github.com/horde-load/horde/internal/stats"
)

// TransactionMethod is the method of a transaction's row in the
// statistics, as locust-plugins' transactions and k6's groups are rows of
// their own.
const TransactionMethod = "TRANSACTION"

// userTransaction implements u.transaction(name, fn): fn(u) runs, and its
// whole duration is recorded as one sample of the row "TRANSACTION name".
// The transaction fails when fn raises (the error goes on to the task) or
// when a request inside it failed. It returns what fn returns.
func userTransaction(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var fn starlark.Callable
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "fn", &fn); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("transaction: name must not be empty")
	}
	if err := checkArity("transaction", fn); err != nil {
		return nil, err
	}
	st := b.Receiver().(*userObj).st
	st.flush() // what came before is not the transaction's
	failedBefore := st.failed
	start := time.Now()
	v, err := starlark.Call(th, fn, st.args, nil)
	st.flush()
	elapsed := time.Since(start)
	if st.ctx != nil && st.ctx.Err() != nil {
		return v, err // stopped mid-way: not a measurement
	}
	s := stats.Sample{Key: stats.Key{Method: TransactionMethod, Name: name}, Latency: elapsed}
	switch n := st.failed - failedBefore; {
	case err != nil:
		s.Err = "error: " + firstLine(err.Error())
	case n == 1:
		s.Err = "1 request failed"
	case n > 1:
		s.Err = strconv.Itoa(n) + " requests failed"
	}
	if st.vu.Rec != nil {
		st.vu.Rec.Record(s)
	}
	return v, err
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
