// Package configs holds the example configuration files shipped with
// syncagent and syncserver (server.yaml, agent.yaml). It has no code; its
// test loads each example through the real LoadConfig so that an example
// can never drift from what the programs accept.
package configs
