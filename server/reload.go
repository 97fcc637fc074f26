package server

import (
	"reflect"
	"strings"
)

// Reload applies a new configuration to the running server, as SIGHUP
// does: cfg is validated first and refused whole if it has a problem.
// Its users take effect for the next logins; sessions of unchanged users
// keep running, and a session whose user was removed or changed is
// closed at its next command. Other settings (listen,
// root, tls, limits, versions, storage, ...) are read at start only: they
// are returned by key for the caller to say that they need a restart.
// Reload is safe to call while the server serves.
func (s *Server) Reload(cfg Config) (needRestart []string, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s.init()
	s.users.Store(newUserTable(cfg.Users))
	old, neu := reflect.ValueOf(s.Config), reflect.ValueOf(cfg)
	for i := range old.NumField() {
		f := old.Type().Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key == "" || key == "-" || key == "users" {
			continue
		}
		if !reflect.DeepEqual(old.Field(i).Interface(), neu.Field(i).Interface()) {
			needRestart = append(needRestart, key)
		}
	}
	return needRestart, nil
}
