package operator

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/horde-load/horde/internal/exitcode"
	v1 "github.com/horde-load/horde/internal/operator/api/v1alpha1"
	"github.com/horde-load/horde/internal/report"
)

// observe turns the master's statistics into the status: the phase, the
// live figures, a restart of the master; it sends the spec's load and a
// stop to the running test, and ends a test that has stopped.
func (r *Reconciler) observe(ctx context.Context, ht *v1.HordeTest, mc *masterClient, s *masterStats) error {
	st := &ht.Status
	st.ReadyWorkers = s.connected()
	st.Workers = fmt.Sprintf("%d/%d", st.ReadyWorkers, st.ExpectedWorkers)
	started, _ := time.Parse(time.RFC3339, s.Started)
	if st.StartedAt != nil && (s.State == stateReady || started.IsZero() || !started.Equal(st.StartedAt.Time)) {
		// A test the status saw start is not the master's: the master
		// restarted (and, with --autostart, starts the test again).
		st.MasterRestarts++
		st.StartedAt, st.Applied = nil, nil
		r.Recorder.Eventf(ht, corev1.EventTypeWarning, "MasterRestarted",
			"the master restarted (%d so far): the test runs again from its start, its workers rejoin it", st.MasterRestarts)
	}
	switch {
	case s.State == stateStopped && !started.IsZero():
		at := metav1.NewTime(started)
		st.StartedAt = &at
		return r.finish(ctx, ht, mc, s)
	case s.running() && !started.IsZero():
		if st.StartedAt == nil {
			at := metav1.NewTime(started)
			st.StartedAt = &at
		}
		if st.Phase != v1.PhaseRunning {
			st.Phase = v1.PhaseRunning
			r.Recorder.Eventf(ht, corev1.EventTypeNormal, "Started", "the load began: %d users on %d workers", s.TargetUsers, st.ReadyWorkers)
		}
		live(st, s)
		st.Message = s.Shape
		if ht.Spec.Stop {
			if s.State == stateStopping {
				return nil
			}
			if err := mc.stop(ctx); err != nil {
				return fmt.Errorf("stopping the test: %w", err)
			}
			r.Recorder.Event(ht, corev1.EventTypeNormal, "Stopping", "spec.stop: the test stops now")
			return nil
		}
		return r.applyLoad(ctx, ht, mc, s)
	default:
		st.Phase = v1.PhaseStarting
		st.Message = fmt.Sprintf("waiting for the workers: %d of %d connected", st.ReadyWorkers, expectWorkers(ht))
		if ht.Spec.Stop {
			r.end(ht, exitcode.CannotRun, "stopped (spec.stop) before the test started")
			return nil
		}
		r.checkStartTimeout(ht)
	}
	return nil
}

// live copies the running test's figures.
func live(st *v1.HordeTestStatus, s *masterStats) {
	st.Users, st.TargetUsers = s.Users, s.TargetUsers
	st.Requests, st.Failures = s.Total.Requests, s.Total.Failures
	st.RPS, st.CurrentRPS, st.P95Ms = round(s.Total.RPS), round(s.Total.CurrentRPS), s.Total.Latency.P95
	st.ElapsedSeconds, st.RunTimeSeconds, st.Shape = round(s.ElapsedS), s.RunTimeS, s.Shape
}

// round keeps three decimals of a rate, enough for a status that a person
// reads, and stable between two looks at the same figure.
func round(f float64) float64 { return math.Round(f*1000) / 1000 }

