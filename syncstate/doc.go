// Package syncstate is the agent's bbolt database: for each folder and path,
// what was last synced on both sides. It is the merge base of two-way sync
// and the memory that lets a killed agent resume without forgetting changes.
package syncstate
