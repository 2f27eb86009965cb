package cluster

import (
	"math/big"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
)

// fuzzSeeds are marshalled messages to start from: valid deltas in each
// form of histogram, an empty one, one with a broken histogram.
func fuzzSeeds(f *testing.F, wrap func(*pb.Stats) proto.Message) {
	bad := validStats()
	bad.Endpoints[0].Histogram.Counts[0] += 5
	for _, m := range []*pb.Stats{validStats(), validRunsStats(), DeltaToPB(record(300, 3).delta, 9, 2, true),
		DeltaToPBCompact(record(300, 3).delta, 9, 2, true), {}, bad} {
		b, err := proto.Marshal(wrap(m))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x12, 0x04, 0x1a, 0x02, 0x2f, 0x61})
	f.Add([]byte("\x00\xff\x00\xff"))
}

// FuzzDecodeStats: whatever bytes a worker sends as Stats, DeltaFromPB
// and DecodeStats do not panic and agree, a delta they accept is
// consistent, merges into the master's aggregate as its rows say, and
// survives another round trip (in either form) unchanged.
func FuzzDecodeStats(f *testing.F) {
	fuzzSeeds(f, func(m *pb.Stats) proto.Message { return m })
	f.Fuzz(func(t *testing.T, b []byte) {
		var m pb.Stats
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		checkDecoded(t, &m)
	})
}

// FuzzDecodeWorkerMessage: the same for a whole worker message, as the
// master receives it.
func FuzzDecodeWorkerMessage(f *testing.F) {
	fuzzSeeds(f, func(m *pb.Stats) proto.Message {
		return &pb.WorkerMessage{Msg: &pb.WorkerMessage_Stats{Stats: m}}
	})
	f.Add(mustMarshal(f, hello("w")))
	f.Add(mustMarshal(f, heartbeat(3)))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m pb.WorkerMessage
		if proto.Unmarshal(b, &m) != nil {
			return
		}
		checkHello(&m) // the admission check must not panic either
		if s := m.GetStats(); s != nil {
			checkDecoded(t, s)
		}
	})
}

func mustMarshal(f *testing.F, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func checkDecoded(t *testing.T, m *pb.Stats) {
	var dd stats.DeltaData
	errData := DecodeStats(m, &dd)
	d, err := DeltaFromPB(m)
	if (err == nil) != (errData == nil) {
		t.Fatalf("DeltaFromPB says %v, DecodeStats %v", err, errData)
	}
	if err != nil {
		return
	}
	checkConsistent(t, d)
	checkMerged(t, d, &dd)
	r1, f1 := d.Requests()
	for name, toPB := range encoders {
		again, err := DeltaFromPB(toPB(d, m.Seq, m.Users, m.Final))
		if err != nil {
			t.Fatalf("an accepted delta does not survive a second round trip through %s: %v", name, err)
		}
		if r2, f2 := again.Requests(); r1 != r2 || f1 != f2 {
			t.Fatalf("second round trip through %s: %d/%d requests/failures, first %d/%d", name, r2, f2, r1, f1)
		}
	}
}

// checkMerged asserts that the master's aggregate of an accepted message,
// merged in place, holds what its rows say.
func checkMerged(t *testing.T, d *stats.Delta, dd *stats.DeltaData) {
	now := time.Unix(1e9, 0)
	a := stats.NewAggregate(stats.AggregateOptions{})
	a.AddData(dd, now)
	var want stats.Entry
	for _, e := range d.Endpoints {
		want.Merge(e)
	}
	got := a.Snapshot(now).Total
	if got.Requests != want.Requests || got.Failures != want.Failures || got.Latency != want.Latency() {
		t.Fatalf("aggregate total %d/%d %+v, rows say %d/%d %+v", got.Requests, got.Failures, got.Latency,
			want.Requests, want.Failures, want.Latency())
	}
}

// checkConsistent asserts what the master relies on in an accepted delta.
func checkConsistent(t *testing.T, d *stats.Delta) {
	var failures, errs int64
	for k, e := range d.Endpoints {
		if e.Requests < 0 || e.Failures < 0 || e.Failures > e.Requests || e.SumUS < 0 || e.Bytes < 0 {
			t.Fatalf("%v: inconsistent counts %+v", k, e)
		}
		if e.Hist.Count() != uint64(e.Requests) {
			t.Fatalf("%v: histogram holds %d, requests %d", k, e.Hist.Count(), e.Requests)
		}
		n, sum := big.NewInt(e.Requests), big.NewInt(e.SumUS)
		lo, hi := new(big.Int).Mul(n, big.NewInt(e.MinUS())), new(big.Int).Mul(n, big.NewInt(e.MaxUS()))
		if sum.Cmp(lo) < 0 || sum.Cmp(hi) > 0 {
			t.Fatalf("%v: latency sum %d outside %d × [%d, %d]", k, e.SumUS, e.Requests, e.MinUS(), e.MaxUS())
		}
		failures += e.Failures
	}
	for _, n := range d.Errors {
		if n < 0 {
			t.Fatalf("negative error count %d", n)
		}
		errs += n
	}
	if errs > failures {
		t.Fatalf("%d errors for %d failures", errs, failures)
	}
}
