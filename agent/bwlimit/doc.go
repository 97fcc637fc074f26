// Package bwlimit limits the bandwidth of a server's data connections:
// it parses the bwlimit setting (one rate, "up:down", or a timetable such
// as "08:00,1M 19:00,off", as rclone writes them) and shapes reads and
// writes with one token bucket per direction, shared by every connection
// wrapped by the same Limiter.
//
// It knows nothing of FTP; agent/remote calls Limiter.Wrap on each data
// connection it opens.
package bwlimit
