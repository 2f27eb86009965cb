package grpcx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Result is the outcome of one call.
type Result struct {
	// Status is OK for a call that succeeded; never nil.
	Status  *status.Status
	Header  metadata.MD
	Trailer metadata.MD
	// Elapsed runs from the call to its status (the last message of a
	// stream and its trailer).
	Elapsed time.Duration
	// BytesRecv is the size of the messages received, as on the wire
	// (uncompressed).
	BytesRecv int64
	// Messages is how many messages came.
	Messages int
}

// OK reports whether the call ended with status OK.
func (r *Result) OK() bool { return r.Status.Code() == codes.OK }

// Unary calls method ("/pkg.Service/Method") with req and reads the
// answer into resp. md is sent as the request's metadata.
func Unary(ctx context.Context, cc *grpc.ClientConn, method string, req, resp proto.Message, md metadata.MD) Result {
	if len(md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	var r Result
	out := sized{m: resp}
	start := time.Now()
	err := cc.Invoke(ctx, method, sized{m: req}, &out, grpc.Header(&r.Header), grpc.Trailer(&r.Trailer))
	r.Elapsed = time.Since(start)
	r.Status = status.Convert(err)
	if err == nil {
		r.Messages, r.BytesRecv = 1, int64(out.n)
	}
	return r
}

var serverStream = &grpc.StreamDesc{ServerStreams: true}

// ServerStream calls a server-streaming method with req and hands each
// message to each, which returns false to stop reading (the call is then
// cancelled and ends with CANCELED unless max was the reason: see below).
// newResp makes the message to read each answer into. At most max
// messages are read (0: no limit); a stream that sends more ends OK after
// max, cancelled, with Messages == max. A stream whose messages add up
// to more than maxBytes (0: no limit) ends RESOURCE_EXHAUSTED.
func ServerStream(ctx context.Context, cc *grpc.ClientConn, method string, req proto.Message, md metadata.MD,
	maxMsgs int, maxBytes int64, newResp func() proto.Message, each func(proto.Message) bool) Result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if len(md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	var r Result
	start := time.Now()
	s, err := cc.NewStream(ctx, serverStream, method)
	if err == nil {
		err = s.SendMsg(sized{m: req})
	}
	if err == nil {
		err = s.CloseSend()
	}
	if err != nil {
		r.Status = status.Convert(err)
		r.Elapsed = time.Since(start)
		return r
	}
	for {
		m := newResp()
		in := sized{m: m}
		err := s.RecvMsg(&in)
		if err == io.EOF {
			r.Status = status.New(codes.OK, "")
			break
		}
		if err != nil {
			r.Status = status.Convert(err)
			break
		}
		r.Messages++
		r.BytesRecv += int64(in.n)
		if maxBytes > 0 && r.BytesRecv > maxBytes {
			r.Status = status.Newf(codes.ResourceExhausted, "stream over %d bytes", maxBytes)
			break
		}
		if !each(m) {
			r.Status = status.New(codes.Canceled, "the script stopped reading")
			break
		}
		if maxMsgs > 0 && r.Messages >= maxMsgs {
			r.Status = status.New(codes.OK, "")
			break
		}
	}
	r.Header, _ = s.Header()
	r.Trailer = s.Trailer()
	r.Elapsed = time.Since(start)
	return r
}

// Reason is the failure reason of a status, fit to group failures by:
// the code's canonical name ("NOT_FOUND", "DEADLINE_EXCEEDED"), with the
// cause of a connection failure ("UNAVAILABLE: connection refused").
// OK is "".
func Reason(s *status.Status) string {
	c := s.Code()
	if c == codes.OK {
		return ""
	}
	name := CodeName(c)
	if c != codes.Unavailable && c != codes.Internal && c != codes.Unknown {
		return name
	}
	msg := s.Message()
	for _, k := range causes {
		if strings.Contains(msg, k[0]) {
			return name + ": " + k[1]
		}
	}
	return name
}

// causes name what a connection or transport failure's message says:
// substring, short reason.
var causes = [...][2]string{
	{"connection refused", "connection refused"},
	{"connection reset by peer", "connection reset by peer"},
	{"no such host", "no such host"},
	{"i/o timeout", "timeout"},
	{"x509", "tls certificate"},
	{"certificate", "tls certificate"},
	{"tls:", "tls"},
	{"error reading server preface", "not a gRPC server"},
	{"received message larger than max", "message too big"},
	{"EOF", "EOF"},
}

// CodeName is the canonical name of a status code, as in the gRPC
// specification: "OK", "NOT_FOUND", "DEADLINE_EXCEEDED".
func CodeName(c codes.Code) string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("CODE_%d", uint32(c))
}

var codeNames = [...]string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

// CodeOf is the code named name (canonical, as CodeName gives, or as
// grpc-go spells it: "NotFound"), or false.
func CodeOf(name string) (codes.Code, bool) {
	for i, n := range codeNames {
		if strings.EqualFold(n, name) || strings.EqualFold(codes.Code(i).String(), name) {
			return codes.Code(i), true
		}
	}
	return 0, false
}

// sized carries a message through the codec, which notes its size.
type sized struct {
	m proto.Message
	n int
}

// codec is grpc-go's protobuf codec, counting the bytes of what it
// decodes into a *sized.
type codec struct{}

func (codec) Name() string { return "proto" }

func (codec) Marshal(v any) (mem.BufferSlice, error) {
	m, err := messageOf(v)
	if err != nil {
		return nil, err
	}
	// Partial: proto3 has no required fields to check, and checking costs
	// dynamic messages a walk of every field.
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, err := messageOf(v)
	if err != nil {
		return err
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	if s, ok := v.(*sized); ok {
		s.n = buf.Len()
	}
	return proto.UnmarshalOptions{AllowPartial: true}.Unmarshal(buf.ReadOnlyData(), m)
}

func messageOf(v any) (proto.Message, error) {
	switch v := v.(type) {
	case sized:
		return v.m, nil
	case *sized:
		return v.m, nil
	case proto.Message:
		return v, nil
	}
	return nil, errors.New("grpcx: not a message")
}
