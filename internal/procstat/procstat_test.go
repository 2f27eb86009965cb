package procstat

import (
	"math"
	"os"
	"runtime"
	"testing"
	"testing/fstest"
	"time"
)

// step is one Sample call against fixture files: the clock moves by
// advance, then self/stat holds utime and stime (start 1000 ticks, i.e. 10 s
// after boot) and self/statm holds statm ("" removes the file).
type step struct {
	advance      time.Duration
	utime, stime uint64
	statm        string
	wantCPU      float64
	wantRSS      uint64 // pages
	wantErr      bool
}

func TestSamplerFixtures(t *testing.T) {
	t.Parallel()
	const statm = "765 423 395 5 0 123 0\n"
	tests := []struct {
		name   string
		uptime string
		steps  []step
	}{
		{
			// 200 ticks = 2 s of CPU over the 10 s since the process started.
			name: "first sample since process start", uptime: "20.00 35.50\n",
			steps: []step{{utime: 150, stime: 50, statm: statm, wantCPU: 20, wantRSS: 423}},
		},
		{
			name: "later samples since the previous one", uptime: "20.00 35.50\n",
			steps: []step{
				{utime: 150, stime: 50, statm: statm, wantCPU: 20, wantRSS: 423},
				// 2 s of CPU in 1 s of wall time: two busy cores.
				{advance: time.Second, utime: 250, stime: 150, statm: "765 500 0 0 0 0 0", wantCPU: 200, wantRSS: 500},
				{advance: 2 * time.Second, utime: 250, stime: 150, statm: statm, wantCPU: 0, wantRSS: 423},
				{advance: 4 * time.Second, utime: 300, stime: 250, statm: statm, wantCPU: 37.5, wantRSS: 423},
			},
		},
		{
			name: "an error keeps the previous reference", uptime: "20.00 35.50\n",
			steps: []step{
				{utime: 150, stime: 50, statm: statm, wantCPU: 20, wantRSS: 423},
				{advance: time.Second, utime: 200, stime: 50, statm: "", wantErr: true},
				{advance: time.Second, utime: 250, stime: 50, statm: statm, wantCPU: 50, wantRSS: 423},
			},
		},
		{
			name: "no wall time passed", uptime: "20.00 35.50\n",
			steps: []step{
				{utime: 150, stime: 50, statm: statm, wantCPU: 20, wantRSS: 423},
				{utime: 170, stime: 50, statm: statm, wantCPU: 0, wantRSS: 423},
			},
		},
		{
			name: "ticks going backwards read as idle", uptime: "20.00 35.50\n",
			steps: []step{
				{utime: 150, stime: 50, statm: statm, wantCPU: 20, wantRSS: 423},
				{advance: time.Second, utime: 10, stime: 0, statm: statm, wantCPU: 0, wantRSS: 423},
			},
		},
		{
			name: "process started at this instant", uptime: "10.00 1.00\n",
			steps: []step{{utime: 1, stime: 0, statm: statm, wantCPU: 0, wantRSS: 423}},
		},
		{
			name: "bad uptime", uptime: "soon\n",
			steps: []step{{utime: 1, stime: 0, statm: statm, wantErr: true}},
		},
		{
			name: "no uptime", uptime: "",
			steps: []step{{utime: 1, stime: 0, statm: statm, wantErr: true}},
		},
		{
			name: "bad statm", uptime: "20.00 1.00\n",
			steps: []step{{utime: 1, stime: 0, statm: "12", wantErr: true}},
		},
	}
	page := uint64(os.Getpagesize())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
			proc := fstest.MapFS{"uptime": {Data: []byte(tt.uptime)}}
			s := NewSamplerFS(func() time.Time { return clock }, proc)
			for i, st := range tt.steps {
				clock = clock.Add(st.advance)
				proc["self/stat"] = &fstest.MapFile{Data: []byte(statLine("horde worker", st.utime, st.stime, 1000))}
				delete(proc, "self/statm")
				if st.statm != "" {
					proc["self/statm"] = &fstest.MapFile{Data: []byte(st.statm)}
				}
				cpu, rss, err := s.Sample()
				if (err != nil) != st.wantErr {
					t.Fatalf("step %d: Sample error = %v, want error %v", i, err, st.wantErr)
				}
				if math.Abs(cpu-st.wantCPU) > 1e-9 || rss != st.wantRSS*page {
					t.Errorf("step %d: Sample = %v%%, %d B; want %v%%, %d B", i, cpu, rss, st.wantCPU, st.wantRSS*page)
				}
			}
		})
	}
}

func TestSamplerMissingStat(t *testing.T) {
	t.Parallel()
	s := NewSamplerFS(nil, fstest.MapFS{})
	if _, _, err := s.Sample(); err == nil {
		t.Fatal("Sample without self/stat: no error")
	}
}

// TestSamplerRealBusyLoop burns CPU for about 200 ms and checks that the
// real /proc shows it. The bound is loose on purpose: on a loaded 2-core
// machine this goroutine may get a fraction of a core, but never nothing.
func TestSamplerRealBusyLoop(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("procstat reads Linux's /proc")
	}
	s := NewSampler(nil)
	first, rss, err := s.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if first < 0 || math.IsNaN(first) || math.IsInf(first, 0) {
		t.Errorf("first sample = %v%%, want a finite value >= 0", first)
	}
	// A Go test binary holds several MB; 1 TB would mean a unit mistake.
	if rss < 1<<20 || rss > 1<<40 {
		t.Errorf("rss = %d B, want between 1 MB and 1 TB", rss)
	}
	start := time.Now()
	x := 1.0
	for time.Since(start) < 200*time.Millisecond {
		for range 1000 {
			x = math.Sqrt(x + 1.5)
		}
	}
	cpu, _, err := s.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if cpu < 10 {
		t.Errorf("after a 200 ms busy loop, cpu = %.1f%%, want > 10%% (x=%v)", cpu, x)
	}
	// No process can use more cores than the machine has (+ rounding of
	// ticks over a short interval).
	if limit := float64(runtime.NumCPU())*100 + 50; cpu > limit {
		t.Errorf("cpu = %.1f%%, more than %d cores", cpu, runtime.NumCPU())
	}
}

func TestBusy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cpu   float64
		cores int
		want  bool
	}{
		{cpu: 50, cores: 1, want: false},
		{cpu: 90, cores: 1, want: false},
		{cpu: 90.5, cores: 1, want: true},
		{cpu: 150, cores: 2, want: false},
		{cpu: 180, cores: 2, want: false},
		{cpu: 181, cores: 2, want: true},
		{cpu: 700, cores: 8, want: false},
		{cpu: 95, cores: 0, want: true},
		{cpu: 95, cores: -3, want: true},
	}
	for _, tt := range tests {
		if got := Busy(tt.cpu, tt.cores); got != tt.want {
			t.Errorf("Busy(%v, %d) = %v, want %v", tt.cpu, tt.cores, got, tt.want)
		}
	}
}
