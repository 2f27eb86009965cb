package script

import (
	"fmt"

	"go.starlark.net/syntax"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/horde-load/horde/internal/grpcx"
)

// checkGRPC looks at the script's u.grpc and u.grpc_stream calls whose
// method is a string literal of a service loaded by grpc.proto(): a
// method the service lacks, and in a literal request dict a field the
// message lacks or a literal of the wrong type, are load errors at their
// line and column rather than failures at run time. Calls it cannot judge
// without running (a method in a variable, a service described only by
// reflection) are left to run time.
func (l *loader) checkGRPC(f *syntax.File) error {
	g := l.eng.grpc
	if g.loaded == nil || f == nil {
		return nil
	}
	var err error
	syntax.Walk(f, func(n syntax.Node) bool {
		if err != nil {
			return false
		}
		call, ok := n.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		dot, ok := call.Fn.(*syntax.DotExpr)
		if !ok || (dot.Name.Name != "grpc" && dot.Name.Name != "grpc_stream") {
			return true
		}
		lit, ok := call.Args[0].(*syntax.Literal)
		if !ok || lit.Token != syntax.STRING {
			return true
		}
		name, _ := lit.Value.(string)
		svc, _, ok := grpcx.SplitMethod(name)
		if !ok || !g.loaded.Has(svc) {
			return true
		}
		md, e := g.loaded.Method(name)
		if e != nil {
			err = loadErrorAt(lit.TokenPos, fmt.Sprintf("u.%s: %v", dot.Name.Name, e), e)
			return false
		}
		if len(call.Args) > 1 {
			if d, ok := call.Args[1].(*syntax.DictExpr); ok {
				err = checkDictExpr(d, md.Input())
			}
		}
		return err == nil
	})
	return err
}

// checkDictExpr checks a literal dict against a message type.
func checkDictExpr(d *syntax.DictExpr, md protoreflect.MessageDescriptor) error {
	for _, e := range d.List {
		entry, ok := e.(*syntax.DictEntry)
		if !ok {
			continue
		}
		key, ok := entry.Key.(*syntax.Literal)
		if !ok || key.Token != syntax.STRING {
			continue
		}
		k, _ := key.Value.(string)
		fd := md.Fields().ByName(protoreflect.Name(k))
		if fd == nil {
			fd = md.Fields().ByJSONName(k)
		}
		if fd == nil {
			return loadErrorAt(key.TokenPos, fmt.Sprintf("%s has no field %q (fields: %s)", md.FullName(), k, fieldNames(md)), nil)
		}
		if err := checkValueExpr(entry.Value, fd, string(md.FullName())+"."+k); err != nil {
			return err
		}
	}
	return nil
}

// checkValueExpr checks a literal value for a field; other expressions
// are left to run time.
func checkValueExpr(v syntax.Expr, fd protoreflect.FieldDescriptor, path string) error {
	pos, _ := v.Span()
	bad := func(got string) error {
		return loadErrorAt(pos, fmt.Sprintf("%s: want %s, got %s", path, want(fd), got), nil)
	}
	if fd.IsList() || fd.IsMap() {
		switch x := v.(type) {
		case *syntax.Literal:
			return bad(literalKind(x))
		case *syntax.ListExpr:
			if fd.IsMap() {
				return bad("a list")
			}
		case *syntax.DictExpr:
			if fd.IsList() {
				return bad("a dict")
			}
		}
		return nil
	}
	switch x := v.(type) {
	case *syntax.DictExpr:
		if fd.Message() == nil {
			return bad("a dict")
		}
		return checkDictExpr(x, fd.Message())
	case *syntax.ListExpr:
		return bad("a list")
	case *syntax.Literal:
		if fd.Message() != nil {
			return bad(literalKind(x))
		}
		ok := false
		switch fd.Kind() {
		case protoreflect.StringKind, protoreflect.BytesKind:
			ok = x.Token == syntax.STRING || x.Token == syntax.BYTES
		case protoreflect.EnumKind:
			ok = x.Token == syntax.STRING || x.Token == syntax.INT
			if s, isStr := x.Value.(string); isStr && ok && fd.Enum().Values().ByName(protoreflect.Name(s)) == nil {
				return loadErrorAt(pos, fmt.Sprintf("%s: %s has no value %q", path, fd.Enum().FullName(), s), nil)
			}
		case protoreflect.FloatKind, protoreflect.DoubleKind:
			ok = x.Token == syntax.INT || x.Token == syntax.FLOAT
		case protoreflect.BoolKind:
			ok = false
		default: // the integer kinds
			ok = x.Token == syntax.INT
		}
		if !ok {
			return bad(literalKind(x))
		}
	}
	return nil
}

func literalKind(l *syntax.Literal) string {
	switch l.Token {
	case syntax.STRING:
		return "a string"
	case syntax.BYTES:
		return "bytes"
	case syntax.INT:
		return "an int"
	case syntax.FLOAT:
		return "a float"
	}
	return "a literal"
}

func want(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsMap():
		return "a dict"
	case fd.IsList():
		return "a list"
	case fd.Message() != nil:
		return "a dict of " + string(fd.Message().FullName())
	case fd.Kind() == protoreflect.EnumKind:
		return "a " + string(fd.Enum().FullName()) + " value name or number"
	case fd.Kind() == protoreflect.StringKind:
		return "string"
	case fd.Kind() == protoreflect.BytesKind:
		return "bytes or string"
	case fd.Kind() == protoreflect.BoolKind:
		return "bool"
	case fd.Kind() == protoreflect.FloatKind, fd.Kind() == protoreflect.DoubleKind:
		return "float"
	}
	return "int"
}
