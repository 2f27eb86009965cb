package target

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// sessionCookie is the cookie /login sets and /profile reads.
const sessionCookie = "session"

const homePage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>horde sample app</title></head>
<body>
<h1>horde sample app</h1>
<p>The web app of the load-testing tutorial: log in, then look at your profile.</p>
<form method="post" action="/login">
<label>Username <input name="username"></label>
<label>Password <input name="password" type="password"></label>
<button>Log in</button>
</form>
<p><a href="/profile">Profile</a></p>
<p><small>horde target VERSION</small></p>
</body>
</html>
`

func (s *Server) home(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, strings.Replace(homePage, "VERSION", html.EscapeString(s.version), 1)) //nolint:errcheck
}

// credentials are what /login accepts, as JSON or as a form.
type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// maxLoginBody bounds what /login reads.
const maxLoginBody = 64 << 10

// parseCredentials reads a login body: JSON, or a URL-encoded or multipart
// form. A JSON object sent with no Content-Type or as a URL-encoded form
// (what `curl -d '{...}'` does) is read as JSON. Any non-empty username
// and password are accepted.
func parseCredentials(r *http.Request) (credentials, error) {
	var c credentials
	body, err := io.ReadAll(io.LimitReader(r.Body, maxLoginBody+1))
	if err != nil {
		return c, badf("reading the body: %v", err)
	}
	if len(body) > maxLoginBody {
		return c, badf("body larger than %d bytes", maxLoginBody)
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	isForm := err == nil && mt == "application/x-www-form-urlencoded"
	looksJSON := bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))
	switch {
	case (err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))) ||
		((ct == "" || isForm) && looksJSON):
		if err := json.Unmarshal(body, &c); err != nil {
			return c, badf("invalid JSON body: %v", err)
		}
	case isForm:
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return c, badf("invalid form body: %v", err)
		}
		c.Username, c.Password = q.Get("username"), q.Get("password")
	case err == nil && mt == "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseMultipartForm(maxLoginBody); err != nil {
			return c, badf("invalid form body: %v", err)
		}
		c.Username, c.Password = r.PostFormValue("username"), r.PostFormValue("password")
	case ct == "":
		return c, badf("invalid JSON body: want {\"username\": ..., \"password\": ...}")
	default:
		return c, badf("unsupported Content-Type %q: send JSON or a form", clip(ct))
	}
	if c.Username == "" || c.Password == "" {
		return c, badf("username and password are required")
	}
	return c, nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	c, err := parseCredentials(r)
	if err != nil {
		writeParamError(w, err)
		return
	}
	token := s.sign(c.Username)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	writeJSON(w, http.StatusOK, map[string]string{"token": token, "username": c.Username})
}

func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	user, ok := s.user(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="horde"`)
		writeError(w, http.StatusUnauthorized, "not logged in: POST /login first, then send the session cookie or Authorization: Bearer <token>")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"username": user, "email": user + "@example.com"})
}

// user returns the logged-in user from the bearer token or the cookie.
func (s *Server) user(r *http.Request) (string, bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, token, _ := strings.Cut(auth, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return s.verify(strings.TrimSpace(token))
		}
	}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		return s.verify(ck.Value)
	}
	return "", false
}

// sign makes a stateless session token, base64(user) "." base64(mac), so
// that millions of logins in a long test keep no state on the server.
func (s *Server) sign(user string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(user)) + "." + enc.EncodeToString(s.mac(user))
}

func (s *Server) verify(token string) (string, bool) {
	u64, m64, ok := strings.Cut(token, ".")
	if !ok {
		return "", false
	}
	enc := base64.RawURLEncoding
	user, err1 := enc.DecodeString(u64)
	mac, err2 := enc.DecodeString(m64)
	if err1 != nil || err2 != nil || len(user) == 0 || !hmac.Equal(mac, s.mac(string(user))) {
		return "", false
	}
	return string(user), true
}

func (s *Server) mac(user string) []byte {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte(user))
	return h.Sum(nil)[:18]
}
