package agent

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/syncagent/syncagent/agent/remote"
)

// running is what Run keeps of the folders it runs, so that Reload can
// stop and start them. Guarded by Agent.mu.
type running struct {
	ctx   context.Context
	live  int                // folder goroutines not yet ended
	ended chan struct{}      // signalled when live drops to 0
	stops map[*folder]func() // cancel a folder and wait for its goroutine
	errs  []error
}

// startLocked runs f under a.run until it is stopped or ctx ends; a.mu
// must be held.
func (a *Agent) startLocked(f *folder) {
	if a.Metrics != nil {
		f.metrics = a.Metrics
	}
	ctx, cancel := context.WithCancel(a.run.ctx)
	done := make(chan struct{})
	a.run.live++
	a.run.stops[f] = func() { cancel(); <-done }
	go func() {
		defer close(done)
		err := f.run(ctx)
		a.mu.Lock()
		defer a.mu.Unlock()
		if err != nil {
			a.run.errs = append(a.run.errs, fmt.Errorf("folder %s: %w", f.cfg.Name, err))
		}
		if a.run.live--; a.run.live == 0 {
			select {
			case a.run.ended <- struct{}{}:
			default:
			}
		}
	}()
}

// Reload applies a new configuration while Run runs (SIGHUP): folders
// whose settings and server settings did not change keep running
// untouched; changed ones restart with the new settings, removed ones
// stop and new ones start; the pools of servers no longer used close. cfg
// is validated first and refused whole if it has a problem, leaving
// everything as it was. state and status_listen are read at start only:
// a change to either is refused, naming it. Safe for concurrent use with
// Run, Status and Report; Reload calls must not overlap.
func (a *Agent) Reload(cfg Config) (started, stopped []string, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	a.mu.Lock()
	old := a.Config
	if a.run == nil {
		a.mu.Unlock()
		return nil, nil, errors.New("reload: the agent is not running")
	}
	a.mu.Unlock()
	switch {
	case cfg.State != old.State:
		return nil, nil, fmt.Errorf("state: changed from %s to %s; that needs a restart", old.State, cfg.State)
	case cfg.StatusListen != old.StatusListen:
		return nil, nil, fmt.Errorf("status_listen: changed from %q to %q; that needs a restart", old.StatusListen, cfg.StatusListen)
	}
	unchanged := func(f *folder) bool {
		for _, fc := range cfg.Folders {
			if fc.Name == f.cfg.Name {
				return reflect.DeepEqual(fc, f.cfg) && reflect.DeepEqual(cfg.Servers[fc.Server], old.Servers[fc.Server])
			}
		}
		return false
	}
	// Build what is new before stopping anything, so that a failure
	// (a pool that cannot be made) leaves everything running.
	a.mu.Lock()
	keep := map[string]*folder{}
	var stop []*folder
	for _, f := range a.folders {
		if unchanged(f) {
			keep[f.cfg.Name] = f
		} else {
			stop = append(stop, f)
		}
	}
	pools := map[string]*remote.Pool{}
	for name, p := range a.pools {
		if reflect.DeepEqual(cfg.Servers[name], old.Servers[name]) {
			pools[name] = p
		}
	}
	a.mu.Unlock()
	var folders, fresh []*folder
	var made []*remote.Pool
	for _, fc := range cfg.Folders {
		if f := keep[fc.Name]; f != nil {
			folders = append(folders, f)
			continue
		}
		p := pools[fc.Server]
		if p == nil {
			if p, err = NewPool(cfg, fc.Server, a.Logger); err != nil {
				for _, m := range made {
					m.Close()
				}
				return nil, nil, err
			}
			pools[fc.Server], made = p, append(made, p)
		}
		f, err := newFolder(fc, p, a.db, cfg.Servers[fc.Server].Connections, a.Logger)
		if err != nil {
			for _, m := range made {
				m.Close()
			}
			return nil, nil, err
		}
		f.staleAge, f.agentID = cfg.StaleTempAge, a.id
		folders, fresh = append(folders, f), append(fresh, f)
	}
	a.mu.Lock()
	var stops []func()
	for _, f := range stop {
		stops = append(stops, a.run.stops[f])
		delete(a.run.stops, f)
		stopped = append(stopped, f.cfg.Name)
	}
	a.mu.Unlock()
	for _, s := range stops {
		if s != nil {
			s() // outside a.mu: the folder's goroutine takes it to end
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for name, p := range a.pools {
		if pools[name] != p {
			p.Close()
		}
	}
	a.Config, a.folders, a.pools = cfg, folders, pools
	for _, f := range fresh {
		a.startLocked(f)
		started = append(started, f.cfg.Name)
	}
	return started, stopped, nil
}
