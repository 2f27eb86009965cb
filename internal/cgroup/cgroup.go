// Package cgroup reads the CPU limit that a Linux control group puts on the
// process (cgroup v2 cpu.max, cgroup v1 cpu.cfs_quota_us and
// cpu.cfs_period_us), so that horde can size its scheduler to it: a worker
// with a Kubernetes CPU limit of one core should run one P, not the two that
// Go's runtime gives any limit below two.
//
// It reads files only; it never changes a cgroup, and it does not cover
// cpusets (Go's runtime already counts the CPUs it may run on).
package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
)

// ErrNoLimit says that no cgroup in the process's hierarchy limits its CPU.
var ErrNoLimit = errors.New("cgroup: no CPU limit")

// CPULimit returns the CPU limit, in cores, of the process whose proc
// directory is procDir ("proc/self" for the caller), reading every path
// through fsys, which is rooted at "/" (os.DirFS("/") on a real system).
// Each cgroup from the process's own up to its hierarchy's root may set a
// limit; the smallest one applies. It returns ErrNoLimit when none does, and
// another error when the files cannot be read or parsed.
func CPULimit(fsys fs.FS, procDir string) (float64, error) {
	cg, err := fs.ReadFile(fsys, path.Join(procDir, "cgroup"))
	if err != nil {
		return 0, fmt.Errorf("cgroup: %w", err)
	}
	groups, err := ParseProcCgroup(cg)
	if err != nil {
		return 0, err
	}
	mi, err := fs.ReadFile(fsys, path.Join(procDir, "mountinfo"))
	if err != nil {
		return 0, fmt.Errorf("cgroup: %w", err)
	}
	mounts, err := ParseMountInfo(mi)
	if err != nil {
		return 0, err
	}
	dir, v2, ok := cpuDir(groups, mounts)
	if !ok {
		return 0, ErrNoLimit
	}
	return smallestLimit(fsys, dir, v2)
}

// GOMAXPROCS is the number of Ps for a CPU limit of cores: the limit
// rounded up, at least 1.
func GOMAXPROCS(cores float64) int {
	if !(cores > 1) { // also NaN
		return 1
	}
	if cores >= math.MaxInt32 {
		return math.MaxInt32
	}
	return int(math.Ceil(cores))
}

// Group is one line of /proc/<pid>/cgroup: the controllers of a v1
// hierarchy (none for v2's unified one) and the process's cgroup in it.
type Group struct {
	ID          int
	Controllers []string
	Path        string
}

// v2 reports whether g is the line of the unified (v2) hierarchy.
func (g Group) v2() bool { return g.ID == 0 && len(g.Controllers) == 0 }

// ParseProcCgroup parses /proc/<pid>/cgroup: lines of
// "hierarchy-ID:controller-list:cgroup-path".
func ParseProcCgroup(data []byte) ([]Group, error) {
	var out []Group
	for n, line := range lines(data) {
		id, rest, ok1 := strings.Cut(line, ":")
		ctrls, p, ok2 := strings.Cut(rest, ":")
		num, err := strconv.Atoi(id)
		if !ok1 || !ok2 || err != nil || num < 0 || !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("cgroup: /proc/self/cgroup line %d: malformed %q", n+1, line)
		}
		g := Group{ID: num, Path: p}
		if ctrls != "" {
			g.Controllers = strings.Split(ctrls, ",")
		}
		out = append(out, g)
	}
	return out, nil
}

// Mount is a cgroup file system in /proc/<pid>/mountinfo: the directory of
// the hierarchy it shows (Root) and where (Point).
type Mount struct {
	Root, Point string
	V2          bool
	Options     []string // super options: the controllers of a v1 mount
}

// ParseMountInfo returns the cgroup and cgroup2 mounts of a
// /proc/<pid>/mountinfo: "ID parent major:minor root point options
// [optional fields...] - fstype source super-options" per line, with
// spaces and other bytes in paths escaped as octal (\040).
func ParseMountInfo(data []byte) ([]Mount, error) {
	var out []Mount
	for n, line := range lines(data) {
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 6 || sep < 0 || len(f) < sep+3 {
			return nil, fmt.Errorf("cgroup: mountinfo line %d: malformed %q", n+1, line)
		}
		fstype := f[sep+1]
		if fstype != "cgroup" && fstype != "cgroup2" {
			continue
		}
		root, err1 := unescape(f[3])
		point, err2 := unescape(f[4])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("cgroup: mountinfo line %d: %w", n+1, err)
		}
		m := Mount{Root: root, Point: point, V2: fstype == "cgroup2"}
		if len(f) > sep+3 {
			m.Options = strings.Split(f[sep+3], ",")
		}
		out = append(out, m)
	}
	return out, nil
}

