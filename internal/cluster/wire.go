package cluster

import (
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
)

// A master with thousands of workers reads thousands of reports a second.
// Unmarshalling one into its protobuf form builds a struct, two strings
// and a histogram per row, then DecodeStats reads them once and they are
// garbage: most of the master's work, and most of its garbage. A Decoder
// reads a report's rows where they lie in the received bytes instead.

// A Decoder decodes the messages of one worker stream (Decode). A worker
// names the same rows in the same order in every report, so a Decoder
// keeps the names of the last report's rows and takes row i's from there
// when they are the same bytes (no lookup in the table every stream
// shares). The zero value is ready, and so is a nil *Decoder, which keeps
// nothing. One goroutine at a time.
type Decoder struct {
	last []string // method and name of each row of the last report
}

// maxLastNames bounds a Decoder's names (16 bytes each, the strings are
// the shared table's): rows past the 512th are looked up there.
const maxLastNames = 1024

// Decode decodes a worker message from its wire bytes, with the
// result proto.Unmarshal followed by DecodeStats would give, without
// building the protobuf form of a report: its rows go straight into d
// (Reset first), their names interned, their histograms left in b, which
// must not change until d is Reset. The message returned for a report
// carries its scalar fields (seq, users, final, dropped) and its
// heartbeat, but no rows.
// rowsErr is DecodeStats's refusal of the rows (d is then empty); err
// means b is not a worker message at all.
//
// Only the encoding an honest worker writes is read this way (every
// field once where protobuf would merge repeats, packed counts, valid
// UTF-8); anything else goes through proto.Unmarshal and DecodeStats, so
// the two never disagree (FuzzDecodeWireAgrees).
func (dc *Decoder) Decode(b []byte, d *stats.DeltaData) (msg *pb.WorkerMessage, rowsErr, err error) {
	d.Reset()
	if body, ok := onlyStats(b); ok {
		if st, rowsErr, ok := dc.decodeStats(body, d); ok {
			return &pb.WorkerMessage{Msg: &pb.WorkerMessage_Stats{Stats: st}}, rowsErr, nil
		}
		d.Reset()
	}
	msg = &pb.WorkerMessage{}
	if err := proto.Unmarshal(b, msg); err != nil {
		return nil, nil, err
	}
	if st := msg.GetStats(); st != nil {
		rowsErr = DecodeStats(st, d)
	}
	return msg, rowsErr, nil
}

// Field numbers of the messages DecodeWire reads (horde.proto).
const (
	fieldWorkerStats = 3

	fieldStatsSeq        = 1
	fieldStatsEndpoints  = 2
	fieldStatsErrors     = 3
	fieldStatsExceptions = 4
	fieldStatsUsers      = 5
	fieldStatsFinal      = 6
	fieldStatsDropped    = 7
	fieldStatsHeartbeat  = 8

	fieldEndpointMethod    = 1
	fieldEndpointName      = 2
	fieldEndpointRequests  = 3
	fieldEndpointFailures  = 4
	fieldEndpointSumUs     = 5
	fieldEndpointBytes     = 6
	fieldEndpointHistogram = 7

	fieldHistMin    = 1
	fieldHistMax    = 2
	fieldHistFirst  = 3
	fieldHistCounts = 4
	fieldHistSparse = 5
	fieldHistRuns   = 6
)

// onlyStats returns the Stats message of a WorkerMessage that holds
// nothing else.
func onlyStats(b []byte) ([]byte, bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || num != fieldWorkerStats || typ != protowire.BytesType {
		return nil, false
	}
	body, m := protowire.ConsumeBytes(b[n:])
	if m < 0 || n+m != len(b) {
		return nil, false
	}
	return body, true
}

// field is one field of a message, its value still encoded.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64 // a varint's value
	b   []byte // a length-delimited value
}

// fieldReader reads the fields of a message one by one.
type fieldReader struct{ b []byte }

