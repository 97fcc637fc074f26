//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/jlaffaye/ftp"
)

// dialLogin connects and logs in. A connection the server resets or refuses
// before its greeting (a full listen backlog in a burst) is retried a few
// times after a short pause, as an FTP client would.
func dialLogin(ctx context.Context, t *target) (*ftp.ServerConn, error) {
	var c *ftp.ServerConn
	var err error
	for attempt := range 20 {
		if c, err = ftp.Dial(t.addr, ftp.DialWithTimeout(time.Minute), ftp.DialWithContext(ctx)); err == nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", t.name, err)
	}
	if err := c.Login(t.user, t.pass); err != nil {
		c.Quit()
		return nil, fmt.Errorf("login to %s: %w", t.name, err)
	}
	return c, nil
}

// loginBurst logs n clients in at once and returns how long until all were
// in, with the sessions still open.
func loginBurst(ctx context.Context, t *target, n int) (time.Duration, []*ftp.ServerConn, error) {
	conns := make([]*ftp.ServerConn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conns[i], errs[i] = dialLogin(ctx, t)
		}()
	}
	wg.Wait()
	d := time.Since(start)
	var live []*ftp.ServerConn
	var first error
	for i, c := range conns {
		if c != nil {
			live = append(live, c)
		} else if first == nil {
			first = errs[i]
		}
	}
	if first != nil {
		quitAll(live)
		return d, nil, fmt.Errorf("%d of %d logins failed, first: %w", n-len(live), n, first)
	}
	return d, live, nil
}

func quitAll(cs []*ftp.ServerConn) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() { defer wg.Done(); c.Quit() }()
	}
	wg.Wait()
}

// parallelUploads logs n clients in, then times all of them uploading data
// at once.
func parallelUploads(ctx context.Context, t *target, n int, data []byte) (time.Duration, error) {
	_, conns, err := loginBurst(ctx, t, n)
	if err != nil {
		return 0, err
	}
	defer quitAll(conns)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Stor(fmt.Sprintf("up%03d.bin", i), bytes.NewReader(data))
		}()
	}
	wg.Wait()
	d := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return d, fmt.Errorf("upload to %s: %w", t.name, err)
		}
	}
	return d, nil
}

// stream times one upload and one download of data over one session.
func stream(ctx context.Context, t *target, data []byte) (stor, retr time.Duration, err error) {
	c, err := dialLogin(ctx, t)
	if err != nil {
		return 0, 0, err
	}
	defer c.Quit()
	start := time.Now()
	if err := c.Stor("stream.bin", bytes.NewReader(data)); err != nil {
		return 0, 0, fmt.Errorf("stor to %s: %w", t.name, err)
	}
	stor = time.Since(start)
	start = time.Now()
	r, err := c.Retr("stream.bin")
	if err != nil {
		return stor, 0, fmt.Errorf("retr from %s: %w", t.name, err)
	}
	n, err := io.Copy(io.Discard, r)
	r.Close()
	retr = time.Since(start)
	if err != nil || n != int64(len(data)) {
		return stor, retr, fmt.Errorf("retr from %s: %d of %d bytes: %v", t.name, n, len(data), err)
	}
	return stor, retr, nil
}

// serverSamples are one server's measurements, a sample per run.
type serverSamples struct {
	logins, uploads, stors, retrs []time.Duration
	pss, rss                      []int64
	procs                         int
	failed                        []string
}

// serverFigures are one server's medians.
type serverFigures struct {
	login, upload, stor, retr time.Duration
	pss, rss                  int64
	procs                     int
	failed                    []string
}

