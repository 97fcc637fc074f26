// Package agent is the sync engine: it watches local folders, lists the
// remote side, plans what to do with each path and performs the transfers.
//
// Persistence of the last synced state lives in package syncstate; the pure
// planning function in agent/plan; FTP client plumbing in agent/remote.
package agent
