package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HordeTest is one load test: the operator runs a horde master and its
// workers for it, keeps its status live and ends it with the verdict in
// its status (and an Event). Deleting it stops the test and deletes what
// the test made.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ht,categories=horde
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 50 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="a HordeTest's name is at most 50 lower-case letters, digits and '-', starting with a letter (its Services are named after it)"
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Users",type=integer,JSONPath=`.status.users`
// +kubebuilder:printcolumn:name="Workers",type=string,JSONPath=`.status.workers`,description="workers connected to the master / workers asked for"
// +kubebuilder:printcolumn:name="RPS",type=number,JSONPath=`.status.rps`,description="requests per second over the whole test"
// +kubebuilder:printcolumn:name="Failures",type=integer,JSONPath=`.status.failures`
// +kubebuilder:printcolumn:name="P95 ms",type=number,JSONPath=`.status.p95Ms`
// +kubebuilder:printcolumn:name="Verdict",type=string,JSONPath=`.status.verdict`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type HordeTest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   HordeTestSpec   `json:"spec"`
	Status HordeTestStatus `json:"status,omitempty"`
}

// HordeTestList is a list of HordeTests.
//
// +kubebuilder:object:root=true
type HordeTestList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HordeTest `json:"items"`
}

// HordeTestSpec is the test. users, spawnRate, rate, workers, cleanup,
// startTimeout and stop may change while the test runs (users and rates
// edit the running test, workers scale it: horde rebalances the users);
// every other field is fixed once the test exists.
//
// +kubebuilder:validation:XValidation:rule="self.script == oldSelf.script",message="script cannot change: create another HordeTest"
// +kubebuilder:validation:XValidation:rule="has(self.host) == has(oldSelf.host) && (!has(self.host) || self.host == oldSelf.host)",message="host cannot change"
// +kubebuilder:validation:XValidation:rule="has(self.runTime) == has(oldSelf.runTime) && (!has(self.runTime) || self.runTime == oldSelf.runTime)",message="runTime cannot change"
// +kubebuilder:validation:XValidation:rule="has(self.stages) == has(oldSelf.stages) && (!has(self.stages) || self.stages == oldSelf.stages)",message="stages cannot change"
// +kubebuilder:validation:XValidation:rule="has(self.thresholds) == has(oldSelf.thresholds) && (!has(self.thresholds) || self.thresholds == oldSelf.thresholds)",message="thresholds cannot change"
// +kubebuilder:validation:XValidation:rule="has(self.args) == has(oldSelf.args) && (!has(self.args) || self.args == oldSelf.args)",message="args cannot change"
// +kubebuilder:validation:XValidation:rule="has(self.env) == has(oldSelf.env) && (!has(self.env) || self.env == oldSelf.env)",message="env cannot change"
// +kubebuilder:validation:XValidation:rule="has(self.image) == has(oldSelf.image) && (!has(self.image) || self.image == oldSelf.image)",message="image cannot change"
// +kubebuilder:validation:XValidation:rule="has(self.auth) == has(oldSelf.auth) && (!has(self.auth) || self.auth == oldSelf.auth)",message="auth cannot change"
// +kubebuilder:validation:XValidation:rule="has(self.reports) == has(oldSelf.reports) && (!has(self.reports) || self.reports == oldSelf.reports)",message="reports cannot change"
// +kubebuilder:validation:XValidation:rule="has(self.master) == has(oldSelf.master) && (!has(self.master) || self.master == oldSelf.master)",message="master cannot change"
type HordeTestSpec struct {
	// Script is the test script: inline, from a ConfigMap, or a bundle of
	// files (what `horde kube run` sends). The operator copies it into a
	// ConfigMap of its own when the test starts, so the test runs what it
	// was given even if the source changes.
	Script Script `json:"script"`

	// Host is the base URL of the system under test (the master's --host).
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Host string `json:"host,omitempty"`

	// Users is the number of concurrent users (-u); in the open model, the
	// pool of users. Editing it changes the running test.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000000
	Users int32 `json:"users,omitempty"`

	// SpawnRate is the number of users started (or stopped) per second,
	// across all workers (-r; horde's default 1). Editable.
	// +optional
	// +kubebuilder:validation:Minimum=0
	SpawnRate float64 `json:"spawnRate,omitempty"`

	// Rate turns the test into an open-model one: task iterations started
	// per second (--rate), on a pool of users users. Editable.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Rate float64 `json:"rate,omitempty"`

	// Stages change the load over time (a script's stages = [...]); the
	// test ends with the last one. A staged test cannot be edited.
	// +optional
	// +kubebuilder:validation:MaxItems=100
	Stages []Stage `json:"stages,omitempty"`

	// RunTime stops the test after this long (-t): "90s", "10m", "1h30m".
	// Without it (and without stages, here or in the script) the test
	// runs until spec.stop.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(h|m|s|ms|us|µs|ns))+$`
	RunTime string `json:"runTime,omitempty"`

	// Thresholds are the pass/fail criteria (--threshold): "p95<300ms",
	// "fail_ratio<0.01", "GET /profile: p99<500ms". With none, any failed
	// request or script error fails the test.
	// +optional
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=256
	Thresholds []string `json:"thresholds,omitempty"`

	// Args are more flags for the master (`horde master --help`), e.g.
	// ["--tags", "checkout", "--stop-timeout", "30s"].
	// +optional
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=1024
	Args []string `json:"args,omitempty"`

	// Env is set in the master and every worker (what the script's env()
	// reads), e.g. an API key from a Secret.
	// +optional
	// +kubebuilder:validation:MaxItems=100
	Env []corev1.EnvVar `json:"env,omitempty"`

	// Image is horde's image (default: the operator's own --image).
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`

	// Workers are the worker pods.
	// +optional
	Workers Workers `json:"workers,omitempty"`

	// Master is the master's pod.
	// +optional
	Master *Master `json:"master,omitempty"`

	// Auth: the token workers present to the master and the web UI's
	// password. By default the operator generates both into a Secret.
	// +optional
	Auth *Auth `json:"auth,omitempty"`

	// Reports: where the master keeps its reports besides the summary the
	// operator saves in a ConfigMap.
	// +optional
	Reports *Reports `json:"reports,omitempty"`

	// Cleanup is what happens to the master, its Service, Secret and
	// script ConfigMap when the test ends (the workers always go):
	// Delete deletes them; KeepOnFailure (the default) deletes them when
	// the test passed and keeps the master's UI up when it failed; Keep
	// keeps them. The HordeTest and its summary ConfigMap stay until the
	// HordeTest is deleted.
	// +optional
	// +kubebuilder:default=KeepOnFailure
	Cleanup CleanupPolicy `json:"cleanup,omitempty"`

	// StartTimeout fails the test (exit code 3) when it has not started
	// this long after it was created: the master or the workers did not
	// come (an image that cannot be pulled, pods that do not fit).
	// +optional
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$`
	StartTimeout string `json:"startTimeout,omitempty"`

	// Stop ends a running test now (users finish their task for the stop
	// timeout); it gets its verdict as a test that ran its course does.
	// +optional
	Stop bool `json:"stop,omitempty"`
}

