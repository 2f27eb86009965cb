package cgroup

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Each directory under testdata is a file system root with the files a
// process would see: proc/self/cgroup, proc/self/mountinfo and its cgroup
// files under sys/fs/cgroup.
func TestCPULimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir   string
		cores float64
		err   error // ErrNoLimit, or errAny for a parse error
	}{
		{dir: "v2-namespaced", cores: 1},
		{dir: "v2-nested", cores: 0.5},
		{dir: "v2-unlimited", err: ErrNoLimit},
		{dir: "v1-kubepods", cores: 1},
		{dir: "v1-host", cores: 1.5},
		{dir: "v1-unlimited", err: ErrNoLimit},
		{dir: "no-mount", err: ErrNoLimit},
		{dir: "bad-cgroup", err: errAny},
		{dir: "bad-cpumax", err: errAny},
		{dir: "missing", err: errAny},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			t.Parallel()
			got, err := CPULimit(os.DirFS(filepath.Join("testdata", tc.dir)), "proc/self")
			switch {
			case tc.err == nil && err != nil:
				t.Fatalf("CPULimit: %v, want %v cores", err, tc.cores)
			case tc.err == errAny && (err == nil || errors.Is(err, ErrNoLimit)):
				t.Fatalf("CPULimit = %v, %v; want a parse error", got, err)
			case tc.err == ErrNoLimit && !errors.Is(err, ErrNoLimit):
				t.Fatalf("CPULimit = %v, %v; want ErrNoLimit", got, err)
			case tc.err == nil && got != tc.cores:
				t.Fatalf("CPULimit = %v cores, want %v", got, tc.cores)
			}
		})
	}
}

var errAny = errors.New("any error")

// The machine the test runs on: whatever it says, it must not be a parse
// error (every Linux system's files are well-formed).
func TestCPULimitHere(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/cgroup"); err != nil {
		t.Skip("no /proc/self/cgroup: not Linux")
	}
	got, err := CPULimit(os.DirFS("/"), "proc/self")
	if err != nil && !errors.Is(err, ErrNoLimit) {
		t.Fatalf("CPULimit on this machine: %v", err)
	}
	t.Logf("CPU limit here: %v cores (err %v)", got, err)
}

func TestGOMAXPROCS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cores float64
		want  int
	}{
		{0.1, 1}, {0.5, 1}, {1, 1}, {1.01, 2}, {1.5, 2}, {2, 2}, {7.2, 8},
		{0, 1}, {-1, 1}, {math.NaN(), 1}, {math.Inf(1), math.MaxInt32},
	} {
		if got := GOMAXPROCS(tc.cores); got != tc.want {
			t.Errorf("GOMAXPROCS(%v) = %d, want %d", tc.cores, got, tc.want)
		}
	}
}

func TestParseCPUMax(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		cores float64
		ok    bool
		err   bool
	}{
		{in: "max 100000\n"},
		{in: "max"},
		{in: "100000 100000\n", cores: 1, ok: true},
		{in: "150000 100000", cores: 1.5, ok: true},
		{in: "50000", cores: 0.5, ok: true},
		{in: "25000 50000", cores: 0.5, ok: true},
		{in: "", err: true},
		{in: "max 0", err: true},
		{in: "-1 100000", err: true},
		{in: "0 100000", err: true},
		{in: "1 2 3", err: true},
		{in: "lots 100000", err: true},
		{in: "100000 x", err: true},
	} {
		cores, ok, err := ParseCPUMax([]byte(tc.in))
		if (err != nil) != tc.err || ok != tc.ok || cores != tc.cores {
			t.Errorf("ParseCPUMax(%q) = %v, %v, %v; want %v, %v, error %v", tc.in, cores, ok, err, tc.cores, tc.ok, tc.err)
		}
	}
}

func TestParseCFS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		quota, period string
		cores         float64
		ok, err       bool
	}{
		{quota: "-1\n", period: "100000\n"},
		{quota: "100000\n", period: "100000\n", cores: 1, ok: true},
		{quota: "50000", period: "100000", cores: 0.5, ok: true},
		{quota: "250000", period: "100000", cores: 2.5, ok: true},
		{quota: "0", period: "100000", err: true},
		{quota: "x", period: "100000", err: true},
		{quota: "100000", period: "0", err: true},
		{quota: "100000", period: "", err: true},
	} {
		cores, ok, err := ParseCFS([]byte(tc.quota), []byte(tc.period))
		if (err != nil) != tc.err || ok != tc.ok || cores != tc.cores {
			t.Errorf("ParseCFS(%q, %q) = %v, %v, %v; want %v, %v, error %v", tc.quota, tc.period, cores, ok, err, tc.cores, tc.ok, tc.err)
		}
	}
}

func TestParseMountInfo(t *testing.T) {
	t.Parallel()
	in := "22 1 0:20 / / rw - overlay overlay rw\n" +
		"32 31 0:29 /a\\040b /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:5 master:2 - cgroup cgroup rw,cpu,cpuacct\n" +
		"35 25 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
	got, err := ParseMountInfo([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{Root: "/a b", Point: "/sys/fs/cgroup/cpu,cpuacct", Options: []string{"rw", "cpu", "cpuacct"}},
		{Root: "/", Point: "/sys/fs/cgroup/unified", V2: true, Options: []string{"rw", "nsdelegate"}},
	}
	if len(got) != len(want) {
		t.Fatalf("ParseMountInfo = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Root != want[i].Root || got[i].Point != want[i].Point || got[i].V2 != want[i].V2 || !slices.Equal(got[i].Options, want[i].Options) {
			t.Errorf("mount %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{
		"1 2 3",
		"22 1 0:20 / / rw overlay overlay rw", // no separator
		"22 1 0:20 / / rw -",                  // nothing after it
		"32 31 0:29 /a\\04 /x rw - cgroup cgroup rw", // cut escape
		"32 31 0:29 /a\\999 /x rw - cgroup cgroup rw",
	} {
		if m, err := ParseMountInfo([]byte(bad)); err == nil {
			t.Errorf("ParseMountInfo(%q) = %+v, want an error", bad, m)
		}
	}
}

func TestParseProcCgroup(t *testing.T) {
	t.Parallel()
	got, err := ParseProcCgroup([]byte("2:cpu,cpuacct:/kubepods/p\n1:name=systemd:/\n0::/x:y\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !slices.Equal(got[0].Controllers, []string{"cpu", "cpuacct"}) || got[0].Path != "/kubepods/p" ||
		got[0].v2() || !got[2].v2() || got[2].Path != "/x:y" {
		t.Errorf("ParseProcCgroup = %+v", got)
	}
	for _, bad := range []string{"0:/", "x::/", "-1::/", "0::relative"} {
		if g, err := ParseProcCgroup([]byte(bad)); err == nil {
			t.Errorf("ParseProcCgroup(%q) = %+v, want an error", bad, g)
		}
	}
}
