package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/runstore"
)

// runsFlags are the flags every `horde runs` command shares.
type runsFlags struct {
	store storeFlags
	json  bool
}

func (r *runsFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.store.location, "store", "", `the run store: a SQLite file, or postgres://... (default: ~/.local/share/horde/runs.db)`)
	cmd.Flags().BoolVar(&r.json, "json", false, "machine-readable output")
}

// open opens the store the runs commands read; not finding one is exit 2.
func (r *runsFlags) open(ctx context.Context, cmd *cobra.Command, env Env) (*runstore.Store, error) {
	set, err := sources(cmd, env)
	if err != nil {
		return nil, err
	}
	if r.store.location == "" {
		dir, err := dataDir(env.Getenv)
		if err != nil {
			return nil, exitcode.Newf(exitcode.BadInput, "no run store: give --store (or HORDE_STORE): %v", err)
		}
		r.store.location = dir + "/runs.db"
		if _, err := os.Stat(r.store.location); err != nil {
			return nil, exitcode.Newf(exitcode.BadInput, "no runs stored yet at %s (give --store for another store)", r.store.location)
		}
		set["store"] = true
	}
	st, err := r.store.storeAt(ctx, env.Getenv, set, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, exitcode.Newf(exitcode.BadInput, "the run history is off (--store off)")
	}
	return st, nil
}

// command is a runs subcommand: run gets the store, opened from the
// shared flags and closed after it.
func (r *runsFlags) command(env Env, use, short string, args cobra.PositionalArgs,
	run func(ctx context.Context, st *runstore.Store, args []string) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  usageArgs(args),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := r.open(cmd.Context(), cmd, env)
			if err != nil {
				return err
			}
			defer st.Close()
			return run(cmd.Context(), st, args)
		},
	}
	r.register(cmd)
	return cmd
}

func newRunsCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "The run history: list, show, compare, delete and export stored test runs",
		Long: "Every test horde runs is stored (see docs/history.md): a SQLite file by default, or PostgreSQL\n" +
			"with --store postgres://... A run is named by its id, a unique prefix of it, latest or latest-passed.",
		Args: usageArgs(cobra.NoArgs),
	}
	cmd.AddCommand(newRunsListCmd(env), newRunsShowCmd(env), newRunsCompareCmd(env), newRunsDeleteCmd(env), newRunsExportCmd(env))
	return cmd
}

func newRunsListCmd(env Env) *cobra.Command {
	rf := &runsFlags{}
	var script, sort string
	var labels, status []string
	var asc bool
	var limit int
	cmd := rf.command(env, "list", "List stored runs, newest first", cobra.NoArgs,
		func(ctx context.Context, st *runstore.Store, _ []string) error {
			f := runstore.Filter{Script: script, Ascending: asc, Limit: limit, Labels: map[string]string{}}
			for _, l := range labels {
				k, v, err := runstore.ParseLabel(l)
				if err != nil {
					return exitcode.With(exitcode.BadInput, fmt.Errorf("--label: %w", err))
				}
				f.Labels[k] = v
			}
			for _, s := range status {
				v := runstore.Status(strings.ToLower(s))
				if !v.Valid() {
					return exitcode.Newf(exitcode.BadInput, "--status %q: want running, passed, failed or aborted", s)
				}
				f.Status = append(f.Status, v)
			}
			if sort != "" {
				k, err := runstore.ParseSortKey(sort)
				if err != nil {
					return exitcode.With(exitcode.BadInput, fmt.Errorf("--sort: %w", err))
				}
				f.Sort = k
			}
			runs, err := st.List(ctx, f)
			if err != nil {
				return exitcode.With(exitcode.CannotRun, err)
			}
			if rf.json {
				out := make([]report.StoredRun, 0, len(runs))
				for _, r := range runs {
					out = append(out, report.StoredRunOf(r))
				}
				return writeJSON(env.Stdout, out)
			}
			return report.WriteRuns(env.Stdout, runs)
		})
	fs := cmd.Flags()
	fs.StringVar(&script, "script", "", "only the runs of this script")
	fs.StringArrayVar(&labels, "label", nil, "only the runs with this key=value label (repeatable)")
	fs.StringSliceVar(&status, "status", nil, "only runs with this status: passed, failed, aborted, running")
	fs.StringVar(&sort, "sort", "", "order by: started (default), requests, failures, rps, p95_ms, duration")
	fs.BoolVar(&asc, "asc", false, "oldest or smallest first")
	fs.IntVar(&limit, "limit", 50, "at most this many runs (0: all)")
	return cmd
}

