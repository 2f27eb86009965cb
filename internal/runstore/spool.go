package runstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// spool keeps the writes a store refused, one file per run holding the
// whole run as last known (so a newer file replaces an older one), until
// they can be written. Files of several stores may share a directory: a
// file's name starts with a key of the store it belongs to.
type spool struct {
	dir   string // "" when there is no spool
	key   string
	store string // the store's location, for the file's reader
}

// spoolFile is the content of a spool file.
type spoolFile struct {
	Store string `json:"store"`
	Row   row    `json:"row"`
}

func newSpool(dir, store string) spool {
	sum := sha256.Sum256([]byte(store))
	return spool{dir: dir, key: hex.EncodeToString(sum[:6]), store: store}
}

func (sp spool) path(id string) string {
	return filepath.Join(sp.dir, sp.key+"_"+id+".json")
}

// write stores w in its run's spool file, atomically (a temporary file
// renamed over the old one), and returns the file's path.
func (sp spool) write(w row) (string, error) {
	if sp.dir == "" {
		return "", errors.New("no spool directory is set, so the run is not kept")
	}
	if err := os.MkdirAll(sp.dir, 0o700); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	b, err := json.Marshal(spoolFile{Store: sp.store, Row: w})
	if err != nil {
		return "", fmt.Errorf("spool: encode: %w", err)
	}
	f, err := os.CreateTemp(sp.dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	dst := sp.path(w.Run.ID)
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("spool: %w", err)
	}
	if d, err := os.Open(sp.dir); err == nil { // make the rename durable
		_ = d.Sync()
		d.Close()
	}
	return dst, nil
}

// remove deletes a run's spool file, once the store has all of it.
func (sp spool) remove(id string) {
	if sp.dir != "" {
		_ = os.Remove(sp.path(id)) // gone already: nothing to do
	}
}

// FlushSpool writes the runs that earlier writes could not store and
// removes their spool files; it returns how many it wrote. It stops at the
// first write the store refuses (the store is still away), leaving that
// file and the rest for later. A file that cannot be read is renamed
// *.bad and reported. A spooled run older than what the store holds does
// not replace it.
func (s *Store) FlushSpool(ctx context.Context) (int, error) {
	sp := s.spool
	if sp.dir == "" {
		return 0, nil
	}
	names, err := filepath.Glob(filepath.Join(sp.dir, sp.key+"_*.json"))
	if err != nil {
		return 0, err
	}
	// Files claimed by a flush that did not end (its process died).
	left, _ := filepath.Glob(filepath.Join(sp.dir, sp.key+"_*.json.flushing-*"))
	for _, l := range left {
		if !strings.HasSuffix(l, ".bad") {
			names = append(names, l)
		}
	}
	n := 0
	var bad []error
	for _, name := range names {
		w, err := readSpoolFile(name)
		if err != nil {
			_ = os.Rename(name, name+".bad")
			bad = append(bad, fmt.Errorf("runstore: spool file %s (renamed *.bad): %w", name, err))
			continue
		}
		// Claim the file first: a Recording of this process may write a
		// newer one under the same name meanwhile, which must stay.
		claimed := strings.SplitN(name, ".flushing-", 2)[0] + ".flushing-" + randomHex(4)
		if err := os.Rename(name, claimed); err != nil {
			continue // another process took it
		}
		if err := s.put(ctx, w); err != nil {
			// Put it back, unless a newer file took the name meanwhile.
			orig := strings.SplitN(name, ".flushing-", 2)[0]
			if err := os.Link(claimed, orig); err != nil && !exists(orig) {
				_ = os.Rename(claimed, orig)
			}
			os.Remove(claimed)
			return n, errors.Join(append(bad, fmt.Errorf("runstore: write spooled run %s to %s: %w", w.Run.ID, s.loc, err))...)
		}
		os.Remove(claimed)
		n++
	}
	return n, errors.Join(bad...)
}

func readSpoolFile(name string) (row, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return row{}, err
	}
	var f spoolFile
	if err := json.Unmarshal(b, &f); err != nil {
		return row{}, err
	}
	if f.Row.Run.ID == "" || !strings.Contains(filepath.Base(name), "_"+f.Row.Run.ID+".json") || !f.Row.Run.Status.Valid() || f.Row.Seq < 1 {
		return row{}, errors.New("not a spooled run")
	}
	return f.Row, nil
}

func exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
