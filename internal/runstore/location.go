package runstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrNoStore is returned for an empty store location: the caller chooses
// the default path (or decides that no store is wanted) before Open.
var ErrNoStore = errors.New("runstore: no store location given")

// Kind is the database behind a store.
type Kind string

// The kinds of store.
const (
	KindSQLite   Kind = "sqlite"
	KindPostgres Kind = "postgres"
)

// Location is a parsed store location.
type Location struct {
	Kind Kind
	// Path is the SQLite database file (KindSQLite).
	Path string
	// URL is the PostgreSQL connection URL (KindPostgres).
	URL string
}

// String returns the location for messages: the file path, or the URL
// without its password.
func (l Location) String() string {
	if l.Kind == KindSQLite {
		return l.Path
	}
	if u, err := url.Parse(l.URL); err == nil {
		return u.Redacted()
	}
	return "postgres://(unparsable)"
}

// ParseLocation reads a store location: a file path or "sqlite:PATH" (or
// "sqlite://PATH") for SQLite, "postgres://..." or "postgresql://..." for
// PostgreSQL. Any other "scheme://" is an error, as is an empty location
// (ErrNoStore).
func ParseLocation(s string) (Location, error) {
	if strings.TrimSpace(s) == "" {
		return Location{}, ErrNoStore
	}
	if strings.ContainsRune(s, 0) {
		return Location{}, fmt.Errorf("runstore: store location %q holds a NUL byte", s)
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		u, err := url.Parse(s)
		if err != nil {
			return Location{}, fmt.Errorf("runstore: PostgreSQL URL: %w", redactURLError(err))
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return Location{}, fmt.Errorf("runstore: PostgreSQL URL %s has no host", u.Redacted())
		}
		return Location{Kind: KindPostgres, URL: s}, nil
	case strings.HasPrefix(lower, "sqlite:"):
		p := s[len("sqlite:"):]
		p = strings.TrimPrefix(p, "//")
		if p == "" {
			return Location{}, fmt.Errorf("runstore: %q names no SQLite file", s)
		}
		return Location{Kind: KindSQLite, Path: p}, nil
	}
	if i := strings.Index(s, "://"); i > 0 && !strings.ContainsAny(s[:i], `/\.`) {
		return Location{}, fmt.Errorf("runstore: unknown store scheme %q in %q (want a file path, sqlite:PATH or postgres://...)", s[:i], s)
	}
	return Location{Kind: KindSQLite, Path: s}, nil
}

// redactURLError drops the URL from a url.Error, which would print the
// password.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
