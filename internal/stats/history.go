package stats

// pointAt is where a history point sits in the test: its sequence number
// (the order it was appended in) and its wall-clock second.
type pointAt struct{ seq, sec int64 }

// history keeps one point per second at most, in bounded memory, covering
// the whole test: the newest points at full resolution in a ring, and the
// points that leave the ring in an archive that thins itself uniformly.
// The archive holds exactly the evicted points whose sequence number is a
// multiple of stride; when it overflows, stride doubles and every other
// point goes. Point 0, the start of the test, is always kept. Two
// histories with the same capacities fed in the same seconds keep the
// same seconds. Points and their places are kept in parallel slices, so
// that copying the points out is a few bulk copies.
type history[P any] struct {
	ring       []P // newest points; oldest at head once full
	ringAt     []pointAt
	head       int
	ringCap    int
	archive    []P
	archiveAt  []pointAt
	archiveCap int
	stride     int64
	seq        int64
}

func newHistory[P any](ringCap, archiveCap int) history[P] {
	return history[P]{ringCap: max(ringCap, 1), archiveCap: max(archiveCap, 2), stride: 1}
}

// last returns the ring position of the newest point, or -1.
func (h *history[P]) last() int {
	if len(h.ring) == 0 {
		return -1
	}
	if len(h.ring) == h.ringCap {
		return (h.head + h.ringCap - 1) % h.ringCap
	}
	return len(h.ring) - 1
}

// add appends p for wall-clock second sec; a second point in the same
// second replaces the first.
func (h *history[P]) add(sec int64, p P) {
	if i := h.last(); i >= 0 && h.ringAt[i].sec == sec {
		h.ring[i] = p
		return
	}
	at := pointAt{seq: h.seq, sec: sec}
	h.seq++
	if len(h.ring) < h.ringCap {
		h.ring = append(h.ring, p)
		h.ringAt = append(h.ringAt, at)
		return
	}
	old, oldAt := h.ring[h.head], h.ringAt[h.head]
	h.ring[h.head], h.ringAt[h.head] = p, at
	h.head = (h.head + 1) % h.ringCap
	h.toArchive(old, oldAt)
}

func (h *history[P]) toArchive(p P, at pointAt) {
	if at.seq%h.stride != 0 {
		return
	}
	h.archive = append(h.archive, p)
	h.archiveAt = append(h.archiveAt, at)
	if len(h.archive) <= h.archiveCap {
		return
	}
	h.stride *= 2
	n := 0
	for i, q := range h.archiveAt {
		if q.seq%h.stride == 0 {
			h.archive[n], h.archiveAt[n] = h.archive[i], q
			n++
		}
	}
	clear(h.archive[n:])
	h.archive, h.archiveAt = h.archive[:n], h.archiveAt[:n]
}

// len returns the number of points held.
func (h *history[P]) len() int { return len(h.archive) + len(h.ring) }

// points returns a copy of all points, oldest first.
func (h *history[P]) points() []P {
	out := make([]P, 0, h.len())
	out = append(out, h.archive...)
	out = append(out, h.ring[h.head:]...)
	return append(out, h.ring[:h.head]...)
}
