package master

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

// mergeMaster is a master with n admitted workers, on a fixed clock.
func mergeMaster(t *testing.T, n int, now time.Time) (*Master, []*workerConn) {
	t.Helper()
	sc := &scenario.Scenario{Users: []*scenario.UserClass{{Name: "U", Weight: 1,
		Tasks: []scenario.Task{{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error { return nil }}}}}}
	m, err := New(Options{Scenario: sc, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]*workerConn, n)
	for i := range conns {
		conns[i], _, _ = m.admit(&pb.Hello{WorkerId: fmt.Sprintf("w%d", i)}, func() {})
	}
	return m, conns
}

// workerReport is a worker's delta of 20 endpoints with latencies over
// 0.5–300 ms, some failing.
func workerReport(r *rand.Rand) *stats.Delta {
	d := stats.NewDelta()
	for e := range 20 {
		row := &stats.Entry{}
		for range 1 + r.IntN(200) {
			row.Add(time.Duration(500+r.IntN(300000))*time.Microsecond, 100, r.IntN(40) == 0)
		}
		d.Endpoints[stats.Key{Method: "GET", Name: fmt.Sprint("/item/", e)}] = row
	}
	return d
}

// send delivers a report as the master receives it: marshalled, then
// unmarshalled.
func send(t *testing.T, m *Master, w *workerConn, s *pb.Stats) {
	t.Helper()
	b, err := proto.Marshal(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Stats{Stats: s}})
	if err != nil {
		t.Fatal(err)
	}
	var msg pb.WorkerMessage
	if err := proto.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	m.handle(w, w.gen, &msg)
}

// figures is what a user reads of a row, percentiles included.
func figures(r stats.Row) string {
	var qs []float64
	for _, q := range []float64{0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999} {
		qs = append(qs, r.Percentile(q))
	}
	return fmt.Sprintf("%d %d %+v %v %v", r.Requests, r.Failures, r.Latency, r.BytesAvg, qs)
}

// TestMasterTotalIsTheSumOfWhatWorkersSent: workers old and new (sparse
// and compact histograms) report; the Aggregated row is exactly the sum of
// every endpoint row they sent, and so is each endpoint row. The master
// sums each report itself: a worker has no say in the total.
func TestMasterTotalIsTheSumOfWhatWorkersSent(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	m, conns := mergeMaster(t, 6, now)
	r := rand.New(rand.NewPCG(4, 2))
	want := stats.NewDelta()
	var total stats.Entry
	for round := range 3 {
		for i, w := range conns {
			d := workerReport(r)
			want.Merge(d)
			for _, e := range d.Endpoints {
				total.Merge(e)
			}
			toPB := cluster.DeltaToPB
			if i%2 == 0 {
				toPB = cluster.DeltaToPBCompact
			}
			send(t, m, w, toPB(d, uint64(round), 1, false))
		}
	}
	snap := m.Snapshot(now)
	agg := aggregateOf(t, &stats.Delta{Endpoints: map[stats.Key]*stats.Entry{{Name: "x"}: &total}}, now)
	if got, w := figures(snap.Total), figures(agg.Snapshot(now).Endpoints[0]); got != w {
		t.Errorf("Aggregated row\n %s\nwant the sum of every row sent\n %s", got, w)
	}
	if len(snap.Endpoints) != len(want.Endpoints) {
		t.Fatalf("%d rows, want %d", len(snap.Endpoints), len(want.Endpoints))
	}
	for _, row := range snap.Endpoints {
		ref := aggregateOf(t, &stats.Delta{Endpoints: map[stats.Key]*stats.Entry{{Name: "x"}: want.Endpoints[stats.Key{Method: row.Method, Name: row.Name}]}}, now)
		if got, w := figures(row), figures(ref.Snapshot(now).Endpoints[0]); got != w {
			t.Errorf("%s %s:\n %s\nwant\n %s", row.Method, row.Name, got, w)
		}
	}
}

// TestMasterDropsAnInconsistentReport: a report with one row that does not
// add up is dropped whole; nothing of it reaches the statistics.
func TestMasterDropsAnInconsistentReport(t *testing.T) {
	t.Parallel()
	spoil := []struct {
		name string
		do   func(s *pb.Stats)
	}{
		{"histogram holds more than the row's requests", func(s *pb.Stats) {
			h := s.Endpoints[7].Histogram
			h.Runs = binary.AppendUvarint(h.Runs, 1<<3|1)
			h.Max = 1 << 40 // and still ends in the max's bucket
		}},
		{"row counts fewer requests than its histogram", func(s *pb.Stats) { s.Endpoints[3].Requests-- }},
		{"a row twice", func(s *pb.Stats) { s.Endpoints[5] = s.Endpoints[4] }},
		{"more failures than requests", func(s *pb.Stats) { s.Endpoints[9].Failures = s.Endpoints[9].Requests + 1 }},
	}
	for _, tc := range spoil {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
			m, conns := mergeMaster(t, 2, now)
			r := rand.New(rand.NewPCG(8, 8))
			send(t, m, conns[0], cluster.DeltaToPBCompact(workerReport(r), 1, 1, false))
			before := m.Snapshot(now)
			bad := cluster.DeltaToPBCompact(workerReport(r), 1, 1, false)
			tc.do(bad)
			send(t, m, conns[1], bad)
			after := m.Snapshot(now)
			if figures(after.Total) != figures(before.Total) || len(after.Endpoints) != len(before.Endpoints) {
				t.Fatalf("the bad report changed the statistics:\n %s\n %s", figures(before.Total), figures(after.Total))
			}
			for i := range before.Endpoints {
				if figures(after.Endpoints[i]) != figures(before.Endpoints[i]) {
					t.Errorf("row %s changed", before.Endpoints[i].Name)
				}
			}
		})
	}
}

// aggregateOf is a fresh aggregate of d alone, merged the way the master
// merges what it receives: the reference to compare the master with.
func aggregateOf(t *testing.T, d *stats.Delta, now time.Time) *stats.Aggregate {
	t.Helper()
	var dd stats.DeltaData
	if err := cluster.DecodeStats(cluster.DeltaToPB(d, 0, 0, false), &dd); err != nil {
		t.Fatal(err)
	}
	agg := stats.NewAggregate(stats.AggregateOptions{})
	agg.AddData(&dd, now)
	return agg
}
