package cluster

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
)

// decodeSlow is what DecodeWire must agree with: protobuf's unmarshalling,
// then DecodeStats.
func decodeSlow(b []byte, d *stats.DeltaData) (*pb.WorkerMessage, error, error) {
	d.Reset()
	var m pb.WorkerMessage
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, nil, err
	}
	var rowsErr error
	if st := m.GetStats(); st != nil {
		rowsErr = DecodeStats(st, d)
	}
	return &m, rowsErr, nil
}

// agree fails the test when DecodeWire and decodeSlow disagree on b.
func agree(t *testing.T, b []byte) {
	t.Helper()
	var fast, slow stats.DeltaData
	fm, frows, ferr := DecodeWire(b, &fast)
	sm, srows, serr := decodeSlow(b, &slow)
	if (ferr == nil) != (serr == nil) {
		t.Fatalf("DecodeWire: %v; protobuf: %v", ferr, serr)
	}
	if ferr != nil {
		return
	}
	if (frows == nil) != (srows == nil) {
		t.Fatalf("rows refused by DecodeWire: %v; by DecodeStats: %v", frows, srows)
	}
	fs, ss := fm.GetStats(), sm.GetStats()
	if (fs == nil) != (ss == nil) {
		t.Fatalf("DecodeWire read %T, protobuf %T", fm.GetMsg(), sm.GetMsg())
	}
	if fs == nil {
		if !proto.Equal(fm, sm) {
			t.Fatalf("DecodeWire read %v, protobuf %v", fm, sm)
		}
		return
	}
	if fs.Seq != ss.Seq || fs.Users != ss.Users || fs.Final != ss.Final || fs.Dropped != ss.Dropped ||
		!proto.Equal(fs.Heartbeat, ss.Heartbeat) {
		t.Fatalf("scalars: DecodeWire %v, protobuf %v", fs, ss)
	}
	if frows != nil {
		return
	}
	if fd, sd := fast.Delta(), slow.Delta(); !reflect.DeepEqual(fd, sd) {
		t.Fatalf("rows: DecodeWire %+v, protobuf %+v", fd, sd)
	}
	if len(fast.Endpoints) != len(slow.Endpoints) {
		t.Fatalf("DecodeWire read %d rows, protobuf %d", len(fast.Endpoints), len(slow.Endpoints))
	}
	// A stream's Decoder, which has read another report before (its
	// names kept), reads b as DecodeWire does.
	dec := primed(t)
	var again stats.DeltaData
	if _, rowsErr, err := dec.Decode(b, &again); err != nil || rowsErr != nil {
		t.Fatalf("a primed Decoder: %v, %v; DecodeWire: nil, nil", err, rowsErr)
	}
	if fd, dd := fast.Delta(), again.Delta(); !reflect.DeepEqual(fd, dd) {
		t.Fatalf("rows: a primed Decoder %+v, DecodeWire %+v", dd, fd)
	}
}

// primer is a Decoder that has read a report of 20 rows, made once.
var primer = sync.OnceValues(func() (*Decoder, error) {
	b, err := proto.Marshal(wrapStats(DeltaToPBCompact(record(400, 20).delta, 1, 2, false)))
	if err != nil {
		return nil, err
	}
	var dec Decoder
	var d stats.DeltaData
	if _, rowsErr, err := dec.Decode(b, &d); err != nil || rowsErr != nil || len(d.Endpoints) != 20 {
		return nil, fmt.Errorf("priming: %d rows, %v, %v", len(d.Endpoints), rowsErr, err)
	}
	return &dec, nil
})

// primed returns a copy of primer.
func primed(t *testing.T) *Decoder {
	t.Helper()
	p, err := primer()
	if err != nil {
		t.Fatal(err)
	}
	return &Decoder{last: slices.Clone(p.last)}
}

// A Decoder reads a stream whose reports name other rows, in another
// order, fewer and more of them, as DecodeWire reads each alone.
func TestDecoderReadsAStreamAsEachReportAlone(t *testing.T) {
	t.Parallel()
	var dec Decoder
	for i, n := range []int{20, 20, 5, 40, 1, 0, 30, 600, 700, 3} {
		d := stats.NewDelta()
		for k := range n {
			// the names move: row k of this report is another row of the last
			name := fmt.Sprintf("/r/%d", (k*7+i)%(n+3))
			e := &stats.Entry{}
			e.Add(time.Duration(k+1)*time.Millisecond, 10, false)
			d.Endpoints[stats.Key{Method: []string{"GET", "POST"}[(k+i)%2], Name: name}] = e
		}
		b := mustMarshalT(t, wrapStats(DeltaToPBCompact(d, uint64(i), 1, false)))
		var want, got stats.DeltaData
		if _, rowsErr, err := DecodeWire(b, &want); err != nil || rowsErr != nil {
			t.Fatalf("report %d: DecodeWire: %v, %v", i, err, rowsErr)
		}
		if _, rowsErr, err := dec.Decode(b, &got); err != nil || rowsErr != nil {
			t.Fatalf("report %d: the Decoder: %v, %v", i, err, rowsErr)
		}
		if len(got.Endpoints) != len(d.Endpoints) || !reflect.DeepEqual(got.Delta(), want.Delta()) {
			t.Fatalf("report %d: the Decoder read %+v, DecodeWire %+v", i, got.Delta(), want.Delta())
		}
		for k, e := range d.Endpoints {
			g := got.Delta().Endpoints[k]
			if g == nil || g.Requests != e.Requests || g.SumUS != e.SumUS || g.Hist.Max() != e.Hist.Max() {
				t.Fatalf("report %d: row %v: the Decoder read %+v, the worker sent %+v", i, k, g, e)
			}
		}
	}
}

