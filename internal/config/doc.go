// Package config is the configuration pipeline shared by syncserver and
// syncagent: read a YAML file, expand ${NAME} environment references, and
// strictly decode it over a value the caller pre-filled with defaults, so
// that every unknown key, wrong type or unset variable is reported by file,
// line and key.
//
// It owns the mechanics (Load, Parse, Duration, FieldError), not the
// settings: the Config types, their defaults and their Validate methods live
// with the packages that use them (server, agent). Nothing here has side
// effects beyond reading the named file and the environment.
package config
