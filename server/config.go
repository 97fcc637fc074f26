package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/syncagent/syncagent/internal/config"
)

// Config is syncserver's configuration, the contents of server.yaml. Build
// one with DefaultConfig and change it, or with LoadConfig. A Config is a
// plain value: safe to read concurrently, not to change while a Server runs.
type Config struct {
	// Listen is the control channel's address (explicit FTPS when TLS is set).
	Listen string `yaml:"listen"`
	// Root is the storage root; each user's home is a folder below it, and
	// the server's own data lives in Root/.syncserver.
	Root string `yaml:"root"`
	// PublicHost is the address announced in PASV replies (behind NAT);
	// empty: the control connection's local address.
	PublicHost string `yaml:"public_host"`
	// PassivePorts is "LO-HI", the ports passive data connections listen on;
	// empty: any free port.
	PassivePorts string `yaml:"passive_ports"`
	// ActiveMode allows PORT/EPRT, only ever to the client's own address.
	ActiveMode bool `yaml:"active_mode"`
	// Fsync makes every upload durable on disk before its 226 (and before
	// its name appears); false leaves it to the OS's page cache, as
	// vsftpd, ProFTPD and pure-ftpd do, which is faster where the disk is
	// the limit but can lose recent uploads in a power cut.
	Fsync    bool           `yaml:"fsync"`
	TLS      TLSConfig      `yaml:"tls"`
	Users    []UserConfig   `yaml:"users"`
	Limits   LimitsConfig   `yaml:"limits"`
	Versions VersionsConfig `yaml:"versions"`
	Log      LogConfig      `yaml:"log"`
}

// TLSConfig is the tls: section. Setting Cert and Key enables AUTH TLS.
type TLSConfig struct {
	// Cert and Key are PEM files: the server's certificate chain and key.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// ImplicitListen, when set, is a second address that speaks TLS from the
	// first byte (implicit FTPS, usually ":990").
	ImplicitListen string `yaml:"implicit_listen"`
	// Require refuses login and data transfer without TLS.
	Require bool `yaml:"require"`
	// ClientCA is a PEM CA bundle: client certificates it signs are verified
	// and may log in as the user whose CertCN matches.
	ClientCA string `yaml:"client_ca"`
	// RequireSessionReuse makes TLS data connections resume the control
	// connection's TLS session, as vsftpd and ProFTPD do.
	RequireSessionReuse bool `yaml:"require_session_reuse"`
}

// UserConfig is one entry of users:.
type UserConfig struct {
	// Name is the login name.
	Name string `yaml:"name"`
	// PasswordHash is a bcrypt hash (from `syncserver passwd`); empty means
	// certificate login only.
	PasswordHash string `yaml:"password_hash"`
	// Home is the user's folder, relative to Root; LoadConfig sets it to
	// Name when the file leaves it empty.
	Home string `yaml:"home"`
	// ReadOnly users may list and download only.
	ReadOnly bool `yaml:"read_only"`
	// AppendOnly users may add and replace files (old versions are kept)
	// but never delete or rename over anything.
	AppendOnly bool `yaml:"append_only"`
	// CertCN lets a verified client certificate with this common name log
	// in as this user.
	CertCN string `yaml:"cert_cn"`
	// TLSRequired refuses this user's login without TLS (before the
	// password is sent) and its data transfers without PROT P, whatever
	// tls.require says for the others.
	TLSRequired bool `yaml:"tls_required"`
}

// LimitsConfig is the limits: section.
type LimitsConfig struct {
	MaxConnections int             `yaml:"max_connections"`
	MaxPerIP       int             `yaml:"max_per_ip"`
	IdleTimeout    config.Duration `yaml:"idle_timeout"`
	// MaxLoginFailures per client IP within BanDuration, after which that IP
	// is refused until BanDuration has passed.
	MaxLoginFailures int             `yaml:"max_login_failures"`
	BanDuration      config.Duration `yaml:"ban_duration"`
	// LoginTimeout closes a connection that has not logged in this long
	// after it was opened (or after AUTH TLS reset its login), whatever it
	// sends meanwhile.
	LoginTimeout config.Duration `yaml:"login_timeout"`
	// MaxPassivePerIP caps the passive listeners open at once for one
	// client IP, over all its sessions (each session holds at most one).
	// 0 (the default) is a quarter of the passive_ports range, at least 1
	// and at most MaxPerIP (MaxPerIP when passive_ports is empty); see
	// PassivePerIPLimit.
	MaxPassivePerIP int `yaml:"max_passive_per_ip"`
	// PassiveTimeout closes a passive listener nobody connected to for
	// this long after PASV/EPSV, freeing its port.
	PassiveTimeout config.Duration `yaml:"passive_timeout"`
}

