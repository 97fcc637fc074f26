package agent

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/syncagent/syncagent/agent/bwlimit"
	"github.com/syncagent/syncagent/agent/ignore"
	"github.com/syncagent/syncagent/internal/config"
)

// Defaults for the settings that LoadConfig fills in per server and folder
// when the file leaves them out (or sets them to zero).
const (
	DefaultConnections = 4
	DefaultDebounce    = 50 * time.Millisecond
	DefaultPoll        = 30 * time.Second
	DefaultRescan      = time.Hour
	DefaultMaxDelete   = "50%"
	// MaxConnections caps connections per server.
	MaxConnections = 64
)

// Modes a folder can sync in.
const (
	ModePush   = "push"
	ModePull   = "pull"
	ModeTwoWay = "two-way"
)

// TLS settings a server can use.
const (
	TLSNone     = "none"
	TLSExplicit = "explicit"
	TLSImplicit = "implicit"
)

// Config is syncagent's configuration, the contents of agent.yaml. Build one
// with DefaultConfig and change it, or with LoadConfig. A Config is a plain
// value: safe to read concurrently, not to change while the agent runs.
type Config struct {
	// State is the bbolt database holding what was last synced.
	State string `yaml:"state"`
	// StatusListen is the HTTP address of GET /status and GET /metrics;
	// empty disables it.
	StatusListen string `yaml:"status_listen"`
	// Servers are the FTP servers folders sync with, by name.
	Servers map[string]ServerConfig `yaml:"servers"`
	// Folders are the local folders kept in sync.
	Folders []FolderConfig `yaml:"folders"`
	// StaleTempAge is how old an agent temporary on a server must be
	// before the start-up clean-up removes it (a younger one may belong to
	// a running upload of another agent); 0 means an hour. Not in the
	// file: a knob for tests and embedders.
	StaleTempAge time.Duration `yaml:"-"`
	// QuietTime is how long a changed file of LargeFile bytes or more
	// must stay unchanged before the watcher's report of it is synced,
	// so a copy still running is not uploaded from its middle; 0 means
	// DefaultQuietTime. Not in the file: a knob for tests and embedders.
	QuietTime time.Duration `yaml:"-"`
	// WatchRetryMax is the longest wait between attempts to start a
	// folder's watcher again (its folder missing, removed or renamed);
	// 0 means DefaultWatchRetryMax. Not in the file: a knob for tests.
	WatchRetryMax time.Duration `yaml:"-"`
}

// ServerConfig is one entry of servers:.
type ServerConfig struct {
	// Address is host:port of the FTP control channel.
	Address string `yaml:"address"`
	User    string `yaml:"user"`
	// Password is the login password. After LoadConfig it also holds the
	// content of PasswordFile, which LoadConfig then clears.
	Password string `yaml:"password"`
	// PasswordFile is a file whose content (less a trailing newline) is the
	// password; the alternative to Password.
	PasswordFile string `yaml:"password_file"`
	// TLS is none, explicit (AUTH TLS) or implicit (TLS from the first byte).
	TLS string `yaml:"tls"`
	// CAFile is a PEM CA bundle to verify the server; empty: system roots.
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	// ClientCert and ClientKey are a PEM client certificate and key, for
	// certificate login.
	ClientCert string `yaml:"client_cert"`
	ClientKey  string `yaml:"client_key"`
	// Connections is how many FTP connections the agent opens to this
	// server in parallel, 1 to MaxConnections.
	Connections int `yaml:"connections"`
	// BWLimit limits the bandwidth of all transfers with this server
	// (agent/bwlimit.Parse): "10M", "10M:2M" (up:down), or a timetable
	// such as "08:00,1M 19:00,off"; "" or "off" for none.
	BWLimit string `yaml:"bwlimit"`
	// OpTimeout bounds each network read or write that makes no progress
	// (a server that stops answering); 0 means remote.DefaultOpTimeout.
	// Not in the file: a knob for tests and embedders.
	OpTimeout time.Duration `yaml:"-"`
}

// FolderConfig is one entry of folders:.
type FolderConfig struct {
	// Name identifies the folder in the state database, logs and -folder.
	Name string `yaml:"name"`
	// Path is the local folder, absolute after LoadConfig.
	Path string `yaml:"path"`
	// Server names an entry of Config.Servers.
	Server string `yaml:"server"`
	// Remote is the absolute folder on the server, e.g. "/docs".
	Remote string `yaml:"remote"`
	// Mode is push, pull or two-way.
	Mode string `yaml:"mode"`
	// Ignore holds gitignore-style patterns of paths never synced.
	Ignore []string `yaml:"ignore"`
	// Debounce is the quiet time after a path's last event before it syncs.
	Debounce config.Duration `yaml:"debounce"`
	// Poll is how often the remote folder is listed.
	Poll config.Duration `yaml:"poll"`
	// Rescan is how often the local folder is scanned in full.
	Rescan config.Duration `yaml:"rescan"`
	// MaxDelete is the most a pass may delete: "N%" of the files, or a count.
	MaxDelete string `yaml:"max_delete"`
}

