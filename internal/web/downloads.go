package web

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/stats"
)

// This file serves the downloads: Locust's four CSV files, the summary
// JSON and the HTML report, under /api/v1/ and under Locust's paths. Each
// is rendered into memory first, so a failure is a clean 500 rather than
// a truncated file.

// download is one file the API serves.
type download struct {
	contentType string
	// always makes it an attachment (the CSV files); otherwise (the
	// reports) only a request with ?download=1 gets one.
	always bool
	// name names the attachment, at the time of the request.
	name  func() string
	write func(w io.Writer, snap stats.Snapshot, meta report.Meta) error
}

func writeSummary(w io.Writer, snap stats.Snapshot, meta report.Meta) error {
	return report.WriteJSON(w, report.NewSummary(snap, meta))
}

func (s *Server) downloadRoutes() {
	fixed := func(name string) func() string { return func() string { return name } }
	// Locust's names: the kind and a Unix timestamp (locust/web.py).
	stamped := func(prefix, ext string) func() string {
		return func() string { return prefix + "_" + strconv.FormatInt(s.now().Unix(), 10) + ext }
	}
	csvFile := func(name func() string, write func(io.Writer, stats.Snapshot) error) download {
		return download{
			contentType: "text/csv; charset=utf-8", always: true, name: name,
			write: func(w io.Writer, snap stats.Snapshot, _ report.Meta) error { return write(w, snap) },
		}
	}
	htmlFile := func(name func() string) download {
		return download{contentType: "text/html; charset=utf-8", name: name, write: report.WriteHTML}
	}
	files := map[string]download{
		"/api/v1/stats.csv":      csvFile(fixed("horde_stats.csv"), report.WriteStatsCSV),
		"/api/v1/history.csv":    csvFile(fixed("horde_stats_history.csv"), report.WriteHistoryCSV),
		"/api/v1/failures.csv":   csvFile(fixed("horde_failures.csv"), report.WriteFailuresCSV),
		"/api/v1/exceptions.csv": csvFile(fixed("horde_exceptions.csv"), report.WriteExceptionsCSV),
		"/api/v1/report.json":    {contentType: "application/json", name: fixed("horde_report.json"), write: writeSummary},
		"/api/v1/report.html":    htmlFile(fixed("horde_report.html")),
		"/stats/requests/csv":    csvFile(stamped("requests", ".csv"), report.WriteStatsCSV),
		"/stats/failures/csv":    csvFile(stamped("failures", ".csv"), report.WriteFailuresCSV),
		"/exceptions/csv":        csvFile(stamped("exceptions", ".csv"), report.WriteExceptionsCSV),
		"/stats/report":          htmlFile(stamped("report", ".html")),
	}
	for path, d := range files {
		s.mux.HandleFunc("GET "+path, s.needSource(s.serveDownload(d)))
	}
}

// serveDownload renders d from one snapshot.
func (s *Server) serveDownload(d download) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		snap, st := s.read()
		var buf bytes.Buffer
		if err := d.write(&buf, snap, s.meta(snap, st)); err != nil {
			s.log.Error("web: rendering a download", "path", r.URL.Path, "err", err)
			s.writeError(w, http.StatusInternalServerError, "rendering "+r.URL.Path+" failed")
			return
		}
		h := w.Header()
		h.Set("Content-Type", d.contentType)
		h.Set("Cache-Control", "no-store")
		if q := r.URL.Query().Get("download"); d.always || (q != "" && q != "0" && q != "false") {
			h.Set("Content-Disposition", `attachment; filename="`+d.name()+`"`)
		}
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(http.StatusOK)
		if _, err := w.Write(buf.Bytes()); err != nil {
			s.log.Debug("web: writing response", "err", err)
		}
	}
}
