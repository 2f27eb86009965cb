package grpcx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/reporter"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Methods are the gRPC methods some .proto files (or a server's
// reflection) describe, by full name "/pkg.Service/Method". Immutable
// once built, so shared by every user.
type Methods struct {
	byName   map[string]protoreflect.MethodDescriptor
	services []string
}

// Method finds a method by its full name, "/pkg.Service/Method" (the
// leading slash may be left out). The error says what is known instead.
func (m *Methods) Method(full string) (protoreflect.MethodDescriptor, error) {
	name := "/" + strings.TrimPrefix(full, "/")
	if md, ok := m.byName[name]; ok {
		return md, nil
	}
	svc, meth, ok := SplitMethod(name)
	if !ok {
		return nil, fmt.Errorf("method %q: want /package.Service/Method", full)
	}
	if !slices.Contains(m.services, svc) {
		return nil, fmt.Errorf("no service %s (services: %s)", svc, strings.Join(m.services, ", "))
	}
	var have []string
	for n := range m.byName {
		if s, mm, _ := SplitMethod(n); s == svc {
			have = append(have, mm)
		}
	}
	slices.Sort(have)
	return nil, fmt.Errorf("service %s has no method %s (methods: %s)", svc, meth, strings.Join(have, ", "))
}

// Has reports whether the service is described.
func (m *Methods) Has(service string) bool { return slices.Contains(m.services, service) }

// Services lists the services described, sorted.
func (m *Methods) Services() []string { return slices.Clone(m.services) }

// SplitMethod splits "/pkg.Service/Method" into "pkg.Service" and "Method".
func SplitMethod(full string) (service, method string, ok bool) {
	s := strings.TrimPrefix(full, "/")
	i := strings.LastIndexByte(s, '/')
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// Merge adds o's methods to m's (m's win on a clash) and returns m.
func (m *Methods) Merge(o *Methods) *Methods {
	if m.byName == nil {
		m.byName = map[string]protoreflect.MethodDescriptor{}
	}
	for k, v := range o.byName {
		if _, ok := m.byName[k]; !ok {
			m.byName[k] = v
		}
	}
	for _, s := range o.services {
		if !slices.Contains(m.services, s) {
			m.services = append(m.services, s)
		}
	}
	slices.Sort(m.services)
	return m
}

func (m *Methods) addFile(fd protoreflect.FileDescriptor) {
	if m.byName == nil {
		m.byName = map[string]protoreflect.MethodDescriptor{}
	}
	svcs := fd.Services()
	for i := range svcs.Len() {
		sd := svcs.Get(i)
		name := string(sd.FullName())
		if !slices.Contains(m.services, name) {
			m.services = append(m.services, name)
		}
		ms := sd.Methods()
		for j := range ms.Len() {
			md := ms.Get(j)
			m.byName["/"+name+"/"+string(md.Name())] = md
		}
	}
	slices.Sort(m.services)
}

// CompileError is a .proto file that does not compile, at its position
// (Line 0 when unknown).
type CompileError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *CompileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Compile compiles .proto files named as imports name them (relative to
// one of the import paths); read returns a file by its path (an import
// path joined with a name) and an error wrapping fs.ErrNotExist when it
// has none. google/protobuf/*.proto are built in. Errors are
// *CompileError at the first problem's position.
func Compile(ctx context.Context, names, importPaths []string, read func(path string) ([]byte, error)) (*Methods, error) {
	var first error
	rep := reporter.NewReporter(func(err reporter.ErrorWithPos) error {
		if first == nil {
			p := err.GetPosition()
			first = &CompileError{File: p.Filename, Line: p.Line, Col: p.Col, Msg: err.Unwrap().Error()}
		}
		return err
	}, nil)
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			ImportPaths: importPaths,
			Accessor: func(path string) (io.ReadCloser, error) {
				b, err := read(path)
				if err != nil {
					return nil, err
				}
				return io.NopCloser(bytes.NewReader(b)), nil
			},
		}),
		Reporter:       rep,
		MaxParallelism: 1,
	}
	files, err := c.Compile(ctx, names...)
	if err != nil {
		if first != nil {
			return nil, first
		}
		var fe *fs.PathError
		if errors.As(err, &fe) || errors.Is(err, fs.ErrNotExist) {
			return nil, &CompileError{File: names[0], Msg: "file not found: " + err.Error()}
		}
		return nil, &CompileError{File: names[0], Msg: err.Error()}
	}
	m := &Methods{}
	for _, f := range files {
		m.addFile(f)
	}
	return m, nil
}