// applyLoad sends the spec's users and rates to the running test when
// they differ from what the master was last given.
func (r *Reconciler) applyLoad(ctx context.Context, ht *v1.HordeTest, mc *masterClient, s *masterStats) error {
	st := &ht.Status
	if len(ht.Spec.Stages) > 0 {
		return nil // the stages decide the load
	}
	want := v1.AppliedLoad{Users: ht.Spec.Users, SpawnRate: ht.Spec.SpawnRate, Rate: ht.Spec.Rate}
	if st.Applied == nil && s.TargetUsers == want.Users && s.ArrivalRate == want.Rate &&
		(want.SpawnRate == 0 || s.SpawnRate == want.SpawnRate) {
		st.Applied = &want // what the master runs already
	}
	if st.Applied != nil && *st.Applied == want {
		return nil
	}
	if err := mc.edit(ctx, want.Users, want.SpawnRate, want.Rate); err != nil {
		r.Recorder.Eventf(ht, corev1.EventTypeWarning, "EditFailed", "the master refused the new load: %v", err)
		return fmt.Errorf("editing the running test: %w", err)
	}
	from := "?"
	if st.Applied != nil {
		from = fmt.Sprint(st.Applied.Users)
	}
	r.Recorder.Eventf(ht, corev1.EventTypeNormal, "Edited", "users %s → %d (spawn rate %s, rate %s): the running test changes",
		from, want.Users, formatFloat(want.SpawnRate), formatFloat(want.Rate))
	st.Applied = &want
	return nil
}

// finish reads the stopped test's summary, keeps it in a ConfigMap, and
// gives the test the summary's figures and its verdict.
func (r *Reconciler) finish(ctx context.Context, ht *v1.HordeTest, mc *masterClient, s *masterStats) error {
	st := &ht.Status
	data, err := mc.report(ctx)
	if err != nil {
		return fmt.Errorf("reading the summary (/api/v1/report.json): %w", err)
	}
	sum, err := report.DecodeSummary(data)
	if err != nil {
		return fmt.Errorf("the master's summary: %w", err)
	}
	loc := &v1.SummaryLocation{}
	if len(data) <= maxConfigMap {
		if err := r.saveSummary(ctx, ht, data); err != nil {
			return err
		}
		loc.ConfigMap = summaryName(ht)
	}
	if rp := ht.Spec.Reports; rp != nil && rp.ClaimName != "" {
		loc.Reports = fmt.Sprintf("pvc/%s/%s.json", rp.ClaimName, ht.Name)
	}
	if hasStore(ht) {
		if id, err := mc.latestRun(ctx); err == nil {
			loc.RunID = id
		}
	}
	st.Summary = loc
	st.Users, st.TargetUsers = int32(sum.UsersPeak), s.TargetUsers
	st.Requests, st.Failures = sum.Totals.Requests, sum.Totals.Failures
	st.RPS, st.P95Ms = round(sum.Totals.RPS), sum.Totals.Latency.P95
	st.ElapsedSeconds, st.RunTimeSeconds, st.Shape = sum.DurationS, s.RunTimeS, sum.Shape
	st.ReadyWorkers = s.connected()
	st.Thresholds = nil
	for _, t := range sum.Thresholds {
		st.Thresholds = append(st.Thresholds, v1.ThresholdResult{Expr: t.Expr, Value: t.Value, Passed: t.Passed, Note: t.Note})
	}
	outcome := sum.Outcome()
	msg := passedMessage(sum)
	if outcome != nil {
		msg = outcome.Error()
	}
	r.end(ht, exitcode.Code(outcome), msg)
	return nil
}

func passedMessage(s report.Summary) string {
	msg := fmt.Sprintf("passed: %d requests, %d failed, p95 %s ms", s.Totals.Requests, s.Totals.Failures, formatFloat(s.Totals.Latency.P95))
	if n := len(s.Thresholds); n > 0 {
		msg += fmt.Sprintf(", %d of %d thresholds passed", n, n)
	}
	return msg
}

// saveSummary creates (or, after a restart of the master, replaces) the
// summary's ConfigMap.
func (r *Reconciler) saveSummary(ctx context.Context, ht *v1.HordeTest, data []byte) error {
	want := newSummary(ht, data)
	var cm corev1.ConfigMap
	err := r.Reader.Get(ctx, key(ht, want.Name), &cm)
	if err == nil {
		orig := cm.DeepCopy()
		cm.Data = want.Data
		return r.Client.Patch(ctx, &cm, client.MergeFrom(orig))
	}
	if !apierrors.IsNotFound(err) {
		return err
	}
	return r.create(ctx, ht, want)
}

// lastLine is the last non-empty line of a container's termination
// message (horde's one-line error).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return "(no message)"
}
