package kernel

import "strconv"

// Param is an iSCSI session or connection parameter id, the kernel's enum
// iscsi_param (include/scsi/iscsi_if.h), carried in SET_PARAM.
type Param uint32

// The ids of enum iscsi_param, in the kernel's order (include/scsi/iscsi_if.h).
// The numbering is ABI: never reorder.
const (
	ParamMaxRecvDLength Param = iota
	ParamMaxXmitDLength
	ParamHdrDgstEn
	ParamDataDgstEn
	ParamInitialR2TEn
	ParamMaxR2T
	ParamImmDataEn
	ParamFirstBurst
	ParamMaxBurst
	ParamPDUInOrderEn
	ParamDataSeqInOrderEn
	ParamERL
	ParamIFMarkerEn
	ParamOFMarkerEn
	ParamExpStatSN
	ParamTargetName
	ParamTPGT
	ParamPersistentAddress
	ParamPersistentPort
	ParamSessRecoveryTmo
	ParamConnPort
	ParamConnAddress
	ParamUsername
	ParamUsernameIn
	ParamPassword
	ParamPasswordIn
	ParamFastAbort
	ParamAbortTmo
	ParamLUResetTmo
	ParamHostResetTmo
	ParamPingTmo
	ParamRecvTmo
	ParamIfaceName
	ParamISID
	ParamInitiatorName
	ParamTgtResetTmo
	ParamTargetAlias
	ParamChapInIdx
	ParamChapOutIdx
	ParamBootRoot
	ParamBootNIC
	ParamBootTarget
	ParamAutoSndTgtDisable
	ParamDiscoverySess
	ParamPortalType
	ParamChapAuthEn
	ParamDiscoveryLogoutEn
	ParamBidiChapEn
	ParamDiscoveryAuthOptional
	ParamDefTime2Wait
	ParamDefTime2Retain
	ParamMaxSegmentSize
	ParamStatSN
	ParamKeepaliveTmo
	ParamLocalPort
	ParamTSID
	ParamDefTaskmgmtTmo
	ParamTCPTimestampStat
	ParamTCPWSFDisable
	ParamTCPNagleDisable
	ParamTCPTimerScale
	ParamTCPTimestampEn
	ParamTCPXmitWSF
	ParamTCPRecvWSF
	ParamIPFragmentDisable
	ParamIPv4TOS
	ParamIPv6TC
	ParamIPv6FlowLabel
	ParamIsFWAssignedIPv6
	ParamDiscoveryParentIdx
	ParamDiscoveryParentType
	ParamLocalIPAddr
)

// paramInfo is what we know of one iscsi_param: its C name and the sysfs
// attribute through which the kernel shows it (in iscsi_session/ or
// iscsi_connection/, drivers/scsi/scsi_transport_iscsi.c). The sysfs name is
// the one open-iscsi reads back when iscsid adopts a session (usr/iscsi_sysfs.c).
type paramInfo struct {
	c      string
	sysfs  string
	secret bool
}