// measure adds one run of every measurement of t to f.
func (f *serverSamples) measure(ctx context.Context, e *env, t *target, upData, streamData []byte) {
	e.settle()
	d, conns, err := loginBurst(ctx, t, e.sz.logins)
	if err != nil {
		f.failed = append(f.failed, err.Error())
	} else {
		f.logins = append(f.logins, d)
		time.Sleep(500 * time.Millisecond) // let the sessions settle into idle
		pss, rss, procs := t.memory()
		f.pss, f.rss, f.procs = append(f.pss, pss), append(f.rss, rss), procs
		quitAll(conns)
	}
	t.reset()
	e.settleFor(e.sz.uploaders * int(e.sz.uploadSize))
	if d, err := parallelUploads(ctx, t, e.sz.uploaders, upData); err != nil {
		f.failed = append(f.failed, err.Error())
	} else {
		f.uploads = append(f.uploads, d)
	}
	t.reset()
	e.settle()
	if s, r, err := stream(ctx, t, streamData); err != nil {
		f.failed = append(f.failed, err.Error())
	} else {
		f.stors, f.retrs = append(f.stors, s), append(f.retrs, r)
	}
	t.reset()
}

func (f *serverSamples) medians() serverFigures {
	return serverFigures{login: medianDur(f.logins), upload: medianDur(f.uploads), stor: medianDur(f.stors), retr: medianDur(f.retrs),
		pss: medianInt(f.pss), rss: medianInt(f.rss), procs: f.procs, failed: f.failed}
}

// nosyncName names the second syncserver, the one run with fsync: false.
const nosyncName = "syncserver, fsync: false"

