package starlib

import (
	"encoding/base64"
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// NewBase64 returns the `base64` module. Encoders take a string (its UTF-8
// bytes) or bytes and return a string, ready for a header or a URL —
// Python returns bytes, which Starlark cannot .decode(). Decoders return
// bytes, as Python's; str(b) gives the text.
func NewBase64() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "base64", Members: starlark.StringDict{
		"b64encode":          encoder("b64encode", base64.StdEncoding),
		"b64decode":          decoder("b64decode", base64.StdEncoding, base64.RawStdEncoding),
		"standard_b64encode": encoder("standard_b64encode", base64.StdEncoding),
		"standard_b64decode": decoder("standard_b64decode", base64.StdEncoding, base64.RawStdEncoding),
		"urlsafe_b64encode":  encoder("urlsafe_b64encode", base64.URLEncoding),
		"urlsafe_b64decode":  decoder("urlsafe_b64decode", base64.URLEncoding, base64.RawURLEncoding),
	}}
}

func encoder(name string, enc *base64.Encoding) *starlark.Builtin {
	return starlark.NewBuiltin("base64."+name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s data
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
			return nil, err
		}
		return starlark.String(enc.EncodeToString(s)), nil
	})
}

// decoder accepts input with or without its = padding (JWTs leave it out)
// and ignores line breaks, as Python does.
func decoder(name string, padded, raw *base64.Encoding) *starlark.Builtin {
	return starlark.NewBuiltin("base64."+name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s data
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
			return nil, err
		}
		in := strings.NewReplacer("\r", "", "\n", "").Replace(string(s))
		enc := padded
		if !strings.HasSuffix(in, "=") && len(in)%4 != 0 {
			enc = raw
		}
		out, err := enc.DecodeString(in)
		if err != nil {
			return nil, fmt.Errorf("%s: not valid base64 (%v)", b.Name(), err)
		}
		return starlark.Bytes(out), nil
	})
}
