package cluster

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
)

// benchCase is one shape of a worker's report: 100 endpoints, perEndpoint
// requests each, latencies log-uniform over lo–hi. 1–100 ms makes
// histograms of about 420 buckets; 0.1 ms – 2 s about 1,000.
type benchCase struct {
	perEndpoint int
	lo, hi      time.Duration
}

var benchCases = []benchCase{
	{100, time.Millisecond, 100 * time.Millisecond},
	{1000, time.Millisecond, 100 * time.Millisecond},
	{1000, 100 * time.Microsecond, 2 * time.Second},
}

func (c benchCase) String() string { return fmt.Sprintf("req=%d/%v-%v", c.perEndpoint, c.lo, c.hi) }

func (c benchCase) stats(b *testing.B) *pb.Stats {
	b.Helper()
	m := DeltaToPB(recordSpread(100*c.perEndpoint, 100, c.lo, c.hi).delta, 1, 100, false)
	if len(m.Endpoints) != 100 {
		b.Fatalf("%d endpoints, want 100", len(m.Endpoints))
	}
	return m
}

// BenchmarkDeltaFromPB is the cost of a report turned into a Delta that
// owns its memory (histograms rebuilt); the master does not do this any
// more (see BenchmarkDecodeStats).
func BenchmarkDeltaFromPB(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.String(), func(b *testing.B) {
			m := c.stats(b)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DeltaFromPB(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeStats is the master's cost per report before the merge:
// protobuf unmarshalling, then DecodeStats checking it in place, for each
// form a worker writes.
func BenchmarkDecodeStats(b *testing.B) {
	for _, c := range benchCases {
		for _, enc := range []string{"DeltaToPB", "DeltaToPBCompact"} {
			b.Run(c.String()+"/"+enc, func(b *testing.B) {
				d := recordSpread(100*c.perEndpoint, 100, c.lo, c.hi).delta
				raw, err := proto.Marshal(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Stats{Stats: encoders[enc](d, 1, 100, false)}})
				if err != nil {
					b.Fatal(err)
				}
				var scratch stats.DeltaData
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					var m pb.WorkerMessage
					if err := proto.Unmarshal(raw, &m); err != nil {
						b.Fatal(err)
					}
					if err := DecodeStats(m.GetStats(), &scratch); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDeltaToPB is the worker's cost per report.
func BenchmarkDeltaToPB(b *testing.B) {
	c := benchCases[1]
	d := recordSpread(100*c.perEndpoint, 100, c.lo, c.hi).delta
	b.ReportAllocs()
	for b.Loop() {
		DeltaToPB(d, 1, 100, false)
	}
}
