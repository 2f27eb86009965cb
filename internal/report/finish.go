package report

import (
	"fmt"
	"io"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/threshold"
)

// Files names the report files to write at the end of a test ("" skips
// one). FullHistory writes a row per endpoint and second in the CSV
// history file (Locust's --csv-full-history; see CSVOptions).
type Files struct {
	JSON, CSVPrefix, HTML string
	FullHistory           bool
}

// Final is a finished test, as the end-of-test path reports it.
type Final struct {
	Snapshot stats.Snapshot
	// Meta is the summary's extra facts; Finish fills its thresholds.
	Meta       Meta
	Thresholds []threshold.Threshold
	Files      Files
	// FailureCode is the exit code of a test without thresholds in which
	// requests failed or scripts erred (Locust's --exit-code-on-error;
	// 1 by default, 0 to pass such a test).
	FailureCode int
}

// Finish is the end of every test, headless or not: the final table and
// the thresholds' verdicts on w, then the report files, then the verdict
// as the error (see Verdict; a test that an error ended, Meta.Aborted,
// fails whatever its thresholds say). A file that cannot be written is
// exit 3, and the summary JSON goes to w instead: no result is lost.
func Finish(w io.Writer, f Final) error {
	if err := WriteTable(w, f.Snapshot, TableOptions{}); err != nil {
		return err
	}
	f.Meta.Thresholds, _ = EvaluateThresholds(f.Thresholds, f.Snapshot)
	if err := WriteThresholds(w, f.Meta.Thresholds); err != nil {
		return err
	}
	if err := writeFiles(f.Files, f.Snapshot, f.Meta); err != nil {
		rescue(w, err, NewSummary(f.Snapshot, f.Meta))
		return err
	}
	return Outcome(f)
}

// Outcome is the verdict of a finished test, the error that carries its
// exit code: nil when it passed. A test that an error ended
// (Meta.Aborted) failed whatever its thresholds say; with thresholds,
// they decide; without, failed requests and script errors fail it with
// FailureCode. The run store records the same verdict.
func Outcome(f Final) error {
	if f.Meta.Aborted != "" {
		return exitcode.Newf(exitcode.Failed, "test failed: %s", f.Meta.Aborted)
	}
	err := Verdict(f.Snapshot, f.Thresholds)
	if err != nil && len(f.Thresholds) == 0 && f.FailureCode != exitcode.Failed {
		if f.FailureCode == exitcode.OK {
			return nil
		}
		return exitcode.With(f.FailureCode, err)
	}
	return err
}

// writeFiles writes the report files that are named.
func writeFiles(f Files, snap stats.Snapshot, meta Meta) error {
	if f.CSVPrefix != "" {
		if err := WriteCSV(f.CSVPrefix, snap, CSVOptions{FullHistory: f.FullHistory}); err != nil {
			return exitcode.With(exitcode.CannotRun, fmt.Errorf("writing CSV: %w", err))
		}
	}
	if f.JSON != "" {
		if err := writeFile(f.JSON, func(w io.Writer) error { return WriteJSON(w, NewSummary(snap, meta)) }); err != nil {
			return exitcode.With(exitcode.CannotRun, fmt.Errorf("writing JSON summary: %w", err))
		}
	}
	if f.HTML != "" {
		if err := writeFile(f.HTML, func(w io.Writer) error { return WriteHTML(w, snap, meta) }); err != nil {
			return exitcode.With(exitcode.CannotRun, fmt.Errorf("writing HTML report: %w", err))
		}
	}
	return nil
}
