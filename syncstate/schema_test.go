package syncstate

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestSchemaVersionMatchesMigrations(t *testing.T) {
	if SchemaVersion != len(migrations) {
		t.Fatalf("SchemaVersion %d, but %d migrations", SchemaVersion, len(migrations))
	}
}

// rawFile makes a bbolt file by hand, as an older or newer release might
// have left it.
func rawFile(t *testing.T, fn func(tx *bolt.Tx) error) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func schemaIn(t *testing.T, path string) int {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var v int
	if err := b.View(func(tx *bolt.Tx) (err error) { v, err = schemaOf(tx); return err }); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrateFromVersion0(t *testing.T) {
	path := rawFile(t, func(*bolt.Tx) error { return nil }) // valid bbolt, no buckets
	if v := schemaIn(t, path); v != 0 {
		t.Fatalf("raw file at schema %d", v)
	}
	// Read-only cannot upgrade, and says so.
	if _, err := Open(path, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "read-write") {
		t.Errorf("read-only Open of schema 0 = %v", err)
	}
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, db, "f", entry("a", 1))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if v := schemaIn(t, path); v != SchemaVersion {
		t.Errorf("schema %d after Open, want %d", v, SchemaVersion)
	}
	db, err = Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, ok, _ := get(db, "f", "a"); !ok {
		t.Error("record lost")
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	path := rawFile(t, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, []byte("7"))
	})
	for _, ro := range []bool{false, true} {
		_, err := Open(path, Options{ReadOnly: ro})
		var se *SchemaError
		if !errors.As(err, &se) || se.Found != 7 {
			t.Fatalf("Open(ReadOnly=%v) = %v, want a SchemaError", ro, err)
		}
		if want := "state file written by a newer syncagent (schema 7 > 2)"; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if v := schemaIn(t, path); v != 7 {
		t.Errorf("refused file was changed to schema %d", v)
	}
}

func TestRefuseGarbageSchema(t *testing.T) {
	path := rawFile(t, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, []byte("one"))
	})
	if _, err := Open(path, Options{}); err == nil {
		t.Error("Open accepted a non-numeric schema")
	}
}
