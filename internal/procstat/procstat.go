// Package procstat measures the current process's own CPU use and resident
// memory from Linux's /proc, without cgo or dependencies, so that a worker
// can report them to the master and the master can warn when a worker is
// too busy for its timings to be trusted.
//
// It is not a general process monitor: it reads only /proc/self and
// /proc/uptime. On systems without /proc, Sample returns an error.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat: clock ticks of
// USER_HZ, which the Linux kernel fixes at 100 per second for user space on
// every architecture (sysconf(_SC_CLK_TCK) returns it; reading it needs
// cgo, and its value never differs in practice).
const userHZ = 100

// BusyPercent is the share of one core above which Locust warns that a
// worker's CPU is too busy (90%).
const BusyPercent = 90.0

// Sampler measures the process's CPU use between successive samples. It is
// safe for concurrent use.
type Sampler struct {
	now      func() time.Time
	proc     fs.FS
	pageSize uint64

	mu        sync.Mutex
	sampled   bool
	lastTicks uint64
	lastWall  time.Time
}

// NewSampler returns a Sampler that reads the real /proc. now is the clock
// used between samples; nil means time.Now.
func NewSampler(now func() time.Time) *Sampler {
	return NewSamplerFS(now, os.DirFS("/proc"))
}

// NewSamplerFS returns a Sampler that reads proc, a file system laid out
// like /proc (self/stat, self/statm and uptime are read). Tests use it to
// feed fixtures. now nil means time.Now.
func NewSamplerFS(now func() time.Time, proc fs.FS) *Sampler {
	if now == nil {
		now = time.Now
	}
	return &Sampler{now: now, proc: proc, pageSize: uint64(os.Getpagesize())}
}

// Sample returns the CPU time the process used since the previous Sample
// (since the process started, on the first call) divided by the wall time
// in between, in percent of one core — two busy cores read 200 — and the
// resident set size in bytes. On error the previous sample stays the
// reference for the next call.
func (s *Sampler) Sample() (cpuPercent float64, rssBytes uint64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wall := s.now()
	st, err := s.readStat()
	if err != nil {
		return 0, 0, err
	}
	rss, err := s.readRSS()
	if err != nil {
		return 0, 0, err
	}
	ticks := st.utime + st.stime
	var elapsed float64 // seconds of wall time the ticks were spent in
	var used uint64
	if !s.sampled {
		up, err := s.readUptime()
		if err != nil {
			return 0, 0, err
		}
		elapsed = up - float64(st.starttime)/userHZ
		used = ticks
	} else {
		elapsed = wall.Sub(s.lastWall).Seconds()
		if ticks >= s.lastTicks {
			used = ticks - s.lastTicks
		}
	}
	s.sampled, s.lastTicks, s.lastWall = true, ticks, wall
	if elapsed > 0 {
		cpuPercent = float64(used) / userHZ / elapsed * 100
	}
	return cpuPercent, rss, nil
}

func (s *Sampler) readStat() (procStat, error) {
	b, err := fs.ReadFile(s.proc, "self/stat")
	if err != nil {
		return procStat{}, fmt.Errorf("procstat: %w", err)
	}
	st, err := parseStat(b)
	if err != nil {
		return procStat{}, fmt.Errorf("procstat: self/stat: %w", err)
	}
	return st, nil
}

func (s *Sampler) readRSS() (uint64, error) {
	b, err := fs.ReadFile(s.proc, "self/statm")
	if err != nil {
		return 0, fmt.Errorf("procstat: %w", err)
	}
	pages, err := parseStatm(b)
	if err != nil {
		return 0, fmt.Errorf("procstat: self/statm: %w", err)
	}
	return pages * s.pageSize, nil
}

func (s *Sampler) readUptime() (float64, error) {
	b, err := fs.ReadFile(s.proc, "uptime")
	if err != nil {
		return 0, fmt.Errorf("procstat: %w", err)
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0, errors.New("procstat: uptime: empty")
	}
	up, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil || up < 0 {
		return 0, fmt.Errorf("procstat: uptime: bad value %q", f[0])
	}
	return up, nil
}

// Busy reports whether a process using cpuPercent (in percent of one core)
// is too busy for its timings to be trusted. Locust warns above 90% of one
// core because a Python worker runs on one core; a horde worker is a Go
// program that spreads over GOMAXPROCS cores, so pass cores =
// runtime.GOMAXPROCS(0): Busy is true above 90% of all of them, when
// goroutines start queueing for a core and measured latencies include that
// wait. cores below 1 count as 1.
func Busy(cpuPercent float64, cores int) bool {
	return cpuPercent > BusyPercent*float64(max(cores, 1))
}
