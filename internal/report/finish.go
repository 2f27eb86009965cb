package report

import (
	"fmt"
	"io"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/threshold"
)

// Files names the report files to write at the end of a test ("" skips
// one).
type Files struct{ JSON, CSVPrefix, HTML string }

// Final is a finished test, as the end-of-test path reports it.
type Final struct {
	Snapshot stats.Snapshot
	// Meta is the summary's extra facts; Finish fills its thresholds.
	Meta       Meta
	Thresholds []threshold.Threshold
	Files      Files
}

// Finish is the end of every test, headless or not: the final table and
// the thresholds' verdicts on w, then the report files, then the verdict
// as the error (exit code 1 when the test failed; see Verdict). A file
// that cannot be written is exit 3.
func Finish(w io.Writer, f Final) error {
	if err := WriteTable(w, f.Snapshot, TableOptions{}); err != nil {
		return err
	}
	f.Meta.Thresholds, _ = EvaluateThresholds(f.Thresholds, f.Snapshot)
	if err := WriteThresholds(w, f.Meta.Thresholds); err != nil {
		return err
	}
	if err := writeFiles(f.Files, f.Snapshot, f.Meta); err != nil {
		return err
	}
	return Verdict(f.Snapshot, f.Thresholds)
}

// writeFiles writes the report files that are named.
func writeFiles(f Files, snap stats.Snapshot, meta Meta) error {
	if f.CSVPrefix != "" {
		if err := WriteCSV(f.CSVPrefix, snap); err != nil {
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
