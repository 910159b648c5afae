package kernel

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The numbers are ABI: each is the position in its enum of
// include/iscsi_if.h, counted by hand.
func TestParamNumbers(t *testing.T) {
	type entry struct {
		N      uint32
		Name   string
		Sysfs  string
		Secret bool
	}
	tests := []struct {
		p    Param
		want entry
	}{
		{ParamMaxRecvDLength, entry{0, "ISCSI_PARAM_MAX_RECV_DLENGTH", "max_recv_dlength", false}},
		{ParamTargetName, entry{15, "ISCSI_PARAM_TARGET_NAME", "targetname", false}},
		{ParamPersistentAddress, entry{17, "ISCSI_PARAM_PERSISTENT_ADDRESS", "persistent_address", false}},
		{ParamPersistentPort, entry{18, "ISCSI_PARAM_PERSISTENT_PORT", "persistent_port", false}},
		{ParamUsername, entry{22, "ISCSI_PARAM_USERNAME", "username", false}},
		{ParamUsernameIn, entry{23, "ISCSI_PARAM_USERNAME_IN", "username_in", false}},
		{ParamPassword, entry{24, "ISCSI_PARAM_PASSWORD", "password", true}},
		{ParamPasswordIn, entry{25, "ISCSI_PARAM_PASSWORD_IN", "password_in", true}},
		{ParamHostResetTmo, entry{29, "ISCSI_PARAM_HOST_RESET_TMO", "", false}},
		{ParamISID, entry{33, "ISCSI_PARAM_ISID", "isid", false}},
		{ParamInitiatorName, entry{34, "ISCSI_PARAM_INITIATOR_NAME", "initiatorname", false}},
		{ParamBootRoot, entry{39, "ISCSI_PARAM_BOOT_ROOT", "boot_root", false}},
		{ParamDefTime2Wait, entry{49, "ISCSI_PARAM_DEF_TIME2WAIT", "def_time2wait", false}},
		{ParamLocalIPAddr, entry{71, "ISCSI_PARAM_LOCAL_IPADDR", "local_ipaddr", false}},
		{72, entry{72, "ISCSI_PARAM_72", "", false}}, // ISCSI_PARAM_MAX
	}
	for _, tt := range tests {
		got := entry{uint32(tt.p), tt.p.String(), tt.p.SysfsName(), tt.p.Secret()}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.want.Name, diff)
		}
	}
}

func TestHostParamNumbers(t *testing.T) {
	got := [][3]string{}
	for _, p := range []HostParam{HostParamHWAddress, HostParamInitiatorName, HostParamNetdevName,
		HostParamIPAddress, HostParamPortState, HostParamPortSpeed, 6} {
		got = append(got, [3]string{strconv.Itoa(int(p)), p.String(), p.SysfsName()})
	}
	want := [][3]string{
		{"0", "ISCSI_HOST_PARAM_HWADDRESS", "hwaddress"},
		{"1", "ISCSI_HOST_PARAM_INITIATOR_NAME", "initiatorname"},
		{"2", "ISCSI_HOST_PARAM_NETDEV_NAME", "netdev"},
		{"3", "ISCSI_HOST_PARAM_IPADDRESS", "ipaddress"},
		{"4", "ISCSI_HOST_PARAM_PORT_STATE", "port_state"},
		{"5", "ISCSI_HOST_PARAM_PORT_SPEED", "port_speed"},
		{"6", "ISCSI_HOST_PARAM_6", ""}, // ISCSI_HOST_PARAM_MAX
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("host params (-want +got):\n%s", diff)
	}
}

func TestEnumNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{ErrOK.String(), "ISCSI_OK"},
		{ErrCode(1001).String(), "ISCSI_ERR_DATASN"}, // ISCSI_ERR_BASE + 1
		{ErrCode(1011).String(), "ISCSI_ERR_CONN_FAILED"},
		{ErrCode(1020).String(), "ISCSI_ERR_TCP_CONN_CLOSE"},
		{ErrCode(1022).String(), "ISCSI_ERR_NOP_TIMEDOUT"},
		{ErrCode(1023).String(), "ISCSI_ERR_1023"},
		{ConnState(0).String(), "ISCSI_CONN_STATE_FREE"},
		{ConnState(3).String(), "ISCSI_CONN_STATE_LOGGED_IN"},
		{ConnState(6).String(), "ISCSI_CONN_STATE_CLEANUP_WAIT"},
		{ConnState(7).String(), "ISCSI_CONN_STATE_7"},
		{StopFlag(1).String(), "STOP_CONN_TERM"}, // 0x1
		{StopFlag(2).String(), "STOP_CONN_SUSPEND"},
		{StopFlag(3).String(), "STOP_CONN_RECOVER"},
		{StopFlag(0).String(), "STOP_CONN_0"},
		// Above MaxInt32: int(x) is negative on 32-bit machines.
		{ConnState(0xff300000).String(), "ISCSI_CONN_STATE_4281335808"},
		{Param(1 << 31).String(), "ISCSI_PARAM_2147483648"},
		{Param(1 << 31).SysfsName(), ""},
		{strconv.FormatBool(Param(1 << 31).Secret()), "false"},
		{HostParam(1 << 31).String(), "ISCSI_HOST_PARAM_2147483648"},
		{HostParam(1 << 31).SysfsName(), ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
