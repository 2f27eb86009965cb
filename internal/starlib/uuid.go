package starlib

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// NewUUID returns the `uuid` module: uuid4() and UUID(text).
// Random UUIDs come from crypto/rand, not from the script's seeded random
// source, so that users, workers and runs never repeat one another's ids.
func NewUUID() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "uuid", Members: starlark.StringDict{
		"uuid4": starlark.NewBuiltin("uuid.uuid4", uuid4),
		"UUID":  starlark.NewBuiltin("uuid.UUID", parseUUID),
	}}
}

// UUID is a uuid.UUID value; str() gives the canonical
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx form, as in Python.
type UUID [16]byte

var (
	_ starlark.HasAttrs   = UUID{}
	_ starlark.Comparable = UUID{}
)

func uuid4(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs("uuid.uuid4", args, kwargs); err != nil {
		return nil, err
	}
	var u UUID
	_, _ = rand.Read(u[:])  // crypto/rand.Read never fails (Go 1.24)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u, nil
}

// parseUUID implements uuid.UUID(hex): with or without dashes, braces or
// a urn:uuid: prefix, as Python accepts.
func parseUUID(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackArgs("uuid.UUID", args, kwargs, "hex", &s); err != nil {
		return nil, err
	}
	h := strings.TrimPrefix(strings.TrimPrefix(s, "urn:"), "uuid:")
	h = strings.ReplaceAll(strings.Trim(h, "{}"), "-", "")
	var u UUID
	if len(h) != 32 {
		return nil, fmt.Errorf("uuid.UUID: badly formed hexadecimal UUID string %q", s)
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return nil, fmt.Errorf("uuid.UUID: badly formed hexadecimal UUID string %q", s)
	}
	return u, nil
}

func (u UUID) String() string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
func (u UUID) Type() string          { return "uuid.UUID" }
func (u UUID) Freeze()               {}
func (u UUID) Truth() starlark.Bool  { return true }
func (u UUID) Hash() (uint32, error) { return starlark.String(u[:]).Hash() }

// Attr implements starlark.HasAttrs.
func (u UUID) Attr(name string) (starlark.Value, error) {
	switch name {
	case "hex":
		return starlark.String(hex.EncodeToString(u[:])), nil
	case "urn":
		return starlark.String("urn:uuid:" + u.String()), nil
	case "bytes":
		return starlark.Bytes(u[:]), nil
	case "version":
		return starlark.MakeInt(int(u[6] >> 4)), nil
	}
	return nil, nil
}

// AttrNames implements starlark.HasAttrs.
func (u UUID) AttrNames() []string { return []string{"bytes", "hex", "urn", "version"} }

// CompareSameType implements starlark.Comparable.
func (u UUID) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	v := y.(UUID)
	return starlark.Compare(op, starlark.String(u[:]), starlark.String(v[:]))
}
