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

// The load of BenchmarkMasterMerge1000Workers: every worker reports 100
// endpoints each second, each with samplesPerEndpoint requests whose
// latencies spread over 1–201 ms (about 100 of an endpoint's 480 buckets
// filled every second: the hard case).
const (
	benchWorkers       = 1000
	benchEndpoints     = 100
	samplesPerEndpoint = 100
)

// BenchmarkMasterMerge1000Workers is one second of a big test's master
// work: 1,000 workers each deliver a delta of 100 endpoints (decoded from
// the wire, validated, merged), then the master ticks its history and
// builds one snapshot. ns/op ÷ 1e9 is the fraction of a core the master
// needs (reported as cores); the target is under half a core. "compact"
// is what today's workers send, read as the master reads it from gRPC
// (a cluster.Decoder per stream, in place); "sparse" what workers send to a master
// that does not announce compact histograms (and what older workers
// send); "compact-unmarshalled" is the compact report unmarshalled into
// its protobuf form first, as the master read it before DecodeWire.
func BenchmarkMasterMerge1000Workers(b *testing.B) {
	for _, tc := range []struct {
		name    string
		toPB    func(*stats.Delta, uint64, int32, bool) *pb.Stats
		inPlace bool
		samples int
	}{
		{"compact", cluster.DeltaToPBCompact, true, samplesPerEndpoint},
		{"sparse", cluster.DeltaToPB, true, samplesPerEndpoint},
		{"compact-unmarshalled", cluster.DeltaToPBCompact, false, samplesPerEndpoint},
		// bench-scale's simulated workers: 10 requests a second per endpoint
		{"compact-10-per-endpoint", cluster.DeltaToPBCompact, true, 10},
	} {
		b.Run(tc.name, func(b *testing.B) { benchMerge(b, tc.toPB, tc.inPlace, tc.samples) })
	}
}

func benchMerge(b *testing.B, toPB func(*stats.Delta, uint64, int32, bool) *pb.Stats, inPlace bool, samples int) {
	sc := &scenario.Scenario{Users: []*scenario.UserClass{{Name: "U", Weight: 1,
		Tasks: []scenario.Task{{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error { return nil }}}}}}
	m, err := New(Options{Scenario: sc})
	if err != nil {
		b.Fatal(err)
	}
	wire := benchWire(b, toPB, samples)
	conns := make([]*workerConn, benchWorkers)
	for i := range conns {
		conns[i], _, _ = m.admit(&pb.Hello{WorkerId: fmt.Sprintf("w%04d", i)}, func() {})
	}
	size := 0
	for _, w := range wire {
		size += len(w)
	}
	var rows stats.DeltaData
	decs := make([]cluster.Decoder, len(conns)) // one per stream, as the master has
	wheres := make([]stats.RowCache, len(conns))
	now := time.Now()
	b.ResetTimer()
	for n := range b.N {
		for i, c := range conns {
			if inPlace {
				msg, rowsErr, err := decs[i].Decode(wire[i], &rows)
				if err != nil || rowsErr != nil {
					b.Fatal(err, rowsErr)
				}
				m.apply(c, c.gen, msg, &rows, nil, &wheres[i])
				continue
			}
			var msg pb.WorkerMessage
			if err := proto.Unmarshal(wire[i], &msg); err != nil {
				b.Fatal(err)
			}
			m.handle(c, c.gen, &msg)
		}
		at := now.Add(time.Duration(n) * time.Second)
		m.agg.Tick(at, 10*benchWorkers)
		_ = m.agg.Snapshot(at)
	}
	b.StopTimer()
	if got, want := m.agg.Snapshot(now).Total.Requests, int64(b.N*benchWorkers*benchEndpoints*samples); got != want {
		b.Fatalf("merged %d requests, want %d", got, want)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e9, "cores")
	b.ReportMetric(float64(after.HeapAlloc)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(size)/(1<<20), "wire-MiB/s")
}

// benchWire returns each worker's marshalled report.
func benchWire(b *testing.B, toPB func(*stats.Delta, uint64, int32, bool) *pb.Stats, samples int) [][]byte {
	wire := make([][]byte, benchWorkers)
	for i := range wire {
		d := stats.NewDelta()
		for e := range benchEndpoints {
			var row stats.Entry
			for k := range samples {
				row.Add(time.Duration(1000+(i*31+e*17+k*1999)%200000)*time.Microsecond, 512, false)
			}
			d.Endpoints[stats.Key{Method: "GET", Name: fmt.Sprintf("/api/item/%d", e)}] = &row
		}
		var err error
		msg := &pb.WorkerMessage{Msg: &pb.WorkerMessage_Stats{Stats: toPB(d, 1, 10, false)}}
		if wire[i], err = proto.Marshal(msg); err != nil {
			b.Fatal(err)
		}
	}
	return wire
}