// next reads the next field into f; more is false at the end, and bad
// when the message is malformed.
func (r *fieldReader) next(f *field) (more, bad bool) {
	b := r.b
	if len(b) == 0 {
		return false, false
	}
	f.v, f.b = 0, nil
	// Every field of a report has a one-byte tag, and most values are
	// one-byte varints or shorter than 128 bytes: those are read here,
	// the rest by protowire.
	var n int
	if x := b[0]; x >= 1<<3 && x < 0x80 {
		f.num, f.typ, n = protowire.Number(x>>3), protowire.Type(x&7), 1
	} else {
		f.num, f.typ, n = protowire.ConsumeTag(b)
		// ConsumeTag takes numbers up to 2³¹−1 (MessageSet's); protobuf
		// refuses a message with a field numbered past MaxValidNumber.
		if n < 0 || f.num > protowire.MaxValidNumber {
			return false, true
		}
	}
	b = b[n:]
	switch f.typ {
	case protowire.VarintType:
		if len(b) > 0 && b[0] < 0x80 {
			f.v, n = uint64(b[0]), 1
		} else {
			f.v, n = protowire.ConsumeVarint(b)
		}
	case protowire.BytesType:
		if len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) {
			f.b, n = b[1:1+b[0]:1+b[0]], 1+int(b[0])
		} else {
			f.b, n = protowire.ConsumeBytes(b)
		}
	default:
		n = protowire.ConsumeFieldValue(f.num, f.typ, b)
	}
	if n < 0 {
		return false, true
	}
	r.b = b[n:]
	return true, false
}

// want reports whether a field of a known number has the wire type the
// schema gives it; protobuf would take one of another type as unknown.
func (f field) want(t protowire.Type) bool { return f.typ == t }

// wantString reports whether a string field is length-delimited and valid
// UTF-8, as protobuf requires of every occurrence, not only of the last
// one, which is the one it keeps.
func (f field) wantString() bool { return f.typ == protowire.BytesType && utf8.Valid(f.b) }

// decodeStats decodes a Stats message into d; ok is false when it is
// not in the encoding an honest worker writes. It walks the message once,
// and again only for error groups and exceptions when it has some.
func (dc *Decoder) decodeStats(b []byte, d *stats.DeltaData) (st *pb.Stats, rowsErr error, ok bool) {
	st = &pb.Stats{}
	var endpoints, errs, excs int
	rows := rowChecker{d: d, sorted: true}
	var ep endpoint
	// Every row is read, even after one is refused: a message protobuf
	// would not unmarshal must not pass as merely refused.
	for r := (fieldReader{b}); ; {
		var f field
		more, bad := r.next(&f)
		if bad {
			return nil, nil, false
		}
		if !more {
			break
		}
		good := true
		switch f.num {
		case fieldStatsSeq:
			st.Seq, good = f.v, f.want(protowire.VarintType)
		case fieldStatsUsers:
			st.Users, good = int32(f.v), f.want(protowire.VarintType)
		case fieldStatsFinal:
			st.Final, good = f.v != 0, f.want(protowire.VarintType)
		case fieldStatsDropped:
			st.Dropped, good = int64(f.v), f.want(protowire.VarintType)
		case fieldStatsEndpoints:
			// The names' last occurrences are checked for UTF-8 here: a
			// name the stream's last report had passed already.
			good = f.want(protowire.BytesType) && ep.decode(f.b)
			switch {
			case good && rowsErr == nil:
				method, okm := dc.name(2*endpoints, ep.method)
				name, okn := dc.name(2*endpoints+1, ep.name)
				if good = okm && okn; good {
					rowsErr = rows.add(endpoints, method, name, ep.n, ep.fails, ep.sum, ep.size, ep.hd)
				}
			case good:
				good = utf8.Valid(ep.method) && utf8.Valid(ep.name)
			}
			endpoints++
		case fieldStatsErrors:
			errs, good = errs+1, f.want(protowire.BytesType)
		case fieldStatsExceptions:
			excs, good = excs+1, f.want(protowire.BytesType)
		case fieldStatsHeartbeat:
			// protobuf merges a message field that comes twice
			good = st.Heartbeat == nil && f.want(protowire.BytesType)
			if good {
				st.Heartbeat = &pb.Heartbeat{}
				good = proto.Unmarshal(f.b, st.Heartbeat) == nil
			}
		}
		// a field this master does not know is skipped, as protobuf does
		if !good {
			return nil, nil, false
		}
	}
	if err := checkSizes(st.Users, st.Dropped, endpoints, errs, excs); err != nil {
		rowsErr = err // what DecodeStats says first
	}
	d.Dropped = st.Dropped
	if rowsErr == nil {
		rowsErr = rows.finish()
	}
	if errs > 0 && !decodeErrorGroups(b, &rowsErr, errorChecker{errs: d.Errors, failures: rows.failures, left: rows.failures}) {
		return nil, nil, false
	}
	if excs > 0 {
		var exceptions []*pb.ExceptionGroup
		for r := (fieldReader{b}); ; {
			var f field
			more, _ := r.next(&f) // the first walk found b well formed
			if !more {
				break
			}
			if f.num == fieldStatsExceptions {
				g := &pb.ExceptionGroup{}
				if proto.Unmarshal(f.b, g) != nil {
					return nil, nil, false
				}
				exceptions = append(exceptions, g)
			}
		}
		if rowsErr == nil {
			rowsErr = exceptionsFromPB(d.Exceptions, exceptions)
		}
	}
	if rowsErr != nil {
		d.Reset()
	}
	return st, rowsErr, true
}

