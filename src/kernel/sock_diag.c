/* sock_diag: the kernel's TCP sockets of this namespace through an
 * INET_DIAG dump, where the socket iterator cannot load.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include "sock_diag.h"

/* inet_twsk_diag_fill() marks a timewait socket by its timer. */
#define DIAG_TIMER_TIMEWAIT 3

/* sock_diag: the same facts from an INET_DIAG dump (no SYN queue length,
 * no SYN cookie stamp). A request socket comes as SYN_RECV without the
 * tcp_info a full socket has (inet_req_diag_fill()); its listener is named
 * by address and port, not by cookie. A timewait socket is TIME_WAIT
 * whatever its substate: sock_diag reports tw_substate, which is FIN_WAIT2
 * for a socket closed in FIN_WAIT2 and handed to a timewait socket to wait
 * for the peer's FIN (tcp_time_wait(sk, TCP_FIN_WAIT2, tmo)), as iter/tcp's
 * skc_state never does. The connection it was is over.
 */
static void diag_to_record(const struct inet_diag_msg *m, uint32_t netns, uint32_t drops,
			   uint32_t idle_ms, bool full, struct tt_sock_record *r)
{
	memset(r, 0, sizeof(*r));
	r->cookie = m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	r->inode = m->idiag_inode;
	r->family = m->idiag_family;
	r->state = m->idiag_timer == DIAG_TIMER_TIMEWAIT ? TT_TCP_TIME_WAIT : m->idiag_state;
	r->uid = m->idiag_uid;
	r->netns = netns;
	r->sport = ntohs(m->id.idiag_sport);
	r->dport = ntohs(m->id.idiag_dport);
	memcpy(r->saddr, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
	memcpy(r->daddr, m->id.idiag_dst, m->idiag_family == AF_INET ? 4 : 16);
	r->rcv_idle_ms = idle_ms;
	r->cookie_idle_ms = ~0u;	/* not in sock_diag */
	/* a timewait socket's timer, in ms (inet_diag's twsk expiry) */
	r->tw_left_ms = r->state == TT_TCP_TIME_WAIT ? m->idiag_expires : ~0u;
	if (r->state == TT_TCP_SYN_RECV && !full) {
		r->state = TT_TCP_NEW_SYN_RECV;
		r->listener = 0;
		r->req_retrans = m->idiag_retrans;
	}
	if (r->state == TT_TCP_LISTEN) {
		/* inet_diag reports the accept queue as rqueue/wqueue */
		r->acceptq_len = m->idiag_rqueue;
		r->acceptq_max = m->idiag_wqueue;
		r->drops = drops;
	}
}

/* sock_diag's state bits are the same (1 << state), but it selects a
 * timewait socket by its substate (inet_diag_dump_icsk()) and reports
 * request sockets under SYN_RECV's bit: what to ask for the states wanted.
 */
static uint32_t diag_states(uint32_t states)
{
	if (!states)
		return ~0u;
	if (states & (1u << TT_TCP_NEW_SYN_RECV))
		states |= 1u << TT_TCP_SYN_RECV;
	if (states & (1u << TT_TCP_TIME_WAIT))
		states |= 1u << TT_TCP_FIN_WAIT2;
	return states;
}

/* One socket's message: its record, if its state is one asked for. */
static void one_message(const struct nlmsghdr *h, uint32_t netns, uint32_t states,
			snapshot_fn fn, void *arg)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	uint32_t drops = 0, idle_ms = ~0u;
	struct tt_sock_record r;
	bool full = false;

	for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, alen);
	     a = RTA_NEXT(a, alen))
		if (a->rta_type == INET_DIAG_SKMEMINFO &&
		    RTA_PAYLOAD(a) > (int)(SK_MEMINFO_DROPS * sizeof(uint32_t))) {
			drops = ((const uint32_t *)RTA_DATA(a))[SK_MEMINFO_DROPS];
		} else if (a->rta_type == INET_DIAG_INFO &&
			   RTA_PAYLOAD(a) >= (int)(offsetof(struct tcp_info, tcpi_last_ack_recv) +
						  sizeof(uint32_t))) {
			/* the same rcv_tstamp the iterator reads */
			idle_ms = ((const struct tcp_info *)RTA_DATA(a))->tcpi_last_ack_recv;
			full = true;
		}
	diag_to_record(m, netns, drops, idle_ms, full, &r);
	/* asked for more than wanted (diag_states()) */
	if (states && !(states & (1u << (r.state & 31))) &&
	    !(r.state == TT_TCP_SYN_RECV && (states & (1u << TT_TCP_NEW_SYN_RECV))))
		return;
	fn(&r, arg);
}

/* One dump; with any set, it ends at the first socket (*any = true) and
 * reads no facts beyond the state.
 */
static int dump(int family, uint32_t netns, uint32_t states, snapshot_fn fn, void *arg,
		bool *any)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.req = {
			.sdiag_family = (__u8)family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = diag_states(states),
			.idiag_ext = any ? 0 : 1 << (INET_DIAG_SKMEMINFO - 1) |
					       1 << (INET_DIAG_INFO - 1),
		},
	};
	static char buf[32768];
	int fd, ret = 0;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (send(fd, &msg, sizeof(msg), 0) < 0) {
		ret = -errno;
		goto cleanup;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto cleanup;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				/* a dump the kernel could not make (no tcp_diag
				 * handler: -ENOENT) ends with its error here
				 */
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) &&
				    *(const int *)NLMSG_DATA(h) < 0)
					ret = *(const int *)NLMSG_DATA(h);
				goto cleanup;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				ret = e->error;
				goto cleanup;
			}
			if (any) {
				*any = true;
				goto cleanup;
			}
			one_message(h, netns, states, fn, arg);
		}
	}
cleanup:
	close(fd);
	return ret;
}

int sock_diag_dump(int family, uint32_t netns, uint32_t states, snapshot_fn fn, void *arg)
{
	return dump(family, netns, states, fn, arg, NULL);
}

int sock_diag_any(int family, uint32_t states, bool *any)
{
	*any = false;
	return dump(family, 0, states, NULL, NULL, any);
}
