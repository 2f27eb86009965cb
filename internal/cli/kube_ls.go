package cli

import (
	"cmp"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/operator"
	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
)

func newKubeLsCmd(env Env, kf *kubeFlags) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the HordeTests of the namespace, oldest first",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := sources(cmd, env); err != nil {
				return err
			}
			c, _, ns, err := kf.kubeClient(env)
			if err != nil {
				return err
			}
			var list v1.HordeTestList
			opts := []client.ListOption{}
			if !all {
				opts = append(opts, client.InNamespace(ns))
			}
			if err := c.List(cmd.Context(), &list, opts...); err != nil {
				return exitcode.With(exitcode.CannotRun, fmt.Errorf("list HordeTests (is the operator's CRD installed?): %w", err))
			}
			if len(list.Items) == 0 {
				fmt.Fprintf(env.Stderr, "no HordeTests in namespace %s\n", ns)
				return nil
			}
			slices.SortFunc(list.Items, func(a, b v1.HordeTest) int {
				return cmp.Or(a.CreationTimestamp.Compare(b.CreationTimestamp.Time), cmp.Compare(a.Name, b.Name))
			})
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			if all {
				fmt.Fprint(tw, "NAMESPACE\t")
			}
			fmt.Fprintln(tw, "NAME\tPHASE\tUSERS\tWORKERS\tREQUESTS\tFAILURES\tRPS\tP95 MS\tVERDICT\tAGE")
			now := time.Now()
			for _, ht := range list.Items {
				st := ht.Status
				if all {
					fmt.Fprintf(tw, "%s\t", ht.Namespace)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%.1f\t%s\t%s\t%s\n", ht.Name, orDash(string(st.Phase)), st.Users, orDash(st.Workers),
					st.Requests, st.Failures, st.RPS, trimFloat(st.P95Ms), orDash(st.Verdict), age(ht.CreationTimestamp, now))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the HordeTests of every namespace")
	return cmd
}

func newKubeStatusCmd(env Env, kf *kubeFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a HordeTest: its phase and figures, the verdict, thresholds, where its summary and UI are",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := sources(cmd, env); err != nil {
				return err
			}
			c, _, ns, err := kf.kubeClient(env)
			if err != nil {
				return err
			}
			ht, err := getTest(cmd.Context(), c, ns, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, ht.Status)
			}
			w := env.Stdout
			fmt.Fprintf(w, "hordetest/%s in namespace %s\n%s\n", ht.Name, ht.Namespace, kubeLine(ht))
			st := ht.Status
			if st.StartedAt != nil {
				fmt.Fprintf(w, "started %s", st.StartedAt.UTC().Format(time.RFC3339))
				if st.CompletedAt != nil {
					fmt.Fprintf(w, ", ended %s", st.CompletedAt.UTC().Format(time.RFC3339))
				}
				fmt.Fprintln(w)
			}
			if st.MasterRestarts > 0 {
				fmt.Fprintf(w, "the master restarted %d times (the test ran again from its start each time)\n", st.MasterRestarts)
			}
			if st.Phase.Finished() {
				printTestEnd(w, ht)
			} else if st.Message != "" {
				fmt.Fprintln(w, st.Message)
			}
			if st.Phase.Finished() && st.CleanedUp && !masterKept(ht) {
				return nil
			}
			if ht.Spec.Auth == nil {
				fmt.Fprintf(w, "web UI: kubectl port-forward -n %s svc/%s 8089, then http://127.0.0.1:8089 with the password:\n"+
					"  kubectl get secret -n %s %s-auth -o jsonpath='{.data.web}' | base64 -d\n",
					ht.Namespace, operator.MasterService(ht.Name), ht.Namespace, ht.Name)
			} else {
				fmt.Fprintf(w, "web UI: kubectl port-forward -n %s svc/%s 8089\n", ht.Namespace, operator.MasterService(ht.Name))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the HordeTest's status as JSON")
	return cmd
}

// masterKept says whether an ended test's master is still there.
func masterKept(ht *v1.HordeTest) bool {
	switch ht.Spec.Cleanup {
	case v1.CleanupKeep:
		return true
	case v1.CleanupDelete:
		return false
	}
	return ht.Status.Phase == v1.PhaseFailed
}

func newKubeStopCmd(env Env, kf *kubeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "stop NAME",
		Short: "Stop a running HordeTest now: it ends with the verdict of what it measured",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := sources(cmd, env); err != nil {
				return err
			}
			c, _, ns, err := kf.kubeClient(env)
			if err != nil {
				return err
			}
			ht, err := getTest(cmd.Context(), c, ns, args[0])
			if err != nil {
				return err
			}
			if ht.Status.Phase.Finished() {
				fmt.Fprintf(env.Stdout, "hordetest/%s has ended already: %s\n", ht.Name, ht.Status.Message)
				return nil
			}
			patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"stop":true}}`))
			if err := c.Patch(cmd.Context(), ht, patch); err != nil {
				return exitcode.With(exitcode.CannotRun, fmt.Errorf("stop hordetest/%s: %w", ht.Name, err))
			}
			fmt.Fprintf(env.Stdout, "hordetest/%s stopping: it ends with its verdict (horde kube status %s)\n", ht.Name, ht.Name)
			return nil
		},
	}
}