// name returns b as a string: the last report's name number i when it is
// the same, an interned one otherwise (kept as number i for the next);
// false when b is not UTF-8.
func (dc *Decoder) name(i int, b []byte) (string, bool) {
	if dc != nil && i < len(dc.last) && dc.last[i] == string(b) {
		return dc.last[i], true
	}
	if !utf8.Valid(b) {
		return "", false
	}
	s := names.get(b)
	switch {
	case dc == nil:
	case i < len(dc.last):
		dc.last[i] = s
	case i == len(dc.last) && i < maxLastNames:
		dc.last = append(dc.last, s)
	}
	return s, true
}

// decodeErrorGroups reads the error groups of Stats message b, checking
// them with c unless *rowsErr is set already (then it is set to the first
// refusal); false when one is not in an honest worker's encoding.
func decodeErrorGroups(b []byte, rowsErr *error, c errorChecker) bool {
	i := 0
	for r := (fieldReader{b}); ; {
		var f field
		more, _ := r.next(&f) // the first walk found b well formed
		if !more {
			return true
		}
		if f.num != fieldStatsErrors {
			continue
		}
		method, name, text, count, good := decodeErrorGroup(f.b)
		if !good {
			return false
		}
		if *rowsErr == nil {
			*rowsErr = c.add(i, method, name, text, count)
		}
		i++
	}
}

// endpoint is one Endpoint as read from the wire: its names still bytes,
// its histogram left in the message.
type endpoint struct {
	method, name        []byte
	n, fails, sum, size int64
	hd                  stats.HistogramData
}

// decode reads one Endpoint into e; false when it is not in the encoding
// an honest worker writes (or a name a later occurrence replaces is not
// UTF-8, which protobuf refuses). The names it returns are not checked.
func (e *endpoint) decode(b []byte) bool {
	*e = endpoint{}
	var hb []byte
	hist := false
	for r := (fieldReader{b}); ; {
		var f field
		more, bad := r.next(&f)
		if bad {
			return false
		}
		if !more {
			break
		}
		good := true
		switch f.num {
		// The last occurrence of a name is checked by the caller; one it
		// replaces, here (protobuf refuses every one that is not UTF-8).
		case fieldEndpointMethod:
			good = f.typ == protowire.BytesType && utf8.Valid(e.method)
			e.method = f.b
		case fieldEndpointName:
			good = f.typ == protowire.BytesType && utf8.Valid(e.name)
			e.name = f.b
		case fieldEndpointRequests:
			e.n, good = int64(f.v), f.want(protowire.VarintType)
		case fieldEndpointFailures:
			e.fails, good = int64(f.v), f.want(protowire.VarintType)
		case fieldEndpointSumUs:
			e.sum, good = int64(f.v), f.want(protowire.VarintType)
		case fieldEndpointBytes:
			e.size, good = int64(f.v), f.want(protowire.VarintType)
		case fieldEndpointHistogram:
			// protobuf merges a message field that comes twice
			good = !hist && f.want(protowire.BytesType)
			hist, hb = true, f.b
		}
		if !good {
			return false
		}
	}
	return decodeHistogram(hb, &e.hd)
}

