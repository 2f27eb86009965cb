// Package cli is horde's command line: the cobra commands, how flags are
// also read from HORDE_* environment variables and a config file, and how
// errors become one clear line and an exit code. The work itself lives in
// the domain packages; this package only wires them.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/report"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// Env is everything the commands take from the process: streams, the
// environment, and whether stdout is a terminal. Tests pass their own.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) (string, bool)
	// Terminal says whether Stdout is an interactive terminal, and its
	// size; nil means it is not one.
	Terminal func() report.Terminal
}

// OSEnv is the Env of the real process.
func OSEnv() Env {
	return Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.LookupEnv, Terminal: stdoutTerminal}
}

// terminal is what Stdout is.
func (e Env) terminal() report.Terminal {
	if e.Terminal == nil {
		return report.Terminal{}
	}
	return e.Terminal()
}

// Execute runs the command line args and returns the process exit code.
// It prints errors itself: one line, prefixed "horde: ".
func Execute(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		var err error
		if args, err = modeArgs(env); err != nil {
			fmt.Fprintf(env.Stderr, "horde: %v\n", err)
			return exitcode.BadInput
		}
	}
	root := newRoot(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitcode.OK
	}
	code := exitcode.Code(err)
	var ue *usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		code = exitcode.BadInput // cobra's own usage errors carry no type
	}
	if !errors.Is(err, errVerdictPrinted) {
		fmt.Fprintf(env.Stderr, "horde: %v\n", err)
	}
	if ue != nil {
		fmt.Fprintf(env.Stderr, "Usage: %s\nRun '%s --help' for all flags.\n", ue.cmd.UseLine(), ue.cmd.CommandPath())
	}
	return code
}

// modeArgs is the command line of `horde` with no arguments: the container
// entrypoint, configured by environment as in the tutorial's run script
// (LOCUST_MODE, LOCUST_MASTER, TARGET_HOST). HORDE_MODE is standalone,
// master or worker; HORDE_SCRIPT the script (or URL) for the first two;
// every other setting comes from its HORDE_<FLAG> variable.
func modeArgs(env Env) ([]string, error) {
	mode, _ := env.Getenv("HORDE_MODE")
	script, _ := env.Getenv("HORDE_SCRIPT")
	var args []string
	switch strings.ToLower(strings.TrimSpace(mode)) {
	case "":
		return []string{"--help"}, nil
	case "standalone", "run":
		args = []string{"run"}
	case "master":
		args = []string{"master"}
	case "worker":
		return []string{"worker"}, nil
	default:
		return nil, fmt.Errorf("HORDE_MODE=%q: want standalone, master or worker", mode)
	}
	if script == "" {
		return nil, fmt.Errorf("HORDE_MODE=%s needs HORDE_SCRIPT: the script (or URL) to run", mode)
	}
	return append(args, script), nil
}

// errVerdictPrinted marks an error whose message the command already showed.
var errVerdictPrinted = errors.New("verdict printed")

// usageError is a bad command line: shown with the usage line, exit 2.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func newRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "horde",
		Short: "horde — distributed load testing with truthful numbers",
		Long: "horde simulates users that run Starlark scripts against a web service and measures\n" +
			"what happens: exact, mergeable percentiles; counts that equal what the server served.",
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       Version,
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{cmd: c, err: err}
	})
	root.AddCommand(newRunCmd(env), newMasterCmd(env), newWorkerCmd(env), newTargetCmd(env), newDemoCmd(env), newVersionCmd(env), newRunsCmd(env), newSimWorkersCmd(env), newOperatorCmd(env), newKubeCmd(env))
	return root
}

// sources applies, to every flag the command line did not set, the value
// from the environment (HORDE_<FLAG>) or else from the config file given by
// --config / HORDE_CONFIG. It returns the names of the flags set by any
// source, command line included, so that script options only fill the rest.
func sources(cmd *cobra.Command, env Env) (map[string]bool, error) {
	set := map[string]bool{}
	fs := cmd.Flags()
	var conf map[string][]string
	path, _ := fs.GetString("config")
	if !fs.Changed("config") {
		if v, ok := env.Getenv("HORDE_CONFIG"); ok {
			path = v
		}
	}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("config file: %w", err))
		}
		defer f.Close()
		if conf, err = parseConfig(f, path); err != nil {
			return nil, exitcode.With(exitcode.BadInput, err)
		}
		for k := range conf {
			if fs.Lookup(k) == nil {
				return nil, exitcode.Newf(exitcode.BadInput, "%s: unknown setting %q (settings are long flag names, e.g. spawn-rate)", path, k)
			}
		}
	}
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			set[f.Name] = true
			return
		}
		if v, ok := env.Getenv(envName(f.Name)); ok {
			if err := setFlag(f, []string{v}); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", envName(f.Name), v, err))
			}
			set[f.Name] = true
			return
		}
		if vs, ok := conf[f.Name]; ok {
			if err := setFlag(f, vs); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s = %q: %w", path, f.Name, strings.Join(vs, ","), err))
			}
			set[f.Name] = true
		}
	})
	if len(errs) > 0 {
		return nil, exitcode.With(exitcode.BadInput, errors.Join(errs...))
	}
	return set, nil
}

// setFlag sets f from one or more values; slices take each in turn.
func setFlag(f *pflag.Flag, vs []string) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		var items []string
		for _, v := range vs {
			for _, it := range strings.Split(v, ",") {
				if it = strings.TrimSpace(it); it != "" {
					items = append(items, it)
				}
			}
		}
		return sv.Replace(items)
	}
	return f.Value.Set(vs[len(vs)-1])
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, exitcode.Newf(exitcode.BadInput, "--loglevel %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func newVersionCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print horde's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(env.Stdout, "horde %s\n", Version)
			return err
		},
	}
}

// usageArgs makes a positional-argument check a usage error (exit 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return &usageError{cmd: cmd, err: err}
		}
		return nil
	}
}
