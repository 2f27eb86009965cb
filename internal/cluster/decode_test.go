package cluster

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
)

// TestCompactReportIsSmallerAndExact: the master's hard case, 100
// endpoints of 100 requests spread over 1–200 ms, travels in the runs
// form, in a smaller message, and decodes to exactly the same delta.
func TestCompactReportIsSmallerAndExact(t *testing.T) {
	t.Parallel()
	d := recordSpread(100*100, 100, time.Millisecond, 200*time.Millisecond).delta
	sparse, compact := DeltaToPB(d, 1, 1, false), DeltaToPBCompact(d, 1, 1, false)
	runs := 0
	for _, ep := range compact.Endpoints {
		if len(ep.Histogram.Runs) > 0 {
			runs++
		}
	}
	if runs != len(compact.Endpoints) {
		t.Errorf("%d of %d histograms in the runs form, want all", runs, len(compact.Endpoints))
	}
	if cs, ss := proto.Size(compact), proto.Size(sparse); cs >= ss*3/4 {
		t.Errorf("compact message %d bytes, sparse %d: want at least a quarter less", cs, ss)
	}
	a, _ := roundTripWith(t, d, DeltaToPB)
	b, _ := roundTripWith(t, d, DeltaToPBCompact)
	for k, e := range a.Endpoints {
		f := b.Endpoints[k]
		if f == nil || f.Requests != e.Requests || f.SumUS != e.SumUS || !reflect.DeepEqual(f.Hist.Data(), e.Hist.Data()) {
			t.Fatalf("%v differs between the two forms", k)
		}
	}
}

// validRunsStats is validSparseStats with its histogram in the runs form:
// buckets 317, 381 and 413, one sample each.
func validRunsStats() *pb.Stats {
	m := validSparseStats()
	h := m.Endpoints[0].Histogram
	h.Sparse, h.Runs = nil, binary.AppendUvarint(binary.AppendUvarint([]byte{0<<3 | 1}, 63<<3|1), 31<<3|1)
	return m
}

func badRunsCases() []badStats {
	h := func(m *pb.Stats) *pb.Histogram { return m.Endpoints[0].Histogram }
	return []badStats{
		{"runs and dense counts", func(m *pb.Stats) { h(m).Counts = []uint64{3} }, false},
		{"runs and sparse", func(m *pb.Stats) { h(m).Sparse = []uint64{0, 3} }, false},
		{"runs truncated", func(m *pb.Stats) { h(m).Runs = h(m).Runs[:len(h(m).Runs)-1] }, false},
		{"runs count differs", func(m *pb.Stats) { h(m).Runs[0] = 0<<3 | 2 }, false},
		{"runs gap beyond the last bucket", func(m *pb.Stats) {
			h(m).Runs = binary.AppendUvarint(h(m).Runs, stats.NumBuckets<<3|1)
			m.Endpoints[0].Requests++
		}, false},
		{"runs count overflows", func(m *pb.Stats) {
			h(m).Runs = append(binary.AppendUvarint([]byte{0 << 3}, math.MaxUint64), h(m).Runs[1:]...)
		}, false},
		{"runs negative first", func(m *pb.Stats) { h(m).First = -1 }, false},
		{"runs max outside its bucket", func(m *pb.Stats) { h(m).Max += 1000 }, false},
	}
}

func TestDecodeStatsRefusesBadRuns(t *testing.T) {
	t.Parallel()
	var d stats.DeltaData
	if err := DecodeStats(validRunsStats(), &d); err != nil || len(d.Endpoints) != 1 || d.Endpoints[0].Hist.Count() != 3 {
		t.Fatalf("the valid message: %v, %+v", err, d)
	}
	for _, tc := range badRunsCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := validRunsStats()
			tc.mutate(m)
			d := stats.DeltaData{Dropped: 3}
			if err := DecodeStats(m, &d); !errors.Is(err, ErrBadStats) || len(d.Endpoints) != 0 || d.Dropped != 0 {
				t.Fatalf("DecodeStats = %v, left %+v; want ErrBadStats and nothing", err, d)
			}
			if got, err := DeltaFromPB(m); !errors.Is(err, ErrBadStats) || got != nil {
				t.Fatalf("DeltaFromPB = %v, %v; want ErrBadStats", got, err)
			}
		})
	}
}

// TestDecodeStatsRowOrder: rows in any order are accepted; a name twice
// is refused wherever the second one is.
func TestDecodeStatsRowOrder(t *testing.T) {
	t.Parallel()
	rows := []*pb.Endpoint{endpointOf("/c", 1), endpointOf("/a", 2), endpointOf("/b", 3)}
	var d stats.DeltaData
	if err := DecodeStats(&pb.Stats{Endpoints: rows}, &d); err != nil || len(d.Endpoints) != 3 {
		t.Fatalf("unsorted rows: %v, %d rows", err, len(d.Endpoints))
	}
	if req, _ := d.Requests(); req != 6 {
		t.Errorf("%d requests, want 6", req)
	}
	for _, dup := range [][]*pb.Endpoint{
		{endpointOf("/c", 1), endpointOf("/a", 2), endpointOf("/c", 3)},
		{endpointOf("/a", 1), endpointOf("/a", 2)},
		slices.Concat(rows, rows),
	} {
		if err := DecodeStats(&pb.Stats{Endpoints: dup}, &d); !errors.Is(err, ErrBadStats) || len(d.Endpoints) != 0 {
			t.Errorf("duplicate rows accepted: %v", err)
		}
	}
}

// TestDecodeStatsReuse: a DeltaData reused for the next message holds that
// message only.
func TestDecodeStatsReuse(t *testing.T) {
	t.Parallel()
	var d stats.DeltaData
	first := DeltaToPBCompact(record(2000, 5).delta, 1, 1, false)
	if err := DecodeStats(first, &d); err != nil || len(d.Errors) == 0 || len(d.Exceptions) == 0 {
		t.Fatalf("first message: %v, %d errors, %d exceptions", err, len(d.Errors), len(d.Exceptions))
	}
	second := &pb.Stats{Endpoints: []*pb.Endpoint{endpointOf("/z", 4)}, Dropped: 2}
	if err := DecodeStats(second, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Endpoints) != 1 || d.Endpoints[0].Name != "/z" || len(d.Errors) != 0 || len(d.Exceptions) != 0 || d.Dropped != 2 {
		t.Errorf("second message decoded as %+v", d)
	}
}
