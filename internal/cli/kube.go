package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/operator"
	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
)

// kubeFlags pick the cluster and namespace, as kubectl's flags of the
// same names do.
type kubeFlags struct {
	kubeconfig, context, namespace string
}

func (k *kubeFlags) register(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&k.context, "context", "", "the kubeconfig context to use")
	fs.StringVarP(&k.namespace, "namespace", "n", "", "the namespace (default: the context's)")
}

// clientConfig loads the kubeconfig as kubectl does: --kubeconfig, else
// the files of $KUBECONFIG, else ~/.kube/config; in a pod without one,
// the pod's service account.
func (k *kubeFlags) clientConfig(env Env) clientcmd.ClientConfig {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: k.kubeconfig}
	if v, ok := env.Getenv(clientcmd.RecommendedConfigPathEnvVar); ok && v != "" {
		rules.Precedence = filepath.SplitList(v)
	} else if home, ok := env.Getenv("HOME"); ok && home != "" {
		rules.Precedence = []string{filepath.Join(home, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)}
	}
	over := &clientcmd.ConfigOverrides{CurrentContext: k.context}
	over.Context.Namespace = k.namespace
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, over)
}

// restConfig is the cluster's client configuration and the namespace;
// no usable kubeconfig is exit 2.
func (k *kubeFlags) restConfig(env Env) (*rest.Config, string, error) {
	cc := k.clientConfig(env)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", exitcode.With(exitcode.BadInput, fmt.Errorf("kubeconfig: %w", err))
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", exitcode.With(exitcode.BadInput, fmt.Errorf("kubeconfig: %w", err))
	}
	cfg.UserAgent = "horde/" + Version
	return cfg, ns, nil
}

// kubeClient is a client of the cluster that knows HordeTests, and the
// namespace the command works in.
func (k *kubeFlags) kubeClient(env Env) (client.Client, *rest.Config, string, error) {
	cfg, ns, err := k.restConfig(env)
	if err != nil {
		return nil, nil, "", err
	}
	scheme, err := operator.NewScheme()
	if err != nil {
		return nil, nil, "", err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, nil, "", exitcode.With(exitcode.CannotRun, fmt.Errorf("the cluster: %w", err))
	}
	return c, cfg, ns, nil
}

func newKubeCmd(env Env) *cobra.Command {
	kf := &kubeFlags{}
	cmd := &cobra.Command{
		Use:   "kube",
		Short: "Run and follow load tests on Kubernetes (HordeTest resources; needs the operator)",
		Long: "Load tests on Kubernetes, as HordeTest resources that horde's operator runs\n" +
			"(install it with kubectl apply -k deploy/operator; see docs/kubernetes.md). `horde kube run`\n" +
			"sends a script with its files and the test's settings, follows the test, and exits with its\n" +
			"exit code, as `horde run` does.",
		Args: usageArgs(cobra.NoArgs),
	}
	kf.register(cmd)
	cmd.AddCommand(newKubeRunCmd(env, kf), newKubeLsCmd(env, kf), newKubeStatusCmd(env, kf), newKubeStopCmd(env, kf), newKubeLogsCmd(env, kf))
	return cmd
}

// kubeLine is a test's live line: phase, users, workers, requests,
// failures, rates, p95, time.
func kubeLine(ht *v1.HordeTest) string {
	st := ht.Status
	phase := string(st.Phase)
	if phase == "" {
		phase = "Pending"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %d/%d users  %s workers  %d requests  %d failed  %.1f req/s",
		phase, st.Users, max(st.TargetUsers, ht.Spec.Users), orDash(st.Workers), st.Requests, st.Failures, rate(st))
	if st.P95Ms > 0 {
		fmt.Fprintf(&b, "  p95 %s ms", trimFloat(st.P95Ms))
	}
	if st.ElapsedSeconds > 0 {
		fmt.Fprintf(&b, "  %s", roundDur(st.ElapsedSeconds))
		if st.RunTimeSeconds > 0 {
			fmt.Fprintf(&b, " of %s", roundDur(st.RunTimeSeconds))
		}
	}
	switch {
	case st.Phase.Finished():
	case st.Shape != "":
		b.WriteString("  " + st.Shape)
	case st.Phase != v1.PhaseRunning && st.Message != "":
		b.WriteString("  " + st.Message)
	}
	return b.String()
}

// rate is what a person wants to see: the last 10 s while the test
// runs, the whole test's once it has ended.
func rate(st v1.HordeTestStatus) float64 {
	if st.Phase == v1.PhaseRunning {
		return st.CurrentRPS
	}
	return st.RPS
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func trimFloat(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.1f", f), "0"), ".")
}

func roundDur(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Second)
}
