package web

import (
	"io"
	"net/http"

	"github.com/horde-load/horde/internal/timespan"
)

// This file holds the routes of Locust's web API (locust/web.py) that
// tools drive: POST /swarm, GET /stop, GET /stats/reset and
// GET /stats/requests. The replies have Locust's shapes. One deliberate
// difference: a refused /swarm answers 400 (Locust answers 200 with
// "success": false), with the same body.

// swarmReply is the body of POST /swarm.
type swarmReply struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
	Host    string `json:"host"`
	// RunTime is the run-time limit in seconds, present when one was
	// given, as Locust sends it.
	RunTime float64 `json:"run_time,omitempty"`
}

// swarm starts a test or edits the running one from Locust's form.
func (s *Server) swarm(w http.ResponseWriter, r *http.Request) {
	if s.ctl == nil {
		s.writeJSON(w, http.StatusServiceUnavailable, swarmReply{Message: "this server cannot control tests"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		s.writeJSON(w, http.StatusBadRequest, swarmReply{Message: "reading the form: " + err.Error(), Host: s.ctl.Status().Host})
		return
	}
	in := decodeSwarmForm(r.PostForm)
	if err := s.start(in, locustNames); err != nil {
		s.writeJSON(w, startErrorCode(err), swarmReply{Message: err.Error(), Host: s.ctl.Status().Host})
		return
	}
	reply := swarmReply{Success: true, Message: "Swarming started", Host: s.ctl.Status().Host}
	if in.runTime.set {
		// start parsed it already: it cannot fail here.
		if d, err := timespan.Parse(in.runTime.v); err == nil {
			reply.RunTime = d.Seconds()
		}
	}
	s.writeJSON(w, http.StatusOK, reply)
}

// locustStop is Locust's GET /stop.
func (s *Server) locustStop(w http.ResponseWriter, _ *http.Request) {
	s.ctl.Stop()
	s.writeJSON(w, http.StatusOK, struct {
		Success bool   `json:"success"`
		Message string `json:"message"`
	}{true, "Test stopped"})
}

// locustReset is Locust's GET /stats/reset: it answers "ok".
func (s *Server) locustReset(w http.ResponseWriter, _ *http.Request) {
	s.ctl.ResetStats()
	w.Header().Set("Content-Type", "text/html; charset=utf-8") // Flask's default
	w.Header().Set("Cache-Control", "no-store")
	if _, err := io.WriteString(w, "ok"); err != nil { // no newline: scripts compare the text
		s.log.Debug("web: writing response", "err", err)
	}
}

// statsRequests serves Locust's /stats/requests.
func (s *Server) statsRequests(w http.ResponseWriter, _ *http.Request) {
	report := locustReportOf(s.src.Snapshot(s.now()), s.src.Status())
	// Locust enables CORS: dashboards read this route cross-origin. Only
	// this route, and it is read-only, so "*" lends nothing to an attacker.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	s.writeJSON(w, http.StatusOK, report)
}
