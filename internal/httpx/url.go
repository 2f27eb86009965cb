package httpx

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrInvalidURL is wrapped by every error about a URL that cannot be sent:
// unparsable, not http(s), without a host, or relative with no base URL.
var ErrInvalidURL = errors.New("invalid url")

// normalizeBase checks a base URL and drops its trailing slashes, so that
// joining "/path" never doubles one. "" is allowed: absolute URLs only.
func normalizeBase(base string) (string, error) {
	base = strings.TrimSpace(base)
	if base == "" {
		return "", nil
	}
	if !isAbsolute(base) {
		return "", fmt.Errorf("httpx: base URL %q: %w: want http:// or https://", base, ErrInvalidURL)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("httpx: base URL: %w: %w", ErrInvalidURL, err)
	}
	if err := checkURL(u); err != nil {
		return "", fmt.Errorf("httpx: base URL %q: %w", base, err)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("httpx: base URL %q: %w: no query or fragment allowed", base, ErrInvalidURL)
	}
	return strings.TrimRight(base, "/"), nil
}

// joinURL turns ref into an absolute URL string. An absolute ref (one with
// a scheme) is used as is; a relative one is appended to base, as Locust
// does, with a slash between them when ref has none.
func joinURL(base, ref string) (string, error) {
	if isAbsolute(ref) || hasScheme(ref) {
		return ref, nil
	}
	if base == "" {
		return "", fmt.Errorf("relative URL %q and no base URL (host): %w", ref, ErrInvalidURL)
	}
	switch {
	case ref == "":
		return base, nil
	case ref[0] == '/' || ref[0] == '?' || ref[0] == '#':
		return base + ref, nil
	}
	return base + "/" + ref, nil
}

// checkURL accepts only what can be sent: http or https with a host.
func checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: scheme %q is not http or https", ErrInvalidURL, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("%w: no host", ErrInvalidURL)
	}
	return nil
}

// resolveURL joins and parses; it is what Do does before building a request.
func resolveURL(base, ref string) (*url.URL, error) {
	s, err := joinURL(base, ref)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	if err := checkURL(u); err != nil {
		return nil, err
	}
	return u, nil
}

// hasScheme reports whether s starts with "scheme://", so that a URL of
// another scheme is refused rather than appended to the base. A "://"
// after the path has begun, as in "/login?next=http://h/", is not one.
func hasScheme(s string) bool {
	i := strings.Index(s, "://")
	return i > 0 && !strings.ContainsAny(s[:i], "/?#")
}

func isAbsolute(s string) bool {
	return hasPrefixFold(s, "http://") || hasPrefixFold(s, "https://")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