// Script is the test script. Give exactly one of inline, configMap and
// bundle.
//
// +kubebuilder:validation:XValidation:rule="(has(self.inline) ? 1 : 0) + (has(self.configMap) ? 1 : 0) + (has(self.bundle) ? 1 : 0) == 1",message="give exactly one of inline, configMap and bundle"
type Script struct {
	// Inline is the script's text; it is script.star on the master.
	// +optional
	// +kubebuilder:validation:MaxLength=524288
	Inline string `json:"inline,omitempty"`

	// ConfigMap holds the script (key) and the files beside it: the
	// modules it load()s and the data files it reads, one per key.
	// +optional
	ConfigMap *ConfigMapScript `json:"configMap,omitempty"`

	// Bundle is a script and the files it loads, by name relative to the
	// script's directory ("lib/util.star").
	// +optional
	Bundle *Bundle `json:"bundle,omitempty"`
}

// ConfigMapScript names a ConfigMap in the test's namespace.
type ConfigMapScript struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Key is the script's key (default script.star).
	// +optional
	// +kubebuilder:default="script.star"
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key,omitempty"`
}

// Bundle is a script with its files.
//
// +kubebuilder:validation:XValidation:rule="self.main in self.files",message="main must name one of files"
type Bundle struct {
	// Main is the script's name among files.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Main string `json:"main"`
	// Files are the script and its files, name to content.
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=256
	Files map[string]string `json:"files"`
}

