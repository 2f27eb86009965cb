package master

import (
	"sync"

	"github.com/horde-load/horde/internal/cluster/pb"
)

// outbox holds what the master has to tell one worker and has not sent
// yet: at most one target, one heartbeat and one quit. Targets are
// absolute, so a newer one replaces one not sent yet (keeping its
// statistics reset and its host): a worker that reads slowly gets the
// latest target rather than every step of a ramp, and the master neither
// waits for it nor keeps a queue per worker. Ten thousand workers cost
// ten thousand small structs, not ten thousand channels of messages.
type outbox struct {
	mu        sync.Mutex
	target    *pb.Target
	heartbeat *pb.MasterMessage
	quit      *pb.Quit
	ready     chan struct{} // 1-buffered: there is something to send
}

func newOutbox() *outbox { return &outbox{ready: make(chan struct{}, 1)} }

func (o *outbox) wake() {
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

// queueTarget queues t, replacing the target not sent yet, without waking
// the sender: the master queues many targets under its lock and wakes
// their senders once it let go.
func (o *outbox) queueTarget(t *pb.Target) {
	o.mu.Lock()
	if old := o.target; old != nil {
		t.ResetStats = t.ResetStats || old.ResetStats
		if t.Host == "" {
			t.Host = old.Host
		}
	}
	o.target = t
	o.mu.Unlock()
}

// putHeartbeat queues the master's heartbeat; hb is shared by every
// worker's outbox and never changed.
func (o *outbox) putHeartbeat(hb *pb.MasterMessage) {
	o.mu.Lock()
	o.heartbeat = hb
	o.mu.Unlock()
	o.wake()
}

func (o *outbox) putQuit(q *pb.Quit) {
	o.mu.Lock()
	o.quit = q
	o.mu.Unlock()
	o.wake()
}

// take removes and returns the next message to send (nil: none): the
// target first, then the heartbeat, then the quit.
func (o *outbox) take() *pb.MasterMessage {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.target != nil:
		t := o.target
		o.target = nil
		return &pb.MasterMessage{Msg: &pb.MasterMessage_Target{Target: t}}
	case o.heartbeat != nil:
		hb := o.heartbeat
		o.heartbeat = nil
		return hb
	case o.quit != nil:
		q := o.quit
		o.quit = nil
		return &pb.MasterMessage{Msg: &pb.MasterMessage_Quit{Quit: q}}
	}
	return nil
}
