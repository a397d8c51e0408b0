package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// AuditKeyPath is where the Ed25519 key that signs the audit trail's
// checkpoints is kept: beside the database, outside it, so that whoever can
// rewrite the database file cannot forge a checkpoint unless they can also
// read this file (docs/audit.md).
func AuditKeyPath(dbPath string) string { return dbPath + ".audit-key" }

// LoadAuditKey reads the checkpoint signing key at path, a PEM "PRIVATE
// KEY" block (PKCS #8, Ed25519). With create, a missing file is created,
// mode 0600, with a new key; without, a missing file is an error that
// errors.Is fs.ErrNotExist.
func LoadAuditKey(path string, create bool) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		return createAuditKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("audit key %s: not a PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("audit key %s: not an Ed25519 key", path)
	}
	return key, nil
}

func createAuditKey(path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	// O_EXCL: two processes creating the key at once do not overwrite
	// each other's; the loser reads the winner's.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadAuditKey(path, false)
	}
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("audit key: %w", err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return key, nil
}

// auditKey loads, creating it on first use, the signing key beside the
// store's file.
func (db *DB) auditKey(ctx context.Context) (ed25519.PrivateKey, error) {
	path, err := db.Path(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return LoadAuditKey(AuditKeyPath(path), true)
}
