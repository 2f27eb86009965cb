package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/horde-load/horde/internal/bundle"
	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/headless"
	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/runstore"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/threshold"
	"github.com/horde-load/horde/internal/timespan"
)

// testFlags are the flags that define a test, shared by run and master.
type testFlags struct {
	config      string
	users       int
	spawnRate   float64
	rate        float64
	thresholds  []string
	parsed      []threshold.Threshold // --threshold and the script's thresholds, checked
	runTime     time.Duration
	host        string
	headless    bool
	jsonPath    string
	csvPrefix   string
	csvFull     bool // --csv-full-history
	htmlPath    string
	tags        []string
	excludeTags []string
	stopTimeout time.Duration
	timeout     time.Duration
	insecure    bool
	caFile      string
	http2       http2Flag
	seed        uint64
	logLevel    string
	interval    time.Duration
	iterations  int64
	resetStats  bool
	onlySummary bool
	failureCode int      // --exit-code-on-error
	classes     []string // user classes named after the script; none: all
	store       storeFlags
}

func (f *testFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&f.config, "config", "", "read settings from this file (key = value per line, keys are flag names)")
	fs.IntVarP(&f.users, "users", "u", 1, "peak number of concurrent users")
	fs.Float64VarP(&f.spawnRate, "spawn-rate", "r", 1, "users started (or stopped) per second, across all workers")
	fs.Float64Var(&f.rate, "rate", 0, "open model: start this many task iterations per second, on a pool of at most -u users (default 1000 with --rate); 0: the closed model")
	fs.StringArrayVar(&f.thresholds, "threshold", nil, `pass/fail criterion, repeatable: e.g. "p95<300ms", "fail_ratio<0.01", "GET /profile: p99<500ms"`)
	fs.VarP(timespan.Value{D: &f.runTime}, "run-time", "t", "stop after this long, e.g. 90s, 5m, 1h30m (0: until interrupted)")
	fs.StringVarP(&f.host, "host", "H", "", "base URL of the system under test (env TARGET_HOST too)")
	fs.BoolVar(&f.headless, "headless", false, "no web UI: run at once with a live terminal view")
	fs.StringVar(&f.jsonPath, "json", "", "write the summary JSON to this file at the end")
	fs.StringVar(&f.htmlPath, "html", "", "write a self-contained HTML report to this file at the end")
	fs.StringVar(&f.csvPrefix, "csv", "", "write PREFIX_stats.csv, _stats_history.csv, _failures.csv, _exceptions.csv")
	fs.BoolVar(&f.csvFull, "csv-full-history", false, "with --csv: a row per endpoint and second in _stats_history.csv, percentiles over the last 10 s (as Locust)")
	fs.StringSliceVarP(&f.tags, "tags", "T", nil, "run only tasks with one of these tags")
	fs.StringSliceVarP(&f.excludeTags, "exclude-tags", "E", nil, "skip tasks with any of these tags")
	fs.VarP(timespan.Value{D: &f.stopTimeout}, "stop-timeout", "s", "when stopping, let running tasks finish for this long")
	fs.Var(timespan.Value{D: &f.timeout}, "timeout", "request timeout (connect to last byte); default 60s")
	fs.BoolVar(&f.insecure, "insecure", false, "do not verify the target's TLS certificate")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM file of extra CA certificates to trust")
	fs.Var(&f.http2, "http2", `requests over HTTP/2 unless a script says otherwise: over TLS by ALPN, HTTP/1.1 if the server picks it; `+
		`over http:// by prior knowledge (h2c); --http2=strict fails a TLS server that picks HTTP/1.1`)
	fs.Lookup("http2").NoOptDefVal = "true"
	fs.Uint64Var(&f.seed, "seed", 0, "seed for the users' random choices (0: random)")
	fs.StringVarP(&f.logLevel, "loglevel", "L", "info", "log level: debug, info, warn, error")
	fs.Var(timespan.Value{D: &f.interval}, "print-interval", "how often the live view refreshes (default 1s)")
	fs.Int64VarP(&f.iterations, "iterations", "i", 0, "each user runs this many tasks, then stops; the test ends when all have (0: no limit)")
	fs.BoolVar(&f.resetStats, "reset-stats", false, "reset the statistics once the users are all started (the ramp excluded)")
	fs.BoolVar(&f.onlySummary, "only-summary", false, "headless: no live view, only the final table")
	fs.IntVar(&f.failureCode, "exit-code-on-error", 1, "exit code when requests failed or scripts erred, in a test without thresholds (0: pass)")
	f.store.register(cmd)
}

