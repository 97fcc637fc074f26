package svc

import "runtime/debug"

// Version is set at link time (-ldflags "-X .../internal/svc.Version=v1.2.3");
// otherwise the module version or VCS revision from the build info is used.
var Version = ""

// VersionString returns the program's version for the "version" command.
func VersionString() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v + " " + bi.GoVersion
}
