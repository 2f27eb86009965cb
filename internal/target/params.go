package target

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Limits of the test endpoints, so that a typo cannot tie up the server.
const (
	maxDelayMillis = 60_000
	maxBytes       = 10 << 20
	maxRedirects   = 100
	maxEchoBody    = 1 << 20
	maxStallPeriod = time.Hour
)

// badRequest is a parameter error: its text is sent to the client.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error {
	return &badRequest{msg: fmt.Sprintf(format, args...)}
}

// parseInt parses a decimal integer parameter within [lo, hi].
func parseInt(name, s string, lo, hi int) (int, error) {
	if s == "" {
		return 0, badf("%s is required: an integer from %d to %d", name, lo, hi)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badf("%s must be an integer from %d to %d, not %q", name, lo, hi, clip(s))
	}
	return n, nil
}

// parseIntDefault is parseInt with a default for a missing parameter.
func parseIntDefault(name, s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	return parseInt(name, s, lo, hi)
}

// parseDuration accepts a Go duration ("1.5s", "250ms") or a bare number
// of milliseconds, within [lo, hi]; "" gives def.
func parseDuration(name, s string, def, lo, hi time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > int64(hi/time.Millisecond) {
			return 0, badf("%s must be from %s to %s, not %q", name, lo, hi, clip(s))
		}
		d = time.Duration(n) * time.Millisecond
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, badf("%s must be a duration such as 2s or 500ms, not %q", name, clip(s))
	}
	if d < lo || d > hi {
		return 0, badf("%s must be from %s to %s, not %q", name, lo, hi, clip(s))
	}
	return d, nil
}

// stallParams are /stall's period and stall length.
type stallParams struct{ period, stall time.Duration }

func parseStall(period, stall string) (stallParams, error) {
	p, err := parseDuration("period", period, 2*time.Second, time.Millisecond, maxStallPeriod)
	if err != nil {
		return stallParams{}, err
	}
	st, err := parseDuration("stall", stall, time.Second, 0, maxStallPeriod)
	if err != nil {
		return stallParams{}, err
	}
	if st >= p {
		return stallParams{}, badf("stall (%s) must be shorter than period (%s)", st, p)
	}
	return stallParams{period: p, stall: st}, nil
}

// parseStatus accepts a status code a server can send as its response.
func parseStatus(s string) (int, error) {
	code, err := parseInt("status code", s, 100, 599)
	if err != nil {
		return 0, err
	}
	if code == http.StatusSwitchingProtocols {
		return 0, badf("status 101 switches protocols and cannot be sent without an upgrade")
	}
	return code, nil
}

// clip keeps echoed input short in error messages.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// writeJSON sends v as JSON with the given status.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v) //nolint:errcheck // the client may be gone; nothing to do
}

// writeError sends {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// writeParamError answers a parameter error with 400 and its message.
func writeParamError(w http.ResponseWriter, err error) {
	writeError(w, http.StatusBadRequest, err.Error())
}