var params = [...]paramInfo{
	ParamMaxRecvDLength:        {"ISCSI_PARAM_MAX_RECV_DLENGTH", "max_recv_dlength", false},
	ParamMaxXmitDLength:        {"ISCSI_PARAM_MAX_XMIT_DLENGTH", "max_xmit_dlength", false},
	ParamHdrDgstEn:             {"ISCSI_PARAM_HDRDGST_EN", "header_digest", false},
	ParamDataDgstEn:            {"ISCSI_PARAM_DATADGST_EN", "data_digest", false},
	ParamInitialR2TEn:          {"ISCSI_PARAM_INITIAL_R2T_EN", "initial_r2t", false},
	ParamMaxR2T:                {"ISCSI_PARAM_MAX_R2T", "max_outstanding_r2t", false},
	ParamImmDataEn:             {"ISCSI_PARAM_IMM_DATA_EN", "immediate_data", false},
	ParamFirstBurst:            {"ISCSI_PARAM_FIRST_BURST", "first_burst_len", false},
	ParamMaxBurst:              {"ISCSI_PARAM_MAX_BURST", "max_burst_len", false},
	ParamPDUInOrderEn:          {"ISCSI_PARAM_PDU_INORDER_EN", "data_pdu_in_order", false},
	ParamDataSeqInOrderEn:      {"ISCSI_PARAM_DATASEQ_INORDER_EN", "data_seq_in_order", false},
	ParamERL:                   {"ISCSI_PARAM_ERL", "erl", false},
	ParamIFMarkerEn:            {"ISCSI_PARAM_IFMARKER_EN", "ifmarker", false},
	ParamOFMarkerEn:            {"ISCSI_PARAM_OFMARKER_EN", "ofmarker", false},
	ParamExpStatSN:             {"ISCSI_PARAM_EXP_STATSN", "exp_statsn", false},
	ParamTargetName:            {"ISCSI_PARAM_TARGET_NAME", "targetname", false},
	ParamTPGT:                  {"ISCSI_PARAM_TPGT", "tpgt", false},
	ParamPersistentAddress:     {"ISCSI_PARAM_PERSISTENT_ADDRESS", "persistent_address", false},
	ParamPersistentPort:        {"ISCSI_PARAM_PERSISTENT_PORT", "persistent_port", false},
	ParamSessRecoveryTmo:       {"ISCSI_PARAM_SESS_RECOVERY_TMO", "recovery_tmo", false},
	ParamConnPort:              {"ISCSI_PARAM_CONN_PORT", "port", false},
	ParamConnAddress:           {"ISCSI_PARAM_CONN_ADDRESS", "address", false},
	ParamUsername:              {"ISCSI_PARAM_USERNAME", "username", false},
	ParamUsernameIn:            {"ISCSI_PARAM_USERNAME_IN", "username_in", false},
	ParamPassword:              {"ISCSI_PARAM_PASSWORD", "password", true},
	ParamPasswordIn:            {"ISCSI_PARAM_PASSWORD_IN", "password_in", true},
	ParamFastAbort:             {"ISCSI_PARAM_FAST_ABORT", "fast_abort", false},
	ParamAbortTmo:              {"ISCSI_PARAM_ABORT_TMO", "abort_tmo", false},
	ParamLUResetTmo:            {"ISCSI_PARAM_LU_RESET_TMO", "lu_reset_tmo", false},
	ParamHostResetTmo:          {"ISCSI_PARAM_HOST_RESET_TMO", "", false},
	ParamPingTmo:               {"ISCSI_PARAM_PING_TMO", "ping_tmo", false},
	ParamRecvTmo:               {"ISCSI_PARAM_RECV_TMO", "recv_tmo", false},
	ParamIfaceName:             {"ISCSI_PARAM_IFACE_NAME", "ifacename", false},
	ParamISID:                  {"ISCSI_PARAM_ISID", "isid", false},
	ParamInitiatorName:         {"ISCSI_PARAM_INITIATOR_NAME", "initiatorname", false},
	ParamTgtResetTmo:           {"ISCSI_PARAM_TGT_RESET_TMO", "tgt_reset_tmo", false},
	ParamTargetAlias:           {"ISCSI_PARAM_TARGET_ALIAS", "targetalias", false},
	ParamChapInIdx:             {"ISCSI_PARAM_CHAP_IN_IDX", "chap_in_idx", false},
	ParamChapOutIdx:            {"ISCSI_PARAM_CHAP_OUT_IDX", "chap_out_idx", false},
	ParamBootRoot:              {"ISCSI_PARAM_BOOT_ROOT", "boot_root", false},
	ParamBootNIC:               {"ISCSI_PARAM_BOOT_NIC", "boot_nic", false},
	ParamBootTarget:            {"ISCSI_PARAM_BOOT_TARGET", "boot_target", false},
	ParamAutoSndTgtDisable:     {"ISCSI_PARAM_AUTO_SND_TGT_DISABLE", "auto_snd_tgt_disable", false},
	ParamDiscoverySess:         {"ISCSI_PARAM_DISCOVERY_SESS", "discovery_session", false},
	ParamPortalType:            {"ISCSI_PARAM_PORTAL_TYPE", "portal_type", false},
	ParamChapAuthEn:            {"ISCSI_PARAM_CHAP_AUTH_EN", "chap_auth", false},
	ParamDiscoveryLogoutEn:     {"ISCSI_PARAM_DISCOVERY_LOGOUT_EN", "discovery_logout", false},
	ParamBidiChapEn:            {"ISCSI_PARAM_BIDI_CHAP_EN", "bidi_chap", false},
	ParamDiscoveryAuthOptional: {"ISCSI_PARAM_DISCOVERY_AUTH_OPTIONAL", "discovery_auth_optional", false},
	ParamDefTime2Wait:          {"ISCSI_PARAM_DEF_TIME2WAIT", "def_time2wait", false},
	ParamDefTime2Retain:        {"ISCSI_PARAM_DEF_TIME2RETAIN", "def_time2retain", false},
	ParamMaxSegmentSize:        {"ISCSI_PARAM_MAX_SEGMENT_SIZE", "max_segment_size", false},
	ParamStatSN:                {"ISCSI_PARAM_STATSN", "statsn", false},
	ParamKeepaliveTmo:          {"ISCSI_PARAM_KEEPALIVE_TMO", "keepalive_tmo", false},
	ParamLocalPort:             {"ISCSI_PARAM_LOCAL_PORT", "local_port", false},
	ParamTSID:                  {"ISCSI_PARAM_TSID", "tsid", false},
	ParamDefTaskmgmtTmo:        {"ISCSI_PARAM_DEF_TASKMGMT_TMO", "def_taskmgmt_tmo", false},
	ParamTCPTimestampStat:      {"ISCSI_PARAM_TCP_TIMESTAMP_STAT", "tcp_timestamp_stat", false},
	ParamTCPWSFDisable:         {"ISCSI_PARAM_TCP_WSF_DISABLE", "tcp_wsf_disable", false},
	ParamTCPNagleDisable:       {"ISCSI_PARAM_TCP_NAGLE_DISABLE", "tcp_nagle_disable", false},
	ParamTCPTimerScale:         {"ISCSI_PARAM_TCP_TIMER_SCALE", "tcp_timer_scale", false},
	ParamTCPTimestampEn:        {"ISCSI_PARAM_TCP_TIMESTAMP_EN", "tcp_timestamp_enable", false},
	ParamTCPXmitWSF:            {"ISCSI_PARAM_TCP_XMIT_WSF", "tcp_xmit_wsf", false},
	ParamTCPRecvWSF:            {"ISCSI_PARAM_TCP_RECV_WSF", "tcp_recv_wsf", false},
	ParamIPFragmentDisable:     {"ISCSI_PARAM_IP_FRAGMENT_DISABLE", "fragment_disable", false},
	ParamIPv4TOS:               {"ISCSI_PARAM_IPV4_TOS", "ipv4_tos", false},
	ParamIPv6TC:                {"ISCSI_PARAM_IPV6_TC", "ipv6_traffic_class", false},
	ParamIPv6FlowLabel:         {"ISCSI_PARAM_IPV6_FLOW_LABEL", "ipv6_flow_label", false},
	ParamIsFWAssignedIPv6:      {"ISCSI_PARAM_IS_FW_ASSIGNED_IPV6", "is_fw_assigned_ipv6", false},
	ParamDiscoveryParentIdx:    {"ISCSI_PARAM_DISCOVERY_PARENT_IDX", "discovery_parent_idx", false},
	ParamDiscoveryParentType:   {"ISCSI_PARAM_DISCOVERY_PARENT_TYPE", "discovery_parent_type", false},
	ParamLocalIPAddr:           {"ISCSI_PARAM_LOCAL_IPADDR", "local_ipaddr", false},
}

