package master

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

// BenchmarkMasterMerge1000Workers is one second of a big test's master
// work: 1,000 workers each deliver a delta of 100 endpoints (decoded from
// the wire, validated, merged), then the master ticks its history and
// builds one snapshot. ns/op ÷ 1e9 is the fraction of a core the master
// needs; the target is under half a core.
func BenchmarkMasterMerge1000Workers(b *testing.B) {
	const workers, endpoints, samplesPerEndpoint = 1000, 100, 100
	sc := &scenario.Scenario{Users: []*scenario.UserClass{{Name: "U", Weight: 1,
		Tasks: []scenario.Task{{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error { return nil }}}}}}
	m, err := New(Options{Scenario: sc})
	if err != nil {
		b.Fatal(err)
	}
	wire := make([][]byte, workers)
	for i := range workers {
		col := stats.NewCollector(1)
		for e := range endpoints {
			for k := range samplesPerEndpoint {
				col.Record(stats.Sample{Key: stats.Key{Method: "GET", Name: fmt.Sprintf("/api/item/%d", e)},
					Latency: time.Duration(1000+(i*31+e*17+k*1999)%200000) * time.Microsecond, Bytes: 512})
			}
		}
		msg := &pb.WorkerMessage{Msg: &pb.WorkerMessage_Stats{Stats: cluster.DeltaToPB(col.Cut(), 1, 10, false)}}
		if wire[i], err = proto.Marshal(msg); err != nil {
			b.Fatal(err)
		}
	}
	conns := make([]*workerConn, workers)
	for i := range workers {
		conns[i], _, _ = m.admit(&pb.Hello{WorkerId: fmt.Sprintf("w%04d", i)}, func() {})
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	now := time.Now()
	b.ResetTimer()
	for n := range b.N {
		for i, c := range conns {
			var msg pb.WorkerMessage
			if err := proto.Unmarshal(wire[i], &msg); err != nil {
				b.Fatal(err)
			}
			m.handle(c, c.gen, &msg)
		}
		at := now.Add(time.Duration(n) * time.Second)
		m.agg.Tick(at, 10*workers)
		_ = m.agg.Snapshot(at)
	}
	b.StopTimer()
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e9, "cores")
	b.ReportMetric(float64(after.HeapAlloc)/(1<<20), "heap-MiB")
}
