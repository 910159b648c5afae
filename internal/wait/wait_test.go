package wait

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	// done at once: no tick waited for
	begin := time.Now()
	if err := Until(context.Background(), time.Hour, func() bool { return true }); err != nil || time.Since(begin) > time.Second {
		t.Fatalf("Until(done at once) = %v after %v", err, time.Since(begin))
	}
	// done on the third look
	n := 0
	if err := Until(context.Background(), time.Millisecond, func() bool { n++; return n == 3 }); err != nil || n != 3 {
		t.Fatalf("Until(third look) = %v after %d looks", err, n)
	}
	// never done: ctx's error, after at least one look
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	n = 0
	if err := Until(ctx, 5*time.Millisecond, func() bool { n++; return false }); !errors.Is(err, context.DeadlineExceeded) || n < 2 {
		t.Fatalf("Until(never) = %v after %d looks, want DeadlineExceeded after several", err, n)
	}
}