func newRunsShowCmd(env Env) *cobra.Command {
	rf := &runsFlags{}
	return rf.command(env, "show RUN", "Show a stored run: its facts, its table and thresholds, as at its end", cobra.ExactArgs(1),
		func(ctx context.Context, st *runstore.Store, args []string) error {
			rec, err := getRun(ctx, st, args[0])
			if err != nil {
				return err
			}
			if rf.json {
				return writeJSON(env.Stdout, exported(rec))
			}
			if err := report.WriteRun(env.Stdout, rec.Run); err != nil {
				return err
			}
			if len(rec.Summary) == 0 {
				_, err := fmt.Fprintln(env.Stdout, "\n(no statistics stored yet)")
				return err
			}
			sum, err := report.ReadSummary(rec.Summary)
			if err != nil {
				return exitcode.With(exitcode.CannotRun, err)
			}
			fmt.Fprintln(env.Stdout)
			return report.WriteSummaryTable(env.Stdout, sum)
		})
}

func newRunsDeleteCmd(env Env) *cobra.Command {
	rf := &runsFlags{}
	return rf.command(env, "delete RUN...", "Delete stored runs (a running one is refused)", cobra.MinimumNArgs(1),
		func(ctx context.Context, st *runstore.Store, args []string) error {
			for _, ref := range args {
				run, err := st.Resolve(ctx, ref, "")
				if err != nil {
					return exitcode.With(exitcode.BadInput, err)
				}
				if err := st.Delete(ctx, run.ID); err != nil {
					return exitcode.With(exitcode.BadInput, fmt.Errorf("run %s: %w", run.ID, err))
				}
				fmt.Fprintf(env.Stdout, "deleted %s\n", run.ID)
			}
			return nil
		})
}

func newRunsExportCmd(env Env) *cobra.Command {
	rf := &runsFlags{}
	var out string
	cmd := rf.command(env, "export RUN", "Write a stored run whole — facts, summary, history, histograms — as JSON", cobra.ExactArgs(1),
		func(ctx context.Context, st *runstore.Store, args []string) error {
			rec, err := getRun(ctx, st, args[0])
			if err != nil {
				return err
			}
			w := env.Stdout
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return exitcode.With(exitcode.BadInput, fmt.Errorf("-o: %w", err))
				}
				defer f.Close()
				w = f
			}
			return writeJSON(w, exported(rec))
		})
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of standard output")
	return cmd
}

// getRun resolves a reference and reads the run with its blobs.
func getRun(ctx context.Context, st *runstore.Store, ref string) (runstore.Record, error) {
	run, err := st.Resolve(ctx, ref, "")
	if err != nil {
		return runstore.Record{}, exitcode.With(exitcode.BadInput, err)
	}
	rec, err := st.Get(ctx, run.ID)
	if err != nil {
		return runstore.Record{}, exitcode.With(exitcode.CannotRun, err)
	}
	return rec, nil
}

// exportedRun is a stored run as JSON: its facts as the API shows them,
// and its blobs decoded.
type exportedRun struct {
	report.StoredRun
	Summary    json.RawMessage `json:"summary"`
	History    json.RawMessage `json:"history"`
	Histograms json.RawMessage `json:"histograms"`
}

func exported(rec runstore.Record) exportedRun {
	raw := func(b []byte) json.RawMessage {
		if len(b) == 0 {
			return json.RawMessage("null")
		}
		return json.RawMessage(b)
	}
	return exportedRun{StoredRun: report.StoredRunOf(rec.Run), Summary: raw(rec.Summary), History: raw(rec.History),
		Histograms: raw(rec.Histograms)}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newRunsCompareCmd(env Env) *cobra.Command {
	rf := &runsFlags{}
	return rf.command(env, "compare BASE OTHER",
		"Compare two stored runs: every row's percentiles, rate and failures, with the change and its direction", cobra.ExactArgs(2),
		func(ctx context.Context, st *runstore.Store, args []string) error {
			var sums [2]report.Summary
			var ids [2]string
			for i, ref := range args {
				rec, err := getRun(ctx, st, ref)
				if err != nil {
					return err
				}
				if len(rec.Summary) == 0 {
					return exitcode.Newf(exitcode.BadInput, "run %s has no statistics stored yet", rec.ID)
				}
				if sums[i], err = report.ReadSummary(rec.Summary); err != nil {
					return exitcode.With(exitcode.CannotRun, err)
				}
				ids[i] = rec.ID
			}
			c := report.Compare(sums[0], sums[1])
			if rf.json {
				return writeJSON(env.Stdout, struct {
					Base  string `json:"base"`
					Other string `json:"other"`
					report.Comparison
				}{ids[0], ids[1], c})
			}
			fmt.Fprintf(env.Stdout, "base:  %s\nother: %s\n", ids[0], ids[1])
			return report.WriteComparison(env.Stdout, c)
		})
}