// DefaultConfig returns the defaults configs/agent.yaml documents, with no servers and
// no folders.
func DefaultConfig() Config {
	state := "/var/lib/syncagent/state.db"
	if runtime.GOOS == "windows" {
		state = filepath.Join(config.ProgramData(), "syncagent", "state.db")
	}
	return Config{State: state, StatusListen: "127.0.0.1:7777"}
}

// DefaultConfigPath is where syncagent looks for its configuration when no
// -config flag is given.
func DefaultConfigPath() string { return config.SystemPath("syncagent", "agent.yaml") }

// LoadConfig reads the configuration at path over DefaultConfig, expands
// ${NAME} references, fills in per-server and per-folder defaults, makes
// local paths absolute (a relative one is taken from the config file's
// folder, not the current directory, so the service finds what the shell
// did), validates, and finally reads each password_file into Password. A
// file with no settings at all is an error. Every problem is reported, one
// per line, prefixed with path.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	if err := config.Parse(path, data, &cfg); err != nil {
		return Config{}, err
	}
	if config.Empty(data) {
		return Config{}, fmt.Errorf("%s: %w: name a server and a folder (every key is described in configs/agent.yaml)", path, ErrEmptyConfig)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return Config{}, fmt.Errorf("config path: %w", err)
	}
	if err := explicitZeros(data); err != nil {
		return Config{}, config.InFile(path, err)
	}
	if err := cfg.normalise(dir); err != nil {
		return Config{}, config.InFile(path, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, config.InFile(path, err)
	}
	if err := cfg.readPasswordFiles(); err != nil {
		return Config{}, config.InFile(path, err)
	}
	return cfg, nil
}

// ErrEmptyConfig is returned by LoadConfig for a file with no settings.
var ErrEmptyConfig = errors.New("the config file has no settings")

// LoadStatusListen returns status_listen from the config at path (its
// default when the file leaves it out), reading nothing else: syncagent
// status needs the address, not the servers' passwords, which may come
// from variables only the service has.
func LoadStatusListen(path string) (string, error) {
	keys := struct {
		StatusListen string `yaml:"status_listen"`
	}{DefaultConfig().StatusListen}
	if err := config.LoadKeys(path, &keys); err != nil {
		return "", err
	}
	if strings.Contains(keys.StatusListen, "${") {
		return "", fmt.Errorf("%s: status_listen: %q uses a variable that is not set", path, keys.StatusListen)
	}
	var errs config.FieldErrors
	if keys.StatusListen != "" {
		checkHostPort(&errs, "status_listen", keys.StatusListen, false)
	}
	if err := errs.Err(); err != nil {
		return "", config.InFile(path, err)
	}
	return keys.StatusListen, nil
}

// normalise fills in defaults the file left out and makes paths absolute,
// taking relative ones from dir.
func (c *Config) normalise(dir string) error {
	var errs config.FieldErrors
	abs := func(key string, p *string) {
		a, err := config.AbsPathFrom(dir, *p)
		if err != nil {
			errs.Add(key, "%v", err)
			return
		}
		*p = a
	}
	abs("state", &c.State)
	for _, name := range c.serverNames() {
		s := c.Servers[name]
		key := "servers." + name
		if s.TLS == "" {
			s.TLS = TLSNone
		}
		if s.Connections == 0 {
			s.Connections = DefaultConnections
		}
		abs(key+".password_file", &s.PasswordFile)
		abs(key+".ca_file", &s.CAFile)
		abs(key+".client_cert", &s.ClientCert)
		abs(key+".client_key", &s.ClientKey)
		c.Servers[name] = s
	}
	for i := range c.Folders {
		f := &c.Folders[i]
		if f.Debounce == 0 {
			f.Debounce = config.Duration(DefaultDebounce)
		}
		if f.Poll == 0 {
			f.Poll = config.Duration(DefaultPoll)
		}
		if f.Rescan == 0 {
			f.Rescan = config.Duration(DefaultRescan)
		}
		if f.MaxDelete == "" {
			f.MaxDelete = DefaultMaxDelete
		}
		abs(fmt.Sprintf("folders[%d].path", i), &f.Path)
	}
	return errs.Err()
}

// readPasswordFiles moves each password_file's content into Password.
func (c *Config) readPasswordFiles() error {
	var errs config.FieldErrors
	for _, name := range c.serverNames() {
		s := c.Servers[name]
		if s.PasswordFile == "" {
			continue
		}
		key := "servers." + name + ".password_file"
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			errs.Add(key, "%v", err)
			continue
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			errs.Add(key, "%s is empty", s.PasswordFile)
			continue
		}
		s.Password, s.PasswordFile = pw, ""
		c.Servers[name] = s
	}
	return errs.Err()
}

