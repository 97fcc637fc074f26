package remote

import (
	"errors"
	"fmt"
	"time"
)

// DefaultPipelineCheck is Pool.PipelineCheck when zero.
const DefaultPipelineCheck = 2 * time.Second

// errNoPipelining: the server did not answer the second of two commands
// sent in one write (see checkPipelining).
var errNoPipelining = errors.New("server does not take pipelined commands")

// pipeState is what a pool knows of its server and pipelined commands.
type pipeState int32

const (
	pipeUnknown pipeState = iota // not checked yet: the next login checks
	pipeYes                      // a login's check passed: later logins skip it
	pipeNo                       // a check failed: send one command at a time
)

// checkPipelining sends two NOOPs in one write, as the session will send
// the commands of an upload, reads the first reply as any other, then
// waits up to wait for the second, which a server that reads its control
// connection as a stream (RFC 959 lets a client send before the previous
// reply) sends right after. A server that reads one command per receive
// and drops the rest never answers it, and the session fails with
// errNoPipelining (it is out of step: the pool logs in again, without
// pipelining).
func (s *ctrlSession) checkPipelining(w *watchedConn, wait time.Duration) error {
	noop := pipelined{"NOOP", codeCommandOK}
	if err := s.write([]pipelined{noop, noop}); err != nil {
		return err
	}
	if _, _, err := s.tp.ReadResponse(codeCommandOK); err != nil {
		return err
	}
	old := w.timeout
	w.timeout = min(wait, old)
	defer func() { w.timeout = old }()
	_, _, err := s.tp.ReadResponse(codeCommandOK)
	if err != nil && isNetError(err) {
		return fmt.Errorf("%w: no reply to the second of two NOOPs (%w)", errNoPipelining, err)
	}
	return err
}
