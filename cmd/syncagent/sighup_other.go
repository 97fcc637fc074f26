//go:build !unix

package main

import "context"

// onSIGHUP does nothing where there is no SIGHUP (Windows).
func onSIGHUP(context.Context, func()) (stop func()) { return func() {} }
