package remote

import "context"

// dropTemp deletes the temporary of an upload to remote that the end of
// ctx interrupted (the agent is stopping): the resume state that would let
// a later call continue it lives in this process only, so left behind it
// would sit on the server as debris until some pass finds it stale. ctx
// being over, the delete gets a context of its own, bounded by OpTimeout
// for the connection and the command. Best effort: what it cannot remove,
// a later pass does.
func (p *Pool) dropTemp(ctx context.Context, remote string) {
	p.resumeMu.Lock()
	rs, ok := p.resumes[remote]
	delete(p.resumes, remote)
	p.resumeMu.Unlock()
	if !ok {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.OpTimeout)
	defer cancel()
	err := p.do(dctx, func(s *slot) error { return s.ctl.dele(rs.temp) })
	switch {
	case err == nil:
		p.log.Info("removed the temporary of an interrupted upload", "path", remote, "temp", rs.temp)
	case ReplyCode(err) != 550:
		p.log.Warn("cannot remove the temporary of an interrupted upload", "path", remote, "temp", rs.temp, "err", err)
	}
}