// VersionsConfig is the versions: section: old file contents kept on
// overwrite or delete.
type VersionsConfig struct {
	// Keep is how many old versions are kept per file; 0 disables versions.
	Keep int `yaml:"keep"`
	// MaxAge prunes versions older than this.
	MaxAge config.Duration `yaml:"max_age"`
	// MaxBytes bounds the bytes the versions of one home (one user, unless
	// users share a home) take; the oldest are pruned first. Versions an
	// append-only user's overwrites kept are never pruned for it: when
	// they alone would pass the bound, the overwrite is refused (552).
	// 0 sets no bound (keep and max_age still apply).
	MaxBytes int64 `yaml:"max_bytes"`
}

// LogConfig is the log: section.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}

// DefaultVersionsMaxBytes is versions.max_bytes's default: 1 GiB per home.
const DefaultVersionsMaxBytes = 1 << 30

// DefaultConfig returns the default of every key, as configs/server.yaml
// and the README document them.
func DefaultConfig() Config {
	root := "/var/lib/syncserver"
	if runtime.GOOS == "windows" {
		root = filepath.Join(config.ProgramData(), "syncserver", "data")
	}
	return Config{
		Listen:       "127.0.0.1:2121",
		Root:         root,
		PassivePorts: "50000-50100",
		Fsync:        true,
		TLS:          TLSConfig{RequireSessionReuse: true},
		Limits: LimitsConfig{
			MaxConnections:   256,
			MaxPerIP:         32,
			IdleTimeout:      config.Duration(5 * time.Minute),
			MaxLoginFailures: 5,
			BanDuration:      config.Duration(15 * time.Minute),
			LoginTimeout:     config.Duration(time.Minute),
			PassiveTimeout:   config.Duration(30 * time.Second),
		},
		Versions: VersionsConfig{Keep: 10, MaxAge: config.Duration(720 * time.Hour), MaxBytes: DefaultVersionsMaxBytes},
		Log:      LogConfig{Level: "info", Format: "text"},
	}
}

// DefaultConfigPath is where syncserver looks for its configuration when no
// -config flag is given.
func DefaultConfigPath() string { return config.SystemPath("syncserver", "server.yaml") }

// LoadConfig reads the configuration at path over DefaultConfig, expands
// ${NAME} references, normalises it (absolute paths, each user's home
// defaulting to its name) and validates it. Every problem is reported, one
// per line, prefixed with path.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	if err := config.Load(path, &cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.normalise(); err != nil {
		return Config{}, config.InFile(path, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, config.InFile(path, err)
	}
	return cfg, nil
}

// normalise makes file paths absolute and fills in per-user defaults.
func (c *Config) normalise() error {
	var errs config.FieldErrors
	for key, p := range map[string]*string{
		"root": &c.Root, "tls.cert": &c.TLS.Cert, "tls.key": &c.TLS.Key, "tls.client_ca": &c.TLS.ClientCA,
	} {
		abs, err := config.AbsPath(*p)
		if err != nil {
			errs.Add(key, "%v", err)
			continue
		}
		*p = abs
	}
	for i := range c.Users {
		if c.Users[i].Home == "" {
			c.Users[i].Home = c.Users[i].Name
		}
	}
	return errs.Err()
}

