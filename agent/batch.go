package agent

import (
	"context"
	"os"

	"github.com/syncagent/syncagent/agent/plan"
	"github.com/syncagent/syncagent/agent/remote"
	"github.com/syncagent/syncagent/internal/crashpoint"
)

// batchMaxFiles caps the files sent in one batch (one SITE BATCH, or one
// run of STORs whose checks and renames go together, see
// remote.Pool.UploadBatch): enough to make the per-file cost small, few
// enough that a failed batch costs little and every connection of the
// pool gets a share.
const batchMaxFiles = 64

// batchable splits a run of transfers into chunks of small uploads to send
// with remote.Pool.UploadBatch and the rest, to run one by one. Chunks are sized so each connection of the pool gets
// one.
func (f *folder) batchable(ctx context.Context, acts []plan.Action, byPath map[string]plan.Item) (chunks [][]plan.Action, rest []plan.Action) {
	var small []plan.Action
	for _, a := range acts {
		if a.Kind == plan.Upload && byPath[a.Path].Local.Size <= remote.BatchMaxFile {
			small = append(small, a)
		} else {
			rest = append(rest, a)
		}
	}
	if len(small) == 0 {
		return nil, rest
	}
	if ok, err := f.rem.CanBatch(ctx); err != nil || !ok {
		return nil, acts
	}
	per := min(batchMaxFiles, (len(small)+f.workers-1)/f.workers)
	for len(small) > 0 {
		n := min(per, len(small))
		chunks = append(chunks, small[:n:n])
		small = small[n:]
	}
	return chunks, rest
}

// uploadChunk uploads a chunk of small files in one batch and records each
// outcome with record, as f.do and f.upload would one by one.
func (f *folder) uploadChunk(ctx context.Context, acts []plan.Action, byPath map[string]plan.Item,
	record func(plan.Action, error)) {
	type pending struct {
		a  plan.Action
		fi os.FileInfo
	}
	var todo []pending
	var files []remote.BatchFile
	for _, a := range acts {
		it := byPath[a.Path]
		if err := f.refused.refusedByPolicy(a, f.now(), f.cfg.Rescan.D()); err != nil {
			record(a, err)
			continue
		}
		lpath, fi, err := f.checkUpload(a.Path, it)
		if err != nil {
			record(a, err)
			continue
		}
		todo = append(todo, pending{a, fi})
		files = append(files, remote.BatchFile{Local: lpath, Remote: joinRemote(f.rroot, a.Path), Expect: f.expectSide(a.Path, it.Remote)})
	}
	if len(files) == 0 {
		return
	}
	crashpoint.Hit(crashpoint.UploadStart)
	var size int64
	for _, p := range todo {
		size += p.fi.Size()
	}
	_, untrack := f.track(todo[0].a.Path, "upload", size)
	// The batch's own error, if any, is also in the result of every file
	// it did not put in place.
	results, _ := f.rem.UploadBatch(ctx, files)
	untrack()
	for i, p := range todo {
		r := results[i]
		if remote.ReplyCode(r.Err) == 550 {
			// Most likely the directory is gone (another client renamed
			// or removed it since the listing): one Upload creates it.
			record(p.a, f.upload(ctx, p.a.Path, byPath[p.a.Path]))
			continue
		}
		if r.Err != nil {
			record(p.a, r.Err)
			continue
		}
		record(p.a, f.uploaded(p.a.Path, byPath[p.a.Path], p.fi, r.UploadResult))
	}
}
