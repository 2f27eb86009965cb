package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// procStat holds the fields of /proc/<pid>/stat that Sample needs, in
// clock ticks (USER_HZ).
type procStat struct {
	utime, stime uint64 // CPU time in user and kernel mode
	starttime    uint64 // start of the process after boot
}

// Field numbers of proc(5), counted from 1 (pid) and 2 (comm); the fields
// after comm start at 3 (state).
const (
	fieldUtime     = 14
	fieldStime     = 15
	fieldStarttime = 22
	firstAfterComm = 3
)

var errNoComm = errors.New("no (comm) field")

// parseStat parses the content of /proc/<pid>/stat. The second field,
// comm, is the executable name in parentheses and may itself hold spaces
// and parentheses, so the fields are split after the LAST ')'.
func parseStat(b []byte) (procStat, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procStat{}, errNoComm
	}
	fields := bytes.Fields(b[end+1:])
	need := fieldStarttime - firstAfterComm + 1
	if len(fields) < need {
		return procStat{}, fmt.Errorf("%d fields after comm, want at least %d", len(fields), need)
	}
	var st procStat
	for _, f := range []struct {
		num int
		dst *uint64
	}{{fieldUtime, &st.utime}, {fieldStime, &st.stime}, {fieldStarttime, &st.starttime}} {
		v, err := strconv.ParseUint(string(fields[f.num-firstAfterComm]), 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("field %d: %w", f.num, err)
		}
		*f.dst = v
	}
	return st, nil
}

// parseStatm returns the resident set size in pages: the second field of
// /proc/<pid>/statm.
func parseStatm(b []byte) (uint64, error) {
	fields := bytes.Fields(b)
	if len(fields) < 2 {
		return 0, fmt.Errorf("%d fields, want at least 2", len(fields))
	}
	v, err := strconv.ParseUint(string(fields[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("resident: %w", err)
	}
	return v, nil
}