// Validate checks every setting and reports all problems at once, each
// naming its key ("users[2].home: ..."), joined with errors.Join so that
// errors.As finds each *config.FieldError. It does not touch the file
// system.
func (c *Config) Validate() error {
	var errs config.FieldErrors
	checkHostPort(&errs, "listen", c.Listen, false)
	if c.Root == "" {
		errs.Add("root", "must be set: the folder that holds every user's home")
	}
	if c.PublicHost != "" {
		if _, _, err := net.SplitHostPort(c.PublicHost); err == nil || strings.ContainsAny(c.PublicHost, " /") {
			errs.Add("public_host", "must be a host name or IP address without a port, got %q", c.PublicHost)
		}
	}
	if c.PassivePorts != "" {
		if _, _, err := parsePortRange(c.PassivePorts); err != nil {
			errs.Add("passive_ports", "%v", err)
		}
	}
	c.validateTLS(&errs)
	c.validateUsers(&errs)

	l := c.Limits
	if l.MaxConnections <= 0 {
		errs.Add("limits.max_connections", "must be at least 1, got %d", l.MaxConnections)
	}
	if l.MaxPerIP <= 0 {
		errs.Add("limits.max_per_ip", "must be at least 1, got %d", l.MaxPerIP)
	} else if l.MaxConnections > 0 && l.MaxPerIP > l.MaxConnections {
		errs.Add("limits.max_per_ip", "is %d, more than limits.max_connections (%d)", l.MaxPerIP, l.MaxConnections)
	}
	if l.IdleTimeout <= 0 {
		errs.Add("limits.idle_timeout", "must be more than 0, got %s", l.IdleTimeout)
	}
	if l.MaxLoginFailures <= 0 {
		errs.Add("limits.max_login_failures", "must be at least 1, got %d", l.MaxLoginFailures)
	}
	if l.BanDuration <= 0 {
		errs.Add("limits.ban_duration", "must be more than 0, got %s", l.BanDuration)
	}
	if l.LoginTimeout <= 0 {
		errs.Add("limits.login_timeout", "must be more than 0, got %s", l.LoginTimeout)
	}
	if l.MaxPassivePerIP < 0 {
		errs.Add("limits.max_passive_per_ip", "must be 0 (automatic) or more, got %d", l.MaxPassivePerIP)
	}
	if l.PassiveTimeout <= 0 {
		errs.Add("limits.passive_timeout", "must be more than 0, got %s", l.PassiveTimeout)
	}
	if c.Versions.MaxBytes < 0 {
		errs.Add("versions.max_bytes", "must be 0 (no bound) or more bytes, got %d", c.Versions.MaxBytes)
	}
	if c.Versions.Keep < 0 {
		errs.Add("versions.keep", "must be 0 (no versions) or more, got %d", c.Versions.Keep)
	}
	if c.Versions.MaxAge <= 0 {
		errs.Add("versions.max_age", "must be more than 0, got %s", c.Versions.MaxAge)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs.Add("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		errs.Add("log.format", "must be text or json, got %q", c.Log.Format)
	}
	return errs.Err()
}

func (c *Config) validateTLS(errs *config.FieldErrors) {
	t := c.TLS
	hasCert := t.Cert != "" && t.Key != ""
	switch {
	case t.Cert != "" && t.Key == "":
		errs.Add("tls.key", "must be set when tls.cert is")
	case t.Key != "" && t.Cert == "":
		errs.Add("tls.cert", "must be set when tls.key is")
	}
	if t.ImplicitListen != "" {
		checkHostPort(errs, "tls.implicit_listen", t.ImplicitListen, false)
		if !hasCert {
			errs.Add("tls.implicit_listen", "needs tls.cert and tls.key")
		}
		if t.ImplicitListen == c.Listen && !strings.HasSuffix(c.Listen, ":0") {
			errs.Add("tls.implicit_listen", "is the same address as listen (%s)", c.Listen)
		}
	}
	if t.Require && !hasCert {
		errs.Add("tls.require", "needs tls.cert and tls.key")
	}
	if t.ClientCA != "" && !hasCert {
		errs.Add("tls.client_ca", "needs tls.cert and tls.key")
	}
}

func (c *Config) validateUsers(errs *config.FieldErrors) {
	names := map[string]int{}
	cns := map[string]int{}
	for i, u := range c.Users {
		key := fmt.Sprintf("users[%d]", i)
		switch {
		case u.Name == "":
			errs.Add(key+".name", "must be set")
		case strings.ContainsFunc(u.Name, func(r rune) bool { return r == ':' || unicode.IsSpace(r) || unicode.IsControl(r) }):
			errs.Add(key+".name", "%q has a colon, blank or control character", u.Name)
		case strings.EqualFold(u.Name, "anonymous") || strings.EqualFold(u.Name, "ftp"):
			errs.Add(key+".name", "%q is the anonymous login, which syncserver always refuses; choose another name", u.Name)
		default:
			if j, dup := names[u.Name]; dup {
				errs.Add(key+".name", "%q is already the name of users[%d]", u.Name, j)
			} else {
				names[u.Name] = i
			}
		}
		if u.Home == "" {
			errs.Add(key+".home", "must be set (LoadConfig defaults it to the user's name)")
		} else if msg := checkHome(u.Home); msg != "" {
			errs.Add(key+".home", "%s", msg)
		}
		if u.TLSRequired && (c.TLS.Cert == "" || c.TLS.Key == "") {
			errs.Add(key+".tls_required", "needs tls.cert and tls.key")
		}
		if u.PasswordHash == "" && u.CertCN == "" {
			errs.Add(key, "needs password_hash or cert_cn, or nobody can log in as %q", u.Name)
		}
		if u.PasswordHash != "" && !isBcrypt(u.PasswordHash) {
			errs.Add(key+".password_hash", "is not a bcrypt hash; make one with `syncserver passwd`")
		}
		if u.CertCN != "" {
			if c.TLS.ClientCA == "" {
				errs.Add(key+".cert_cn", "needs tls.client_ca, which verifies client certificates")
			}
			if j, dup := cns[u.CertCN]; dup {
				errs.Add(key+".cert_cn", "%q is already the cert_cn of users[%d]", u.CertCN, j)
			} else {
				cns[u.CertCN] = i
			}
		}
		if u.ReadOnly && u.AppendOnly {
			errs.Add(key+".append_only", "cannot be combined with read_only; choose one")
		}
	}
}

// checkHome returns why home cannot be a user's home, or "" when it can:
// it must name a folder strictly below the root, written plainly, and
// outside the server's own data in .syncserver.
func checkHome(home string) string {
	switch {
	case strings.ContainsAny(home, "\\\x00"):
		return fmt.Sprintf("%q has a backslash or NUL; use / between folders", home)
	case path.IsAbs(home) || filepath.IsAbs(home) || filepath.VolumeName(home) != "":
		return fmt.Sprintf("%q is absolute; write it relative to root, e.g. %q", home, strings.TrimLeft(path.Clean("/"+home), "/"))
	case home == ".":
		return `"." is root itself; a home must be a folder below it`
	case home == ".." || strings.HasPrefix(home, "../") || strings.Contains(home, "/../") || strings.HasSuffix(home, "/.."):
		return fmt.Sprintf("%q escapes root", home)
	case path.Clean(home) != home:
		return fmt.Sprintf("%q is not written plainly; write %q", home, path.Clean(home))
	case strings.HasPrefix(home, ".syncserver"):
		return fmt.Sprintf("%q is inside .syncserver, where the server keeps its own data", home)
	case strings.ContainsFunc(home, unicode.IsControl):
		return fmt.Sprintf("%q has a control character", home)
	}
	return ""
}

// isBcrypt reports whether h looks like a bcrypt hash this server can check.
func isBcrypt(h string) bool {
	if !strings.HasPrefix(h, "$2a$") && !strings.HasPrefix(h, "$2b$") && !strings.HasPrefix(h, "$2y$") {
		return false
	}
	if len(h) != 60 {
		return false
	}
	_, err := bcrypt.Cost([]byte(h))
	return err == nil
}

// checkHostPort records a problem unless s is host:port with a numeric port.
// The host may be empty (all interfaces) unless needHost.
func checkHostPort(errs *config.FieldErrors, key, s string, needHost bool) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		errs.Add(key, "must be host:port, e.g. \"127.0.0.1:2121\" or \":2121\", got %q", s)
		return
	}
	if needHost && host == "" {
		errs.Add(key, "must name a host, e.g. \"ftp.example.com:21\", got %q", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		errs.Add(key, "port %q must be a number from 0 to 65535", port)
	}
}

