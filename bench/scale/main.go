// Command scale measures one horde master holding thousands of workers
// over real connections (make bench-scale; docs/performance.md, "Master:
// thousands of workers"). For each worker count it starts a real
// `horde master` and `horde sim-workers` processes on 127.0.0.1, then
// measures the master's CPU and memory, how long a new target takes to
// reach every worker, how long the users take to move after a tenth of
// the workers hang or die, whether every worker holds its exact share, and
// how fast the API and the live stream answer meanwhile. It prints one
// Markdown table. Every process it starts is ended before it exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	horde, sim     string
	workers        []int
	sims           int
	endpoints      int
	rate           float64
	usersPerWorker int
	steady         time.Duration
	missing        time.Duration
	timeout        time.Duration
	logs           string
}

// The script the master runs: three classes, so that the split is
// checked per class. Its tasks never run: the simulated workers only
// report.
const script = `
def t(u):
    u.get("/")

users = [
    user(name="Browser", weight=3, tasks=[t], wait=constant(1)),
    user(name="Mobile", weight=2, tasks=[t], wait=constant(1)),
    user(name="Api", weight=1, tasks=[t], wait=constant(1)),
]
`

var weights = map[string]float64{"Browser": 3, "Mobile": 2, "Api": 1}

const token = "bench-scale-token"

func main() {
	var c config
	var counts string
	flag.StringVar(&c.horde, "horde", "bin/horde", "the horde binary to measure")
	flag.StringVar(&c.sim, "sim", "", "the horde binary whose sim-workers simulate the workers (default: -horde)")
	flag.StringVar(&counts, "workers", "1000,5000,10000", "worker counts to measure, comma-separated")
	flag.IntVar(&c.sims, "sims", 0, "simulator processes per count (0: one per 18,000 workers: each holds a file per worker)")
	flag.IntVar(&c.endpoints, "endpoints", 100, "endpoints each worker reports")
	flag.Float64Var(&c.rate, "rate", 10, "requests per second each worker reports per endpoint")
	flag.IntVar(&c.usersPerWorker, "users", 10, "users per worker in the test")
	flag.DurationVar(&c.steady, "steady", 30*time.Second, "steady-state window measured")
	flag.DurationVar(&c.missing, "missing-timeout", 3*time.Second, "the master's --missing-timeout")
	flag.DurationVar(&c.timeout, "timeout", 3*time.Minute, "give up on a step after this long")
	flag.StringVar(&c.logs, "logs", "", "keep the processes' output in this directory")
	flag.Parse()
	if c.sim == "" {
		c.sim = c.horde
	}
	for _, s := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "scale: -workers %q: want counts like 1000,5000\n", counts)
			os.Exit(2)
		}
		c.workers = append(c.workers, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("horde master with simulated workers: %d endpoints × %g requests/s each, %d users per worker, missing timeout %v, steady state %v\n\n",
		c.endpoints, c.rate, c.usersPerWorker, c.missing, c.steady)
	var results []result
	failed := false
	for _, n := range c.workers {
		r, err := measure(ctx, c, n)
		if err != nil {
			fmt.Fprintf(os.Stderr, "scale: %d workers: %v\n", n, err)
			r.failed, failed = err.Error(), true
		}
		results = append(results, r)
		r.print(os.Stdout)
		if ctx.Err() != nil {
			break
		}
	}
	printTable(os.Stdout, results)
	if failed {
		os.Exit(1)
	}
}

// run holds the processes of one measurement.
type run struct {
	c      config
	n      int
	dir    string
	master *proc
	web    string
	fleet  fleet
}

func (r *run) close() {
	all := r.fleet.procs
	if r.master != nil {
		all = append(all, r.master)
	}
	for _, p := range all {
		p.stop(10 * time.Second)
		if r.c.logs != "" {
			_ = os.MkdirAll(r.c.logs, 0o755)
			_ = os.WriteFile(filepath.Join(r.c.logs, fmt.Sprintf("%d-%s.log", r.n, p.name)), []byte(p.output()), 0o644)
		}
	}
	_ = os.RemoveAll(r.dir)
}

func (r *run) startMaster() error {
	path := filepath.Join(r.dir, "scale.star")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return err
	}
	var err error
	r.master, err = startProc("master", r.c.horde, []string{"XDG_DATA_HOME=" + r.dir, "GOMAXPROCS="},
		"master", path, "-H", "http://127.0.0.1:9", "--bind", "127.0.0.1:0", "--web-host", "127.0.0.1",
		"--web-port", "0", "--auth-token", token, "--missing-timeout", r.c.missing.String())
	if err != nil {
		return err
	}
	if r.web, err = r.master.await(`web API listening" addr=(http://\S+)`, 30*time.Second); err != nil {
		return err
	}
	return nil
}

func (r *run) startSims() error {
	addr, err := r.master.await(`worker port open" addr=(\S+)`, 30*time.Second)
	if err != nil {
		return err
	}
	k := r.c.sims
	if k <= 0 {
		k = (r.n + 17999) / 18000
	}
	for i := range k {
		n := r.n / k
		if i < r.n%k {
			n++
		}
		p, err := startProc(fmt.Sprintf("sim%d", i), r.c.sim, nil, "sim-workers", "--master", addr,
			"--auth-token", token, "-n", strconv.Itoa(n), "--id-prefix", fmt.Sprintf("s%d", i),
			"--endpoints", strconv.Itoa(r.c.endpoints), "--rate", strconv.FormatFloat(r.c.rate, 'g', -1, 64))
		if err != nil {
			return err
		}
		r.fleet.procs = append(r.fleet.procs, p)
		ctl, err := p.await(`control API listening" addr=(http://\S+)`, 30*time.Second)
		if err != nil {
			return err
		}
		r.fleet.controls = append(r.fleet.controls, ctl)
	}
	return nil
}

// until polls cond every 50 ms until it returns "" (done), an error, or
// the timeout passes.
func (r *run) until(ctx context.Context, what string, cond func() (string, error)) error {
	deadline := time.Now().Add(r.c.timeout)
	last := ""
	for time.Now().Before(deadline) {
		msg, err := cond()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if msg == "" {
			return nil
		}
		last = msg
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: not within %v: %s", what, r.c.timeout, last)
}

// applied waits until the live workers hold an exact split of users and
// returns how long after t0 the last of them got its target.
func (r *run) applied(ctx context.Context, what string, users, live int, t0 time.Time) (time.Duration, error) {
	var took time.Duration
	err := r.until(ctx, what, func() (string, error) {
		s, err := r.fleet.summary(false)
		if err != nil {
			return "", err
		}
		if s.Connected != live || s.Users != users || s.UsersMax-s.UsersMin > 1 {
			return fmt.Sprintf("%d live workers run %d users (%d..%d each); want %d and %d", s.Connected, s.Users,
				s.UsersMin, s.UsersMax, live, users), nil
		}
		if s, err = r.fleet.summary(true); err != nil {
			return "", err
		}
		if msg := split(s, users, weights); msg != "" {
			return msg, nil
		}
		took = s.LastApplied.Sub(t0)
		return "", nil
	})
	return took, err
}
