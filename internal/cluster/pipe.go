package cluster

import (
	"errors"
	"io"
	"sync"

	"github.com/horde-load/horde/internal/cluster/pb"
)

// ErrPipeClosed is what Send returns on a closed Pipe.
var ErrPipeClosed = errors.New("cluster: pipe closed")

// pipeBuffer is how many messages each direction holds before Send
// blocks: a second of reports and targets, many times over.
const pipeBuffer = 64

// pipeCore is the state both ends of a Pipe share.
type pipeCore struct {
	toWorker chan *pb.MasterMessage
	toMaster chan *pb.WorkerMessage
	done     chan struct{}
	once     sync.Once
}

// Pipe returns the two ends of an in-process stream, for the standalone
// worker. Messages pass by pointer, without marshalling: a sender must not
// touch a message after sending it. Both ends are safe for concurrent
// use. close makes every Send fail with ErrPipeClosed and, once the
// messages already sent are read, every Recv return io.EOF; it is safe to
// call more than once.
func Pipe() (MasterStream, WorkerStream, func()) {
	c := &pipeCore{
		toWorker: make(chan *pb.MasterMessage, pipeBuffer),
		toMaster: make(chan *pb.WorkerMessage, pipeBuffer),
		done:     make(chan struct{}),
	}
	return pipeMaster{c}, pipeWorker{c}, func() { c.once.Do(func() { close(c.done) }) }
}

// pipeMaster is the master's end of a Pipe.
type pipeMaster struct{ c *pipeCore }

// pipeWorker is the worker's end of a Pipe.
type pipeWorker struct{ c *pipeCore }

var (
	_ MasterStream = pipeMaster{}
	_ WorkerStream = pipeWorker{}
)

// Send queues m for the worker.
func (p pipeMaster) Send(m *pb.MasterMessage) error { return pipeSend(p.c.done, p.c.toWorker, m) }

// Recv returns the worker's next message.
func (p pipeMaster) Recv() (*pb.WorkerMessage, error) { return pipeRecv(p.c.done, p.c.toMaster) }

// Send queues m for the master.
func (p pipeWorker) Send(m *pb.WorkerMessage) error { return pipeSend(p.c.done, p.c.toMaster, m) }

// Recv returns the master's next message.
func (p pipeWorker) Recv() (*pb.MasterMessage, error) { return pipeRecv(p.c.done, p.c.toWorker) }

func pipeSend[T any](done <-chan struct{}, ch chan<- *T, m *T) error {
	if m == nil {
		return errors.New("cluster: send of a nil message")
	}
	// Checked first so that a Send after close fails even when the
	// buffer has room.
	select {
	case <-done:
		return ErrPipeClosed
	default:
	}
	select {
	case <-done:
		return ErrPipeClosed
	case ch <- m:
		return nil
	}
}

func pipeRecv[T any](done <-chan struct{}, ch <-chan *T) (*T, error) {
	select {
	case m := <-ch:
		return m, nil
	case <-done:
		// Deliver what was sent before close, as a gRPC stream does.
		select {
		case m := <-ch:
			return m, nil
		default:
			return nil, io.EOF
		}
	}
}
