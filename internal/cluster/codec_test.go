package cluster

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
)

// recorded is a Collector's delta and the samples that made it.
type recorded struct {
	delta   *stats.Delta
	samples map[stats.Key][]int64 // latencies in µs
	failed  map[stats.Key]int64
}

// record feeds n samples over endpoints endpoints into a Collector and
// cuts them. Latencies are log-uniform over 0.1 ms – 2 s.
func record(n, endpoints int) recorded {
	return recordSpread(n, endpoints, 100*time.Microsecond, 2*time.Second)
}

// recordSpread is record with latencies log-uniform over lo–hi.
func recordSpread(n, endpoints int, lo, hi time.Duration) recorded {
	r := rand.New(rand.NewPCG(7, 7))
	c := stats.NewCollector(4)
	rec := recorded{samples: map[stats.Key][]int64{}, failed: map[stats.Key]int64{}}
	for i := range n {
		k := stats.Key{Method: []string{"GET", "POST"}[i%2], Name: fmt.Sprintf("/endpoint/%d", i%endpoints)}
		lat := time.Duration(float64(lo) * math.Pow(float64(hi)/float64(lo), r.Float64()))
		s := stats.Sample{Key: k, Latency: lat.Round(time.Microsecond), Bytes: int64(r.IntN(5000))}
		if r.IntN(20) == 0 {
			s.Err = []string{"HTTP 500", "connection reset"}[r.IntN(2)]
			rec.failed[k]++
		}
		c.For(i).Record(s)
		rec.samples[k] = append(rec.samples[k], lat.Round(time.Microsecond).Microseconds())
		if i%1000 == 0 {
			c.For(i).Exception(fmt.Sprintf("script error %d", i%3), "Traceback (most recent call last):\n  x.star:3")
		}
	}
	rec.delta = c.Cut()
	return rec
}

// roundTrip ships d the way a worker does: to a message, marshalled,
// unmarshalled, back to a delta.
func roundTrip(t testing.TB, d *stats.Delta) (*stats.Delta, *pb.Stats) {
	t.Helper()
	return roundTripWith(t, d, DeltaToPB)
}

// encoders are the two ways a worker writes its report.
var encoders = map[string]func(*stats.Delta, uint64, int32, bool) *pb.Stats{
	"DeltaToPB": DeltaToPB, "DeltaToPBCompact": DeltaToPBCompact,
}

// roundTripWith is roundTrip with the given encoder.
func roundTripWith(t testing.TB, d *stats.Delta, toPB func(*stats.Delta, uint64, int32, bool) *pb.Stats) (*stats.Delta, *pb.Stats) {
	t.Helper()
	b, err := proto.Marshal(toPB(d, 5, 42, true))
	if err != nil {
		t.Fatal(err)
	}
	var m pb.Stats
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	got, err := DeltaFromPB(&m)
	if err != nil {
		t.Fatal(err)
	}
	return got, &m
}

func TestDeltaRoundTripIsExact(t *testing.T) {
	t.Parallel()
	for name, toPB := range encoders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkRoundTripIsExact(t, toPB)
		})
	}
}

func checkRoundTripIsExact(t *testing.T, toPB func(*stats.Delta, uint64, int32, bool) *pb.Stats) {
	rec := record(20000, 12)
	rec.delta.Dropped = 7
	got, m := roundTripWith(t, rec.delta, toPB)
	if got.Dropped != 7 {
		t.Errorf("dropped = %d after the round trip, want 7", got.Dropped)
	}
	if m.Seq != 5 || m.Users != 42 || !m.Final {
		t.Errorf("seq/users/final = %d/%d/%v, want 5/42/true", m.Seq, m.Users, m.Final)
	}
	if !slices.IsSortedFunc(m.Endpoints, func(a, b *pb.Endpoint) int {
		return compareKeys(stats.Key{Method: a.Method, Name: a.Name}, stats.Key{Method: b.Method, Name: b.Name})
	}) {
		t.Error("endpoints are not sorted")
	}
	if len(got.Endpoints) != len(rec.samples) {
		t.Fatalf("%d endpoints, want %d", len(got.Endpoints), len(rec.samples))
	}
	for k, lats := range rec.samples {
		e, want := got.Endpoints[k], rec.delta.Endpoints[k]
		if e == nil {
			t.Fatalf("endpoint %v lost", k)
		}
		if e.Requests != int64(len(lats)) || e.Failures != rec.failed[k] {
			t.Errorf("%v: %d requests, %d failures; recorded %d, %d", k, e.Requests, e.Failures, len(lats), rec.failed[k])
		}
		if e.SumUS != want.SumUS || e.Bytes != want.Bytes || !reflect.DeepEqual(e.Hist.Data(), want.Hist.Data()) {
			t.Errorf("%v: entry differs after the round trip", k)
		}
		slices.Sort(lats)
		if e.MinUS() != lats[0] || e.MaxUS() != lats[len(lats)-1] {
			t.Errorf("%v: min/max %d/%d, recorded %d/%d", k, e.MinUS(), e.MaxUS(), lats[0], lats[len(lats)-1])
		}
		for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 0.999} {
			if e.Hist.Quantile(q) != want.Hist.Quantile(q) {
				t.Errorf("%v p%v: %v after the round trip, %v before", k, q*100, e.Hist.Quantile(q), want.Hist.Quantile(q))
			}
			exact := float64(lats[int(math.Ceil(q*float64(len(lats))))-1])
			if rel := math.Abs(e.Hist.Quantile(q)-exact) / exact; rel > stats.MaxRelativeError {
				t.Errorf("%v p%v: %v, exact %v (%.2f%% off)", k, q*100, e.Hist.Quantile(q), exact, 100*rel)
			}
		}
	}
	if !reflect.DeepEqual(got.Errors, rec.delta.Errors) || len(got.Errors) == 0 {
		t.Errorf("errors %v, want %v", got.Errors, rec.delta.Errors)
	}
	if !reflect.DeepEqual(got.Exceptions, rec.delta.Exceptions) || len(got.Exceptions) != 3 {
		t.Errorf("exceptions %v, want %v", got.Exceptions, rec.delta.Exceptions)
	}
}

