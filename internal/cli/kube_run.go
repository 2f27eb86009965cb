package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/horde-load/horde/internal/bundle"
	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/operator"
	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/timespan"
)

// kubeRunFlags are the test's settings as horde run names them.
type kubeRunFlags struct {
	name, host, image, cleanup string
	users, workers             int
	spawnRate, rate            float64
	runTime, startTimeout      time.Duration
	thresholds, args           []string
	wait                       bool
	interval                   time.Duration
}

// maxBundle is what horde kube run sends in a HordeTest: its objects are
// limited to about 1.5 MiB, and the operator copies the files into a
// ConfigMap (1 MiB).
const maxBundle = 900 << 10

func newKubeRunCmd(env Env, kf *kubeFlags) *cobra.Command {
	f := &kubeRunFlags{}
	cmd := &cobra.Command{
		Use:   "run SCRIPT.star",
		Short: "Run a test on Kubernetes: create a HordeTest from a script and flags (--wait: follow it, exit with its code)",
		Long: "Create a HordeTest from a script, the files it loads and the flags: horde's operator runs\n" +
			"its master and --workers workers. With --wait, follow its live line until the verdict and exit\n" +
			"with the test's exit code (0 passed, 1 failed, 2 bad input, 3 could not run), as horde run does.\n" +
			"The script is loaded here first: one that does not load is exit 2 before anything is created.",
		Example: "  horde kube run examples/seed.star -H http://horde-target:8080 -u 30 -r 10 -t 1m --workers 3 --wait\n" +
			"  horde kube run shop.star -u 500 -t 10m --workers 10 --threshold 'p95<300ms' --wait",
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := sources(cmd, env); err != nil {
				return err
			}
			ht, err := f.hordeTest(env, args[0])
			if err != nil {
				return err
			}
			c, _, ns, err := kf.kubeClient(env)
			if err != nil {
				return err
			}
			ht.Namespace = ns
			if err := c.Create(cmd.Context(), ht); err != nil {
				if apierrors.IsInvalid(err) || apierrors.IsAlreadyExists(err) {
					return exitcode.With(exitcode.BadInput, fmt.Errorf("create the HordeTest: %w", err))
				}
				return exitcode.With(exitcode.CannotRun, fmt.Errorf("create the HordeTest (is the operator installed? kubectl apply -k deploy/operator): %w", err))
			}
			fmt.Fprintf(env.Stdout, "hordetest/%s created in namespace %s\n", ht.Name, ns)
			if !f.wait {
				fmt.Fprintf(env.Stdout, "follow it: horde kube status %s, or kubectl get hordetest %s -w\n", ht.Name, ht.Name)
				return nil
			}
			return followTest(cmd.Context(), env, c, types.NamespacedName{Namespace: ns, Name: ht.Name}, f.interval)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.IntVarP(&f.users, "users", "u", 1, "peak number of concurrent users")
	fs.Float64VarP(&f.spawnRate, "spawn-rate", "r", 1, "users started (or stopped) per second, across all workers")
	fs.Float64Var(&f.rate, "rate", 0, "open model: task iterations started per second, on a pool of -u users")
	fs.VarP(timespan.Value{D: &f.runTime}, "run-time", "t", "stop after this long, e.g. 90s, 10m (required unless the script has stages)")
	fs.StringVarP(&f.host, "host", "H", "", "base URL of the system under test, as the cluster reaches it")
	fs.StringArrayVar(&f.thresholds, "threshold", nil, `pass/fail criterion, repeatable: e.g. "p95<300ms", "fail_ratio<0.01"`)
	fs.IntVar(&f.workers, "workers", 1, "number of worker pods")
	fs.BoolVar(&f.wait, "wait", false, "follow the test until its verdict and exit with its exit code")
	fs.StringVar(&f.name, "name", "", "the HordeTest's name (default: the script's name and a random suffix)")
	fs.StringVar(&f.image, "image", "", "horde's image for the test (default: the operator's)")
	fs.StringVar(&f.cleanup, "cleanup", "", "when the test ends: Delete, KeepOnFailure (default: keep a failed test's master and UI) or Keep")
	fs.Var(timespan.Value{D: &f.startTimeout}, "start-timeout", "fail (exit 3) when the test has not started after this long (default 5m)")
	fs.StringArrayVar(&f.args, "arg", nil, "one more argument for the master, repeatable: --arg=--tags --arg=checkout")
	fs.Var(timespan.Value{D: &f.interval}, "print-interval", "how often --wait prints the live line when nothing else changed (default 5s)")
	return cmd
}

// hordeTest builds the HordeTest: the script is loaded here (a script that
// does not load is bad input, as for horde run) and sent with every file
// it loaded.
func (f *kubeRunFlags) hordeTest(env Env, path string) (*v1.HordeTest, error) {
	if bundle.IsURL(path) {
		return nil, exitcode.Newf(exitcode.BadInput, "horde kube run takes a script file, not a URL (%s)", path)
	}
	l := &bundle.Loader{Env: env.Getenv, Stdout: io.Discard}
	b, sc, err := l.Open(path)
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, err)
	}
	files := map[string]string{}
	size := 0
	for _, name := range slices.Sorted(maps.Keys(b.Files)) {
		data := b.Files[name]
		if !utf8.Valid(data) {
			return nil, exitcode.Newf(exitcode.BadInput, "%s is not text (UTF-8): horde kube run sends text files only; "+
				"put binary data files in a ConfigMap (spec.script.configMap) or an image", name)
		}
		files[filepath.ToSlash(name)] = string(data)
		size += len(name) + len(data)
	}
	if size > maxBundle {
		return nil, exitcode.Newf(exitcode.BadInput, "the script and its files are %d KiB, more than a HordeTest holds (%d KiB): "+
			"put them in a ConfigMap (spec.script.configMap)", size>>10, maxBundle>>10)
	}
	if f.runTime <= 0 && sc.Shape == nil {
		// A test on Kubernetes ends by itself: with its run time, or
		// with the script's stages or shape.
		return nil, exitcode.Newf(exitcode.BadInput, "give --run-time (-t): how long the test runs")
	}
	ht := &v1.HordeTest{
		Spec: v1.HordeTestSpec{
			Script:     v1.Script{Bundle: &v1.Bundle{Main: filepath.ToSlash(b.Main), Files: files}},
			Host:       f.host,
			Users:      int32(f.users),
			SpawnRate:  f.spawnRate,
			Rate:       f.rate,
			Thresholds: f.thresholds,
			Args:       f.args,
			Image:      f.image,
			Cleanup:    v1.CleanupPolicy(f.cleanup),
			Workers:    v1.Workers{Replicas: int32(f.workers)},
		},
	}
	if f.runTime > 0 {
		ht.Spec.RunTime = f.runTime.String()
	}
	if f.startTimeout > 0 {
		ht.Spec.StartTimeout = f.startTimeout.String()
	}
	if f.name != "" {
		ht.Name = f.name
	} else {
		ht.GenerateName = testNamePrefix(b.Main)
	}
	return ht, nil
}

