package pid1

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// formatLine renders one console line: "iscsiboot: [  2.345] msg". uptime
// is the contents of /proc/uptime; the kernel's own clock, so the line lines
// up with the kernel's messages.
func formatLine(uptime, msg string) string {
	// One event, one line, even for joined errors.
	msg = strings.ReplaceAll(strings.TrimSpace(msg), "\n", "; ")
	f, _, _ := strings.Cut(strings.TrimSpace(uptime), " ")
	t, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return "iscsiboot: [      ?] " + msg + "\n"
	}
	return fmt.Sprintf("iscsiboot: [%7.3f] %s\n", t, msg)
}

// console prints the phase lines.
type console struct {
	w      io.Writer
	uptime func() string
}

func (c console) printf(format string, args ...any) {
	// A console that cannot be written to leaves nobody to tell.
	_, _ = io.WriteString(c.w, formatLine(c.uptime(), fmt.Sprintf(format, args...)))
}