// String returns the kernel's name, e.g. "ISCSI_PARAM_TARGET_NAME".
func (p Param) String() string {
	if p < Param(len(params)) {
		return params[p].c
	}
	return "ISCSI_PARAM_" + strconv.FormatUint(uint64(p), 10)
}

// SysfsName returns the attribute under /sys/class/iscsi_session/session<N>/
// or /sys/class/iscsi_connection/connection<N>:<M>/ that shows p, the name
// open-iscsi reads ("targetname", "persistent_address"), or "" if the kernel
// shows none.
func (p Param) SysfsName() string {
	if p < Param(len(params)) {
		return params[p].sysfs
	}
	return ""
}

// Secret reports whether values of p are CHAP secrets, which this package
// never puts in an error or a String.
func (p Param) Secret() bool {
	return p < Param(len(params)) && params[p].secret
}

// HostParam is an iSCSI host parameter id, the kernel's enum iscsi_host_param
// (include/scsi/iscsi_if.h), carried in SET_HOST_PARAM.
type HostParam uint32

// The ids of enum iscsi_host_param (include/scsi/iscsi_if.h).
const (
	HostParamHWAddress HostParam = iota
	HostParamInitiatorName
	HostParamNetdevName
	HostParamIPAddress
	HostParamPortState
	HostParamPortSpeed
)

