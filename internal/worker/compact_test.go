package worker

import (
	"context"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// TestHistogramFormFollowsTheWelcome: a worker sends histograms in the
// compact runs form only to a master whose Welcome says it reads them;
// to another (an older master) it sends the forms every master reads.
func TestHistogramFormFollowsTheWelcome(t *testing.T) {
	base, _ := targettest.Start(t, target.Options{})
	url := base + "/delay/3"

	for _, compact := range []bool{true, false} {
		t.Run(map[bool]string{true: "compact master", false: "older master"}[compact], func(t *testing.T) {
			h := firstHistogram(t, url, compact)
			if got := len(h.Runs) > 0; got != compact {
				t.Errorf("runs form sent: %v, want %v (histogram %v)", got, compact, h)
			}
			if len(h.Counts) == 0 && len(h.Sparse) == 0 && len(h.Runs) == 0 {
				t.Error("an empty histogram for a row with requests")
			}
		})
	}
}

// firstHistogram plays a master that welcomes one worker, gives it a user
// and returns the histogram of the first row it reports.
func firstHistogram(t *testing.T, url string, compact bool) *pb.Histogram {
	t.Helper()
	ms, ws, closePipe := cluster.Pipe()
	defer closePipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	dial := func(context.Context) (cluster.WorkerStream, func() error, error) {
		return ws, func() error { closePipe(); return nil }, nil
	}
	go func() { done <- Run(ctx, Options{Dial: dial, ID: "w", ReconnectMin: time.Hour}) }()
	defer func() { cancel(); closePipe(); <-done }()

	if m, err := ms.Recv(); err != nil || m.GetHello() == nil {
		t.Fatalf("first message %v, %v: want a hello", m, err)
	}
	welcome := &pb.Welcome{MasterRunId: "r", ReportIntervalMs: 50, HeartbeatIntervalMs: 1000, MissingTimeoutMs: 60000,
		Bundle: &pb.Bundle{Url: url, Hash: "h", StopTimeoutMs: 100}, CompactHistograms: compact}
	for _, m := range []*pb.MasterMessage{
		{Msg: &pb.MasterMessage_Welcome{Welcome: welcome}},
		{Msg: &pb.MasterMessage_Target{Target: &pb.Target{Epoch: 1, Users: map[string]int32{"URL": 1}}}},
	} {
		if err := ms.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m, err := ms.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if s := m.GetStats(); s != nil && len(s.Endpoints) > 0 {
			var dd stats.DeltaData
			if err := cluster.DecodeStats(s, &dd); err != nil {
				t.Fatalf("the master refuses the report: %v", err)
			}
			return s.Endpoints[0].Histogram
		}
	}
	t.Fatal("no report with requests within 10 s")
	return nil
}
