package cluster

import (
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/horde-load/horde/internal/cluster/pb"
)

func heartbeat(epoch uint64) *pb.WorkerMessage {
	return &pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: &pb.Heartbeat{TargetEpoch: epoch}}}
}

func target(epoch uint64) *pb.MasterMessage {
	return &pb.MasterMessage{Msg: &pb.MasterMessage_Target{Target: &pb.Target{Epoch: epoch}}}
}

func TestPipeCarriesMessagesInOrderBothWays(t *testing.T) {
	t.Parallel()
	m, w, closeFn := Pipe()
	defer closeFn()
	const n = 1000 // more than the buffer: Send waits for Recv
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range uint64(n) {
			if err := m.Send(target(i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range uint64(n) {
			if err := w.Send(heartbeat(i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range uint64(n) {
		got, err := w.Recv()
		if err != nil || got.GetTarget().GetEpoch() != i {
			t.Fatalf("worker got %v, %v; want target %d", got, err, i)
		}
		hb, err := m.Recv()
		if err != nil || hb.GetHeartbeat().GetTargetEpoch() != i {
			t.Fatalf("master got %v, %v; want heartbeat %d", hb, err, i)
		}
	}
	wg.Wait()
}

func TestPipeSharesThePointer(t *testing.T) {
	t.Parallel()
	m, w, closeFn := Pipe()
	defer closeFn()
	msg := target(7)
	if err := m.Send(msg); err != nil {
		t.Fatal(err)
	}
	got, err := w.Recv()
	if err != nil || got != msg {
		t.Fatalf("got %p, %v; want the sent message %p (no copy)", got, err, msg)
	}
}

func TestPipeClose(t *testing.T) {
	t.Parallel()
	m, w, closeFn := Pipe()
	if err := w.Send(heartbeat(1)); err != nil {
		t.Fatal(err)
	}
	// A Recv blocked when close comes returns io.EOF.
	blocked := make(chan error, 1)
	go func() {
		_, err := w.Recv()
		blocked <- err
	}()
	closeFn()
	closeFn() // idempotent
	if err := <-blocked; !errors.Is(err, io.EOF) {
		t.Fatalf("blocked worker Recv: %v, want io.EOF", err)
	}
	// What was sent before close is still delivered, then io.EOF.
	if got, err := m.Recv(); err != nil || got.GetHeartbeat().GetTargetEpoch() != 1 {
		t.Fatalf("master Recv after close: %v, %v; want the heartbeat sent before", got, err)
	}
	if _, err := m.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("master Recv: %v, want io.EOF", err)
	}
	if err := m.Send(target(1)); !errors.Is(err, ErrPipeClosed) {
		t.Fatalf("master Send after close: %v", err)
	}
	if err := w.Send(heartbeat(2)); !errors.Is(err, ErrPipeClosed) {
		t.Fatalf("worker Send after close: %v", err)
	}
}

func TestPipeCloseUnblocksSend(t *testing.T) {
	t.Parallel()
	m, _, closeFn := Pipe()
	errc := make(chan error, 1)
	go func() {
		for i := uint64(0); ; i++ { // nobody reads: fills the buffer, then blocks
			if err := m.Send(target(i)); err != nil {
				errc <- err
				return
			}
		}
	}()
	closeFn()
	if err := <-errc; !errors.Is(err, ErrPipeClosed) {
		t.Fatalf("blocked Send: %v, want ErrPipeClosed", err)
	}
}

func TestPipeRefusesNil(t *testing.T) {
	t.Parallel()
	m, w, closeFn := Pipe()
	defer closeFn()
	if m.Send(nil) == nil || w.Send(nil) == nil {
		t.Fatal("Send(nil) succeeded")
	}
}

func TestPipeConcurrentSendersAndClose(t *testing.T) {
	t.Parallel()
	m, w, closeFn := Pipe()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := uint64(0); w.Send(heartbeat(i)) == nil; i++ {
			}
		}()
		go func() {
			defer wg.Done()
			for {
				if _, err := m.Recv(); err != nil {
					return
				}
			}
		}()
	}
	for range 100 {
		if _, err := m.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	closeFn()
	wg.Wait()
}