// parseThresholds checks the command line's thresholds and the script's;
// a malformed one is bad input (exit 2).
func parseThresholds(flags []string, script []scenario.ThresholdSpec) ([]threshold.Threshold, error) {
	ts, err := threshold.ParseAll(flags)
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--threshold: %w", err))
	}
	for _, s := range script {
		t, err := threshold.Parse(s.Expr)
		if err != nil {
			return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("script thresholds: %w", err))
		}
		t.AbortOnFail = s.AbortOnFail
		ts = append(ts, t)
	}
	return ts, nil
}

// loadedTest is a test ready to hand to a master: its scenario, the
// bundle workers receive, and the loader that loaded it (an in-process
// worker shares it, so the script's top level runs once).
type loadedTest struct {
	sc     *scenario.Scenario
	bundle *bundle.Bundle
	loader *bundle.Loader
	set    map[string]bool // the settings some source set (flag, env, config)
}

// prepare reads every source of settings, loads the script (or URL),
// validates, and builds the bundle workers receive.
func (f *testFlags) prepare(cmd *cobra.Command, env Env, args []string) (*loadedTest, map[string]bool, error) {
	set, err := sources(cmd, env)
	if err != nil {
		return nil, nil, err
	}
	if len(args) == 0 {
		return nil, nil, exitcode.Newf(exitcode.BadInput, "nothing to run: give a script (e.g. examples/seed.star) or a URL")
	}
	loader := &bundle.Loader{Env: env.Getenv, Stdout: env.Stdout}
	b, sc, err := loader.Open(args[0])
	if err != nil {
		return nil, nil, exitcode.With(exitcode.BadInput, err)
	}
	f.classes = args[1:]
	if sc, err = pickClasses(sc, f.classes, b.URL != ""); err != nil {
		return nil, nil, err
	}
	if err := applyOptions(cmd, sc.Options, set); err != nil {
		return nil, nil, err
	}
	if !set["host"] && f.host == "" {
		if v, ok := env.Getenv("TARGET_HOST"); ok && v != "" {
			f.host = v
		}
	}
	if f.host == "" && b.URL != "" {
		f.host = sc.Users[0].Host // URL mode: the URL's origin
	}
	switch {
	case sc.Shape != nil && !set["users"]:
		f.users = 0 // the shape gives the users; an open-model one the default pool
	case f.rate > 0 && !set["users"]:
		f.users = master.DefaultOpenPool
	}
	if err := f.validate(sc); err != nil {
		return nil, nil, err
	}
	if f.parsed, err = parseThresholds(f.thresholds, sc.Thresholds); err != nil {
		return nil, nil, err
	}
	b.Host, b.StopTimeout, b.RequestTimeout, b.Insecure = f.host, f.stopTimeout, f.timeout, f.insecure
	b.Tags, b.ExcludeTags, b.Seed, b.Iterations = f.tags, f.excludeTags, f.seed, f.iterations
	b.HTTP2 = f.http2.String()
	if f.caFile != "" {
		if b.CAPEM, err = os.ReadFile(f.caFile); err != nil {
			return nil, nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--ca-file: %w", err))
		}
	}
	return &loadedTest{sc: sc, bundle: b, loader: loader, set: set}, set, nil
}

// files are the report files the flags name.
func (f *testFlags) files() report.Files {
	return report.Files{JSON: f.jsonPath, CSVPrefix: f.csvPrefix, HTML: f.htmlPath, FullHistory: f.csvFull}
}

// history opens the run history (nil when it is off), binds the
// thresholds that compare with --baseline, and returns the run's labels.
// Its errors come before any load.
func (f *testFlags) history(ctx context.Context, env Env, lt *loadedTest, log *slog.Logger) (*runstore.Store, map[string]string, error) {
	labels, err := f.store.labels()
	if err != nil {
		return nil, nil, err
	}
	st, err := f.store.storeAt(ctx, env.Getenv, lt.set, log)
	if err != nil {
		return nil, nil, err
	}
	if f.parsed, err = f.store.bindBaseline(ctx, st, f.parsed, lt.bundle.Name(), log); err != nil {
		if st != nil {
			_ = st.Close()
		}
		return nil, nil, err
	}
	return st, labels, nil
}

