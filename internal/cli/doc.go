// Package cli holds what the syncagent and syncserver commands share about
// their command lines: one table of commands from which every usage text is
// made (so all of them look alike and the README can be checked against
// them), and a flag set that takes flags before or after positional
// arguments and answers -h with the command's usage on stdout.
//
// It knows nothing of what the commands do.
package cli
