package upload

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Mailbox is a folder tree as a local authority's mailbox client (MESH
// today) presents it, one folder per LA ODS code:
//
//	DIR/<ODS>/out/   the LA's system puts upload files here
//	DIR/<ODS>/sent/  spinegw moves each file here once it is answered
//	DIR/<ODS>/in/    spinegw writes the FileResponse (and, later, notifications) here
//
// A file still being written is never read: the LA's system writes it under a
// name starting with "." or ending in ".tmp" or ".part" and renames it when
// complete (a rename within one file system is atomic); only other names are
// taken.
//
// Exactly once: a file is answered, its outcome committed, its FileResponse
// written (to a temporary name, then renamed) and only then moved to sent/.
// After a crash at any point the file is still in out/ and is taken again; the
// store recognises the same file id with the same content and answers with
// the FileResponse it committed the first time, so no record is stored twice
// and none is lost.
type Mailbox struct {
	Dir     string
	Service *Service
	Log     *slog.Logger
	// Poll is how often out/ folders are scanned.
	Poll time.Duration
}

// inProgress reports whether a name is one a writer uses before its rename.
func inProgress(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".part")
}

// Run scans the mailbox until ctx ends.
func (m *Mailbox) Run(ctx context.Context) error {
	poll := m.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := m.Scan(ctx); err != nil && ctx.Err() == nil {
			m.log().Error("mailbox scan", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (m *Mailbox) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Log
}

// Scan processes every complete file waiting in any out/ folder, oldest name
// first, and returns how many it answered.
func (m *Mailbox) Scan(ctx context.Context) (int, error) {
	las, err := os.ReadDir(m.Dir)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, nil
		}
		return 0, err
	}
	n := 0
	for _, la := range las {
		if !la.IsDir() || inProgress(la.Name()) {
			continue
		}
		out := filepath.Join(m.Dir, la.Name(), "out")
		files, err := os.ReadDir(out)
		if err != nil {
			continue
		}
		names := make([]string, 0, len(files))
		for _, f := range files {
			if f.Type().IsRegular() && !inProgress(f.Name()) {
				names = append(names, f.Name())
			}
		}
		sort.Strings(names)
		for _, name := range names {
			if ctx.Err() != nil {
				return n, nil
			}
			if err := m.take(ctx, la.Name(), name); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// take answers one file.
func (m *Mailbox) take(ctx context.Context, ods, name string) error {
	base := filepath.Join(m.Dir, ods)
	path := filepath.Join(base, "out", name)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := m.Service.Process(ctx, Source{Route: RouteMailbox, Folder: ods}, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("upload %s/%s: %w", ods, name, err)
	}
	for _, d := range []string{"in", "sent"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			return err
		}
	}
	resp := filepath.Join(base, "in", responseName(name))
	if err := writeAtomic(resp, res.Response); err != nil {
		return err
	}
	if err := os.Rename(path, filepath.Join(base, "sent", name)); err != nil {
		return err
	}
	m.log().Info("upload", "route", RouteMailbox, "la", ods, "code", res.Code,
		"succeeded", res.Succeeded, "failed", res.Failed, "replayed", res.Replayed, "duration", time.Since(start))
	return nil
}

// responseName is the name of the FileResponse for an upload file name.
func responseName(upload string) string {
	return strings.TrimSuffix(upload, filepath.Ext(upload)) + ".response.xml"
}

// writeAtomic writes data under a temporary name, syncs it and renames it, so
// a reader of in/ never sees half a response.
func writeAtomic(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
