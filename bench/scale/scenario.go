package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"
)

// result is what one worker count measured.
type result struct {
	n, sims                   int
	connect                   time.Duration
	rssEmpty, rssIdle         uint64
	idleCores                 float64
	cores, simCores           float64
	rss, hwm                  uint64
	threads                   int
	start, edit               time.Duration
	hang, rejoin, kill        time.Duration
	rateErr                   float64
	openApplied               time.Duration
	routes                    map[string][3]float64 // p50 ms, max ms, KiB
	routeErrs                 int
	sseEvents                 int
	sseWorst                  time.Duration
	sseEnded                  error
	missingLogged, slowLogged int
	reported                  int64
	failed                    string // the step that did not complete, if one did not
}

// measure runs the benchmark for n workers. On error, res holds what was
// measured before the step that failed, and the master's log counts.
func measure(ctx context.Context, c config, n int) (res result, err error) {
	dir, err := os.MkdirTemp("", "horde-scale-")
	if err != nil {
		return res, err
	}
	r := &run{c: c, n: n, dir: dir}
	defer r.close()
	defer func() {
		if r.master != nil {
			res.missingLogged = r.master.count("worker missing")
			res.slowLogged = r.master.count("too slow to follow")
		}
	}()
	res.n = n
	fmt.Fprintf(os.Stderr, "scale: %d workers: starting the master\n", n)
	if err := r.startMaster(); err != nil {
		return res, err
	}
	pid := r.master.cmd.Process.Pid
	time.Sleep(2 * time.Second)
	u0, err := readUsage(pid)
	if err != nil {
		return res, err
	}
	res.rssEmpty = u0.rss

	t0 := time.Now()
	if err := r.startSims(); err != nil {
		return res, err
	}
	res.sims = len(r.fleet.procs)
	if err := r.until(ctx, "connecting the workers", func() (string, error) {
		s, err := r.fleet.summary(false)
		if err != nil {
			return "", err
		}
		if s.Connected < n {
			return fmt.Sprintf("%d of %d connected", s.Connected, n), nil
		}
		return "", nil
	}); err != nil {
		return res, err
	}
	res.connect = time.Since(t0)
	fmt.Fprintf(os.Stderr, "scale: %d workers connected in %v\n", n, res.connect.Round(time.Millisecond))

	// Idle: every worker connected, no test: heartbeats and empty reports.
	time.Sleep(5 * time.Second)
	a, _ := readUsage(pid)
	time.Sleep(10 * time.Second)
	b, _ := readUsage(pid)
	res.idleCores, res.rssIdle = cores(a, b), b.rss

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sse := follow(sctx, r.web)

	// A new test: users per worker × n, started at that rate (one second).
	users := c.usersPerWorker * n
	t0 = time.Now()
	if err := post(r.web+"/swarm", "application/x-www-form-urlencoded",
		form("user_count", strconv.Itoa(users), "spawn_rate", strconv.Itoa(users))); err != nil {
		return res, err
	}
	if res.start, err = r.applied(ctx, "starting the test", users, n, t0); err != nil {
		return res, err
	}
	fmt.Fprintf(os.Stderr, "scale: %d users on %d workers, applied in %v\n", users, n, res.start.Round(time.Millisecond))

	if err := r.steady(ctx, &res, sse); err != nil {
		return res, err
	}

	// An edit that does not divide evenly.
	users += n/2 + 1
	t0 = time.Now()
	if err := post(r.web+"/swarm", "application/x-www-form-urlencoded",
		form("user_count", strconv.Itoa(users), "spawn_rate", strconv.Itoa(users))); err != nil {
		return res, err
	}
	if res.edit, err = r.applied(ctx, "editing the test", users, n, t0); err != nil {
		return res, err
	}

	// A tenth of the workers hang (the missing timeout finds them), come
	// back, then a tenth die (their connections cut).
	if res.hang, err = r.lose(ctx, "hang=1", users); err != nil {
		return res, err
	}
	t0 = time.Now()
	if err := r.fleet.act("/revive"); err != nil {
		return res, err
	}
	if res.rejoin, err = r.applied(ctx, "workers coming back", users, n, t0); err != nil {
		return res, err
	}
	if res.kill, err = r.lose(ctx, "hang=0", users); err != nil {
		return res, err
	}
	if err := r.fleet.act("/revive"); err != nil {
		return res, err
	}
	if _, err = r.applied(ctx, "workers coming back", users, n, time.Now()); err != nil {
		return res, err
	}

	if err := r.open(ctx, &res); err != nil {
		return res, err
	}
	if s, err := r.fleet.summary(false); err == nil {
		res.reported = s.RequestsReported
	}
	return res, nil
}

// steady measures the master with the test running: CPU, memory, the
// API's latencies and the live stream.
func (r *run) steady(ctx context.Context, res *result, sse *stream) error {
	pid := r.master.cmd.Process.Pid
	time.Sleep(5 * time.Second)
	lat := newLatencies()
	a, _ := readUsage(pid)
	var simA []usage
	for _, p := range r.fleet.procs {
		u, _ := readUsage(p.cmd.Process.Pid)
		simA = append(simA, u)
	}
	from := time.Now()
	end := from.Add(r.c.steady)
	for time.Now().Before(end) {
		next := time.Now().Add(time.Second)
		lat.probe(r.web)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(next)):
		}
	}
	b, _ := readUsage(pid)
	to := time.Now()
	res.cores, res.rss, res.hwm, res.threads = cores(a, b), b.rss, b.hwm, b.threads
	for i, p := range r.fleet.procs {
		u, _ := readUsage(p.cmd.Process.Pid)
		res.simCores += cores(simA[i], u)
	}
	res.routes = map[string][3]float64{}
	for _, route := range probeRoutes {
		p50, worst, size, errs := lat.stat(route)
		res.routes[route] = [3]float64{ms(p50), ms(worst), float64(size) / 1024}
		res.routeErrs += errs
	}
	res.sseEvents, res.sseWorst, res.sseEnded = sse.gaps(from, to)
	return nil
}

