package main

import (
	"context"
	"errors"
	"io"
)

func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("sandbox: not built yet")
}
