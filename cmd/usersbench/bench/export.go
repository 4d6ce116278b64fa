package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/neonauth-admin/dashboard/db"
)

// exportCases times Export of the whole table against psql's \copy of the
// same statement to /dev/null.
func (s *suite) exportCases() []*Case {
	// psql's own start-up and connection, which its timings include.
	cases := []*Case{{Name: "psql \\copy of no rows (start-up baseline)", Runs: 5,
		Bare: func(ctx context.Context) error {
			return psqlCopy(ctx, s.d.url, "SELECT 1 WHERE false", db.ExportOptions(db.ExportCSV))
		}}}
	for _, f := range []db.ExportFormat{db.ExportCSV, db.ExportJSONLines} {
		q, err := s.b.ExportQuery(db.Filter{}, f)
		cases = append(cases, &Case{
			Name: fmt.Sprintf("export %s, all %d rows (vs psql \\copy)", f, s.d.rows), Target: ratioTarget(1.5), Runs: 5,
			Ours: func(ctx context.Context) error {
				n, err := s.b.Export(ctx, io.Discard, db.Filter{}, f)
				if err == nil && n != int64(s.d.rows) {
					err = fmt.Errorf("exported %d rows, want %d", n, s.d.rows)
				}
				return err
			},
			Bare: func(ctx context.Context) error {
				if err != nil {
					return err
				}
				return psqlCopy(ctx, s.d.url, q, db.ExportOptions(f))
			},
		})
	}
	return cases
}

// psqlCopy runs psql's client-side \copy of query to /dev/null. \copy takes
// the rest of its line, so the query is put on one line (its literals hold
// no line breaks here).
func psqlCopy(ctx context.Context, url, query, opts string) error {
	line := `\copy (` + strings.ReplaceAll(query, "\n", " ") + `) to '/dev/null' with (` + opts + `)`
	out, err := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", line).CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql: %w: %s", err, out)
	}
	return nil
}

// The export child: a process that only exports, so that its peak resident
// memory is the export's.
const (
	childFormatEnv = "USERSBENCH_EXPORT_FORMAT"
	childURLEnv    = "USERSBENCH_EXPORT_URL"
)

// RunExportChild exports the users of the database named by the
// environment to io.Discard and exits, when this process was started as an
// export child by the benchmark; otherwise it returns at once. Call it first
// thing in main (and TestMain).
func RunExportChild() {
	format := os.Getenv(childFormatEnv)
	if format == "" {
		return
	}
	n, err := exportOnce(context.Background(), os.Getenv(childURLEnv), db.ExportFormat(format))
	if err != nil {
		fmt.Fprintln(os.Stderr, "export child:", err)
		os.Exit(1)
	}
	fmt.Println(n)
	os.Exit(0)
}

func exportOnce(ctx context.Context, url string, format db.ExportFormat) (int64, error) {
	pools := db.NewPools(db.PoolOptions{})
	defer pools.Close()
	b, err := pools.Browser(ctx, url, nil)
	if err != nil {
		return 0, err
	}
	return b.Export(ctx, io.Discard, db.Filter{}, format)
}

// exportRSS runs an export child and returns its row count, peak resident
// memory in bytes and wall time.
func exportRSS(ctx context.Context, url string, format db.ExportFormat) (int64, int64, time.Duration, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, 0, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), childFormatEnv+"="+string(format), childURLEnv+"="+url)
	start := time.Now()
	out, err := cmd.Output()
	wall := time.Since(start)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("export child: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("export child printed %q", out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return n, 0, wall, fmt.Errorf("no rusage on this platform")
	}
	return n, ru.Maxrss * 1024, wall, nil // Linux reports kilobytes
}
