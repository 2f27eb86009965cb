package script

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"go.starlark.net/starlark"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// toMessage builds a message of type md from a dict of its fields (by
// name or JSON name); None is the empty message. Nested messages are
// dicts, repeated fields lists, map fields dicts, enums their value's
// name or number, bytes fields bytes or strings.
func toMessage(v starlark.Value, md protoreflect.MessageDescriptor) (*dynamicpb.Message, error) {
	m := dynamicpb.NewMessage(md)
	if isNone(v) {
		return m, nil
	}
	if err := fillMessage(m, v, string(md.FullName())); err != nil {
		return nil, err
	}
	return m, nil
}

func fillMessage(m protoreflect.Message, v starlark.Value, path string) error {
	md := m.Descriptor()
	d, ok := v.(*starlark.Dict)
	if !ok {
		return fmt.Errorf("%s: want a dict of its fields, got %s", path, v.Type())
	}
	fields := md.Fields()
	for _, kv := range d.Items() {
		k, ok := starlark.AsString(kv[0])
		if !ok {
			return fmt.Errorf("%s: field names must be strings, got %s", path, kv[0].Type())
		}
		fd := fields.ByName(protoreflect.Name(k))
		if fd == nil {
			fd = fields.ByJSONName(k)
		}
		if fd == nil {
			return fmt.Errorf("%s has no field %q (fields: %s)", md.FullName(), k, fieldNames(md))
		}
		if isNone(kv[1]) {
			continue
		}
		if err := setField(m, fd, kv[1], path+"."+k); err != nil {
			return err
		}
	}
	return nil
}

func fieldNames(md protoreflect.MessageDescriptor) string {
	fs := md.Fields()
	names := make([]string, fs.Len())
	for i := range names {
		names[i] = string(fs.Get(i).Name())
	}
	return strings.Join(names, ", ")
}

func setField(m protoreflect.Message, fd protoreflect.FieldDescriptor, v starlark.Value, path string) error {
	switch {
	case fd.IsMap():
		d, ok := v.(*starlark.Dict)
		if !ok {
			return fmt.Errorf("%s: want a dict, got %s", path, v.Type())
		}
		mp := m.Mutable(fd).Map()
		for _, kv := range d.Items() {
			k, err := scalar(fd.MapKey(), kv[0], path+" key")
			if err != nil {
				return err
			}
			if fd.MapValue().Message() != nil {
				val := mp.NewValue()
				if err := fillMessage(val.Message(), kv[1], fmt.Sprintf("%s[%s]", path, kv[0])); err != nil {
					return err
				}
				mp.Set(k.MapKey(), val)
				continue
			}
			val, err := scalar(fd.MapValue(), kv[1], fmt.Sprintf("%s[%s]", path, kv[0]))
			if err != nil {
				return err
			}
			mp.Set(k.MapKey(), val)
		}
		return nil
	case fd.IsList():
		seq, ok := v.(starlark.Indexable)
		if !ok || v.Type() == "string" || v.Type() == "bytes" {
			return fmt.Errorf("%s: want a list, got %s", path, v.Type())
		}
		l := m.Mutable(fd).List()
		for i := range seq.Len() {
			el := seq.Index(i)
			p := fmt.Sprintf("%s[%d]", path, i)
			if fd.Message() != nil {
				val := l.NewElement()
				if err := fillMessage(val.Message(), el, p); err != nil {
					return err
				}
				l.Append(val)
				continue
			}
			val, err := scalar(fd, el, p)
			if err != nil {
				return err
			}
			l.Append(val)
		}
		return nil
	case fd.Message() != nil:
		return fillMessage(m.Mutable(fd).Message(), v, path)
	}
	val, err := scalar(fd, v, path)
	if err != nil {
		return err
	}
	m.Set(fd, val)
	return nil
}