// scenarioServer is scenario 5: syncserver against vsftpd and pure-ftpd
// under the same load, with the same user and data.
func scenarioServer(ctx context.Context, e *env) (section, error) {
	sz := e.sz
	s := section{Title: "5. Server under load",
		Text: fmt.Sprintf("The same user and data on every server, driven by jlaffaye/ftp clients: %d clients connecting and "+
			"logging in at once; %d logged-in clients each uploading a %d MB file at once (aggregate MB/s); one "+
			"session uploading and downloading %d MiB (STOR / RETR); memory with the %d sessions logged in and idle "+
			"(PSS summed over the server's processes; forking servers run one or two processes per session). "+
			"syncserver runs with its defaults (versions on, and every upload fsynced before its 226), "+
			"and again with `fsync: false`, which leaves uploads in the page cache as vsftpd and pure-ftpd do; "+
			"vsftpd and pure-ftpd run with chroot and no limits. The upload targets compare servers that promise the same: "+
			"a 226 from vsftpd means the data is in the page cache, so it is held against syncserver with `fsync: false`. "+
			"Durable uploads cannot outrun the disk, so the default's upload rates are shown beside the disk's own "+
			"fsynced write rate, timed in the same runs (on 2 cores a single durable STOR falls well short of it: the "+
			"network receive and the disk's writeback compete for the same CPUs, so the upload takes about as long as "+
			"the unsynced one plus the flush). Runs go round the servers, and all dirty data is written out "+
			"(sync) before every timed step, so no server pays for another's writeback; before each step the "+
			"harness also writes 1 GiB to a scratch file and deletes it, so that on a virtual machine that hands freed memory "+
			"back to its host no server writes into memory the previous run's deleted files gave back (the first write to it "+
			"again ran at a few hundred MB/s here).",
			sz.logins, sz.uploaders, sz.uploadSize/1_000_000, sz.streamSize>>20, sz.logins)}
	upData := make([]byte, sz.uploadSize)
	rand.Read(upData)
	streamData := make([]byte, sz.streamSize)
	rand.Read(streamData)
	tab := table{Headers: []string{"server", fmt.Sprintf("%d logins", sz.logins), fmt.Sprintf("%d × %d MB uploads", sz.uploaders, sz.uploadSize/1_000_000),
		"STOR", "RETR", fmt.Sprintf("memory, %d idle sessions", sz.logins)}}
	var ours, nosync serverFigures
	all := []*target{e.srv}
	if ns, err := startSyncserver(ctx, e.serverBin, mkdir(e.work, "syncserver-nosync"), nosyncName, "fsync: false\n"); err != nil {
		s.Notes = append(s.Notes, "syncserver with fsync: false did not start: "+err.Error())
	} else {
		defer ns.stop()
		ns.trash = e.srv.trash
		all = append(all, ns)
	}
	all = append(all, e.peers...)
	// Runs go round the servers, so that a slow spell of this machine's
	// disk falls on all of them, and each run also times the disk itself:
	// an fsynced write of the STOR's size, the bound on durable uploads.
	samples := make([]serverSamples, len(all))
	var disk []time.Duration
	for run := range e.opts.Runs {
		for i, t := range all {
			e.progress("server: %s, run %d", t.name, run+1)
			samples[i].measure(ctx, e, t, upData, streamData)
			if ctx.Err() != nil {
				return s, ctx.Err()
			}
		}
		e.settle()
		if d, err := writeTime(e.work, sz.streamSize, true); err == nil {
			disk = append(disk, d)
		}
	}
	figs := make([]serverFigures, len(all))
	for i, t := range all {
		f := samples[i].medians()
		figs[i] = f
		if i == 0 {
			ours = f
		}
		if t.name == nosyncName {
			nosync = f
		}
		mem := mib(f.pss)
		if f.procs > 1 {
			mem += fmt.Sprintf(" in %d processes", f.procs)
		}
		if strings.HasPrefix(t.name, "syncserver") {
			mem = mib(f.rss) + " RSS"
		}
		tab.Rows = append(tab.Rows, []string{t.name, secs(f.login),
			mbps(int64(sz.uploaders)*sz.uploadSize, f.upload), mbps(sz.streamSize, f.stor), mbps(sz.streamSize, f.retr), mem})
		for _, msg := range f.failed {
			s.Notes = append(s.Notes, t.name+": "+msg)
		}
	}
	s.Tables = append(s.Tables, tab)
	goals := table{Headers: []string{"syncserver target", "result"}}
	goals.Rows = append(goals.Rows,
		[]string{fmt.Sprintf("%d logins < 1 s", sz.logins), verdict(ours.login > 0 && ours.login < time.Second, secs(ours.login))},
		[]string{"≤ 50 MB RSS with idle sessions", verdict(ours.rss > 0 && ours.rss*1024 <= 50_000_000, mib(ours.rss))},
	)
	upBytes := int64(sz.uploaders) * sz.uploadSize
	durable := table{Headers: []string{"durable uploads (the default)", "syncserver", "this disk, fsynced (a local write, no network)", "vsftpd (page cache)"}}
	for i, t := range all {
		p := figs[i]
		if t.name != "vsftpd" {
			continue
		}
		atLeast := func(o, v time.Duration) bool { return o > 0 && v > 0 && o <= v }
		goals.Rows = append(goals.Rows,
			[]string{"RETR ≥ vsftpd", verdict(atLeast(ours.retr, p.retr), mbps(sz.streamSize, ours.retr)+" vs "+mbps(sz.streamSize, p.retr))},
			[]string{"parallel uploads ≥ vsftpd, same durability (`fsync: false`)",
				verdict(atLeast(nosync.upload, p.upload), mbps(upBytes, nosync.upload)+" vs "+mbps(upBytes, p.upload))},
			[]string{"STOR ≥ vsftpd, same durability (`fsync: false`)",
				verdict(atLeast(nosync.stor, p.stor), mbps(sz.streamSize, nosync.stor)+" vs "+mbps(sz.streamSize, p.stor))},
		)
		disk := medianDur(disk)
		durable.Rows = append(durable.Rows,
			[]string{fmt.Sprintf("%d × %d MB uploads", sz.uploaders, sz.uploadSize/1_000_000), mbps(upBytes, ours.upload), mbps(sz.streamSize, disk), mbps(upBytes, p.upload)},
			[]string{"STOR", mbps(sz.streamSize, ours.stor), mbps(sz.streamSize, disk), mbps(sz.streamSize, p.stor)},
		)
	}
	s.Tables = append(s.Tables, goals)
	if len(durable.Rows) > 0 {
		s.Tables = append(s.Tables, durable)
	}
	return s, nil
}