func TestDeltaToPBEmpty(t *testing.T) {
	t.Parallel()
	for _, d := range []*stats.Delta{nil, stats.NewDelta(), {}} {
		got, _ := roundTrip(t, d)
		if len(got.Endpoints) != 0 || len(got.Errors) != 0 || len(got.Exceptions) != 0 || got.Dropped != 0 {
			t.Errorf("empty delta came back as %+v", got)
		}
	}
}

// TestDeltaToPBRepairsWhatTheMasterWouldRefuse: invalid UTF-8 (which
// protobuf cannot marshal), over-long texts and too many rows still make
// a message the master accepts, with every count kept.
func TestDeltaToPBRepairsWhatTheMasterWouldRefuse(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", MaxNameBytes) // 2 bytes a rune: cut mid-rune would break UTF-8
	d := stats.NewDelta()
	add := func(k stats.Key, n int) {
		e := &stats.Entry{}
		for i := range n {
			e.Add(time.Duration(i+1)*time.Millisecond, 10, i == 0)
		}
		d.Endpoints[k] = e
	}
	add(stats.Key{Method: "G\xffT", Name: "/bad\xfe"}, 3)
	add(stats.Key{Method: "GET", Name: long + "a"}, 2)
	add(stats.Key{Method: "GET", Name: long + "b"}, 4) // same row once cut
	d.Errors[stats.ErrorKey{Key: stats.Key{Method: "GET", Name: "/x"}, Error: strings.Repeat("\xff", MaxErrorBytes+1)}] = 3
	d.Exceptions[strings.Repeat("m", MaxErrorBytes*2)] = stats.ExceptionGroup{Count: 2, Traceback: strings.Repeat("t", MaxTracebackBytes*2)}

	got, m := roundTrip(t, d)
	if len(got.Endpoints) != 2 {
		t.Errorf("%d endpoints, want 2 (the two long names merged)", len(got.Endpoints))
	}
	wantReq, wantFail := d.Requests()
	if req, fail := got.Requests(); req != wantReq || fail != wantFail {
		t.Errorf("requests/failures %d/%d, want %d/%d", req, fail, wantReq, wantFail)
	}
	for _, ep := range m.Endpoints {
		if len(ep.Name) > MaxNameBytes {
			t.Errorf("name of %d bytes shipped", len(ep.Name))
		}
	}
	if len(got.Errors) != 1 || len(got.Exceptions) != 1 {
		t.Fatalf("errors %d, exceptions %d; want 1 and 1", len(got.Errors), len(got.Exceptions))
	}
	for _, g := range got.Exceptions {
		if g.Count != 2 || len(g.Traceback) > MaxTracebackBytes {
			t.Errorf("exception %d × traceback of %d bytes", g.Count, len(g.Traceback))
		}
	}
}

func TestDeltaToPBFoldsRowsBeyondTheLimit(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds 100,000 rows")
	}
	d := stats.NewDelta()
	for i := range MaxEndpoints + 10 {
		e := &stats.Entry{}
		e.Add(time.Millisecond, 1, false)
		d.Endpoints[stats.Key{Method: "GET", Name: fmt.Sprintf("/u/%06d", i)}] = e
	}
	got, _ := roundTrip(t, d)
	if len(got.Endpoints) != MaxEndpoints {
		t.Errorf("%d endpoints, want %d", len(got.Endpoints), MaxEndpoints)
	}
	if o := got.Endpoints[stats.Key{Name: stats.OverflowName}]; o == nil || o.Requests != 11 {
		t.Errorf("overflow row %+v, want 11 requests", o)
	}
	if req, _ := got.Requests(); req != MaxEndpoints+10 {
		t.Errorf("%d requests, want %d", req, MaxEndpoints+10)
	}
}