func wrapStats(m *pb.Stats) *pb.WorkerMessage {
	return &pb.WorkerMessage{Msg: &pb.WorkerMessage_Stats{Stats: m}}
}

// FuzzDecodeWireAgrees: for any bytes, reading a worker's message in
// place agrees with unmarshalling it: the same error, the same kind of
// message, the same refusal of a report's rows, and the same rows.
func FuzzDecodeWireAgrees(f *testing.F) {
	fuzzSeeds(f, func(m *pb.Stats) proto.Message { return wrapStats(m) })
	f.Add(mustMarshal(f, hello("w")))
	f.Add(mustMarshal(f, heartbeat(3)))
	withErrors := DeltaToPBCompact(record(300, 3).delta, 1, 2, false)
	withErrors.Errors = []*pb.ErrorGroup{{Method: "GET", Name: "/x", Error: "boom", Count: 1}}
	withErrors.Exceptions = []*pb.ExceptionGroup{{Message: "oops", Traceback: "t", Count: 2}}
	withErrors.Endpoints[0].Failures = 1
	f.Add(mustMarshal(f, wrapStats(withErrors)))
	withHeartbeat := DeltaToPBCompact(record(300, 3).delta, 4, 2, false)
	withHeartbeat.Heartbeat = heartbeat(5).GetHeartbeat()
	f.Add(mustMarshal(f, wrapStats(withHeartbeat)))
	f.Fuzz(func(t *testing.T, b []byte) { agree(t, b) })
}

// What a worker really sends is read in place, and what it could send in
// other valid encodings (fields repeated, unknown fields, counts not
// packed) is read as protobuf reads it.
func TestDecodeWireAgreesOnEncodings(t *testing.T) {
	t.Parallel()
	d := recordSpread(2000, 20, time.Millisecond, 300*time.Millisecond).delta
	compact := mustMarshalT(t, wrapStats(DeltaToPBCompact(d, 7, 3, true)))
	sparse := mustMarshalT(t, wrapStats(DeltaToPB(d, 7, 3, true)))
	dense := validStats()
	for name, b := range map[string][]byte{
		"compact":                       compact,
		"sparse":                        sparse,
		"dense":                         mustMarshalT(t, wrapStats(dense)),
		"unknown field in stats":        withField(t, DeltaToPBCompact(d, 1, 1, false), 99),
		"stats twice":                   append(cloneBytes(compact), compact...),
		"unpacked counts":               mustMarshalT(t, wrapStats(unpacked(t, dense))),
		"empty":                         {},
		"empty stats":                   {0x1a, 0x00},
		"bad utf-8 in a name":           mustMarshalT(t, wrapStats(badName(t))),
		"field number past 2^29-1":      protowire.AppendBytes([]byte{0x1a}, protowire.AppendVarint(protowire.AppendTag([]byte{0x30, 0x01}, protowire.MaxValidNumber+1, protowire.VarintType), 1)),
		"bad utf-8 then a name":         badThenGood(t, fieldStatsEndpoints, mustMarshalT(t, validStats().Endpoints[0]), fieldEndpointName),
		"bad utf-8 then an error":       badThenGood(t, fieldStatsErrors, mustMarshalT(t, &pb.ErrorGroup{Method: "GET", Name: "/", Error: "e", Count: 1}), 3),
		"heartbeat":                     mustMarshalT(t, heartbeat(4)),
		"truncated":                     compact[:len(compact)/2],
		"refused rows":                  mustMarshalT(t, wrapStats(&pb.Stats{Endpoints: []*pb.Endpoint{{Method: "GET", Name: "/", Requests: 2}}})),
		"a refused row, then bad utf-8": refusedThenBadName(t),
		"users negative":                mustMarshalT(t, wrapStats(&pb.Stats{Users: -1})),
		"histogram field twice":         histogramTwice(t),
		"stats after a heartbeat":       append(mustMarshalT(t, heartbeat(1)), compact...),
		"heartbeat in stats":            mustMarshalT(t, wrapStats(withHeartbeat(DeltaToPBCompact(d, 2, 3, false)))),
		"heartbeat in stats twice":      heartbeatTwice(t, DeltaToPBCompact(d, 2, 3, false)),
	} {
		t.Run(name, func(t *testing.T) { agree(t, b) })
	}
}