// Reflect asks the server behind cc, by server reflection (v1), for the
// description of service and builds its methods.
func Reflect(ctx context.Context, cc *grpc.ClientConn, service string) (*Methods, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := rpb.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, reflectErr(err)
	}
	protos := map[string]*descriptorpb.FileDescriptorProto{}
	ask := func(req *rpb.ServerReflectionRequest) error {
		if err := stream.Send(req); err != nil {
			return err
		}
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		if e := resp.GetErrorResponse(); e != nil {
			return status.Error(codesOf(e.GetErrorCode()), e.GetErrorMessage())
		}
		for _, b := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
			fdp := &descriptorpb.FileDescriptorProto{}
			if err := proto.Unmarshal(b, fdp); err != nil {
				return fmt.Errorf("a file descriptor the server sent: %w", err)
			}
			protos[fdp.GetName()] = fdp
		}
		return nil
	}
	if err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: service}}); err != nil {
		return nil, reflectErr(err)
	}
	// Dependencies the server left out (sent earlier on another stream,
	// or assumed known) are asked for by name, unless linked in here.
	for range 100 {
		missing := ""
		for _, fdp := range protos {
			for _, dep := range fdp.GetDependency() {
				if _, ok := protos[dep]; !ok {
					if _, err := protoregistry.GlobalFiles.FindFileByPath(dep); err != nil {
						missing = dep
					}
				}
			}
		}
		if missing == "" {
			break
		}
		if err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: missing}}); err != nil {
			return nil, reflectErr(err)
		}
		if _, ok := protos[missing]; !ok {
			return nil, fmt.Errorf("reflection: the server did not send %s", missing)
		}
	}
	_ = stream.CloseSend()
	files := &protoregistry.Files{}
	var build func(name string) (protoreflect.FileDescriptor, error)
	build = func(name string) (protoreflect.FileDescriptor, error) {
		if fd, err := files.FindFileByPath(name); err == nil {
			return fd, nil
		}
		fdp, ok := protos[name]
		if !ok {
			return protoregistry.GlobalFiles.FindFileByPath(name)
		}
		for _, dep := range fdp.GetDependency() {
			if _, err := build(dep); err != nil {
				return nil, err
			}
		}
		fd, err := protodesc.NewFile(fdp, chain{files})
		if err != nil {
			return nil, fmt.Errorf("reflection: %s: %w", name, err)
		}
		return fd, files.RegisterFile(fd)
	}
	m := &Methods{}
	for name := range protos {
		fd, err := build(name)
		if err != nil {
			return nil, err
		}
		m.addFile(fd)
	}
	if !m.Has(service) {
		return nil, fmt.Errorf("reflection: the server does not describe service %s", service)
	}
	return m, nil
}

func reflectErr(err error) error {
	return fmt.Errorf("reflection: %w", err)
}

// chain resolves files built here first, then those linked into horde.
type chain struct{ local *protoregistry.Files }

func (c chain) FindFileByPath(p string) (protoreflect.FileDescriptor, error) {
	if fd, err := c.local.FindFileByPath(p); err == nil {
		return fd, nil
	}
	return protoregistry.GlobalFiles.FindFileByPath(p)
}

func (c chain) FindDescriptorByName(n protoreflect.FullName) (protoreflect.Descriptor, error) {
	if d, err := c.local.FindDescriptorByName(n); err == nil {
		return d, nil
	}
	return protoregistry.GlobalFiles.FindDescriptorByName(n)
}

// codesOf converts a reflection error code (a status code number).
func codesOf(c int32) codes.Code {
	if c < 0 {
		return codes.Unknown
	}
	return codes.Code(c)
}