// validStats is a small message DeltaFromPB accepts: GET /a with three
// requests of 1.000, 1.008 and 1.016 ms (three neighbouring buckets, so
// the histogram is dense), one failed.
func validStats() *pb.Stats {
	return statsOf(1000*time.Microsecond, 8*time.Microsecond)
}

// validSparseStats is validStats with requests of 1, 2 and 3 ms: most
// buckets between them are empty, so the histogram is sparse.
func validSparseStats() *pb.Stats {
	return statsOf(time.Millisecond, time.Millisecond)
}

func statsOf(first, step time.Duration) *pb.Stats {
	d := stats.NewDelta()
	e := &stats.Entry{}
	for i := range 3 {
		e.Add(first+time.Duration(i)*step, 100, i == 0)
	}
	d.Endpoints[stats.Key{Method: "GET", Name: "/a"}] = e
	d.Errors[stats.ErrorKey{Key: stats.Key{Method: "GET", Name: "/a"}, Error: "HTTP 500"}] = 1
	d.Exceptions["boom"] = stats.ExceptionGroup{Count: 1, Traceback: "tb"}
	return DeltaToPB(d, 1, 10, false)
}

// endpointOf returns a row of n requests of 1 µs each.
func endpointOf(name string, n uint64) *pb.Endpoint {
	return &pb.Endpoint{Method: "GET", Name: name, Requests: int64(n), SumUs: int64(n),
		Histogram: &pb.Histogram{Min: 1, Max: 1, First: 1, Counts: []uint64{n}}}
}

// badStats is a way to spoil a valid Stats message.
type badStats struct {
	name   string
	mutate func(m *pb.Stats)
	sparse bool // start from validSparseStats
}

