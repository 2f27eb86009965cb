package script

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"

	"go.starlark.net/starlark"

	"github.com/horde-load/horde/internal/httpx"
)

// session is what a user keeps between requests and tasks besides its
// cookies, as a requests.Session (Locust's self.client) does: default
// headers (u.headers), credentials (u.auth) and TLS verification
// (u.verify). Each user has its own; a request's own arguments win.
type session struct {
	headers *starlark.Dict // u.headers, made on first use
	auth    starlark.Tuple // u.auth: (user, password), or nil
	verify  *starlark.Bool // u.verify; nil: as the test says (--insecure)
}

// headersFor merges the session's headers with a request's headers=
// (which win, compared without regard to case); nil when there are none.
func (s *session) headersFor(fn string, own starlark.Value) (http.Header, error) {
	var h http.Header
	if s.headers != nil && s.headers.Len() > 0 {
		var err error
		if h, err = headerArg(fn+": u.headers", s.headers); err != nil {
			return nil, err
		}
	}
	if isNone(own) {
		return h, nil
	}
	req, err := headerArg(fn, own)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return req, nil
	}
	for k, vs := range req {
		h[k] = vs
	}
	return h, nil
}

// authorize sets Basic credentials from auth= (or u.auth), unless the
// request has its own Authorization header.
func (s *session) authorize(fn string, own starlark.Value, req *httpx.Request) error {
	auth := own
	if isNone(auth) {
		if s.auth == nil {
			return nil
		}
		auth = s.auth
	}
	user, pass, err := credentials(fn, auth)
	if err != nil {
		return err
	}
	if req.Header.Get("Authorization") != "" {
		return nil
	}
	setHeader(req, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	return nil
}

// credentials reads auth=("user", "password").
func credentials(fn string, v starlark.Value) (user, pass string, err error) {
	t, ok := v.(starlark.Tuple)
	if l, isList := v.(*starlark.List); isList && l.Len() == 2 {
		t, ok = starlark.Tuple{l.Index(0), l.Index(1)}, true
	}
	if !ok || len(t) != 2 {
		return "", "", fmt.Errorf(`%s: auth must be ("user", "password"), got %s`, fn, v)
	}
	u, ok1 := starlark.AsString(t[0])
	p, ok2 := starlark.AsString(t[1])
	if !ok1 || !ok2 {
		return "", "", fmt.Errorf(`%s: auth must be ("user", "password") strings, got %s`, fn, v)
	}
	return u, p, nil
}

// insecure is whether a request skips TLS verification: verify= given,
// else u.verify, else the test's setting (the client's own).
func (s *session) insecure(fn string, own starlark.Value) (bool, error) {
	switch v := own.(type) {
	case nil, starlark.NoneType:
		return s.verify != nil && !bool(*s.verify), nil
	case starlark.Bool:
		return !bool(v), nil
	}
	return false, fmt.Errorf("%s: verify must be True or False, got %s (a CA bundle path is given with --ca-file)", fn, own.Type())
}

// addCookies sends cookies= with the request: a dict name → value, before
// the user's own cookies for the URL.
func addCookies(fn string, v starlark.Value, req *httpx.Request) error {
	if isNone(v) {
		return nil
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return fmt.Errorf("%s: cookies must be a dict, got %s", fn, v.Type())
	}
	var parts []string
	for _, kv := range d.Items() {
		k, ok := starlark.AsString(kv[0])
		if !ok || k == "" || strings.ContainsAny(k, "=; \t\r\n") {
			return fmt.Errorf("%s: cookie names must be non-empty strings without '=', ';' or spaces, got %s", fn, kv[0])
		}
		val := str(kv[1])
		if strings.ContainsAny(val, ";\r\n") {
			return fmt.Errorf("%s: cookie %s: a value must not contain ';' or a line break", fn, k)
		}
		parts = append(parts, k+"="+val)
	}
	if len(parts) == 0 {
		return nil
	}
	c := strings.Join(parts, "; ")
	if have := req.Header.Get("Cookie"); have != "" {
		c += "; " + have
	}
	setHeader(req, "Cookie", c)
	return nil
}

func setHeader(req *httpx.Request, k, v string) {
	if req.Header == nil {
		req.Header = make(http.Header, 1)
	}
	req.Header.Set(k, v)
}

// multipartBody encodes files= (and data= fields) as multipart/form-data,
// as requests does: each file a name → content, (filename, content) or
// (filename, content, content type).
func multipartBody(fn string, data, files starlark.Value, req *httpx.Request) error {
	fd, ok := files.(*starlark.Dict)
	if !ok {
		return fmt.Errorf("%s: files must be a dict of field name → content or (filename, content[, content type]), got %s", fn, files.Type())
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if !isNone(data) {
		dd, ok := data.(*starlark.Dict)
		if !ok {
			return fmt.Errorf("%s: with files=, data must be a dict of form fields, got %s", fn, data.Type())
		}
		for _, kv := range dd.Items() {
			k, ok := starlark.AsString(kv[0])
			if !ok {
				return fmt.Errorf("%s: data keys must be strings, got %s", fn, kv[0].Type())
			}
			if err := mw.WriteField(k, str(kv[1])); err != nil {
				return err
			}
		}
	}
	for _, kv := range fd.Items() {
		field, ok := starlark.AsString(kv[0])
		if !ok || field == "" {
			return fmt.Errorf("%s: files keys must be non-empty field names, got %s", fn, kv[0])
		}
		name, content, ctype, err := filePart(fn, field, kv[1])
		if err != nil {
			return err
		}
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, escapeQuotes(field), escapeQuotes(name)))
		h.Set("Content-Type", ctype)
		w, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if _, err := w.Write(content); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}
	req.Body = buf.Bytes()
	setDefaultHeader(req, "Content-Type", mw.FormDataContentType())
	return nil
}

// filePart reads one files= value.
func filePart(fn, field string, v starlark.Value) (name string, content []byte, ctype string, err error) {
	bad := fmt.Errorf(`%s: files[%q] must be content (a string or bytes), or (filename, content[, content type])`, fn, field)
	asBytes := func(x starlark.Value) ([]byte, bool) {
		switch b := x.(type) {
		case starlark.String:
			return []byte(string(b)), true
		case starlark.Bytes:
			return []byte(string(b)), true
		}
		return nil, false
	}
	if c, ok := asBytes(v); ok {
		return field, c, "application/octet-stream", nil
	}
	t, ok := v.(starlark.Tuple)
	if !ok || len(t) < 2 || len(t) > 3 {
		return "", nil, "", bad
	}
	if name, ok = starlark.AsString(t[0]); !ok {
		return "", nil, "", bad
	}
	if content, ok = asBytes(t[1]); !ok {
		return "", nil, "", bad
	}
	ctype = "application/octet-stream"
	if len(t) == 3 {
		if ctype, ok = starlark.AsString(t[2]); !ok || ctype == "" {
			return "", nil, "", bad
		}
	}
	return name, content, ctype, nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }
