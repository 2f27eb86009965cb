package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/operator"
)

func newKubeLogsCmd(env Env, kf *kubeFlags) *cobra.Command {
	var follow, workers bool
	var tail int64
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print the log of a HordeTest's master (--workers: of its workers, each line after its pod's name)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := sources(cmd, env); err != nil {
				return err
			}
			c, cfg, ns, err := kf.kubeClient(env)
			if err != nil {
				return err
			}
			ht, err := getTest(cmd.Context(), c, ns, args[0])
			if err != nil {
				return err
			}
			component := "master"
			if workers {
				component = "worker"
			}
			var pods corev1.PodList
			if err := c.List(cmd.Context(), &pods, client.InNamespace(ns),
				client.MatchingLabels{operator.LabelTest: ht.Name, "app.kubernetes.io/component": component}); err != nil {
				return exitcode.With(exitcode.CannotRun, err)
			}
			if len(pods.Items) == 0 {
				return exitcode.Newf(exitcode.CannotRun, "hordetest/%s has no %s pod (%s; the clean-up deletes the workers, and the master of a passed test)",
					ht.Name, component, orDash(string(ht.Status.Phase)))
			}
			core, err := corev1client.NewForConfig(cfg)
			if err != nil {
				return exitcode.With(exitcode.CannotRun, err)
			}
			opts := &corev1.PodLogOptions{Container: "horde", Follow: follow}
			if tail >= 0 {
				opts.TailLines = &tail
			}
			return streamLogs(cmd.Context(), env.Stdout, core, pods.Items, opts, workers)
		},
	}
	fs := cmd.Flags()
	fs.BoolVarP(&follow, "follow", "f", false, "keep printing as the log grows")
	fs.BoolVar(&workers, "workers", false, "the workers' logs instead of the master's")
	fs.Int64Var(&tail, "tail", -1, "only the last N lines of each log (-1: all)")
	return cmd
}

// streamLogs copies the logs of pods to w, whole lines at a time; with
// prefix, each line after its pod's name.
func streamLogs(ctx context.Context, w io.Writer, core corev1client.CoreV1Interface, pods []corev1.Pod, opts *corev1.PodLogOptions, prefix bool) error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(pods))
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc, err := core.Pods(p.Namespace).GetLogs(p.Name, opts).Stream(ctx)
			if err != nil {
				errs[i] = fmt.Errorf("log of pod %s: %w", p.Name, err)
				return
			}
			defer rc.Close()
			sc := bufio.NewScanner(rc)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				mu.Lock()
				if prefix {
					fmt.Fprintf(w, "[%s] ", p.Name)
				}
				fmt.Fprintln(w, sc.Text())
				mu.Unlock()
			}
			if err := sc.Err(); err != nil && ctx.Err() == nil {
				errs[i] = fmt.Errorf("log of pod %s: %w", p.Name, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return exitcode.With(exitcode.CannotRun, err)
		}
	}
	return nil
}
