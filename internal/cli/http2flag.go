package cli

import "github.com/horde-load/horde/internal/httpx"

// http2Flag is --http2: bare it means true; also --http2=false and
// --http2=strict (HORDE_HTTP2, a config file and options http2 give the
// same words).
type http2Flag struct{ mode httpx.HTTP2Mode }

func (f *http2Flag) String() string { return f.mode.String() }

func (f *http2Flag) Set(s string) error {
	m, err := httpx.ParseHTTP2Mode(s)
	if err != nil {
		return err
	}
	f.mode = m
	return nil
}

func (f *http2Flag) Type() string { return "true|false|strict" }
