package operator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/horde-load/horde/internal/exitcode"
	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
)

// Reconciler runs HordeTests: it makes a test's objects, follows its
// master's API into the status, sends edits of the load to the running
// test, and ends the test with its verdict and the clean-up its policy
// asks for. It keeps no state a restart would lose but a cache of the
// masters' passwords: everything else is read from the cluster and the
// masters each time, so a restarted operator carries on where the last
// one stopped.
type Reconciler struct {
	// Client reads through the manager's cache (HordeTests, Deployments,
	// Services, Pods) and writes to the API server.
	Client client.Client
	// Reader reads from the API server directly: Secrets and ConfigMaps,
	// so that the operator needs neither list nor watch on them, and the
	// HordeTest it acts on.
	Reader   client.Reader
	Scheme   *runtime.Scheme
	Recorder record.EventRecorder
	// Image is horde's image for tests whose spec names none.
	Image string
	// MasterURL is the base URL of a test's master's web API; by default
	// its Service in the cluster's DNS. Tests point it at a fake master.
	MasterURL func(ht *v1.HordeTest) string
	HTTP      *http.Client
	// Poll is how often a test that has not ended is looked at.
	Poll time.Duration
	Now  func() time.Time

	mu  sync.Mutex
	web map[types.NamespacedName]webAuth // the masters' --web-auth, read once from their Secrets
}

// webAuth is a test's master's password, for the test of that UID (a test
// deleted and made again under its name gets its own).
type webAuth struct {
	uid  types.UID
	auth string
}