// Stage is one step of a staged test: the load moves linearly to the
// stage's level over its duration.
//
// +kubebuilder:validation:XValidation:rule="has(self.users) || has(self.rate)",message="a stage needs users or rate"
type Stage struct {
	// Duration of the stage: "30s", "5m".
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$`
	Duration string `json:"duration"`
	// Users at the end of the stage (closed model), or the pool of users
	// (open model).
	// +optional
	// +kubebuilder:validation:Minimum=0
	Users *int32 `json:"users,omitempty"`
	// Rate is the task iterations started per second at the end of the
	// stage (open model).
	// +optional
	// +kubebuilder:validation:Minimum=0
	Rate *float64 `json:"rate,omitempty"`
}

// Workers are the worker pods: a Deployment of replicas pods, each
// connected to the master.
type Workers struct {
	// Replicas is the number of workers. Editing it scales the running
	// test: the master moves users onto new workers and off leaving ones.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Replicas int32 `json:"replicas,omitempty"`
	// Resources of each worker (default: 50m CPU and 64Mi requested, one
	// core and 512Mi at most). For a real test, one worker per core.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// NodeSelector of the worker pods.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Tolerations of the worker pods.
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// Affinity of the worker pods, merged with the operator's own (a
	// preference to spread a test's workers over nodes): your node
	// affinity and pod affinity are kept, your pod anti-affinity terms
	// added to the operator's.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
}

// Master is the master's pod.
type Master struct {
	// Resources of the master (default: 100m CPU and 128Mi requested, two
	// cores and 1Gi at most).
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}

// Auth names an existing Secret instead of the one the operator makes.
type Auth struct {
	// ExistingSecret holds key token (the workers' token) and, optionally,
	// key web (the web UI's password, user:pass or a token).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ExistingSecret string `json:"existingSecret"`
}

// Reports is where the master keeps its reports.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.storeURL) && has(self.storeSecret))",message="give storeURL or storeSecret, not both"
type Reports struct {
	// ClaimName is a PersistentVolumeClaim the master writes its reports
	// to when it stops (at clean-up, or when the HordeTest is deleted):
	// NAME.json (the summary), NAME.html and the CSV files NAME_*.csv,
	// NAME being the HordeTest's.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ClaimName string `json:"claimName,omitempty"`
	// StoreURL is a run store (--store), e.g. a postgres:// URL; the run's
	// id is in the status.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	StoreURL string `json:"storeURL,omitempty"`
	// StoreSecret is the store URL from a Secret's key (it holds a
	// password).
	// +optional
	StoreSecret *corev1.SecretKeySelector `json:"storeSecret,omitempty"`
}

// CleanupPolicy says what to delete when a test ends.
// +kubebuilder:validation:Enum=Delete;KeepOnFailure;Keep
type CleanupPolicy string

// The clean-up policies.
const (
	CleanupDelete        CleanupPolicy = "Delete"
	CleanupKeepOnFailure CleanupPolicy = "KeepOnFailure"
	CleanupKeep          CleanupPolicy = "Keep"
)

// Phase is where a test is in its life.
// +kubebuilder:validation:Enum=Pending;Starting;Running;Succeeded;Failed
type Phase string

// The phases: Pending until the master answers, Starting while it waits
// for its workers, Running, then Succeeded or Failed with the verdict.
const (
	PhasePending   Phase = "Pending"
	PhaseStarting  Phase = "Starting"
	PhaseRunning   Phase = "Running"
	PhaseSucceeded Phase = "Succeeded"
	PhaseFailed    Phase = "Failed"
)

// Finished says whether the phase is a final one.
func (p Phase) Finished() bool { return p == PhaseSucceeded || p == PhaseFailed }

// HordeTestStatus is the test as the operator last saw it: live while it
// runs, the summary's figures once it has ended.
type HordeTestStatus struct {
	// ObservedGeneration is the spec generation the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	Phase Phase `json:"phase,omitempty"`
	// Message says what the test waits for, or why it ended as it did.
	// +optional
	Message string `json:"message,omitempty"`

	// Users running now (at the end, the peak), and the users the test
	// asks for.
	// +optional
	Users int32 `json:"users"`
	// +optional
	TargetUsers int32 `json:"targetUsers"`
	// Workers is "connected/expected", as kubectl get shows it.
	// +optional
	Workers string `json:"workers,omitempty"`
	// ReadyWorkers are the workers connected to the master.
	// +optional
	ReadyWorkers int32 `json:"readyWorkers"`
	// ExpectedWorkers is spec.workers.replicas.
	// +optional
	ExpectedWorkers int32 `json:"expectedWorkers"`

	// Requests and Failures counted so far; at the end, the summary's.
	// +optional
	Requests int64 `json:"requests"`
	// +optional
	Failures int64 `json:"failures"`
	// RPS is requests per second over the whole test (the summary's
	// totals.rps at the end), to three decimals.
	// +optional
	RPS float64 `json:"rps"`
	// CurrentRPS is requests per second over the last 10 s.
	// +optional
	CurrentRPS float64 `json:"currentRPS,omitempty"`
	// P95Ms is the 95th percentile of response times, in milliseconds.
	// +optional
	P95Ms float64 `json:"p95Ms"`
	// ElapsedSeconds since the test started, and its run time.
	// +optional
	ElapsedSeconds float64 `json:"elapsedSeconds,omitempty"`
	// +optional
	RunTimeSeconds float64 `json:"runTimeSeconds,omitempty"`
	// Shape is what a staged test's load does now.
	// +optional
	Shape string `json:"shape,omitempty"`

	// StartedAt is when the load began; CompletedAt when the verdict was
	// reached.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`

	// Verdict is Passed or Failed once the test has ended.
	// +optional
	Verdict string `json:"verdict,omitempty"`
	// ExitCode is horde's exit code for the test: 0 passed, 1 failed (a
	// threshold crossed; without thresholds, failed requests or script
	// errors), 2 bad input (a script that does not load), 3 the test
	// could not run.
	// +optional
	ExitCode *int32 `json:"exitCode,omitempty"`
	// Thresholds are the thresholds' results.
	// +optional
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	// Summary says where the test's summary is.
	// +optional
	Summary *SummaryLocation `json:"summary,omitempty"`

	// MasterRestarts counts the master's restarts during the test: a
	// restarted master runs the test again from its start (its workers
	// rejoin it).
	// +optional
	MasterRestarts int32 `json:"masterRestarts,omitempty"`
	// Applied is the load last given to the master (its command line, or
	// an edit): a spec that differs is sent to the running test.
	// +optional
	Applied *AppliedLoad `json:"applied,omitempty"`
	// CleanedUp says the clean-up policy has been carried out.
	// +optional
	CleanedUp bool `json:"cleanedUp,omitempty"`
}

// ThresholdResult is one threshold, as the summary reports it.
type ThresholdResult struct {
	Expr string `json:"expr"`
	// Value is what was measured.
	Value  float64 `json:"value"`
	Passed bool    `json:"passed"`
	// +optional
	Note string `json:"note,omitempty"`
}

// SummaryLocation is where the summary and reports are.
type SummaryLocation struct {
	// ConfigMap holds the summary JSON (the --json format) under key
	// summary.json; it lives as long as the HordeTest.
	// +optional
	ConfigMap string `json:"configMap,omitempty"`
	// Reports is where the master writes its report files on
	// spec.reports.claimName: "pvc/CLAIM/NAME.json".
	// +optional
	Reports string `json:"reports,omitempty"`
	// RunID is the run's id in spec.reports' run store.
	// +optional
	RunID string `json:"runID,omitempty"`
}

// AppliedLoad is the load the master was last given.
type AppliedLoad struct {
	Users int32 `json:"users"`
	// +optional
	SpawnRate float64 `json:"spawnRate,omitempty"`
	// +optional
	Rate float64 `json:"rate,omitempty"`
}
