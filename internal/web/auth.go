package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// authenticator checks the credentials of --web-auth. A nil
// *authenticator allows everything.
type authenticator struct {
	bearer bool
	// user and pass are SHA-256 digests, so that comparing them takes the
	// same time whatever the length or content of what a client sends.
	user, pass [sha256.Size]byte
}

// newAuthenticator parses --web-auth: "user:pass" is HTTP Basic, anything
// else without a colon a bearer token, "" no authentication.
func newAuthenticator(spec string) *authenticator {
	if spec == "" {
		return nil
	}
	if user, pass, ok := strings.Cut(spec, ":"); ok {
		return &authenticator{user: sha256.Sum256([]byte(user)), pass: sha256.Sum256([]byte(pass))}
	}
	return &authenticator{bearer: true, pass: sha256.Sum256([]byte(spec))}
}

// allows reports whether r carries the credentials. With a bearer token,
// Basic credentials whose password is the token are accepted too,
// whatever the user name: a browser cannot send a bearer header when it
// opens the UI, but it asks for a user and a password after a Basic
// challenge.
func (a *authenticator) allows(r *http.Request) bool {
	if a == nil {
		return true
	}
	if a.bearer {
		if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			return a.passOK(strings.TrimSpace(tok))
		}
		_, pass, ok := r.BasicAuth()
		return ok && a.passOK(pass)
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u := sha256.Sum256([]byte(user))
	// Both comparisons always run: no early exit tells a right user name.
	return subtle.ConstantTimeCompare(u[:], a.user[:])&boolInt(a.passOK(pass)) == 1
}

func (a *authenticator) passOK(pass string) bool {
	p := sha256.Sum256([]byte(pass))
	return subtle.ConstantTimeCompare(p[:], a.pass[:]) == 1
}

// challenge asks for credentials; browsers show their login prompt for
// the Basic challenge.
func (a *authenticator) challenge(w http.ResponseWriter) {
	w.Header().Add("WWW-Authenticate", `Basic realm="horde"`)
	if a != nil && a.bearer {
		w.Header().Add("WWW-Authenticate", `Bearer realm="horde"`)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