// SetupWithManager registers the reconciler: it acts on HordeTests (their
// spec's changes; its own status writes do not wake it) and on the
// Deployments and Services they own.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.MasterURL == nil {
		r.MasterURL = func(ht *v1.HordeTest) string {
			return fmt.Sprintf("http://%s.%s.svc:%d", masterName(ht), ht.Namespace, portHTTP)
		}
	}
	if r.HTTP == nil {
		r.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if r.Poll <= 0 {
		r.Poll = 2 * time.Second
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.HordeTest{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).
		Complete(r)
}

// Reconcile looks at one HordeTest and patches its status with what it
// saw.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// Read from the API server, not the cache: the cache may not hold
	// the status this reconciler wrote a moment ago, and acting on an
	// older one would send an edit twice, or make the workers of a test
	// that has ended.
	var ht v1.HordeTest
	if err := r.Reader.Get(ctx, req.NamespacedName, &ht); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if ht.DeletionTimestamp != nil {
		// Its objects go with it (owner references): nothing to do.
		r.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	orig := ht.DeepCopy()
	res, err := r.reconcile(ctx, &ht)
	if perr := r.patchStatus(ctx, orig, &ht); perr != nil {
		return ctrl.Result{}, errors.Join(err, perr)
	}
	if ht.Status.Phase.Finished() && (!ht.Status.CleanedUp || orig.Status.ObservedGeneration != ht.Generation) {
		// The verdict is stored: now the clean-up, which a restarted
		// operator would do again if it did not happen.
		orig = ht.DeepCopy()
		if cerr := r.cleanup(ctx, &ht); cerr != nil {
			return ctrl.Result{}, errors.Join(err, cerr)
		}
		if perr := r.patchStatus(ctx, orig, &ht); perr != nil {
			return ctrl.Result{}, errors.Join(err, perr)
		}
		r.forget(req.NamespacedName)
	}
	return res, err
}

// patchStatus writes ht's status when it changed. The whole status, with
// the resourceVersion read: a figure that is 0 is written as 0 (kubectl
// get shows it), and a status written meanwhile by another is not
// overwritten (the conflict requeues).
func (r *Reconciler) patchStatus(ctx context.Context, orig, ht *v1.HordeTest) error {
	ht.Status.ObservedGeneration = ht.Generation
	if equality.Semantic.DeepEqual(orig.Status, ht.Status) {
		return nil
	}
	return r.Client.Status().Update(ctx, ht)
}

func (r *Reconciler) reconcile(ctx context.Context, ht *v1.HordeTest) (ctrl.Result, error) {
	st := &ht.Status
	if st.Phase.Finished() {
		return ctrl.Result{}, nil
	}
	again := ctrl.Result{RequeueAfter: r.Poll}
	if st.Phase == "" {
		st.Phase = v1.PhasePending
		st.Message = "creating the master and the workers"
		r.Recorder.Eventf(ht, corev1.EventTypeNormal, "Creating", "creating the master and %d workers", ht.Spec.Workers.Replicas)
	}
	st.ExpectedWorkers = ht.Spec.Workers.Replicas
	st.Workers = fmt.Sprintf("%d/%d", st.ReadyWorkers, st.ExpectedWorkers)
	if err := r.ensure(ctx, ht); err != nil {
		var bad *errSpec
		if errors.As(err, &bad) {
			r.end(ht, exitcode.BadInput, bad.msg)
			return ctrl.Result{}, nil
		}
		if !isTransient(err) {
			return ctrl.Result{}, err
		}
		st.Message = err.Error()
		r.checkStartTimeout(ht)
		return again, nil
	}
	mc, err := r.master(ctx, ht)
	if err != nil {
		return ctrl.Result{}, err
	}
	s, err := mc.stats(ctx)
	if err != nil {
		if code, msg, final := r.masterExited(ctx, ht); final {
			r.end(ht, code, msg)
			return ctrl.Result{}, nil
		} else if msg != "" {
			err = fmt.Errorf("%w (%s)", err, msg)
		}
		if st.Phase == v1.PhaseRunning {
			st.Message = "the master does not answer: " + err.Error()
		} else {
			st.Message = "waiting for the master: " + err.Error()
			r.checkStartTimeout(ht)
		}
		return again, nil
	}
	if err := r.observe(ctx, ht, mc, s); err != nil {
		st.Message = err.Error()
	}
	if st.Phase.Finished() {
		return ctrl.Result{}, nil
	}
	return again, nil
}

// transientError is a condition that time may mend: a Secret or
// ConfigMap the test names that does not exist (yet).
type transientError struct{ msg string }

func (e *transientError) Error() string { return e.msg }

func isTransient(err error) bool {
	var t *transientError
	return errors.As(err, &t)
}

// ensure makes the test's objects that are missing, and keeps the
// workers' Deployment as the spec says (replicas, pod template).
func (r *Reconciler) ensure(ctx context.Context, ht *v1.HordeTest) error {
	var master appsv1.Deployment
	err := r.Client.Get(ctx, key(ht, masterName(ht)), &master)
	switch {
	case apierrors.IsNotFound(err):
		if err := r.createMaster(ctx, ht); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	var svc corev1.Service
	if err := r.Client.Get(ctx, key(ht, masterName(ht)), &svc); apierrors.IsNotFound(err) {
		if err := r.create(ctx, ht, newService(ht)); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return r.ensureWorkers(ctx, ht)
}

func key(ht *v1.HordeTest, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ht.Namespace, Name: name}
}

// create creates obj, owned by ht; one that exists already is fine.
func (r *Reconciler) create(ctx context.Context, ht *v1.HordeTest, obj client.Object) error {
	if err := controllerutil.SetControllerReference(ht, obj, r.Scheme); err != nil {
		return err
	}
	if err := r.Client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
	}
	return nil
}

// createMaster makes the Secret (unless the spec names one), the script's
// ConfigMap and the master's Deployment.
func (r *Reconciler) createMaster(ctx context.Context, ht *v1.HordeTest) error {
	if err := r.ensureSecret(ctx, ht); err != nil {
		return err
	}
	cm, err := r.ensureScript(ctx, ht)
	if err != nil {
		return err
	}
	main, items := scriptLayout(cm)
	if err := r.create(ctx, ht, newMaster(ht, r.image(ht), main, items)); err != nil {
		return err
	}
	s := ht.Spec
	ht.Status.Applied = &v1.AppliedLoad{Users: s.Users, SpawnRate: s.SpawnRate, Rate: s.Rate}
	return nil
}

func (r *Reconciler) image(ht *v1.HordeTest) string {
	if ht.Spec.Image != "" {
		return ht.Spec.Image
	}
	return r.Image
}

func (r *Reconciler) ensureSecret(ctx context.Context, ht *v1.HordeTest) error {
	var sec corev1.Secret
	err := r.Reader.Get(ctx, key(ht, authSecret(ht)), &sec)
	switch {
	case err == nil:
		if _, ok := sec.Data["token"]; !ok {
			return &transientError{fmt.Sprintf("Secret %s has no key token (the workers' token)", sec.Name)}
		}
		return nil
	case !apierrors.IsNotFound(err):
		return err
	case ht.Spec.Auth != nil:
		return &transientError{fmt.Sprintf("Secret %s (spec.auth.existingSecret) not found", authSecret(ht))}
	}
	s, err := newSecret(ht)
	if err != nil {
		return err
	}
	return r.create(ctx, ht, s)
}

// ensureWorkers creates the workers' Deployment, or brings its replicas
// and pod template to the spec's: more or fewer workers join or leave the
// running test, and its master rebalances the users.
func (r *Reconciler) ensureWorkers(ctx context.Context, ht *v1.HordeTest) error {
	want := newWorkers(ht, r.image(ht))
	var d appsv1.Deployment
	err := r.Client.Get(ctx, key(ht, want.Name), &d)
	if apierrors.IsNotFound(err) {
		return r.create(ctx, ht, want)
	}
	if err != nil {
		return err
	}
	was := int32(1)
	if d.Spec.Replicas != nil {
		was = *d.Spec.Replicas
	}
	sameTemplate := d.Annotations[annTemplateHash] == want.Annotations[annTemplateHash]
	if was == *want.Spec.Replicas && sameTemplate {
		return nil
	}
	orig := d.DeepCopy()
	d.Spec.Replicas = want.Spec.Replicas
	if !sameTemplate {
		d.Spec.Template = want.Spec.Template
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[annTemplateHash] = want.Annotations[annTemplateHash]
	}
	if err := r.Client.Patch(ctx, &d, client.MergeFrom(orig)); err != nil {
		return fmt.Errorf("update the workers' Deployment: %w", err)
	}
	if was != *want.Spec.Replicas {
		r.Recorder.Eventf(ht, corev1.EventTypeNormal, "Scaled", "workers %d → %d: the master moves the users onto them", was, *want.Spec.Replicas)
	}
	if !sameTemplate {
		r.Recorder.Event(ht, corev1.EventTypeNormal, "WorkersUpdated", "the workers' pod template changed: they are replaced one by one, their users move")
	}
	return nil
}

// master returns the client of ht's master.
func (r *Reconciler) master(ctx context.Context, ht *v1.HordeTest) (*masterClient, error) {
	name := client.ObjectKeyFromObject(ht)
	r.mu.Lock()
	w, ok := r.web[name]
	r.mu.Unlock()
	if !ok || w.uid != ht.UID {
		var sec corev1.Secret
		if err := r.Reader.Get(ctx, key(ht, authSecret(ht)), &sec); err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
		w = webAuth{uid: ht.UID, auth: string(sec.Data["web"])}
		r.mu.Lock()
		if r.web == nil {
			r.web = map[types.NamespacedName]webAuth{}
		}
		r.web[name] = w
		r.mu.Unlock()
	}
	return &masterClient{http: r.HTTP, base: r.MasterURL(ht), auth: w.auth}, nil
}

func (r *Reconciler) forget(name types.NamespacedName) {
	r.mu.Lock()
	delete(r.web, name)
	r.mu.Unlock()
}

// masterExited looks at the master's pod: a container that ended with
// exit code 2 did not load the test (a script error, a bad flag) and will
// not: the test fails with it (final). Otherwise msg says why the master
// does not run, if its pod says (an image that cannot be pulled...).
func (r *Reconciler) masterExited(ctx context.Context, ht *v1.HordeTest) (code int, msg string, final bool) {
	var pods corev1.PodList
	if err := r.Client.List(ctx, &pods, client.InNamespace(ht.Namespace), client.MatchingLabels(selector(ht, "master"))); err != nil {
		return 0, "", false
	}
	for _, p := range pods.Items {
		for _, c := range p.Status.ContainerStatuses {
			for _, t := range []*corev1.ContainerStateTerminated{c.State.Terminated, c.LastTerminationState.Terminated} {
				if t != nil && t.ExitCode == exitcode.BadInput {
					return exitcode.BadInput, fmt.Sprintf("the master exited with code 2 (bad input): %s", lastLine(t.Message)), true
				}
			}
			if w := c.State.Waiting; w != nil && w.Reason != "ContainerCreating" {
				msg = fmt.Sprintf("pod %s: %s: %s", p.Name, w.Reason, w.Message)
			}
		}
	}
	return 0, msg, false
}

// checkStartTimeout fails a test that has not started within its start
// timeout (exit code 3, the test could not run).
func (r *Reconciler) checkStartTimeout(ht *v1.HordeTest) {
	if ht.Status.StartedAt != nil {
		return
	}
	limit := 5 * time.Minute
	if d, err := time.ParseDuration(ht.Spec.StartTimeout); err == nil && d > 0 {
		limit = d
	}
	if r.Now().Sub(ht.CreationTimestamp.Time) > limit {
		r.end(ht, exitcode.CannotRun, fmt.Sprintf("the test did not start within %v (startTimeout): %s", limit, ht.Status.Message))
	}
}

// end gives the test its verdict: code is horde's exit code for it.
func (r *Reconciler) end(ht *v1.HordeTest, code int, msg string) {
	st := &ht.Status
	c := int32(code)
	now := metav1.NewTime(r.Now())
	st.ExitCode, st.CompletedAt, st.Message = &c, &now, msg
	st.CurrentRPS = 0
	if code == exitcode.OK {
		st.Phase, st.Verdict = v1.PhaseSucceeded, "Passed"
		r.Recorder.Event(ht, corev1.EventTypeNormal, "Succeeded", msg)
		return
	}
	st.Phase, st.Verdict = v1.PhaseFailed, "Failed"
	r.Recorder.Eventf(ht, corev1.EventTypeWarning, "Failed", "exit code %d: %s", code, msg)
}
