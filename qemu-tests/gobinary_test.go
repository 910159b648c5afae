package qemutests

import (
	"context"
	"debug/elf"
	"testing"
	"time"
)

func TestGoBinaryStatic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := New(t)
	p := h.GoBinary(ctx, "./cmd/iscsistart")
	f, err := elf.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Fatalf("%s has an ELF interpreter; the guest image carries no libc for it", p)
		}
	}
	if libs, err := sharedLibs(ctx, p); err != nil || len(libs) != 0 {
		t.Errorf("sharedLibs(%s) = %v, %v; want none", p, libs, err)
	}
}
