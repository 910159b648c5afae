package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

const manPage = "../../contrib/man/iscsistart.8"

// TestManPage: every option -h lists is documented in iscsistart(8), with
// its long form, and so is every exit code -h names.
func TestManPage(t *testing.T) {
	src, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	// roff spells a hyphen \- and a word break \&; the page's text is the
	// source without them.
	page := strings.NewReplacer(`\-`, "-", `\&`, "", `\fR`, "", `\fB`, "", `\fI`, "").Replace(string(src))
	help, _, code := runCLI(t, "-h")
	if code != 0 {
		t.Fatalf("-h exited %d", code)
	}
	flags := regexp.MustCompile(`(?m)^\s+(?:(-[a-zA-Z]), )?(--[a-z_-]+)`).FindAllStringSubmatch(help, -1)
	if len(flags) < 25 {
		t.Fatalf("found %d options in -h, want all of them:\n%s", len(flags), help)
	}
	for _, f := range flags {
		short, long := f[1], f[2]
		if short != "" && !regexp.MustCompile(`(?m)^\.BR `+regexp.QuoteMeta(short)+` ", " `+regexp.QuoteMeta(long)+`( |$)`).MatchString(page) {
			t.Errorf("iscsistart(8) has no .TP entry for %s, %s", short, long)
		}
		if short == "" && !regexp.MustCompile(`(?m)^\.BR? `+regexp.QuoteMeta(long)+`( |$)`).MatchString(page) {
			t.Errorf("iscsistart(8) has no .TP entry for %s", long)
		}
	}
	for _, c := range regexp.MustCompile(`(\d+): `).FindAllStringSubmatch(help, -1) {
		if !strings.Contains(page, ".B "+c[1]+"\n") {
			t.Errorf("iscsistart(8) does not document exit code %s", c[1])
		}
	}
}

// TestManPageRenders: groff (groff-base, scripts/deps.sh) formats the page
// with every warning on and says nothing.
func TestManPageRenders(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "groff", "-man", "-Tutf8", "-ww", "-z", manPage)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("groff -man -ww %s: %v\n%s", manPage, err, stderr.Bytes())
	}
}