// parsePortRange parses "LO-HI".
func parsePortRange(s string) (lo, hi int, err error) {
	bad := fmt.Errorf("must be LO-HI with 1024 <= LO <= HI <= 65535, e.g. \"50000-50100\", or empty for any free port; got %q", s)
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, bad
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err := errors.Join(err1, err2); err != nil || lo < 1024 || lo > hi || hi > 65535 {
		return 0, 0, bad
	}
	return lo, hi, nil
}

// PassivePortRange returns the passive port range, or 0, 0 when any free
// port will do (PassivePorts empty or, in an unvalidated Config, invalid).
func (c *Config) PassivePortRange() (lo, hi int) {
	lo, hi, err := parsePortRange(c.PassivePorts)
	if err != nil {
		return 0, 0
	}
	return lo, hi
}

// PassivePerIPLimit returns how many passive listeners one client IP may
// have open at once: Limits.MaxPassivePerIP, or when that is 0 a quarter
// of the passive port range (so that at least four addresses are needed
// to fill it), at least 1 and at most Limits.MaxPerIP.
func (c *Config) PassivePerIPLimit() int {
	if n := c.Limits.MaxPassivePerIP; n > 0 {
		return n
	}
	n := c.Limits.MaxPerIP
	if lo, hi := c.PassivePortRange(); lo > 0 {
		n = min(n, (hi-lo+1)/4)
	}
	return max(n, 1)
}

// SlogLevel returns Log.Level as a slog.Level; info when unset or unknown.
func (c *Config) SlogLevel() slog.Level {
	switch c.Log.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
