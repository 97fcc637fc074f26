package config

import (
	"os"
	"path/filepath"
	"runtime"
)

// SystemPath returns where a system-wide file of program app lives:
// /etc/APP/NAME on Unix, %ProgramData%\APP\NAME on Windows.
func SystemPath(app, name string) string {
	if runtime.GOOS == "windows" {
		return filepath.Join(ProgramData(), app, name)
	}
	return filepath.Join("/etc", app, name)
}

// ProgramData is Windows' folder for machine-wide program data.
func ProgramData() string {
	if d := os.Getenv("ProgramData"); d != "" {
		return d
	}
	return `C:\ProgramData`
}
