package cli

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/headless"
	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/script"
	"github.com/horde-load/horde/internal/timespan"
)

// runFlags are the flags of `horde run`.
type runFlags struct {
	config      string
	users       int
	spawnRate   float64
	runTime     time.Duration
	host        string
	headless    bool
	jsonPath    string
	csvPrefix   string
	tags        []string
	excludeTags []string
	stopTimeout time.Duration
	timeout     time.Duration
	insecure    bool
	caFile      string
	seed        uint64
	logLevel    string
	interval    time.Duration
}

func newRunCmd(env Env) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run [SCRIPT.star | URL]",
		Short: "Run a load test: a Starlark script, or GET one URL as fast as the users can",
		Long: "Run a load test on this machine. SCRIPT is a Starlark file (see docs/scripting.md);\n" +
			"a bare URL means \"GET this URL\" with no script. Every flag can also be set with\n" +
			"HORDE_<FLAG> (HORDE_SPAWN_RATE for --spawn-rate) or in a --config file.",
		Example: "  horde run examples/seed.star -H http://127.0.0.1:8080 -u 50 -r 10 -t 1m --headless\n" +
			"  horde run http://127.0.0.1:8080/ -u 50 -t 30s --headless --json result.json",
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd, env, f, args)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&f.config, "config", "", "read settings from this file (key = value per line, keys are flag names)")
	fs.IntVarP(&f.users, "users", "u", 1, "peak number of concurrent users")
	fs.Float64VarP(&f.spawnRate, "spawn-rate", "r", 1, "users started (or stopped) per second")
	fs.VarP(timespan.Value{D: &f.runTime}, "run-time", "t", "stop after this long, e.g. 90s, 5m, 1h30m (0: until interrupted)")
	fs.StringVarP(&f.host, "host", "H", "", "base URL of the system under test (env TARGET_HOST too)")
	fs.BoolVar(&f.headless, "headless", false, "no web UI: run at once with a live terminal view")
	fs.StringVar(&f.jsonPath, "json", "", "write the summary JSON to this file at the end")
	fs.StringVar(&f.csvPrefix, "csv", "", "write PREFIX_stats.csv, _stats_history.csv, _failures.csv, _exceptions.csv")
	fs.StringSliceVarP(&f.tags, "tags", "T", nil, "run only tasks with one of these tags")
	fs.StringSliceVarP(&f.excludeTags, "exclude-tags", "E", nil, "skip tasks with any of these tags")
	fs.VarP(timespan.Value{D: &f.stopTimeout}, "stop-timeout", "s", "when stopping, let running tasks finish for this long")
	fs.Var(timespan.Value{D: &f.timeout}, "timeout", "request timeout (connect to last byte); default 60s")
	fs.BoolVar(&f.insecure, "insecure", false, "do not verify the target's TLS certificate")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM file of extra CA certificates to trust")
	fs.Uint64Var(&f.seed, "seed", 0, "seed for the users' random choices (0: random)")
	fs.StringVarP(&f.logLevel, "loglevel", "L", "info", "log level: debug, info, warn, error")
	fs.Var(timespan.Value{D: &f.interval}, "print-interval", "how often the live view refreshes (default 1s)")
	return cmd
}

func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return &usageError{cmd: cmd, err: err}
		}
		return nil
	}
}

func runRun(cmd *cobra.Command, env Env, f *runFlags, args []string) error {
	set, err := sources(cmd, env)
	if err != nil {
		return err
	}
	log, err := newLogger(env.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	sc, err := loadScenario(args, env)
	if err != nil {
		return err
	}
	if err := applyOptions(cmd, sc.Options, set); err != nil {
		return err
	}
	if !set["host"] {
		if v, ok := env.Getenv("TARGET_HOST"); ok && v != "" && f.host == "" {
			f.host = v
		}
	}
	if err := validateRun(f, sc); err != nil {
		return err
	}
	if !f.headless {
		fmt.Fprintln(env.Stderr, "horde: the web UI is not built yet; running headless (pass --headless to silence this)")
	}
	factory, err := httpx.NewFactory(httpx.Options{
		BaseURL: f.host, Timeout: f.timeout, Insecure: f.insecure, CAFile: f.caFile,
		UserAgent: "horde/" + Version,
	})
	if err != nil {
		return exitcode.With(exitcode.BadInput, err)
	}
	tty, width := false, 0
	if env.IsTTY != nil {
		tty, width = env.IsTTY()
	}
	_, err = headless.Run(cmd.Context(), headless.Config{
		Scenario: sc, HTTP: factory, Host: f.host,
		Users: f.users, SpawnRate: f.spawnRate, RunTime: f.runTime, StopTimeout: f.stopTimeout,
		Tags: f.tags, ExcludeTags: f.excludeTags, Seed: f.seed,
		Stdout: env.Stdout, TTY: tty, Width: width, Interval: f.interval,
		JSONPath: f.jsonPath, CSVPrefix: f.csvPrefix, Logger: log,
	})
	return err
}

// loadScenario loads the script named by args, or builds the URL scenario.
func loadScenario(args []string, env Env) (*scenario.Scenario, error) {
	if len(args) == 0 {
		return nil, exitcode.Newf(exitcode.BadInput, "nothing to run: give a script (e.g. examples/seed.star) or a URL")
	}
	arg := args[0]
	if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		return headless.URLScenario(arg)
	}
	sc, err := script.Load(arg, script.Options{Env: env.Getenv, Stdout: env.Stdout})
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, err)
	}
	return sc, nil
}

// applyOptions fills flags that no source set from the script's options.
func applyOptions(cmd *cobra.Command, opts map[string]string, set map[string]bool) error {
	for k, v := range opts {
		fl := cmd.Flags().Lookup(k)
		if fl == nil {
			continue // options for later features (stages, thresholds) are not flags here
		}
		if set[k] {
			continue
		}
		if err := setFlag(fl, []string{v}); err != nil {
			return exitcode.Newf(exitcode.BadInput, "script options %s = %q: %v", k, v, err)
		}
	}
	return nil
}

func validateRun(f *runFlags, sc *scenario.Scenario) error {
	var errs []string
	if f.users < 0 {
		errs = append(errs, "--users must be ≥ 0, got "+strconv.Itoa(f.users))
	}
	if !(f.spawnRate > 0) {
		errs = append(errs, fmt.Sprintf("--spawn-rate must be > 0, got %v", f.spawnRate))
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
	if len(errs) > 0 {
		return exitcode.With(exitcode.BadInput, errors.New(strings.Join(errs, "; ")))
	}
	return nil
}
