// Package nstest runs a test binary inside its own network, mount and PID namespaces (and a user namespace
// when not run as root), so tests can start real daemons such as tgtd and QEMU's slirp on 127.0.0.1 without
// touching the host.
//
// A package opts in from TestMain:
//
//	func TestMain(m *testing.M) { nstest.Main(m) }
//
// Main re-executes the test binary with the same arguments in fresh namespaces, marked by an environment
// variable, and exits with its status. Inside, it makes every mount private, mounts a tmpfs on /run (tgtd's
// control socket path /var/run/tgtd/socket.N is compiled in), brings lo up, and then runs the tests. The
// re-executed binary is PID 1 of its namespace: when it exits, or its parent dies, the kernel kills every
// process the tests left behind.
//
// nstest never changes the host: no interface, route, mount or file outside the test's own directories.
package nstest
