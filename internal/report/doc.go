// Package report turns a stats.Snapshot into what a user reads: the summary
// JSON contract (--json, /api/v1/report.json), Locust-compatible CSV files
// (--csv PREFIX and the web downloads), the final terminal table and the live
// view printed during a headless run.
//
// It only formats: it does not collect statistics, decide verdicts or choose
// where output goes. Callers pass writers, paths and the snapshot (which
// carries the clock), so every function here is deterministic for a given
// input.
package report
