package remote

import "context"

// Exists reports whether name is on the server, asking it directly rather
// than reading a listing, which may hide some names (dot files, on servers
// set up to hide them even from LIST -a): a directory with CWD, which
// every server has, a file with MLST, else SIZE. A permanent negative
// reply (550) means it is not there.
func (p *Pool) Exists(ctx context.Context, name string, dir bool) (bool, error) {
	if err := checkPath(name); err != nil {
		return false, err
	}
	found := false
	err := p.do(ctx, func(s *slot) error {
		var err error
		if dir {
			err = s.ctl.cwd(name)
		} else if s.ctl.caps.MLSD {
			_, err = s.ctl.mlst(name)
		} else {
			_, err = s.ctl.size(name)
		}
		switch {
		case err == nil:
			found = true
		case permanentReply(err):
			err = nil
		}
		return err
	})
	if err != nil {
		return false, opError("exists", name, err)
	}
	return found, nil
}
