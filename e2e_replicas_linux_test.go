package main

import (
	"os/exec"
	"syscall"
)

// endWithTest has the kernel send cmd SIGTERM should the test binary die
// without its cleanups (a -timeout panic), so no replica or sandbox
// outlives it; SIGTERM lets the sandbox drop its databases.
func endWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
