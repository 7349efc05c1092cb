package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oca-sh/oca/internal/testsys/shelltest"
	"github.com/oca-sh/oca/projectfile"
)

// TestExportNeverWaitsOnAFIFO: while the project file is replaced, in a
// loop, by a link to a FIFO and back, no run of `oca export` waits for a
// writer: each ends within a bound, saying at most that the file is not a
// regular file. (Opening the file that Find had seen as regular hung about
// one run in ten in open(), and the prompt with it: fixed.)
func TestExportNeverWaitsOnAFIFO(t *testing.T) {
	t.Parallel()
	// What the hook runs: oca-export, beside oca (the same code as `oca
	// export`, hook/export, and quicker to start 100 times).
	oca := filepath.Join(filepath.Dir(shelltest.Oca(t)), "oca-export")
	home := t.TempDir()
	proj := filepath.Join(home, "proj")
	if err := os.Mkdir(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(home, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(proj, projectfile.Name)
	if err := os.WriteFile(file, []byte("account = \"work\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "PWD=" + proj, "OCA_AUTOSTART=0"}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			tmp := file + ".regular"
			if err := os.WriteFile(tmp, []byte("account = \"work\"\n"), 0o644); err == nil {
				os.Rename(tmp, file)
			}
			tmp = file + ".fifo"
			if err := os.Symlink(fifo, tmp); err == nil {
				os.Rename(tmp, file)
			}
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
	}()

	const runs, bound = 100, 10 * time.Second
	refused := 0
	for i := range runs {
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		cmd := exec.CommandContext(ctx, oca, "export", "bash")
		cmd.Dir, cmd.Env, cmd.WaitDelay = proj, env, time.Second
		out, err := cmd.CombinedOutput()
		cancel()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("run %d of oca export still ran after %v (waiting in open() on the FIFO?): %s", i, bound, out)
		}
		if err != nil {
			t.Fatalf("run %d: %v: %s", i, err, out)
		}
		if strings.Contains(string(out), "is a FIFO, not a regular file") || strings.Contains(string(out), "changed while oca read it") {
			refused++
		}
	}
	t.Logf("%d of %d runs met the FIFO", refused, runs)
	if refused == 0 {
		t.Fatal("no run met the FIFO: the race was not run")
	}
}
