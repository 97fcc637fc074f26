package agent

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/syncagent/syncagent/internal/config"
)

// LoadFolderPaths reads only each folder's name and local path from the
// config at path (relative paths taken from the file's folder), for a
// command that looks at the local folders alone (syncagent conflicts):
// unlike LoadConfig it needs none of the servers' passwords or variables.
func LoadFolderPaths(path string) ([]FolderConfig, error) {
	var keys struct {
		Folders []struct {
			Name string `yaml:"name"`
			Path string `yaml:"path"`
		} `yaml:"folders"`
	}
	if err := config.LoadKeys(path, &keys); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config path: %w", err)
	}
	var errs config.FieldErrors
	out := make([]FolderConfig, 0, len(keys.Folders))
	for i, f := range keys.Folders {
		key := fmt.Sprintf("folders[%d].path", i)
		if f.Path == "" || strings.Contains(f.Path, "${") {
			errs.Add(key, "%q is not a usable folder (empty, or a variable that is not set)", f.Path)
			continue
		}
		abs, err := config.AbsPathFrom(dir, f.Path)
		if err != nil {
			errs.Add(key, "%v", err)
			continue
		}
		out = append(out, FolderConfig{Name: f.Name, Path: abs})
	}
	if err := errs.Err(); err != nil {
		return nil, config.InFile(path, err)
	}
	return out, nil
}
