// Package cluster is the wire between horde's master and its workers: the
// protobuf messages (package pb), the gRPC server and client with token
// authentication, optional TLS/mTLS and a protocol version check, an
// in-process pipe for the standalone worker, and the conversion of
// statistics deltas to and from messages. It does not decide anything:
// dispatch lives in package master, running users in package worker.
package cluster

import "github.com/horde-load/horde/internal/cluster/pb"

// ProtocolVersion is the version of the master/worker protocol. A master
// refuses workers that speak another one.
const ProtocolVersion = 1

// MasterStream is the master's end of one worker's stream. The gRPC
// server stream and the in-process Pipe both implement it.
type MasterStream interface {
	Send(*pb.MasterMessage) error
	Recv() (*pb.WorkerMessage, error)
}

// WorkerStream is a worker's end of its stream to the master.
type WorkerStream interface {
	Send(*pb.WorkerMessage) error
	Recv() (*pb.MasterMessage, error)
}