// cpuDir returns the directory, relative to the file system root, of the
// process's cgroup in the hierarchy that holds the cpu controller, and
// whether it is v2. A v1 cpu hierarchy wins over v2 (in a hybrid setup the
// unified hierarchy then has no cpu controller).
func cpuDir(groups []Group, mounts []Mount) (string, bool, bool) {
	for _, want := range []bool{false, true} {
		for _, g := range groups {
			if g.v2() != want || (!want && !contains(g.Controllers, "cpu")) {
				continue
			}
			for _, m := range mounts {
				if m.V2 != want || (!want && !contains(m.Options, "cpu")) {
					continue
				}
				// The mount shows the hierarchy from m.Root down; the
				// process's group must be at or below it (in a cgroup
				// namespace both are "/").
				rel, ok := within(g.Path, m.Root)
				if !ok {
					continue
				}
				return strings.TrimPrefix(path.Join(m.Point, rel), "/"), want, true
			}
		}
	}
	return "", false, false
}

// smallestLimit walks from dir up to its hierarchy's mount point (the
// first directory without the limit files) and returns the smallest limit.
func smallestLimit(fsys fs.FS, dir string, v2 bool) (float64, error) {
	best, found := math.Inf(1), false
	for d := dir; ; d = path.Dir(d) {
		limit, ok, err := readLimit(fsys, d, v2)
		if errors.Is(err, fs.ErrNotExist) {
			break // above the mount point (or a controller not enabled here)
		}
		if err != nil {
			return 0, err
		}
		if ok && limit < best {
			best, found = limit, true
		}
		if d == "." || d == "/" || d == "" {
			break
		}
	}
	if !found {
		return 0, ErrNoLimit
	}
	return best, nil
}

func readLimit(fsys fs.FS, dir string, v2 bool) (float64, bool, error) {
	if v2 {
		data, err := fs.ReadFile(fsys, path.Join(dir, "cpu.max"))
		if err != nil {
			return 0, false, err
		}
		return ParseCPUMax(data)
	}
	q, err := fs.ReadFile(fsys, path.Join(dir, "cpu.cfs_quota_us"))
	if err != nil {
		return 0, false, err
	}
	p, err := fs.ReadFile(fsys, path.Join(dir, "cpu.cfs_period_us"))
	if err != nil {
		return 0, false, err
	}
	return ParseCFS(q, p)
}

// ParseCPUMax parses a cgroup v2 cpu.max file, "$MAX $PERIOD" where $MAX
// is "max" for no limit (and $PERIOD may be left out, meaning 100000), and
// returns the limit in cores and whether there is one.
func ParseCPUMax(data []byte) (float64, bool, error) {
	f := strings.Fields(string(data))
	if len(f) < 1 || len(f) > 2 {
		return 0, false, fmt.Errorf("cgroup: cpu.max: malformed %q", data)
	}
	period := int64(100000)
	if len(f) == 2 {
		p, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || p <= 0 {
			return 0, false, fmt.Errorf("cgroup: cpu.max: bad period %q", f[1])
		}
		period = p
	}
	if f[0] == "max" {
		return 0, false, nil
	}
	q, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || q <= 0 {
		return 0, false, fmt.Errorf("cgroup: cpu.max: bad quota %q", f[0])
	}
	return float64(q) / float64(period), true, nil
}

// ParseCFS parses cgroup v1's cpu.cfs_quota_us (-1 for no limit) and
// cpu.cfs_period_us and returns the limit in cores and whether there is one.
func ParseCFS(quota, period []byte) (float64, bool, error) {
	q, err := strconv.ParseInt(string(bytes.TrimSpace(quota)), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("cgroup: cpu.cfs_quota_us: malformed %q", quota)
	}
	if q < 0 {
		return 0, false, nil
	}
	p, err := strconv.ParseInt(string(bytes.TrimSpace(period)), 10, 64)
	if err != nil || p <= 0 {
		return 0, false, fmt.Errorf("cgroup: cpu.cfs_period_us: malformed %q", period)
	}
	if q == 0 {
		return 0, false, fmt.Errorf("cgroup: cpu.cfs_quota_us: 0")
	}
	return float64(q) / float64(p), true, nil
}

// lines returns data's non-empty lines.
func lines(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for sc.Scan() {
		if l := strings.TrimRight(sc.Text(), "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+4 > len(s) {
			return "", fmt.Errorf("bad escape in %q", s)
		}
		v, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
		if err != nil {
			return "", fmt.Errorf("bad escape in %q", s)
		}
		b.WriteByte(byte(v))
		i += 3
	}
	return b.String(), nil
}

// within returns p relative to root ("/" when equal) when p is root or
// below it.
func within(p, root string) (string, bool) {
	if root == "/" {
		return p, true
	}
	if p == root {
		return "/", true
	}
	if rest, ok := strings.CutPrefix(p, root); ok && strings.HasPrefix(rest, "/") {
		return rest, true
	}
	return "", false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
