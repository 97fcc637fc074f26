// Package testproxy is a TCP proxy that sits between an FTP client and a
// real FTP server on 127.0.0.1 so that a test can make the network
// misbehave on demand: reset every connection, cut them once a number of
// bytes has passed, drop every byte (a server that stops answering without
// closing), or hold every byte for a while. It relays the control
// connection line by line, so a test can also rewrite or drop the server's
// replies, and it rewrites EPSV and PASV replies so that the data
// connections pass through it too.
//
// It owns no FTP logic beyond those two replies and knows nothing of the
// agent or the server. Only tests import it.
package testproxy
