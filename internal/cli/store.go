package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/headless"
	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/runstore"
	"github.com/horde-load/horde/internal/threshold"
	"github.com/horde-load/horde/internal/timespan"
	"github.com/horde-load/horde/internal/web"
)

// storeFlags are the flags of the run history (docs/history.md).
type storeFlags struct {
	location string
	tags     []string
	keep     string
	baseline string
	every    time.Duration
}

func (s *storeFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&s.location, "store", "", `keep every test in this run store: a SQLite file, or postgres://...; "off": none (default: ~/.local/share/horde/runs.db)`)
	fs.StringArrayVar(&s.tags, "tag", nil, "label the stored run, repeatable: --tag release=1.4 --tag env=staging")
	fs.StringVar(&s.keep, "store-keep", "", "keep only the newest N runs (e.g. 100), or those of the last D (e.g. 30d, 12h)")
	fs.StringVar(&s.baseline, "baseline", "", "the run thresholds like \"p95 < baseline * 1.10\" compare with: an id, latest or latest-passed")
	s.every = 10 * time.Second
	fs.Var(timespan.Value{D: &s.every}, "store-every", "how often a running test is saved, so that a run killed mid-way keeps what it had")
}

// storeAt opens the run store the flags name, recovers the runs of
// processes that died, and prunes. A store given on purpose that cannot
// be opened is bad input (exit 2, before any load); the default one just
// turns the history off, said once in the log. nil: no history.
func (s *storeFlags) storeAt(ctx context.Context, getenv func(string) (string, bool), set map[string]bool, log *slog.Logger) (*runstore.Store, error) {
	loc, explicit := strings.TrimSpace(s.location), set["store"]
	if strings.EqualFold(loc, "off") || strings.EqualFold(loc, "none") {
		return nil, nil
	}
	if loc == "" {
		dir, err := dataDir(getenv)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			log.Warn("run history is off: no place for the default store; give --store", "err", err)
			return nil, nil
		}
		loc = filepath.Join(dir, "runs.db")
	}
	opts := runstore.Options{}
	if l, err := runstore.ParseLocation(loc); err == nil && l.Kind == runstore.KindPostgres {
		if dir, err := dataDir(getenv); err == nil {
			opts.SpoolDir = filepath.Join(dir, "spool")
		}
	}
	st, err := runstore.Open(ctx, loc, opts)
	if err != nil {
		if explicit {
			return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--store: %w", err))
		}
		log.Warn("run history is off: the default store cannot be opened; give --store", "err", err)
		return nil, nil
	}
	if runs, err := st.Recover(ctx); err != nil {
		log.Warn("run history: recovering runs left running failed", "err", err)
	} else if len(runs) > 0 {
		log.Info("run history: runs whose process died are stored as aborted", "runs", len(runs))
	}
	if err := s.prune(ctx, st, log); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

// prune applies --store-keep.
func (s *storeFlags) prune(ctx context.Context, st *runstore.Store, log *slog.Logger) error {
	if s.keep == "" {
		return nil
	}
	var r runstore.Retention
	if n, err := strconv.Atoi(s.keep); err == nil && n > 0 {
		r.Keep = n
	} else if d, err := parseAge(s.keep); err == nil {
		r.OlderThan = d
	} else {
		return exitcode.Newf(exitcode.BadInput, "--store-keep %q: want a number of runs (100) or an age (30d, 12h)", s.keep)
	}
	gone, err := st.Prune(ctx, r)
	if err != nil {
		log.Warn("run history: pruning failed", "err", err)
	} else if len(gone) > 0 {
		log.Info("run history: old runs deleted (--store-keep)", "runs", len(gone))
	}
	return nil
}

// parseAge reads an age: a duration, or whole days ("30d").
func parseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, errors.New("bad days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := timespan.Parse(s)
	if err != nil || d <= 0 {
		return 0, errors.New("bad age")
	}
	return d, nil
}

// dataDir is where horde keeps its own files: $XDG_DATA_HOME/horde, or
// ~/.local/share/horde.
func dataDir(getenv func(string) (string, bool)) (string, error) {
	if d, ok := getenv("XDG_DATA_HOME"); ok && d != "" {
		return filepath.Join(d, "horde"), nil
	}
	home, ok := getenv("HOME")
	if !ok || home == "" || home == "/" {
		return "", errors.New("neither XDG_DATA_HOME nor HOME is set")
	}
	return filepath.Join(home, ".local", "share", "horde"), nil
}