// end is how the flags say a test's end is reported.
func (f *testFlags) end(env Env) headless.End {
	return headless.End{Thresholds: f.parsed, Files: f.files(), FailureCode: f.failureCode, Stdout: env.Stdout}
}

// pickClasses keeps the user classes named on the command line (as
// `locust -f f.py UserA UserB`), in the script's order; none named keeps
// them all. The scenario given is not changed: a standalone run's worker
// shares it.
func pickClasses(sc *scenario.Scenario, names []string, urlMode bool) (*scenario.Scenario, error) {
	if len(names) == 0 {
		return sc, nil
	}
	if urlMode {
		return nil, exitcode.Newf(exitcode.BadInput, "user classes (%s) are for a script: a URL has none", strings.Join(names, ", "))
	}
	var have []string
	for _, c := range sc.Users {
		have = append(have, c.Name)
	}
	for _, n := range names {
		if !slices.Contains(have, n) {
			return nil, exitcode.Newf(exitcode.BadInput, "no user class %q in the script (it has: %s)", n, strings.Join(have, ", "))
		}
	}
	picked := *sc
	picked.Users = nil
	for _, c := range sc.Users {
		if slices.Contains(names, c.Name) {
			picked.Users = append(picked.Users, c)
		}
	}
	return &picked, nil
}

// test is the test the flags describe.
func (f *testFlags) test() master.TestParams {
	return master.TestParams{Users: f.users, SpawnRate: f.spawnRate, Rate: f.rate, RunTime: f.runTime}
}

// applyOptions fills flags that no source set from the script's options.
func applyOptions(cmd *cobra.Command, opts map[string]string, set map[string]bool) error {
	for k, v := range opts {
		fl := cmd.Flags().Lookup(k)
		if fl == nil || set[k] {
			continue // not a flag (stages and thresholds have their own globals), or set by the user
		}
		if err := setFlag(fl, []string{v}); err != nil {
			return exitcode.Newf(exitcode.BadInput, "script options %s = %q: %v", k, v, err)
		}
	}
	return nil
}

func (f *testFlags) validate(sc *scenario.Scenario) error {
	var errs []string
	if f.users < 0 {
		errs = append(errs, "--users must be ≥ 0, got "+strconv.Itoa(f.users))
	}
	if !(f.spawnRate > 0) {
		errs = append(errs, fmt.Sprintf("--spawn-rate must be > 0, got %v", f.spawnRate))
	}
	if f.rate < 0 || math.IsNaN(f.rate) || math.IsInf(f.rate, 0) {
		errs = append(errs, fmt.Sprintf("--rate must be ≥ 0 arrivals per second, got %v", f.rate))
	}
	if f.host != "" {
		if u, err := url.Parse(f.host); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Sprintf("--host %q: want a URL like http://127.0.0.1:8080", f.host))
		}
	} else {
		for _, c := range sc.Users {
			if c.Host == "" {
				errs = append(errs, fmt.Sprintf("no host for user class %q: give -H/--host, TARGET_HOST, options host, or user(host=...)", c.Name))
				break
			}
		}
	}
	if f.caFile != "" {
		if _, err := os.Stat(f.caFile); err != nil {
			errs = append(errs, "--ca-file: "+err.Error())
		}
	}
	if f.csvFull && f.csvPrefix == "" {
		errs = append(errs, "--csv-full-history requires --csv")
	}
	if f.iterations < 0 {
		errs = append(errs, fmt.Sprintf("--iterations must be ≥ 0, got %d", f.iterations))
	}
	if f.iterations > 0 && f.rate > 0 {
		errs = append(errs, "--iterations counts each user's tasks in the closed model; with --rate every arrival is one task: use -t instead")
	}
	if f.failureCode < 0 || f.failureCode > 255 {
		errs = append(errs, fmt.Sprintf("--exit-code-on-error must be 0 to 255, got %d", f.failureCode))
	}
	if err := f.files().Check(); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return exitcode.With(exitcode.BadInput, errors.New(strings.Join(errs, "; ")))
	}
	return nil
}
