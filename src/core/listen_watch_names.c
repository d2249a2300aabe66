/* The names the listener watch gives its counters, sysctls and alerts, as
 * they appear in records, metrics and top.
 */
#include "listen_watch.h"

const char *const lw_counter_names[LW_N_COUNTERS] = {
	[LW_LISTEN_OVERFLOWS] = "ListenOverflows",
	[LW_LISTEN_DROPS] = "ListenDrops",
	[LW_REQQ_FULL_DROP] = "TCPReqQFullDrop",
	[LW_REQQ_FULL_DO_COOKIES] = "TCPReqQFullDoCookies",
	[LW_SYNCOOKIES_SENT] = "SyncookiesSent",
	[LW_SYNCOOKIES_RECV] = "SyncookiesRecv",
	[LW_SYN_RETRANS] = "TCPSynRetrans",
	[LW_EMBRYONIC_RSTS] = "EmbryonicRsts",
};

const char *const lw_sysctl_names[LW_N_SYSCTLS] = {
	[LW_SOMAXCONN] = "somaxconn",
	[LW_MAX_SYN_BACKLOG] = "tcp_max_syn_backlog",
	[LW_SYNCOOKIES] = "tcp_syncookies",
	[LW_ABORT_ON_OVERFLOW] = "tcp_abort_on_overflow",
	[LW_SYNACK_RETRIES] = "tcp_synack_retries",
};

const char *const lw_alert_names[LW_N_ALERTS] = {
	[LW_SYN_FLOOD] = "syn_flood",
	[LW_ACCEPTQ_FULL] = "accept_queue_full",
	[LW_SYN_BACKLOG_OVERFLOW] = "syn_backlog_overflow",
};
