package agent

import (
	"fmt"
	"sort"

	"github.com/syncagent/syncagent/internal/config"
	"go.yaml.in/yaml/v3"
)

// explicitZeros reports the settings the file sets to zero where zero
// would otherwise be read as "use the default": connections: 0 and a poll,
// debounce or rescan of "0s" are mistakes to name, not to paper over.
// data has passed config.Parse; what does not decode here (a ${NAME}
// reference) is left to it.
func explicitZeros(data []byte) error {
	var doc struct {
		Servers map[string]struct {
			Connections *int `yaml:"connections"`
		} `yaml:"servers"`
		Folders []struct {
			Debounce *config.Duration `yaml:"debounce"`
			Poll     *config.Duration `yaml:"poll"`
			Rescan   *config.Duration `yaml:"rescan"`
		} `yaml:"folders"`
	}
	yaml.Unmarshal(data, &doc) // partial results are what is wanted
	var errs config.FieldErrors
	names := make([]string, 0, len(doc.Servers))
	for name := range doc.Servers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if n := doc.Servers[name].Connections; n != nil && *n == 0 {
			errs.Add("servers."+name+".connections", "must be from 1 to %d, got 0 (leave it out for %d)", MaxConnections, DefaultConnections)
		}
	}
	for i, f := range doc.Folders {
		for _, d := range []struct {
			name string
			v    *config.Duration
			def  config.Duration
		}{{"debounce", f.Debounce, config.Duration(DefaultDebounce)}, {"poll", f.Poll, config.Duration(DefaultPoll)},
			{"rescan", f.Rescan, config.Duration(DefaultRescan)}} {
			if d.v != nil && *d.v == 0 {
				errs.Add(fmt.Sprintf("folders[%d].%s", i, d.name), "must be more than 0, got %s (leave it out for %s)", d.v, d.def)
			}
		}
	}
	return errs.Err()
}
