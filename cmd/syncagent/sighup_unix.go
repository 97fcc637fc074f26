//go:build unix

package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// onSIGHUP calls fn for each SIGHUP until ctx ends or the returned
// function is called.
func onSIGHUP(ctx context.Context, fn func()) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				fn()
			}
		}
	}()
	return func() { signal.Stop(hup); cancel(); <-done }
}
