/* TCP state names, indexed by the kernel's TCP_* numbers (include/net/tcp_states.h). */
#include <stdio.h>
#include <string.h>
#include "tcptrail.h"
#include "tcp_names.h"

static const char *const state_names[TT_TCP_MAX_STATES] = {
	[TT_TCP_ESTABLISHED] = "ESTABLISHED",
	[TT_TCP_SYN_SENT] = "SYN_SENT",
	[TT_TCP_SYN_RECV] = "SYN_RECV",
	[TT_TCP_FIN_WAIT1] = "FIN_WAIT1",
	[TT_TCP_FIN_WAIT2] = "FIN_WAIT2",
	[TT_TCP_TIME_WAIT] = "TIME_WAIT",
	[TT_TCP_CLOSE] = "CLOSE",
	[TT_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TT_TCP_LAST_ACK] = "LAST_ACK",
	[TT_TCP_LISTEN] = "LISTEN",
	[TT_TCP_CLOSING] = "CLOSING",
	[TT_TCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
};

const char *tcp_state_name(uint8_t state)
{
	if (state < TT_TCP_MAX_STATES && state_names[state])
		return state_names[state];
	return "UNKNOWN";
}

const char *tcp_ca_state_name(uint8_t ca_state)
{
	/* enum tcp_ca_state: a UAPI enum (linux/tcp.h), stable */
	static const char *const names[] = { "open", "disorder", "cwr", "recovery", "loss" };

	return ca_state < sizeof(names) / sizeof(names[0]) ? names[ca_state] : "unknown";
}

const char *tcp_result_name(uint16_t err, char buf[8])
{
	const char *name;

	if (!err)
		return "sent";
	name = strerrorname_np(err);
	if (name)
		return name;
	snprintf(buf, 8, "E%u", err);
	return buf;
}