// scalar converts a value for a non-message field (or map key).
func scalar(fd protoreflect.FieldDescriptor, v starlark.Value, path string) (protoreflect.Value, error) {
	bad := func(want string) (protoreflect.Value, error) {
		return protoreflect.Value{}, fmt.Errorf("%s: want %s, got %s %s", path, want, v.Type(), v)
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		b, ok := v.(starlark.Bool)
		if !ok {
			return bad("bool")
		}
		return protoreflect.ValueOfBool(bool(b)), nil
	case protoreflect.StringKind:
		s, ok := v.(starlark.String)
		if !ok {
			return bad("string")
		}
		return protoreflect.ValueOfString(string(s)), nil
	case protoreflect.BytesKind:
		switch s := v.(type) {
		case starlark.Bytes:
			return protoreflect.ValueOfBytes([]byte(s)), nil
		case starlark.String:
			return protoreflect.ValueOfBytes([]byte(s)), nil
		}
		return bad("bytes or string")
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		f, ok := starlark.AsFloat(v)
		if !ok || v.Type() == "bool" {
			return bad("float")
		}
		if fd.Kind() == protoreflect.FloatKind {
			return protoreflect.ValueOfFloat32(float32(f)), nil
		}
		return protoreflect.ValueOfFloat64(f), nil
	case protoreflect.EnumKind:
		return enumValue(fd, v, path)
	}
	i, ok := v.(starlark.Int)
	if !ok {
		return bad("int")
	}
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, ok := i.Int64()
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return bad("an int32")
		}
		return protoreflect.ValueOfInt32(int32(n)), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, ok := i.Int64()
		if !ok {
			return bad("an int64")
		}
		return protoreflect.ValueOfInt64(n), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, ok := i.Uint64()
		if !ok || n > math.MaxUint32 {
			return bad("a uint32")
		}
		return protoreflect.ValueOfUint32(uint32(n)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, ok := i.Uint64()
		if !ok {
			return bad("a uint64")
		}
		return protoreflect.ValueOfUint64(n), nil
	}
	return bad(fd.Kind().String())
}

func enumValue(fd protoreflect.FieldDescriptor, v starlark.Value, path string) (protoreflect.Value, error) {
	ed := fd.Enum()
	switch x := v.(type) {
	case starlark.String:
		if ev := ed.Values().ByName(protoreflect.Name(x)); ev != nil {
			return protoreflect.ValueOfEnum(ev.Number()), nil
		}
		vs := ed.Values()
		names := make([]string, vs.Len())
		for i := range names {
			names[i] = string(vs.Get(i).Name())
		}
		return protoreflect.Value{}, fmt.Errorf("%s: %s has no value %q (values: %s)", path, ed.FullName(), string(x), strings.Join(names, ", "))
	case starlark.Int:
		n, ok := x.Int64()
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return protoreflect.Value{}, fmt.Errorf("%s: enum number %s out of range", path, x)
		}
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
	}
	return protoreflect.Value{}, fmt.Errorf("%s: want a %s value name or number, got %s", path, ed.FullName(), v.Type())
}

// fromMessage is a message as a dict of all its fields: unset scalars
// are their zero value, unset messages and fields with presence (proto3
// optional, oneof members) None; enums are their value's name; map
// entries are in key order.
func fromMessage(m protoreflect.Message) *starlark.Dict {
	fields := m.Descriptor().Fields()
	d := starlark.NewDict(fields.Len())
	for i := range fields.Len() {
		fd := fields.Get(i)
		_ = d.SetKey(starlark.String(fd.Name()), fieldValue(m, fd)) // a fresh dict cannot fail
	}
	return d
}

func fieldValue(m protoreflect.Message, fd protoreflect.FieldDescriptor) starlark.Value {
	switch {
	case fd.IsMap():
		mp := m.Get(fd).Map()
		keys := make([]protoreflect.MapKey, 0, mp.Len())
		mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			keys = append(keys, k)
			return true
		})
		slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return strings.Compare(a.String(), b.String()) })
		d := starlark.NewDict(len(keys))
		for _, k := range keys {
			_ = d.SetKey(value(fd.MapKey(), k.Value()), value(fd.MapValue(), mp.Get(k)))
		}
		return d
	case fd.IsList():
		l := m.Get(fd).List()
		out := make([]starlark.Value, l.Len())
		for i := range out {
			out[i] = value(fd, l.Get(i))
		}
		return starlark.NewList(out)
	case fd.HasPresence() && !m.Has(fd):
		return starlark.None
	}
	return value(fd, m.Get(fd))
}

// value converts one non-repeated value of fd's kind.
func value(fd protoreflect.FieldDescriptor, v protoreflect.Value) starlark.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return starlark.Bool(v.Bool())
	case protoreflect.StringKind:
		return starlark.String(v.String())
	case protoreflect.BytesKind:
		return starlark.Bytes(v.Bytes())
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return starlark.Float(v.Float())
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return starlark.String(ev.Name())
		}
		return starlark.MakeInt64(int64(v.Enum()))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return starlark.MakeInt64(v.Int())
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return starlark.MakeUint64(v.Uint())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return fromMessage(v.Message())
	}
	return starlark.None
}
