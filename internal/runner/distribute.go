package runner

import "github.com/horde-load/horde/internal/scenario"

// Plan is the order in which users of each class are spawned: the first n
// entries are the classes of the first n users. It is a prefix-stable
// sequence, so the mix at n users never depends on how the count got
// there (ramping up, down or jumping), and counts of a class only grow
// with n — a ramp never stops a user of one class to start another.
//
// Classes with a fixed_count come first, in exactly that number (as in
// Locust). The rest are interleaved by weight: each next user goes to the
// class furthest behind its share, so at every n each weighted class is
// within one user of its exact proportion.
type Plan struct {
	classes []*scenario.UserClass
	seq     []int // class index of the i-th user
	fixed   int   // number of fixed-count users at the head of seq
	// state of the weighted interleaving, to extend seq lazily
	counts  []int
	weights []int
	wsum    int
	nweight int // users placed by weight so far
}

// NewPlan builds the spawn plan for classes.
func NewPlan(classes []*scenario.UserClass) *Plan {
	p := &Plan{classes: classes, counts: make([]int, len(classes)), weights: make([]int, len(classes))}
	for i, c := range classes {
		if c.FixedCount > 0 {
			for range c.FixedCount {
				p.seq = append(p.seq, i)
			}
			continue
		}
		p.weights[i] = c.Weight
		p.wsum += c.Weight
	}
	p.fixed = len(p.seq)
	return p
}

// Class returns the class index of the i-th user (0-based), or -1 when no
// class can take it (only fixed-count classes, all full).
func (p *Plan) Class(i int) int {
	for len(p.seq) <= i {
		if p.wsum == 0 {
			return -1
		}
		p.seq = append(p.seq, p.nextWeighted())
	}
	return p.seq[i]
}

// nextWeighted picks the class with the largest deficit: the exact share
// of the next user count minus what it has. Ties go to the heavier class,
// then to the first.
func (p *Plan) nextWeighted() int {
	p.nweight++
	best, bestDef := -1, 0.0
	for i, w := range p.weights {
		if w == 0 {
			continue
		}
		def := float64(w)*float64(p.nweight)/float64(p.wsum) - float64(p.counts[i])
		if best < 0 || def > bestDef+1e-12 || (def > bestDef-1e-12 && w > p.weights[best]) {
			best, bestDef = i, def
		}
	}
	p.counts[best]++
	return best
}

// Counts returns how many users of each class (by name) the first n users are.
func (p *Plan) Counts(n int) map[string]int {
	out := make(map[string]int, len(p.classes))
	for i, k := range p.CountsByIndex(n) {
		out[p.classes[i].Name] = k
	}
	return out
}

// CountsByIndex returns how many users of each class (by index) the first
// n users are. Past Max, the extra users have no class and are not counted.
func (p *Plan) CountsByIndex(n int) []int {
	out := make([]int, len(p.classes))
	for i := range n {
		c := p.Class(i)
		if c < 0 {
			break
		}
		out[c]++
	}
	return out
}

// Max returns the most users the plan can place, or -1 for no limit.
func (p *Plan) Max() int {
	if p.wsum > 0 {
		return -1
	}
	return p.fixed
}

// Continue returns the plan of a test whose user classes change when it
// runs n users, as Locust's load shapes change user_classes: the first n
// users are p's (they keep running), and every later user comes from the
// classes keep marks (by index), fixed-count ones first. A ramp down
// still stops the newest users first, whatever their class.
func (p *Plan) Continue(n int, keep []bool) *Plan {
	if n > 0 {
		p.Class(n - 1) // make sure the prefix exists
	}
	prefix := p.seq[:min(n, len(p.seq))]
	q := &Plan{classes: p.classes, counts: make([]int, len(p.classes)), weights: make([]int, len(p.classes))}
	q.seq = append(make([]int, 0, len(prefix)), prefix...)
	have := make([]int, len(p.classes))
	for _, c := range prefix {
		have[c]++
	}
	for i, c := range p.classes {
		if i >= len(keep) || !keep[i] {
			continue
		}
		if c.FixedCount > 0 {
			for range c.FixedCount - have[i] {
				q.seq = append(q.seq, i)
			}
			continue
		}
		q.weights[i] = c.Weight
		q.wsum += c.Weight
	}
	q.fixed = len(q.seq)
	return q
}
