package target

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// echoReply is what /echo returns: the request as the server saw it, so
// that a test can check what a script sent.
type echoReply struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Host    string              `json:"host"`
	Query   map[string][]string `json:"query"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
	// Form holds the fields of a url-encoded or multipart body; Files the
	// files of a multipart one; Cookies the cookies sent.
	Form    map[string][]string `json:"form"`
	Files   map[string][]file   `json:"files"`
	Cookies map[string]string   `json:"cookies"`
}

// file is one uploaded file of a multipart body.
type file struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	Content     string `json:"content"`
}

// echo serves /echo: the request's method, headers, query, cookies and
// body (at most 1 MiB) as JSON, with the fields and files of a form.
func (s *Server) echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEchoBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body larger than 1 MiB")
			return
		}
		writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	reply := echoReply{
		Method: r.Method, Path: r.URL.Path, Host: r.Host,
		Query: r.URL.Query(), Headers: r.Header, Body: string(body),
		Form: map[string][]string{}, Files: map[string][]file{}, Cookies: map[string]string{},
	}
	for _, c := range r.Cookies() {
		reply.Cookies[c.Name] = c.Value
	}
	if err := readForm(r.Header.Get("Content-Type"), body, &reply); err != nil {
		writeError(w, http.StatusBadRequest, "reading the form: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// readForm fills reply's Form and Files from a url-encoded or multipart
// body; any other body is left alone.
func readForm(ctype string, body []byte, reply *echoReply) error {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return nil // not a form
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return err
		}
		reply.Form = v
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			content, err := io.ReadAll(p)
			if err != nil {
				return err
			}
			if p.FileName() == "" {
				reply.Form[p.FormName()] = append(reply.Form[p.FormName()], string(content))
				continue
			}
			reply.Files[p.FormName()] = append(reply.Files[p.FormName()], file{
				Filename: p.FileName(), ContentType: p.Header.Get("Content-Type"), Size: len(content), Content: string(content),
			})
		}
	}
	return nil
}

// basicAuth serves /basic-auth/{user}/{pass}: 200 with the user name when
// the request's Basic credentials are those, else 401 with a challenge.
func (s *Server) basicAuth(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	match := ok && subtle.ConstantTimeCompare([]byte(user), []byte(r.PathValue("user"))) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(r.PathValue("pass"))) == 1
	if !match {
		w.Header().Set("WWW-Authenticate", `Basic realm="horde target"`)
		writeError(w, http.StatusUnauthorized, "wrong or missing Basic credentials")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"authenticated": true, "user": user})
}

// cookies serves /cookies: the cookies the request carried.
func (s *Server) cookies(w http.ResponseWriter, r *http.Request) {
	out := map[string]string{}
	for _, c := range r.Cookies() {
		out[c.Name] = c.Value
	}
	writeJSON(w, http.StatusOK, map[string]any{"cookies": out})
}

// setCookies serves /cookies/set?name=value&...: each query parameter
// becomes a cookie (path /), and the reply lists them.
func (s *Server) setCookies(w http.ResponseWriter, r *http.Request) {
	set := map[string]string{}
	for k, vs := range r.URL.Query() {
		if k == "" || strings.ContainsAny(k, "=;, \t") || len(vs) == 0 {
			writeError(w, http.StatusBadRequest, "cookie names must be plain tokens")
			return
		}
		c := &http.Cookie{Name: k, Value: vs[len(vs)-1], Path: "/"}
		if err := c.Valid(); err != nil {
			writeError(w, http.StatusBadRequest, "cookie "+k+": "+err.Error())
			return
		}
		http.SetCookie(w, c)
		set[k] = c.Value
	}
	writeJSON(w, http.StatusOK, map[string]any{"set": set})
}