// testNamePrefix makes a HordeTest name prefix of a script's name:
// "Checkout_v2.star" → "checkout-v2-".
func testNamePrefix(script string) string {
	base := strings.TrimSuffix(filepath.Base(script), filepath.Ext(script))
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > 40 {
		name = strings.Trim(name[:40], "-")
	}
	if name == "" {
		name = "test"
	}
	return name + "-"
}

// followTest prints the test's live line until it ends, then its verdict,
// and returns the test's exit code as the error (nil when it passed).
// Ctrl-C stops following; the test goes on.
func followTest(ctx context.Context, env Env, c client.Client, key types.NamespacedName, every time.Duration) error {
	if every <= 0 {
		every = 5 * time.Second
	}
	tty := env.terminal().TTY
	var last string
	var printed time.Time
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var ht v1.HordeTest
		err := c.Get(ctx, key, &ht)
		switch {
		case ctx.Err() != nil:
			fmt.Fprintf(env.Stdout, "\nstopped following hordetest/%s; the test goes on (horde kube stop %s ends it)\n", key.Name, key.Name)
			return exitcode.Newf(exitcode.CannotRun, "interrupted before the verdict")
		case apierrors.IsNotFound(err):
			return exitcode.Newf(exitcode.CannotRun, "hordetest/%s was deleted before its verdict", key.Name)
		case err != nil:
			fmt.Fprintf(env.Stderr, "horde: reading hordetest/%s: %v (retrying)\n", key.Name, err)
		default:
			line := kubeLine(&ht)
			phaseChanged := !strings.HasPrefix(last, string(ht.Status.Phase)+" ")
			if line != last && (tty || phaseChanged || time.Since(printed) >= every) {
				if tty {
					fmt.Fprintf(env.Stdout, "\r\033[K%s", line)
					if phaseChanged && last != "" {
						fmt.Fprintln(env.Stdout)
					}
				} else {
					fmt.Fprintln(env.Stdout, line)
				}
				last, printed = line, time.Now()
			}
			if ht.Status.Phase.Finished() {
				if tty {
					fmt.Fprintln(env.Stdout)
				}
				return verdictOf(env, &ht)
			}
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// verdictOf prints a finished test's verdict, thresholds and where its
// summary is, and returns its exit code as the error.
func verdictOf(env Env, ht *v1.HordeTest) error {
	printTestEnd(env.Stdout, ht)
	code := exitcode.Failed
	if ht.Status.ExitCode != nil {
		code = int(*ht.Status.ExitCode)
	}
	if code == exitcode.OK {
		return nil
	}
	return exitcode.With(code, errVerdictPrinted)
}

// printTestEnd writes the verdict, the thresholds and where the summary is.
func printTestEnd(w io.Writer, ht *v1.HordeTest) {
	st := ht.Status
	code := "?"
	if st.ExitCode != nil {
		code = fmt.Sprint(*st.ExitCode)
	}
	fmt.Fprintf(w, "%s: %s (exit code %s): %s\n", ht.Name, orDash(st.Verdict), code, st.Message)
	if len(st.Thresholds) > 0 {
		rs := make([]report.ThresholdResult, 0, len(st.Thresholds))
		for _, t := range st.Thresholds {
			rs = append(rs, report.ThresholdResult{Expr: t.Expr, Value: t.Value, Passed: t.Passed, Note: t.Note})
		}
		_ = report.WriteThresholds(w, rs)
	}
	if s := st.Summary; s != nil && s.ConfigMap != "" {
		fmt.Fprintf(w, "summary: kubectl get configmap %s -n %s -o jsonpath='{.data.%s}'\n", s.ConfigMap, ht.Namespace,
			strings.ReplaceAll(operator.SummaryKey, ".", `\.`))
	}
	if s := st.Summary; s != nil && s.Reports != "" {
		fmt.Fprintf(w, "reports: %s\n", s.Reports)
	}
	if s := st.Summary; s != nil && s.RunID != "" {
		fmt.Fprintf(w, "stored run: %s (horde runs show %s --store ...)\n", s.RunID, s.RunID)
	}
}

// errNoSuchTest is a HordeTest that does not exist.
var errNoSuchTest = errors.New("no such HordeTest")

// getTest reads a HordeTest; not finding it is exit 2.
func getTest(ctx context.Context, c client.Client, ns, name string) (*v1.HordeTest, error) {
	var ht v1.HordeTest
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &ht); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("%w: %s in namespace %s (horde kube ls)", errNoSuchTest, name, ns))
		}
		return nil, exitcode.With(exitcode.CannotRun, err)
	}
	return &ht, nil
}

// age is how long ago t was, as kubectl shows it.
func age(t metav1.Time, now time.Time) string {
	d := now.Sub(t.Time)
	switch {
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