// labels reads --tag key=value pairs.
func (s *storeFlags) labels() (map[string]string, error) {
	out := map[string]string{}
	for _, t := range s.tags {
		if !strings.Contains(t, "=") {
			return nil, exitcode.Newf(exitcode.BadInput, "--tag %q labels the stored run and wants key=value; to run only the tasks tagged %q, use --tags", t, t)
		}
		k, v, err := runstore.ParseLabel(t)
		if err != nil {
			return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--tag: %w", err))
		}
		out[k] = v
	}
	return out, nil
}

// bindBaseline binds the thresholds that compare with a baseline to the
// run --baseline names. A baseline threshold without --baseline, or a
// baseline that does not exist, is bad input (exit 2), the latter with
// the candidates.
func (s *storeFlags) bindBaseline(ctx context.Context, st *runstore.Store, ts []threshold.Threshold, script string, log *slog.Logger) ([]threshold.Threshold, error) {
	uses := false
	for _, t := range ts {
		uses = uses || t.UsesBaseline()
	}
	switch {
	case !uses && s.baseline == "":
		return ts, nil
	case !uses:
		log.Warn("--baseline is given, but no threshold compares with it (e.g. --threshold \"p95 < baseline * 1.10\")")
		return ts, nil
	case s.baseline == "":
		return nil, exitcode.Newf(exitcode.BadInput, "a threshold compares with a baseline: give --baseline RUN (an id, latest or latest-passed)")
	case st == nil:
		return nil, exitcode.Newf(exitcode.BadInput, "--baseline needs the run history: give --store")
	}
	run, err := st.Resolve(ctx, s.baseline, script)
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--baseline: %w", err))
	}
	rec, err := st.Get(ctx, run.ID)
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--baseline %s: %w", run.ID, err))
	}
	sum, err := report.ReadSummary(rec.Summary)
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--baseline %s: %w", run.ID, err))
	}
	hists, err := report.ReadHistograms(rec.Histograms)
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--baseline %s: %w", run.ID, err))
	}
	base, err := report.StoredSnapshot(sum, hists)
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--baseline %s: %w", run.ID, err))
	}
	label := "run " + shortID(run.ID)
	bound := make([]threshold.Threshold, len(ts))
	for i, t := range ts {
		bound[i] = t.Bind(&base, label)
	}
	log.Info("thresholds compare with a baseline", "run", run.ID, "started", run.Started.Format(time.RFC3339))
	return bound, nil
}

func shortID(id string) string { return id[:min(len(id), 8)] }

// keep starts recording the master's tests into st (nil: no history).
func keep(m *master.Master, st *runstore.Store, end headless.End, lt *loadedTest, f *testFlags, labels map[string]string, log *slog.Logger) func() {
	if st == nil {
		return func() {}
	}
	script, hash := lt.bundle.Name(), lt.bundle.ContentHash()
	k := headless.Keep(m, headless.KeepOptions{Store: st, End: end, Logger: log, Every: f.store.every, Info: func(s master.Status) runstore.Info {
		opts := map[string]string{"users": strconv.Itoa(s.TargetUsers), "spawn_rate": strconv.FormatFloat(s.SpawnRate, 'g', -1, 64)}
		if s.ArrivalRate > 0 {
			opts["rate"] = strconv.FormatFloat(s.ArrivalRate, 'g', -1, 64)
		}
		if s.RunTime > 0 {
			opts["run_time"] = s.RunTime.String()
		}
		if f.iterations > 0 {
			opts["iterations"] = strconv.FormatInt(f.iterations, 10)
		}
		if len(f.classes) > 0 {
			opts["classes"] = strings.Join(f.classes, ",")
		}
		return runstore.Info{Started: s.Started, Script: script, ScriptHash: hash, Host: s.Host, Options: opts,
			Workers: len(s.Workers), Version: Version, Labels: labels}
	}})
	return func() {
		k.Close()
		_ = st.Close()
	}
}

// webRuns is the store as the web API reads it; nil when there is none
// (a nil *Store in the interface would not be nil).
func webRuns(st *runstore.Store) web.Runs {
	if st == nil {
		return nil
	}
	return st
}