// An honest worker's report is read without a string per row: the
// master's allocations per report do not grow with its rows.
func TestDecodeWireAllocatesLittle(t *testing.T) {
	d := recordSpread(10*100, 100, time.Millisecond, 200*time.Millisecond).delta
	b := mustMarshalT(t, wrapStats(DeltaToPBCompact(d, 1, 10, false)))
	var dd stats.DeltaData
	if _, rowsErr, err := DecodeWire(b, &dd); err != nil || rowsErr != nil || len(dd.Endpoints) != 100 {
		t.Fatalf("%d rows, errors %v, %v", len(dd.Endpoints), rowsErr, err)
	}
	allocs := testing.AllocsPerRun(50, func() {
		if _, _, err := DecodeWire(b, &dd); err != nil {
			t.Fatal(err)
		}
	})
	// The message, its Stats, and a few closures: not 100 rows' worth.
	if allocs > 10 {
		t.Errorf("%.0f allocations per report of 100 rows, want at most 10", allocs)
	}
}

func mustMarshalT(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cloneBytes(b []byte) []byte { return append([]byte(nil), b...) }

// withField is m with an unknown varint field num appended, as a newer
// worker's field would be.
func withField(t *testing.T, m *pb.Stats, num protowire.Number) []byte {
	b := mustMarshalT(t, m)
	b = protowire.AppendTag(b, num, protowire.VarintType)
	b = protowire.AppendVarint(b, 5)
	return protowire.AppendBytes(protowire.AppendTag(nil, fieldWorkerStats, protowire.BytesType), b)
}

// unpacked re-encodes m's first histogram's counts one varint field each.
func unpacked(t *testing.T, m *pb.Stats) *pb.Stats {
	h := m.Endpoints[0].Histogram
	var raw []byte
	for _, c := range h.Counts {
		raw = protowire.AppendTag(raw, fieldHistCounts, protowire.VarintType)
		raw = protowire.AppendVarint(raw, c)
	}
	h.Counts = nil
	h.ProtoReflect().SetUnknown(raw)
	b := mustMarshalT(t, m)
	var again pb.Stats
	if err := proto.Unmarshal(b, &again); err != nil {
		t.Fatal(err)
	}
	return &again
}

func badName(t *testing.T) *pb.Stats {
	m := validStats()
	m.Endpoints[0].ProtoReflect().SetUnknown(protowire.AppendBytes(
		protowire.AppendTag(nil, fieldEndpointName, protowire.BytesType), []byte{0xff, 0xfe}))
	return m
}

// refusedThenBadName is a report whose first row is refused (requests
// without a histogram) and whose second row's name is not UTF-8: not a
// report with a refused row, one protobuf does not read at all.
func refusedThenBadName(t *testing.T) []byte {
	m := badName(t)
	m.Endpoints = append([]*pb.Endpoint{{Method: "GET", Name: "/", Requests: 2}}, m.Endpoints...)
	return mustMarshalT(t, wrapStats(m))
}

// badThenGood is a report whose first row of field rows (an endpoint or
// an error group, row its encoding) has string field str twice: first
// not UTF-8, then as row has it. protobuf keeps the last but refuses the
// message for the first.
func badThenGood(t *testing.T, rows protowire.Number, row []byte, str protowire.Number) []byte {
	t.Helper()
	bad := protowire.AppendBytes(protowire.AppendTag(nil, str, protowire.BytesType), []byte{'0', 0xf8, '0'})
	body := protowire.AppendBytes(protowire.AppendTag(nil, rows, protowire.BytesType), append(bad, row...))
	return protowire.AppendBytes(protowire.AppendTag(nil, fieldWorkerStats, protowire.BytesType), body)
}

// histogramTwice is a report whose row carries its histogram in two
// fields, which protobuf merges.
func histogramTwice(t *testing.T) []byte {
	m := validStats()
	h := m.Endpoints[0].Histogram
	extra := protowire.AppendBytes(protowire.AppendTag(nil, fieldEndpointHistogram, protowire.BytesType),
		mustMarshalT(t, &pb.Histogram{Min: h.Min, Max: h.Max}))
	m.Endpoints[0].ProtoReflect().SetUnknown(extra)
	return mustMarshalT(t, wrapStats(m))
}

func withHeartbeat(m *pb.Stats) *pb.Stats {
	m.Heartbeat = &pb.Heartbeat{State: "running", Users: 3, CpuPercent: 12.5, RssBytes: 1 << 20, TargetEpoch: 9}
	return m
}

// heartbeatTwice is m with a heartbeat in two fields, which protobuf merges.
func heartbeatTwice(t *testing.T, m *pb.Stats) []byte {
	b := mustMarshalT(t, withHeartbeat(m))
	b = protowire.AppendTag(b, fieldStatsHeartbeat, protowire.BytesType)
	b = protowire.AppendBytes(b, mustMarshalT(t, &pb.Heartbeat{UsersDone: 4}))
	return protowire.AppendBytes(protowire.AppendTag(nil, fieldWorkerStats, protowire.BytesType), b)
}
