package stats

// histPoint is a point of a history with its sequence number (the order it
// was appended in) and its wall-clock second.
type histPoint[P any] struct {
	p        P
	seq, sec int64
}

// history keeps one point per second at most, in bounded memory, covering
// the whole test: the newest points at full resolution in a ring, and the
// points that leave the ring in an archive that thins itself uniformly.
// The archive holds exactly the evicted points whose sequence number is a
// multiple of stride; when it overflows, stride doubles and every other
// point goes. Point 0, the start of the test, is always kept. Two
// histories with the same capacities fed in the same seconds keep the
// same seconds.
type history[P any] struct {
	ring       []histPoint[P] // newest points; oldest at head once full
	head       int
	ringCap    int
	archive    []histPoint[P]
	archiveCap int
	stride     int64
	seq        int64
}

func newHistory[P any](ringCap, archiveCap int) history[P] {
	return history[P]{ringCap: max(ringCap, 1), archiveCap: max(archiveCap, 2), stride: 1}
}

// last returns the newest point, or nil.
func (h *history[P]) last() *histPoint[P] {
	if len(h.ring) == 0 {
		return nil
	}
	i := len(h.ring) - 1
	if len(h.ring) == h.ringCap {
		i = (h.head + h.ringCap - 1) % h.ringCap
	}
	return &h.ring[i]
}

// add appends p for wall-clock second sec; a second point in the same
// second replaces the first.
func (h *history[P]) add(sec int64, p P) {
	if l := h.last(); l != nil && l.sec == sec {
		l.p = p
		return
	}
	hp := histPoint[P]{p: p, seq: h.seq, sec: sec}
	h.seq++
	if len(h.ring) < h.ringCap {
		h.ring = append(h.ring, hp)
		return
	}
	old := h.ring[h.head]
	h.ring[h.head] = hp
	h.head = (h.head + 1) % h.ringCap
	h.toArchive(old)
}

func (h *history[P]) toArchive(p histPoint[P]) {
	if p.seq%h.stride != 0 {
		return
	}
	h.archive = append(h.archive, p)
	if len(h.archive) <= h.archiveCap {
		return
	}
	h.stride *= 2
	kept := h.archive[:0]
	for _, q := range h.archive {
		if q.seq%h.stride == 0 {
			kept = append(kept, q)
		}
	}
	clear(h.archive[len(kept):])
	h.archive = kept
}

// len returns the number of points held.
func (h *history[P]) len() int { return len(h.archive) + len(h.ring) }

// points returns a copy of all points, oldest first.
func (h *history[P]) points() []P {
	out := make([]P, 0, h.len())
	for _, p := range h.archive {
		out = append(out, p.p)
	}
	for i := range h.ring {
		out = append(out, h.ring[(h.head+i)%len(h.ring)].p)
	}
	return out
}
