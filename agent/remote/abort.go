package remote

import "context"

// dropTemp deletes the temporary of an upload to remote that the end of
// ctx interrupted (the agent is stopping): the resume state that would let
// a later call continue it lives in this process only, so left behind it
// would sit on the server as debris until some pass finds it stale.
func (p *Pool) dropTemp(ctx context.Context, remote string) {
	p.resumeMu.Lock()
	rs, ok := p.resumes[remote]
	delete(p.resumes, remote)
	p.resumeMu.Unlock()
	if ok {
		p.dropTemps(ctx, []string{rs.temp})
	}
}

// dropTemps deletes temporaries that uploads interrupted by the end of ctx
// left (one already renamed into place or deleted is not there: its 550 is
// no failure). ctx being over, the deletes get a context of their own,
// bounded by OpTimeout for the connection and the commands. Best effort:
// what it cannot remove, a later pass does.
func (p *Pool) dropTemps(ctx context.Context, temps []string) {
	if len(temps) == 0 {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.OpTimeout)
	defer cancel()
	removed := 0
	err := p.do(dctx, func(s *slot) error {
		for _, temp := range temps {
			err := s.ctl.dele(temp)
			switch {
			case err == nil:
				removed++
			case ReplyCode(err) != 550:
				return err
			}
		}
		return nil
	})
	if err != nil {
		p.log.Warn("cannot remove the temporaries of interrupted uploads", "count", len(temps), "err", err)
	} else if removed > 0 {
		p.log.Info("removed the temporaries of interrupted uploads", "count", removed)
	}
}
