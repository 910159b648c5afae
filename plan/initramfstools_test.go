package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseInitramfsTools(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{
			name: "Debian README example",
			in: `ISCSI_INITIATOR="iqn.1993-08.org.debian:01:9b3e5634fdb9"
ISCSI_TARGET_NAME=iqn.2008-01.com.example:storage.foo
ISCSI_TARGET_IP=192.168.1.1
ISCSI_TARGET_PORT=3260
ISCSI_USERNAME="username"
ISCSI_PASSWORD="password"
ISCSI_IN_USERNAME="in_username"
ISCSI_IN_PASSWORD="in_password"
ISCSI_TARGET_GROUP=1
`,
			want: map[string]string{
				"ISCSI_INITIATOR": "iqn.1993-08.org.debian:01:9b3e5634fdb9", "ISCSI_TARGET_NAME": "iqn.2008-01.com.example:storage.foo",
				"ISCSI_TARGET_IP": "192.168.1.1", "ISCSI_TARGET_PORT": "3260", "ISCSI_USERNAME": "username", "ISCSI_PASSWORD": "password",
				"ISCSI_IN_USERNAME": "in_username", "ISCSI_IN_PASSWORD": "in_password", "ISCSI_TARGET_GROUP": "1",
			},
		},
		{
			name: "comments, export, quotes, escapes, last wins",
			in: "# boot from the SAN\n\n  export ISCSI_AUTO=true # firmware\n" +
				"ISCSI_TARGET_IP='192.168.1.1 192.168.2.1'\n" +
				`ISCSI_PASSWORD="p\"a\\s\$s w'd"` + "\n" +
				`ISCSI_USERNAME=us\ er` + "\n" +
				`ISCSI_TARGET_NAME=a'b c'"d"` + "\n" +
				"ISCSI_TARGET_PORT=1\r\nISCSI_TARGET_PORT=3261\n" +
				"ISCSI_ROOT_LUN=\n" +
				"exporter=1\n",
			want: map[string]string{
				"ISCSI_AUTO": "true", "ISCSI_TARGET_IP": "192.168.1.1 192.168.2.1", "ISCSI_PASSWORD": `p"a\s$s w'd`,
				"ISCSI_USERNAME": "us er", "ISCSI_TARGET_NAME": "ab cd", "ISCSI_TARGET_PORT": "3261", "ISCSI_ROOT_LUN": "", "exporter": "1",
			},
		},
		{name: "empty file", in: "", want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInitramfsTools(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseInitramfsToolsErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		err  error
	}{
		{"command", "ISCSI_AUTO=true\n. /etc/other.conf\n", 2, errSyntax},
		{"variable", "ISCSI_TARGET_IP=$IP\n", 1, errShellExpansion},
		{"variable in double quotes", `ISCSI_TARGET_IP="${IP}"`, 1, errShellExpansion},
		{"command substitution", "ISCSI_INITIATOR=`iscsi-iname`\n", 1, errShellExpansion},
		{"unterminated double quote", "\n\nISCSI_PASSWORD=\"abc\n", 3, errQuote},
		{"unterminated single quote", "ISCSI_PASSWORD='abc\n", 1, errQuote},
		{"two words", "ISCSI_TARGET_IP=1.2.3.4 5.6.7.8\n", 1, errSyntax},
		{"command after assignment", "ISCSI_AUTO=true; reboot\n", 1, errSyntax},
		{"continuation", "ISCSI_TARGET_IP=1.2.3.4\\\n", 1, errSyntax},
		{"bad name", "1SCSI=1\n", 1, errSyntax},
		{"spaces around =", "ISCSI_AUTO = true\n", 1, errSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseInitramfsTools(strings.NewReader(tt.in))
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Line != tt.line || !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v on line %d", err, tt.err, tt.line)
			}
			if strings.Contains(err.Error(), "abc") {
				t.Errorf("error %q shows the value", err)
			}
		})
	}
}

// TestInitramfsToolsPlan runs a file through to the plan, with the command
// line overriding it, as Debian's local-top/iscsi does.
func TestInitramfsToolsPlan(t *testing.T) {
	vars, err := ParseInitramfsTools(strings.NewReader(`ISCSI_INITIATOR=iqn.1993-08.org.debian:01:file
ISCSI_TARGET_NAME=iqn.2008-01.com.example:storage.foo
ISCSI_TARGET_IP="192.168.1.1 192.168.2.1"
ISCSI_USERNAME=alice
ISCSI_PASSWORD='alicepass12'
`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromCmdline("root=/dev/sda1 iscsi_initiator=iqn.1993-08.org.debian:01:cmdline ip=dhcp", WithEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	want := plan(Plan{
		Initiator: "iqn.1993-08.org.debian:01:cmdline",
		Targets: []Target{{Name: "iqn.2008-01.com.example:storage.foo", TPGT: 1, Source: SourceConfig, Auth: chap("alice", "alicepass12"),
			Portals: []Portal{{Address: "192.168.1.1", Port: 3260}, {Address: "192.168.2.1", Port: 3260}}}},
		Interfaces: []Interface{{Method: MethodDHCP}},
	})
	if diff := cmp.Diff(want, got, cmpNetip); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