// decodeErrorGroup reads one ErrorGroup.
func decodeErrorGroup(b []byte) (method, name, text string, count int64, ok bool) {
	var mb, nb, tb []byte
	for r := (fieldReader{b}); ; {
		var f field
		more, bad := r.next(&f)
		if bad {
			return "", "", "", 0, false
		}
		if !more {
			break
		}
		good := true
		switch f.num {
		case 1:
			mb, good = f.b, f.wantString()
		case 2:
			nb, good = f.b, f.wantString()
		case 3:
			tb, good = f.b, f.wantString()
		case 4:
			count, good = int64(f.v), f.want(protowire.VarintType)
		}
		if !good {
			return "", "", "", 0, false
		}
	}
	return names.get(mb), names.get(nb), names.get(tb), count, true
}

// decodeHistogram reads one Histogram into hd (zero); its runs stay in b.
func decodeHistogram(b []byte, hd *stats.HistogramData) bool {
	var counts, sparse bool
	for r := (fieldReader{b}); ; {
		var f field
		more, bad := r.next(&f)
		if bad {
			return false
		}
		if !more {
			break
		}
		good := true
		switch f.num {
		case fieldHistMin:
			hd.Min, good = int64(f.v), f.want(protowire.VarintType)
		case fieldHistMax:
			hd.Max, good = int64(f.v), f.want(protowire.VarintType)
		case fieldHistFirst:
			hd.First, good = int(int32(f.v)), f.want(protowire.VarintType)
		case fieldHistCounts: // protobuf appends a repeated field that comes twice
			good = !counts && f.want(protowire.BytesType)
			counts = true
			if good {
				hd.Counts, good = packed(f.b)
			}
		case fieldHistSparse:
			good = !sparse && f.want(protowire.BytesType)
			sparse = true
			if good {
				hd.Sparse, good = packed(f.b)
			}
		case fieldHistRuns:
			hd.Runs, good = f.b, f.want(protowire.BytesType)
		}
		if !good {
			return false
		}
	}
	return true
}

// packed decodes a packed repeated uint64 field.
func packed(b []byte) ([]uint64, bool) {
	var out []uint64
	for len(b) > 0 {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return nil, false
		}
		out = append(out, v)
		b = b[n:]
	}
	return out, true
}

// names interns the method and name strings of reports: every worker
// sends the same few hundred names every second, and a string per row
// and report would be most of what the master allocates.
var names = internTable{m: map[string]string{}}

// maxInterned bounds the table, and maxInternedBytes the names it keeps;
// other names are allocated each time (the statistics fold names beyond
// their cap into an overflow row anyway).
const (
	maxInterned      = 1 << 16
	maxInternedBytes = 256
)

type internTable struct {
	mu sync.RWMutex
	m  map[string]string
}

func (t *internTable) get(b []byte) string {
	t.mu.RLock()
	s, ok := t.m[string(b)]
	t.mu.RUnlock()
	if ok {
		return s
	}
	s = string(b)
	if len(s) > maxInternedBytes {
		return s
	}
	t.mu.Lock()
	if len(t.m) < maxInterned {
		t.m[s] = s
	}
	t.mu.Unlock()
	return s
}