// hostParams are the C names and the iscsi_host sysfs attributes
// (drivers/scsi/scsi_transport_iscsi.c, iscsi_host_attrs).
var hostParams = [...][2]string{
	HostParamHWAddress:     {"ISCSI_HOST_PARAM_HWADDRESS", "hwaddress"},
	HostParamInitiatorName: {"ISCSI_HOST_PARAM_INITIATOR_NAME", "initiatorname"},
	HostParamNetdevName:    {"ISCSI_HOST_PARAM_NETDEV_NAME", "netdev"},
	HostParamIPAddress:     {"ISCSI_HOST_PARAM_IPADDRESS", "ipaddress"},
	HostParamPortState:     {"ISCSI_HOST_PARAM_PORT_STATE", "port_state"},
	HostParamPortSpeed:     {"ISCSI_HOST_PARAM_PORT_SPEED", "port_speed"},
}

// String returns the kernel's name, e.g. "ISCSI_HOST_PARAM_NETDEV_NAME".
func (p HostParam) String() string {
	if p < HostParam(len(hostParams)) {
		return hostParams[p][0]
	}
	return "ISCSI_HOST_PARAM_" + strconv.FormatUint(uint64(p), 10)
}

// SysfsName returns the attribute under /sys/class/iscsi_host/host<N>/ that
// shows p ("netdev", "hwaddress").
func (p HostParam) SysfsName() string {
	if p < HostParam(len(hostParams)) {
		return hostParams[p][1]
	}
	return ""
}

// ErrCode is the kernel's enum iscsi_err (include/scsi/iscsi_if.h), the reason
// carried by ISCSI_KEVENT_CONN_ERROR.
type ErrCode uint32

// The values of enum iscsi_err: ISCSI_ERR_BASE (1000) plus an offset.
const (
	ErrOK               ErrCode = 0
	ErrDataSN           ErrCode = 1001
	ErrDataOffset       ErrCode = 1002
	ErrMaxCmdSN         ErrCode = 1003
	ErrExpCmdSN         ErrCode = 1004
	ErrBadOpcode        ErrCode = 1005
	ErrDataLen          ErrCode = 1006
	ErrAHSLen           ErrCode = 1007
	ErrProto            ErrCode = 1008
	ErrLUN              ErrCode = 1009
	ErrBadITT           ErrCode = 1010
	ErrConnFailed       ErrCode = 1011
	ErrR2TSN            ErrCode = 1012
	ErrSessionFailed    ErrCode = 1013
	ErrHdrDgst          ErrCode = 1014
	ErrDataDgst         ErrCode = 1015
	ErrParamNotFound    ErrCode = 1016
	ErrNoSCSICmd        ErrCode = 1017
	ErrInvalidHost      ErrCode = 1018
	ErrXmitFailed       ErrCode = 1019
	ErrTCPConnClose     ErrCode = 1020
	ErrSCSIEHSessionRst ErrCode = 1021
	ErrNopTimedOut      ErrCode = 1022
)

// errCodeNames is an array for the reason eventNames is.
var errCodeNames = [...]struct {
	e    ErrCode
	name string
}{
	{ErrOK, "ISCSI_OK"},
	{ErrDataSN, "ISCSI_ERR_DATASN"},
	{ErrDataOffset, "ISCSI_ERR_DATA_OFFSET"},
	{ErrMaxCmdSN, "ISCSI_ERR_MAX_CMDSN"},
	{ErrExpCmdSN, "ISCSI_ERR_EXP_CMDSN"},
	{ErrBadOpcode, "ISCSI_ERR_BAD_OPCODE"},
	{ErrDataLen, "ISCSI_ERR_DATALEN"},
	{ErrAHSLen, "ISCSI_ERR_AHSLEN"},
	{ErrProto, "ISCSI_ERR_PROTO"},
	{ErrLUN, "ISCSI_ERR_LUN"},
	{ErrBadITT, "ISCSI_ERR_BAD_ITT"},
	{ErrConnFailed, "ISCSI_ERR_CONN_FAILED"},
	{ErrR2TSN, "ISCSI_ERR_R2TSN"},
	{ErrSessionFailed, "ISCSI_ERR_SESSION_FAILED"},
	{ErrHdrDgst, "ISCSI_ERR_HDR_DGST"},
	{ErrDataDgst, "ISCSI_ERR_DATA_DGST"},
	{ErrParamNotFound, "ISCSI_ERR_PARAM_NOT_FOUND"},
	{ErrNoSCSICmd, "ISCSI_ERR_NO_SCSI_CMD"},
	{ErrInvalidHost, "ISCSI_ERR_INVALID_HOST"},
	{ErrXmitFailed, "ISCSI_ERR_XMIT_FAILED"},
	{ErrTCPConnClose, "ISCSI_ERR_TCP_CONN_CLOSE"},
	{ErrSCSIEHSessionRst, "ISCSI_ERR_SCSI_EH_SESSION_RST"},
	{ErrNopTimedOut, "ISCSI_ERR_NOP_TIMEDOUT"},
}

