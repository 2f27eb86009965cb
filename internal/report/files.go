package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Check tells, before a test starts, whether every named file can be
// written: its directory exists and takes new files, and the path is not
// a directory. A typo in a path then costs a second, not a whole test.
func (f Files) Check() error {
	var errs []error
	check := func(flag, path string) {
		if path == "" {
			return
		}
		if err := writable(path); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", flag, path, err))
		}
	}
	check("--json", f.JSON)
	check("--html", f.HTML)
	if f.CSVPrefix != "" {
		check("--csv", f.CSVPrefix+StatsCSVSuffix)
	}
	return errors.Join(errs...)
}

// writable checks that path can be created or replaced, without touching
// it: a probe file is made in its directory and removed.
func writable(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("is a directory")
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("the directory %s does not exist", dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	probe, err := os.CreateTemp(dir, ".horde-write-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, errors.Unwrap(err))
	}
	name := probe.Name()
	_ = probe.Close()
	return os.Remove(name)
}

// rescue writes the summary JSON to w when the report files could not be
// written, so that a finished test's results are never lost: they are in
// the output (or the log of a Kubernetes Job).
func rescue(w io.Writer, why error, snap Summary) {
	fmt.Fprintf(w, "\nhorde: %v\nhorde: the summary JSON follows on standard output instead:\n", why)
	_ = WriteJSON(w, snap)
}
