package cluster

import (
	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
)

// Helpers the tests use that the program does not.

// DeltaFromPB converts and validates a worker's Stats message. It refuses
// (with an error wrapping ErrBadStats, never a panic) anything an honest
// worker cannot send: negative counts, more failures than requests, a
// histogram that does not hold exactly the row's requests, duplicate
// rows, more errors than failures, sizes beyond the limits above. The
// Delta shares no memory with m.
func DeltaFromPB(m *pb.Stats) (*stats.Delta, error) {
	var d stats.DeltaData
	if err := DecodeStats(m, &d); err != nil {
		return nil, err
	}
	return d.Delta(), nil
}

// DecodeWire is Decode without a stream: a nil Decoder.
func DecodeWire(b []byte, d *stats.DeltaData) (msg *pb.WorkerMessage, rowsErr, err error) {
	return (*Decoder)(nil).Decode(b, d)
}