func badStatsCases() []badStats {
	ep := func(m *pb.Stats) *pb.Endpoint { return m.Endpoints[0] }
	return []badStats{
		{"negative users", func(m *pb.Stats) { m.Users = -1 }, false},
		{"negative dropped", func(m *pb.Stats) { m.Dropped = -1 }, false},
		{"negative requests", func(m *pb.Stats) { ep(m).Requests = -1 }, false},
		{"negative failures", func(m *pb.Stats) { ep(m).Failures = -1 }, false},
		{"failures above requests", func(m *pb.Stats) { ep(m).Failures = 4 }, false},
		{"negative latency sum", func(m *pb.Stats) { ep(m).SumUs = -1 }, false},
		{"negative bytes", func(m *pb.Stats) { ep(m).Bytes = -1 }, false},
		{"absurd bytes", func(m *pb.Stats) { ep(m).Bytes = math.MaxInt64 }, false},
		{"absurd requests", func(m *pb.Stats) { ep(m).Requests = 1 << 41 }, false},
		{"no histogram", func(m *pb.Stats) { ep(m).Histogram = nil }, false},
		{"histogram count differs", func(m *pb.Stats) { ep(m).Histogram.Counts[0]++ }, false},
		{"histogram min outside its bucket", func(m *pb.Stats) { ep(m).Histogram.Min = 0 }, false},
		{"histogram max outside its bucket", func(m *pb.Stats) { ep(m).Histogram.Max = math.MaxInt64 }, false},
		{"histogram negative first", func(m *pb.Stats) { ep(m).Histogram.First = -1 }, false},
		{"histogram first beyond the range", func(m *pb.Stats) { ep(m).Histogram.First = stats.NumBuckets + 1 }, false},
		{"histogram too many buckets", func(m *pb.Stats) { ep(m).Histogram.Counts = make([]uint64, stats.NumBuckets+1) }, false},
		{"histogram count overflows", func(m *pb.Stats) {
			h := ep(m).Histogram
			h.Counts[0], h.Counts[len(h.Counts)-1] = math.MaxUint64, 4
		}, false},
		{"latency sum above requests × max", func(m *pb.Stats) { ep(m).SumUs = 3*ep(m).Histogram.Max + 1 }, false},
		{"latency sum below requests × min", func(m *pb.Stats) { ep(m).SumUs = 3*ep(m).Histogram.Min - 1 }, false},
		{"duplicate endpoint", func(m *pb.Stats) { m.Endpoints = append(m.Endpoints, m.Endpoints[0]) }, false},
		{"name too long", func(m *pb.Stats) { ep(m).Name = strings.Repeat("n", MaxNameBytes+1) }, false},
		{"method too long", func(m *pb.Stats) { ep(m).Method = strings.Repeat("M", MaxNameBytes+1) }, false},
		{"too many endpoints", func(m *pb.Stats) {
			m.Endpoints = slices.Repeat(m.Endpoints[:1], MaxEndpoints+1)
		}, false},
		{"too many requests in all", func(m *pb.Stats) {
			m.Endpoints = []*pb.Endpoint{endpointOf("/a", 1<<39+1), endpointOf("/b", 1<<39+1)}
			m.Errors = nil
		}, false},
		{"more errors than failures", func(m *pb.Stats) { m.Errors[0].Count = 2 }, false},
		{"errors without failures", func(m *pb.Stats) { ep(m).Failures = 0 }, false},
		{"negative error count", func(m *pb.Stats) { m.Errors[0].Count = -1 }, false},
		{"duplicate error group", func(m *pb.Stats) {
			m.Errors = append(m.Errors, m.Errors[0])
			ep(m).Failures = 2
		}, false},
		{"error text too long", func(m *pb.Stats) { m.Errors[0].Error = strings.Repeat("e", MaxErrorBytes+1) }, false},
		{"error name too long", func(m *pb.Stats) { m.Errors[0].Name = strings.Repeat("n", MaxNameBytes+1) }, false},
		{"too many error groups", func(m *pb.Stats) { m.Errors = make([]*pb.ErrorGroup, MaxErrorGroups+1) }, false},
		{"negative exception count", func(m *pb.Stats) { m.Exceptions[0].Count = -1 }, false},
		{"exception message too long", func(m *pb.Stats) { m.Exceptions[0].Message = strings.Repeat("x", MaxErrorBytes+1) }, false},
		{"traceback too long", func(m *pb.Stats) { m.Exceptions[0].Traceback = strings.Repeat("x", MaxTracebackBytes+1) }, false},
		{"duplicate exception", func(m *pb.Stats) { m.Exceptions = append(m.Exceptions, m.Exceptions[0]) }, false},
		{"too many exceptions", func(m *pb.Stats) { m.Exceptions = make([]*pb.ExceptionGroup, MaxExceptionGroups+1) }, false},
		{"sparse and dense counts", func(m *pb.Stats) { ep(m).Histogram.Counts = []uint64{3} }, true},
		{"sparse of odd length", func(m *pb.Stats) { h := ep(m).Histogram; h.Sparse = h.Sparse[:5] }, true},
		{"sparse count differs", func(m *pb.Stats) { ep(m).Histogram.Sparse[1]++ }, true},
		{"sparse gap beyond the last bucket", func(m *pb.Stats) { ep(m).Histogram.Sparse[2] = stats.NumBuckets }, true},
		{"sparse gap wraps around", func(m *pb.Stats) { ep(m).Histogram.Sparse[2] = math.MaxUint64 }, true},
		{"sparse negative first", func(m *pb.Stats) { ep(m).Histogram.First = -1 }, true},
		{"sparse first beyond the range", func(m *pb.Stats) { ep(m).Histogram.First = stats.NumBuckets }, true},
		{"sparse max outside its bucket", func(m *pb.Stats) { ep(m).Histogram.Max += 1000 }, true},
	}
}

func TestDeltaFromPBRefuses(t *testing.T) {
	t.Parallel()
	dense, sparse := validStats(), validSparseStats()
	if h := dense.Endpoints[0].Histogram; len(h.Counts) != 3 || len(h.Sparse) != 0 {
		t.Fatalf("validStats histogram is not dense: %v", h)
	}
	if h := sparse.Endpoints[0].Histogram; len(h.Counts) != 0 || len(h.Sparse) != 6 {
		t.Fatalf("validSparseStats histogram is not sparse: %v", h)
	}
	for _, m := range []*pb.Stats{dense, sparse} {
		if _, err := DeltaFromPB(m); err != nil {
			t.Fatalf("the valid message is refused: %v", err)
		}
	}
	for _, tc := range badStatsCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := validStats()
			if tc.sparse {
				m = validSparseStats()
			}
			tc.mutate(m)
			d, err := DeltaFromPB(m)
			if !errors.Is(err, ErrBadStats) || d != nil {
				t.Fatalf("DeltaFromPB = %v, %v; want ErrBadStats", d, err)
			}
		})
	}
	if _, err := DeltaFromPB(nil); !errors.Is(err, ErrBadStats) {
		t.Errorf("nil message: %v", err)
	}
}

func TestDeltaFromPBNilEntriesInLists(t *testing.T) {
	t.Parallel()
	// A nil element cannot come out of proto.Unmarshal, but a caller
	// building messages by hand must not crash the master either.
	m := validStats()
	m.Endpoints = append(m.Endpoints, nil)
	m.Errors = append(m.Errors, nil)
	m.Exceptions = append(m.Exceptions, nil)
	if _, err := DeltaFromPB(m); err != nil && !errors.Is(err, ErrBadStats) {
		t.Fatalf("nil elements: %v", err)
	}
}
