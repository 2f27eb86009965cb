package cgroup

import (
	"math"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzCPULimit feeds arbitrary /proc/self/cgroup, mountinfo and cpu.max
// contents through the whole reader: it must never panic, and a limit it
// returns is a positive, finite number of cores whose GOMAXPROCS is at
// least 1.
func FuzzCPULimit(f *testing.F) {
	f.Add("0::/\n", "30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup rw\n", "100000 100000\n")
	f.Add("0::/a/b\n", "35 25 0:29 / /sys/fs/cgroup rw shared:9 - cgroup2 cgroup2 rw\n", "max 100000")
	f.Add("2:cpu,cpuacct:/k/p\n", "612 610 0:30 /k/p /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu,cpuacct\n", "50000")
	f.Add("3:cpu:/a\\040b\n", "32 31 0:29 /a\\040b /x\\011y rw - cgroup cgroup rw,cpu\n", "-1")
	f.Fuzz(func(t *testing.T, cgroup, mountinfo, limit string) {
		fsys := fstest.MapFS{
			"proc/self/cgroup":    {Data: []byte(cgroup)},
			"proc/self/mountinfo": {Data: []byte(mountinfo)},
		}
		// The limit file in every directory the mounts could name.
		if mounts, err := ParseMountInfo([]byte(mountinfo)); err == nil {
			for _, m := range mounts {
				dir := strings.TrimPrefix(m.Point, "/")
				if dir == "" || !fsValid(dir) {
					continue
				}
				fsys[dir+"/cpu.max"] = &fstest.MapFile{Data: []byte(limit)}
				fsys[dir+"/cpu.cfs_quota_us"] = &fstest.MapFile{Data: []byte(limit)}
				fsys[dir+"/cpu.cfs_period_us"] = &fstest.MapFile{Data: []byte("100000")}
			}
		}
		cores, err := CPULimit(fsys, "proc/self")
		if err != nil {
			return
		}
		if !(cores > 0) || math.IsInf(cores, 0) {
			t.Fatalf("CPULimit = %v cores, no error", cores)
		}
		if n := GOMAXPROCS(cores); n < 1 {
			t.Fatalf("GOMAXPROCS(%v) = %d", cores, n)
		}
	})
}

// fsValid reports whether name is a path fs.FS accepts.
func fsValid(name string) bool {
	for _, e := range strings.Split(name, "/") {
		if e == "" || e == "." || e == ".." {
			return false
		}
	}
	return true
}