// String returns the kernel's name, e.g. "ISCSI_ERR_CONN_FAILED".
func (e ErrCode) String() string {
	for _, n := range errCodeNames {
		if n.e == e {
			return n.name
		}
	}
	return "ISCSI_ERR_" + strconv.FormatUint(uint64(e), 10)
}

// ConnState is the kernel's enum iscsi_conn_state (include/scsi/iscsi_if.h),
// carried by ISCSI_KEVENT_CONN_LOGIN_STATE from offload drivers that log in
// themselves.
type ConnState uint32

// The values of enum iscsi_conn_state.
const (
	ConnStateFree ConnState = iota
	ConnStateXptWait
	ConnStateInLogin
	ConnStateLoggedIn
	ConnStateInLogout
	ConnStateLogoutRequested
	ConnStateCleanupWait
)

var connStateNames = [...]string{
	ConnStateFree:            "ISCSI_CONN_STATE_FREE",
	ConnStateXptWait:         "ISCSI_CONN_STATE_XPT_WAIT",
	ConnStateInLogin:         "ISCSI_CONN_STATE_IN_LOGIN",
	ConnStateLoggedIn:        "ISCSI_CONN_STATE_LOGGED_IN",
	ConnStateInLogout:        "ISCSI_CONN_STATE_IN_LOGOUT",
	ConnStateLogoutRequested: "ISCSI_CONN_STATE_LOGOUT_REQUESTED",
	ConnStateCleanupWait:     "ISCSI_CONN_STATE_CLEANUP_WAIT",
}

// String returns the kernel's name, e.g. "ISCSI_CONN_STATE_LOGGED_IN".
func (s ConnState) String() string {
	if s < ConnState(len(connStateNames)) {
		return connStateNames[s]
	}
	return "ISCSI_CONN_STATE_" + strconv.FormatUint(uint64(s), 10)
}

// StopFlag says why a connection is stopped: the reason argument of
// STOP_CONN (include/scsi/iscsi_if.h, STOP_CONN_*).
type StopFlag uint32

// The STOP_CONN_* reasons.
const (
	// StopTerm tears the connection down for good (logout, shutdown).
	StopTerm StopFlag = 1
	// StopSuspend is in the kernel header; open-iscsi never sends it.
	StopSuspend StopFlag = 2
	// StopRecover stops it for a reconnect, keeping queued commands.
	StopRecover StopFlag = 3
)

func (f StopFlag) String() string {
	switch f {
	case StopTerm:
		return "STOP_CONN_TERM"
	case StopSuspend:
		return "STOP_CONN_SUSPEND"
	case StopRecover:
		return "STOP_CONN_RECOVER"
	}
	return "STOP_CONN_" + strconv.FormatUint(uint64(f), 10)
}

// Transport capability bits, the "caps" attribute of
// /sys/class/iscsi_transport/<name>/ (include/scsi/iscsi_if.h, CAP_*).
const (
	CapRecoveryL0         = 0x1
	CapRecoveryL1         = 0x2
	CapRecoveryL2         = 0x4
	CapMultiR2T           = 0x8
	CapHdrDgst            = 0x10
	CapDataDgst           = 0x20
	CapMultiConn          = 0x40
	CapTextNego           = 0x80
	CapMarkers            = 0x100
	CapFWDB               = 0x200
	CapSendTargetsOffload = 0x400
	CapDataPathOffload    = 0x800
	CapDigestOffload      = 0x1000
	CapPaddingOffload     = 0x2000
	CapLoginOffload       = 0x4000
)
