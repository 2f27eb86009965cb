package stats

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Collector records samples on the request path. It is sharded: each shard
// has its own lock, users are spread over shards by id (For), and no lock
// is shared by all recorders. Cut takes what was recorded since the last
// Cut as a Delta.
type Collector struct {
	shards  []*shard
	dropped atomic.Int64
}

// shard is one independently locked part of a Collector. It implements
// Recorder so that For can hand it out without allocating.
type shard struct {
	mu         sync.Mutex
	endpoints  map[Key]*Entry
	errors     map[ErrorKey]int64
	exceptions map[string]ExceptionGroup
	_          [64]byte // keep neighbouring shards off this cache line
}

var _ Recorder = (*shard)(nil)

// NewCollector returns a Collector with the given number of shards; n <= 0
// means four per usable CPU.
func NewCollector(n int) *Collector {
	if n <= 0 {
		n = 4 * runtime.GOMAXPROCS(0)
	}
	c := &Collector{shards: make([]*shard, n)}
	for i := range c.shards {
		c.shards[i] = &shard{endpoints: make(map[Key]*Entry)}
	}
	return c
}

// For returns the Recorder of the shard that user id records into. Hand
// each user its own so that users on different shards never contend.
func (c *Collector) For(userID int) Recorder {
	i := userID % len(c.shards)
	if i < 0 {
		i += len(c.shards)
	}
	return c.shards[i]
}

// AddDropped counts n open-model arrivals that found no free user.
func (c *Collector) AddDropped(n int64) { c.dropped.Add(n) }

// Cut returns everything recorded since the previous Cut. Every sample is
// in exactly one Delta, however Record and Cut interleave.
func (c *Collector) Cut() *Delta {
	d := NewDelta()
	d.Dropped = c.dropped.Swap(0)
	for _, s := range c.shards {
		s.cutInto(d)
	}
	return d
}

// Record adds one sample to the shard.
func (s *shard) Record(smp Sample) {
	us := micros(smp.Latency)
	failed := smp.Err != ""
	s.mu.Lock()
	e := s.endpoints[smp.Key]
	if e == nil {
		e = &Entry{}
		s.endpoints[smp.Key] = e
	}
	e.add(us, smp.Bytes, failed)
	if failed {
		if s.errors == nil {
			s.errors = make(map[ErrorKey]int64)
		}
		s.errors[ErrorKey{Key: smp.Key, Error: smp.Err}]++
	}
	s.mu.Unlock()
}

// Exception records one script error in the shard.
func (s *shard) Exception(msg, traceback string) {
	s.mu.Lock()
	if s.exceptions == nil {
		s.exceptions = make(map[string]ExceptionGroup)
	}
	g, ok := s.exceptions[msg]
	if !ok {
		g.Traceback = traceback
	}
	g.Count++
	s.exceptions[msg] = g
	s.mu.Unlock()
}

// cutInto moves the shard's counts into d. Entries that saw no request
// since the previous cut are dropped, so a worker's memory follows the
// names in use, not every name ever seen; active ones are reset in place
// so that the request path does not allocate again.
func (s *shard) cutInto(d *Delta) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.endpoints {
		if e.Requests == 0 {
			delete(s.endpoints, k)
			continue
		}
		d.mergeEntry(k, e)
		e.reset()
	}
	for k, n := range s.errors {
		d.Errors[k] += n
	}
	s.errors = nil
	for msg, g := range s.exceptions {
		d.mergeException(msg, g)
	}
	s.exceptions = nil
}
