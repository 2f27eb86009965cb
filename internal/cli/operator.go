package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/operator"
	"github.com/horde-load/horde/internal/timespan"
)

func newOperatorCmd(env Env) *cobra.Command {
	kf := &kubeFlags{}
	var image, healthAddr, metricsAddr, logLevel string
	var poll time.Duration
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Run horde's Kubernetes operator: it runs the load tests of HordeTest resources",
		Long: "Run the operator (in the cluster: deploy/operator, or the Helm chart's operator.enabled). For each\n" +
			"HordeTest it runs a master and its workers, keeps the HordeTest's status live, sends edits of\n" +
			"users and workers to the running test, and ends the test with its verdict in the status and an\n" +
			"Event. It watches every namespace, or --namespace's.",
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := sources(cmd, env); err != nil {
				return err
			}
			log, err := newLogger(env.Stderr, logLevel)
			if err != nil {
				return err
			}
			cfg, _, err := kf.restConfig(env)
			if err != nil {
				return err
			}
			if image == "" {
				if image, err = ownImage(cmd.Context(), env, cfg); err != nil {
					return err
				}
			}
			logger := logr.FromSlogHandler(log.Handler())
			// controller-runtime and client-go log through their own
			// process-wide loggers: give them horde's.
			crlog.SetLogger(logger)
			klog.SetLogger(logger)
			log.Info("operator starting", "namespace", orAll(kf.namespace), "image", image, "api", cfg.Host)
			err = operator.Run(cmd.Context(), operator.Options{Config: cfg, Namespace: kf.namespace, Image: image, Poll: poll,
				HealthAddr: healthAddr, MetricsAddr: metricsAddr, Logger: logger})
			if err != nil {
				return exitcode.With(exitcode.CannotRun, fmt.Errorf("operator: %w", err))
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&kf.kubeconfig, "kubeconfig", "", "a kubeconfig file, to run outside the cluster (default: in the cluster, the pod's service account)")
	fs.StringVarP(&kf.namespace, "namespace", "n", "", "watch this namespace only (default: all)")
	fs.StringVar(&image, "image", "", "horde's image for the tests that name none (default: the operator's own, from its pod: POD_NAME, POD_NAMESPACE)")
	fs.Var(timespan.Value{D: &poll}, "poll-interval", "how often a running test's master is read into its status (default 2s)")
	fs.StringVar(&healthAddr, "health-addr", ":8081", "address of /healthz and /readyz (0: off)")
	fs.StringVar(&metricsAddr, "metrics-addr", "0", "address of the controller's Prometheus metrics (0: off)")
	fs.StringVarP(&logLevel, "loglevel", "L", "info", "log level: debug, info, warn, error")
	return cmd
}

// ownImage is the image of the operator's own pod (named by POD_NAME and
// POD_NAMESPACE, from the downward API): the tests run the horde the
// operator is.
func ownImage(ctx context.Context, env Env, cfg *rest.Config) (string, error) {
	name, _ := env.Getenv("POD_NAME")
	ns, _ := env.Getenv("POD_NAMESPACE")
	if name == "" || ns == "" {
		return "", exitcode.Newf(exitcode.BadInput, "--image (HORDE_IMAGE): the image tests run, e.g. horde:latest "+
			"(in a pod with POD_NAME and POD_NAMESPACE set, the operator's own)")
	}
	scheme, err := operator.NewScheme()
	if err != nil {
		return "", err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return "", exitcode.With(exitcode.CannotRun, err)
	}
	var pod corev1.Pod
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &pod); err != nil {
		return "", exitcode.With(exitcode.CannotRun, fmt.Errorf("reading the operator's own pod for its image (or give --image): %w", err))
	}
	return pod.Spec.Containers[0].Image, nil
}

func orAll(ns string) string {
	if ns == "" {
		return "(all)"
	}
	return ns
}
