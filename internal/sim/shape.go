package sim

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
)

// Shape is what every simulated worker that runs users reports each
// report interval: Endpoints rows ("GET /sim/0" ...), each with
// Rate × interval requests whose latencies spread evenly at random over
// [LatencyMin, LatencyMax]. A worker without users reports an empty
// delta, as a real idle worker does.
type Shape struct {
	Endpoints              int
	Rate                   float64 // requests per second per endpoint
	LatencyMin, LatencyMax time.Duration
	// FailRatio of the requests fail, grouped under one error per row.
	FailRatio float64
}

// DefaultShape is 100 endpoints of 10 requests per second each (a worker
// doing 1,000 requests per second), latencies over 1–200 ms.
var DefaultShape = Shape{Endpoints: 100, Rate: 10, LatencyMin: time.Millisecond, LatencyMax: 200 * time.Millisecond}

func (s Shape) check() error {
	switch {
	case s.Endpoints < 0 || s.Endpoints > cluster.MaxEndpoints:
		return fmt.Errorf("sim: %d endpoints: want 0..%d", s.Endpoints, cluster.MaxEndpoints)
	case s.Rate < 0:
		return fmt.Errorf("sim: rate %v: want ≥ 0", s.Rate)
	case s.LatencyMin <= 0 || s.LatencyMax < s.LatencyMin:
		return fmt.Errorf("sim: latency %v..%v: want 0 < min ≤ max", s.LatencyMin, s.LatencyMax)
	case s.FailRatio < 0 || s.FailRatio > 1:
		return fmt.Errorf("sim: fail ratio %v: want 0..1", s.FailRatio)
	}
	return nil
}

// variants is how many different reports the fleet rotates through, so
// that the master does not merge the same histogram every time.
const variants = 8

// reports holds the encoded rows of a Shape's reports: each is the wire
// form of Stats.endpoints and Stats.errors, made once by the real
// encoder (cluster.DeltaToPB) and sent by every simulated worker as it
// is, so that the simulator spends its CPU on connections, not on
// encoding statistics. The bytes on the wire are those a real worker
// sends for the same delta.
type reports struct {
	mu    sync.Mutex
	shape Shape
	cache map[reportKey]*encoded
}

type reportKey struct {
	interval time.Duration
	compact  bool
}

// encoded is one report interval's variants.
type encoded struct {
	rows     [variants]protoreflect.RawFields
	requests int64 // per report
}

func newReports(s Shape) *reports {
	return &reports{shape: s, cache: map[reportKey]*encoded{}}
}

// get returns the variants for a report interval and histogram form.
func (r *reports) get(interval time.Duration, compact bool) (*encoded, error) {
	k := reportKey{interval, compact}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.cache[k]; e != nil {
		return e, nil
	}
	e, err := encode(r.shape, interval, compact)
	if err != nil {
		return nil, err
	}
	r.cache[k] = e
	return e, nil
}

func encode(s Shape, interval time.Duration, compact bool) (*encoded, error) {
	e := &encoded{}
	n := int(s.Rate*interval.Seconds() + 0.5)
	spread := int64(s.LatencyMax - s.LatencyMin)
	for v := range variants {
		rng := rand.New(rand.NewPCG(uint64(v), 0x51))
		d := stats.NewDelta()
		for ep := range s.Endpoints {
			row := &stats.Entry{}
			fails := 0
			for k := range n {
				lat := s.LatencyMin + time.Duration(rng.Int64N(spread+1))
				failed := float64(k) < s.FailRatio*float64(n)
				if failed {
					fails++
				}
				row.Add(lat, 512, failed)
			}
			if n == 0 {
				continue
			}
			key := stats.Key{Method: "GET", Name: fmt.Sprintf("/sim/%d", ep)}
			d.Endpoints[key] = row
			if fails > 0 {
				d.Errors[stats.ErrorKey{Key: key, Error: "HTTP 500"}] = int64(fails)
			}
		}
		var m *pb.Stats
		if compact {
			m = cluster.DeltaToPBCompact(d, 0, 0, false)
		} else {
			m = cluster.DeltaToPB(d, 0, 0, false)
		}
		b, err := proto.Marshal(&pb.Stats{Endpoints: m.Endpoints, Errors: m.Errors})
		if err != nil {
			return nil, fmt.Errorf("sim: encoding a report: %w", err)
		}
		e.rows[v] = b
		e.requests, _ = d.Requests()
	}
	return e, nil
}

// message is one report: seq and users of the worker, the rows of
// variant v as they were encoded (kept as fields the message's Go type
// carries unparsed, which protobuf writes out unchanged).
func (e *encoded) message(v int, seq uint64, users int32, withRows bool) *pb.Stats {
	m := &pb.Stats{Seq: seq, Users: users}
	if withRows && len(e.rows[v%variants]) > 0 {
		m.ProtoReflect().SetUnknown(e.rows[v%variants])
	}
	return m
}
