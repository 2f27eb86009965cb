package web

import (
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/report"
)

func TestDownloads(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	h := New(Options{Control: ctl, Now: clk.Now})
	stamp := strconv.FormatInt(clk.Now().Unix(), 10)
	tests := []struct {
		path        string
		contentType string
		disposition string // "" none
		contains    string
	}{
		{"/api/v1/stats.csv", "text/csv", `attachment; filename="horde_stats.csv"`, "GET,/,100,10,"},
		{"/api/v1/history.csv", "text/csv", `attachment; filename="horde_stats_history.csv"`, "Timestamp,User Count"},
		{"/api/v1/failures.csv", "text/csv", `attachment; filename="horde_failures.csv"`, "HTTP 500 Internal Server Error"},
		{"/api/v1/exceptions.csv", "text/csv", `attachment; filename="horde_exceptions.csv"`, "Count,Message,Traceback"},
		{"/api/v1/report.json", "application/json", "", `"version": 1`},
		{"/api/v1/report.html", "text/html", "", "login"},
		{"/api/v1/report.html?download=1", "text/html", `attachment; filename="horde_report.html"`, "<html"},
		{"/stats/requests/csv", "text/csv", `attachment; filename="requests_` + stamp + `.csv"`, "Aggregated"},
		{"/stats/failures/csv", "text/csv", `attachment; filename="failures_` + stamp + `.csv"`, "Method,Name,Error,Occurrences"},
		{"/exceptions/csv", "text/csv", `attachment; filename="exceptions_` + stamp + `.csv"`, "Count,Message"},
		{"/stats/report", "text/html", "", "<html"},
		{"/stats/report?download=1", "text/html", `attachment; filename="report_` + stamp + `.html"`, "<html"},
		{"/stats/report?download=0", "text/html", "", "<html"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			rec := do(t, h, "GET", tt.path, "", nil)
			if rec.Code != 200 {
				t.Fatalf("GET %s = %d: %s", tt.path, rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type = %q, want %s", ct, tt.contentType)
			}
			if cd := rec.Header().Get("Content-Disposition"); cd != tt.disposition {
				t.Errorf("Content-Disposition = %q, want %q", cd, tt.disposition)
			}
			if !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("body does not contain %q:\n%.600s", tt.contains, rec.Body)
			}
			if strings.HasSuffix(tt.contentType, "csv") {
				if _, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll(); err != nil {
					t.Errorf("not valid CSV: %v", err)
				}
			}
		})
	}
}

// TestReportJSON checks the summary the API serves is the --json contract
// with the extra facts filled in from the status and Options.Meta.
func TestReportJSON(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	meta := func() report.Meta {
		return report.Meta{UsersPeak: 5, Thresholds: []report.ThresholdResult{{Expr: "p95 < 100", Value: 40, Passed: true}}}
	}
	ctl.drop(3)
	rec := do(t, New(Options{Control: ctl, Now: clk.Now, Meta: meta}), "GET", "/api/v1/report.json", "", nil)
	var s report.Summary
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatalf("not a summary: %v", err)
	}
	if s.Version != 1 || s.Totals.Requests != 150 || s.Totals.Failures != 10 || len(s.Endpoints) != 2 {
		t.Errorf("summary = %+v, want version 1 with 150 requests, 10 failures, 2 endpoints", s)
	}
	if s.UsersPeak != 20 {
		t.Errorf("users_peak = %d, want 20: the largest of Meta's 5, the status and the history", s.UsersPeak)
	}
	if s.Host != "http://127.0.0.1:8080" || len(s.Workers) != 2 || s.Workers[1].State != "missing" {
		t.Errorf("host %q workers %+v, want them from the status", s.Host, s.Workers)
	}
	if s.DroppedIterations != 3 || len(s.Thresholds) != 1 || !s.Thresholds[0].Passed {
		t.Errorf("dropped %d thresholds %+v, want Meta's", s.DroppedIterations, s.Thresholds)
	}
}
