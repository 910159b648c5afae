package boot

import "time"

// MultipathGrace is how long the other paths of a multipath boot may go
// on trying once its targets are up (RunOptions.Grace), instead of the
// 250 ms to 2 s a single-path boot gives a dead second portal: a path
// given up here has no session for iscsid or multipathd to adopt, and
// nothing logs it in later, while an IPv6 portal waits a second or two
// for its address's duplicate address detection.
const MultipathGrace = 5 * time.Second