// lose makes a tenth of the workers hang (hang=1) or die (hang=0) and
// returns how long until the others hold their users.
func (r *run) lose(ctx context.Context, hang string, users int) (time.Duration, error) {
	t0 := time.Now()
	if err := r.fleet.act("/kill?percent=10&" + hang); err != nil {
		return 0, err
	}
	s, err := r.fleet.summary(false)
	if err != nil {
		return 0, err
	}
	return r.applied(ctx, "moving the users of lost workers", users, s.Alive, t0)
}

// open runs an open-model test: the rate shares must add up to the rate
// and the pools to the users.
func (r *run) open(ctx context.Context, res *result) error {
	if err := post(r.web+"/api/v1/stop", "application/json", ""); err != nil {
		return err
	}
	if err := r.until(ctx, "stopping", func() (string, error) {
		var st struct{ State string }
		if err := getJSON(r.web+"/api/v1/stats", &st); err != nil {
			return "", err
		}
		if st.State != "stopped" {
			return "state " + st.State, nil
		}
		return "", nil
	}); err != nil {
		return err
	}
	rate := 7.3 * float64(r.n)
	pool := r.c.usersPerWorker * r.n
	t0 := time.Now()
	body := fmt.Sprintf(`{"users": %d, "rate": %g}`, pool, rate)
	if err := post(r.web+"/api/v1/test", "application/json", body); err != nil {
		return err
	}
	return r.until(ctx, "open-model shares", func() (string, error) {
		s, err := r.fleet.summary(false)
		if err != nil {
			return "", err
		}
		if s.MaxUsers != pool || s.UsersMax-s.UsersMin > 1 || math.Abs(s.Rate-rate) > 1e-6*rate {
			return fmt.Sprintf("pools %d (%d..%d), rate %v; want %d and %v", s.MaxUsers, s.UsersMin, s.UsersMax, s.Rate, pool, rate), nil
		}
		res.rateErr = math.Abs(s.Rate - rate)
		res.openApplied = s.LastApplied.Sub(t0)
		return "", nil
	})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (r result) print(w io.Writer) {
	fmt.Fprintf(w, "### %d workers (%d simulator processes)\n\n", r.n, r.sims)
	if r.failed != "" {
		fmt.Fprintf(w, "- **did not complete**: %s (figures not measured are 0)\n", r.failed)
	}
	fmt.Fprintf(w, "- connected in %v; master RSS %.0f MiB empty, %.0f MiB with the workers idle (%.1f KiB per worker), %.2f cores idle\n",
		r.connect.Round(time.Millisecond), mib(r.rssEmpty), mib(r.rssIdle), float64(max(r.rssIdle, r.rssEmpty)-r.rssEmpty)/1024/float64(r.n), r.idleCores)
	fmt.Fprintf(w, "- steady state: master %.2f cores, RSS %.0f MiB (peak %.0f MiB), %d threads; simulators %.2f cores; %d requests reported in all\n",
		r.cores, mib(r.rss), mib(r.hwm), r.threads, r.simCores, r.reported)
	fmt.Fprintf(w, "- new target applied on every worker in %v; edited in %v (exact split: every worker within one user, per class)\n",
		r.start.Round(time.Millisecond), r.edit.Round(time.Millisecond))
	fmt.Fprintf(w, "- 10%% hang → users moved in %v; back → %v; 10%% killed → moved in %v\n",
		r.hang.Round(time.Millisecond), r.rejoin.Round(time.Millisecond), r.kill.Round(time.Millisecond))
	fmt.Fprintf(w, "- open model: shares applied in %v, rate shares off their sum by %.3g arrivals/s\n", r.openApplied.Round(time.Millisecond), r.rateErr)
	for _, route := range probeRoutes {
		v := r.routes[route]
		fmt.Fprintf(w, "- GET %s: p50 %.1f ms, max %.1f ms, %.0f KiB\n", route, v[0], v[1], v[2])
	}
	fmt.Fprintf(w, "- SSE: %d stats events in the window, longest gap %v, stream error: %v; API errors %d\n",
		r.sseEvents, r.sseWorst.Round(time.Millisecond), r.sseEnded, r.routeErrs)
	fmt.Fprintf(w, "- master log: %d 'worker missing' lines, %d 'too slow' disconnections\n\n", r.missingLogged, r.slowLogged)
}

func printTable(w io.Writer, rs []result) {
	fmt.Fprintln(w, "| workers | master CPU (cores) | master RSS | new target applied | 10% hang → moved | 10% killed → moved | /api/v1/stats max | /stats/requests max | /api/v1/workers max | SSE longest gap |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		if r.failed != "" {
			fmt.Fprintf(w, "| %d | did not complete: %.80s | | | | | | | | |\n", r.n, r.failed)
			continue
		}
		fmt.Fprintf(w, "| %d | %.2f | %.0f MiB | %v | %v | %v | %.0f ms | %.0f ms | %.0f ms | %v |\n", r.n, r.cores, mib(r.rss),
			r.start.Round(10*time.Millisecond), r.hang.Round(10*time.Millisecond), r.kill.Round(10*time.Millisecond),
			r.routes["/api/v1/stats"][1], r.routes["/stats/requests"][1], r.routes["/api/v1/workers"][1], r.sseWorst.Round(10*time.Millisecond))
	}
}