func (c *Config) serverNames() []string {
	names := make([]string, 0, len(c.Servers))
	for n := range c.Servers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validate checks every setting and reports all problems at once, each
// naming its key ("folders[1].mode: ..."), joined with errors.Join so that
// errors.As finds each *config.FieldError. It does not touch the file
// system.
func (c *Config) Validate() error {
	var errs config.FieldErrors
	if c.State == "" {
		errs.Add("state", "must be set: the file the agent keeps its sync state in")
	}
	if c.StatusListen != "" {
		checkHostPort(&errs, "status_listen", c.StatusListen, false)
	}
	for _, name := range c.serverNames() {
		validateServer(&errs, name, c.Servers[name])
	}
	c.validateFolders(&errs)
	return errs.Err()
}

func validateServer(errs *config.FieldErrors, name string, s ServerConfig) {
	key := "servers." + name
	if strings.TrimSpace(name) == "" || strings.ContainsFunc(name, unicode.IsControl) {
		errs.Add("servers", "%q is not a usable server name", name)
	}
	if s.Address == "" {
		errs.Add(key+".address", `must be set, e.g. "ftp.example.com:21"`)
	} else {
		checkHostPort(errs, key+".address", s.Address, true)
	}
	if s.User == "" {
		errs.Add(key+".user", "must be set")
	}
	if s.Password != "" && s.PasswordFile != "" {
		errs.Add(key+".password_file", "cannot be combined with password; keep one")
	}
	if s.Password == "" && s.PasswordFile == "" && s.ClientCert == "" {
		errs.Add(key+".password", "must be set (or password_file, or client_cert and client_key for certificate login)")
	}
	tlsOn := true
	switch s.TLS {
	case TLSExplicit, TLSImplicit:
	case TLSNone, "":
		tlsOn = false
	default:
		errs.Add(key+".tls", "must be none, explicit or implicit, got %q", s.TLS)
	}
	if !tlsOn {
		for _, opt := range []struct {
			name string
			set  bool
		}{{"ca_file", s.CAFile != ""}, {"insecure_skip_verify", s.InsecureSkipVerify}, {"client_cert", s.ClientCert != ""}} {
			if opt.set {
				errs.Add(key+"."+opt.name, "only applies with tls: explicit or implicit")
			}
		}
	}
	switch {
	case s.ClientCert != "" && s.ClientKey == "":
		errs.Add(key+".client_key", "must be set when client_cert is")
	case s.ClientKey != "" && s.ClientCert == "":
		errs.Add(key+".client_cert", "must be set when client_key is")
	}
	if _, err := bwlimit.Parse(s.BWLimit); err != nil {
		errs.Add(key+".bwlimit", "%v", err)
	}
	if s.Connections < 1 || s.Connections > MaxConnections {
		errs.Add(key+".connections", "must be from 1 to %d, got %d", MaxConnections, s.Connections)
	}
}

func (c *Config) validateFolders(errs *config.FieldErrors) {
	names := map[string]int{}
	for i, f := range c.Folders {
		key := fmt.Sprintf("folders[%d]", i)
		switch {
		case f.Name == "":
			errs.Add(key+".name", "must be set")
		case strings.ContainsFunc(f.Name, unicode.IsControl):
			errs.Add(key+".name", "%q has a control character", f.Name)
		default:
			if j, dup := names[f.Name]; dup {
				errs.Add(key+".name", "%q is already the name of folders[%d]", f.Name, j)
			} else {
				names[f.Name] = i
			}
		}
		switch {
		case f.Path == "":
			errs.Add(key+".path", "must be set: the local folder to sync")
		case !filepath.IsAbs(f.Path):
			errs.Add(key+".path", "%q must be absolute", f.Path)
		}
		if f.Server == "" {
			errs.Add(key+".server", "must name one of servers: %s", c.serverList())
		} else if _, ok := c.Servers[f.Server]; !ok {
			errs.Add(key+".server", "%q is not one of servers: %s", f.Server, c.serverList())
		}
		switch {
		case f.Remote == "" || !path.IsAbs(f.Remote):
			errs.Add(key+".remote", `must be an absolute folder on the server, e.g. "/docs", got %q`, f.Remote)
		case strings.ContainsAny(f.Remote, "\\\x00"):
			errs.Add(key+".remote", "%q has a backslash or NUL; use / between folders", f.Remote)
		case path.Clean(f.Remote) != f.Remote:
			errs.Add(key+".remote", "%q is not written plainly; write %q", f.Remote, path.Clean(f.Remote))
		}
		switch f.Mode {
		case ModePush, ModePull, ModeTwoWay:
		default:
			errs.Add(key+".mode", "must be push, pull or two-way, got %q", f.Mode)
		}
		for j, p := range f.Ignore {
			if _, err := ignore.New([]string{p}); err != nil {
				if inner := errors.Unwrap(err); inner != nil {
					err = inner
				}
				errs.Add(fmt.Sprintf("%s.ignore[%d]", key, j), "%q: %v", p, err)
			}
		}
		for _, d := range []struct {
			name string
			v    config.Duration
		}{{"debounce", f.Debounce}, {"poll", f.Poll}, {"rescan", f.Rescan}} {
			if d.v < 0 {
				errs.Add(key+"."+d.name, "must be more than 0, got %s", d.v)
			}
		}
		if _, _, err := parseMaxDelete(f.MaxDelete); err != nil {
			errs.Add(key+".max_delete", "%v", err)
		}
	}
	c.validateOverlaps(errs)
}

// validateOverlaps rejects two folders that would sync the same files: the
// same local tree, or the same remote tree on the same server. It also
// keeps the state database out of every folder, which would otherwise sync
// its own writes forever.
func (c *Config) validateOverlaps(errs *config.FieldErrors) {
	for i, f := range c.Folders {
		key := fmt.Sprintf("folders[%d]", i)
		for j := 0; j < i; j++ {
			g := c.Folders[j]
			if f.Path != "" && g.Path != "" && within(filepath.Clean(f.Path), filepath.Clean(g.Path), string(filepath.Separator)) {
				errs.Add(key+".path", "%s overlaps folders[%d] (%q) at %s; one folder cannot be inside another", f.Path, j, g.Name, g.Path)
			}
			if f.Server == g.Server && f.Remote != "" && g.Remote != "" && within(path.Clean(f.Remote), path.Clean(g.Remote), "/") {
				errs.Add(key+".remote", "%s on server %q overlaps folders[%d] (%q) at %s", f.Remote, f.Server, j, g.Name, g.Remote)
			}
		}
		if f.Path != "" && c.State != "" && isInside(filepath.Clean(c.State), filepath.Clean(f.Path), string(filepath.Separator)) {
			errs.Add("state", "%s is inside folders[%d].path (%s); keep the state database outside synced folders", c.State, i, f.Path)
		}
	}
}

// within reports whether a and b are the same folder or one contains the other.
func within(a, b, sep string) bool {
	return a == b || isInside(a, b, sep) || isInside(b, a, sep)
}

// isInside reports whether child is strictly below parent.
func isInside(child, parent, sep string) bool {
	if !strings.HasSuffix(parent, sep) {
		parent += sep
	}
	return strings.HasPrefix(child, parent)
}

func (c *Config) serverList() string {
	names := c.serverNames()
	if len(names) == 0 {
		return "(none defined)"
	}
	return strings.Join(names, ", ")
}

// parseMaxDelete parses "N%" (0 to 100) or a whole count N >= 0.
func parseMaxDelete(s string) (n int, percent bool, err error) {
	bad := fmt.Errorf(`must be a share like "50%%" (0%% to 100%%) or a number of files like "200", got %q`, s)
	num, percent := strings.CutSuffix(strings.TrimSpace(s), "%")
	n, err = strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 || (percent && n > 100) {
		return 0, false, bad
	}
	return n, percent, nil
}

// MaxDeleteLimit returns how many of total files one pass may delete: a
// pass that would delete more is refused. "N%" allows N percent of total,
// rounded down; a count allows that many. An unparsable MaxDelete (possible
// only in an unvalidated FolderConfig) falls back to DefaultMaxDelete.
func (f FolderConfig) MaxDeleteLimit(total int) int {
	if total < 0 {
		total = 0
	}
	n, percent, err := parseMaxDelete(f.MaxDelete)
	if err != nil {
		n, percent, _ = parseMaxDelete(DefaultMaxDelete)
	}
	if !percent {
		return n
	}
	return total * n / 100
}

// checkHostPort records a problem unless s is host:port with a numeric port.
// The host may be empty (all interfaces) unless needHost.
func checkHostPort(errs *config.FieldErrors, key, s string, needHost bool) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		errs.Add(key, `must be host:port, e.g. "ftp.example.com:21", got %q`, s)
		return
	}
	if needHost && host == "" {
		errs.Add(key, `must name a host, e.g. "ftp.example.com%s", got %q`, s, s)
	}
	lowest := 0
	if needHost {
		lowest = 1 // a server to dial needs a real port
	}
	if n, err := strconv.Atoi(port); err != nil || n < lowest || n > 65535 {
		errs.Add(key, "port %q must be a number from %d to 65535", port, lowest)
	}
}
