package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file is the one place where numbers, durations and text cells are
// formatted, so the table, the live view and the CSV files agree.

// ellipsis marks a truncated cell.
const ellipsis = "…"

// finite maps NaN and ±Inf to 0: a row with no requests may carry them, and
// neither JSON nor a user can do anything with them.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// fmtMs formats milliseconds for humans with adaptive precision: 0.42, 12.3,
// 1234. Three significant digits are enough to read; the files keep more.
func fmtMs(v float64) string {
	v = finite(v)
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

// fmtDecimal formats v with at most digits decimals and no trailing zeros,
// for machine-read outputs (CSV). Unlike Locust, which rounds percentiles to
// two significant digits, latencies keep microsecond precision (3 decimals of
// a millisecond): the histograms measure that finely and users compare runs.
func fmtDecimal(v float64, digits int) string {
	s := strconv.FormatFloat(finite(v), 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// fmtMsCSV formats milliseconds for files: microsecond precision.
func fmtMsCSV(v float64) string { return fmtDecimal(v, 3) }

// roundMs rounds milliseconds to microsecond precision for the JSON summary.
func roundMs(v float64) float64 { return math.Round(finite(v)*1000) / 1000 }

// fmtRate formats a per-second rate for humans: one decimal.
func fmtRate(v float64) string { return strconv.FormatFloat(finite(v), 'f', 1, 64) }

// fmtCount formats a count with no thousands separators (easy to parse).
func fmtCount(n int64) string { return strconv.FormatInt(n, 10) }

// fmtBytes formats an average size in whole bytes.
func fmtBytes(v float64) string { return strconv.FormatFloat(math.Round(finite(v)), 'f', 0, 64) }

// ratio is part/whole, 0 when whole is 0.
func ratio(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// fmtPct formats a ratio (0..1) as a percentage with two decimals.
func fmtPct(r float64) string { return strconv.FormatFloat(100*finite(r), 'f', 2, 64) + "%" }

// fmtFails formats a failure count with its share of requests: "12 (0.40%)".
func fmtFails(failures, requests int64) string {
	return fmt.Sprintf("%d (%s)", failures, fmtPct(ratio(failures, requests)))
}

// fmtDuration formats a run duration compactly: 45s, 1m05s, 2h03m04s.
// Sub-second parts are dropped: the live view updates once a second.
func fmtDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	h, m, sec := s/3600, s/60%60, s%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, sec)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, sec)
	default:
		return fmt.Sprintf("%ds", sec)
	}
}

// sanitize makes text safe for one terminal cell: control characters
// (newlines, escape sequences from a hostile endpoint name or error) become
// spaces, so they can neither break the layout nor move the cursor.
func sanitize(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

func isControl(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }

// textWidth is the display width of s in terminal columns, counting one column
// per rune (wide East Asian characters are rare in endpoint names).
func textWidth(s string) int { return utf8.RuneCountInString(s) }

// truncate cuts s to at most max runes, ending with … when cut. A max below 1
// yields "".
func truncate(s string, max int) string {
	if max < 1 {
		return ""
	}
	if textWidth(s) <= max {
		return s
	}
	runes := []rune(s)
	return string(runes[:max-1]) + ellipsis
}
