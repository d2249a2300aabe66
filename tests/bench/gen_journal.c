/* A synthetic --record file: N connections open at once, then all close,
 * each with the five client transitions of an orderly active close.
 * Usage: gen_journal N FILE    (the header asks for a table of N)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "journal.h"

static void ev(struct journal_writer *w, uint64_t cookie, uint64_t ts, uint8_t old, uint8_t new_)
{
	struct tt_event e;

	memset(&e, 0, sizeof(e));
	e.type = TT_EV_STATE;
	e.ts_ns = ts;
	e.cookie = cookie;
	e.family = AF_INET;
	e.saddr[0] = 10, e.saddr[3] = (uint8_t)(cookie >> 16);
	e.daddr[0] = 10, e.daddr[3] = 1;
	e.sport = (uint16_t)(1024 + cookie % 60000);
	e.dport = 80;
	e.netns = 4026531840u;
	e.oldstate = old;
	e.newstate = new_;
	e.pid = 1000;
	e.flags = TT_F_OWNER_CTX;
	memcpy(e.comm, "client", 7);
	journal_event(w, &e);
}

int main(int argc, char **argv)
{
	struct journal_header h;
	struct journal_writer *w;
	uint64_t n, ts = 1000000000ull;
	int fd;

	if (argc != 3 || !(n = strtoull(argv[1], NULL, 10)) || n > 100000000) {
		fprintf(stderr, "usage: gen_journal N FILE\n");
		return 2;
	}
	journal_header_init(&h, 0, (uint32_t)n, 20000000, 0, 0);
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || journal_create(&w, fd, &h)) {
		perror("gen_journal");
		return 1;
	}
	for (uint64_t c = 1; c <= n; c++) {
		ev(w, c, ts += 100, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
		ev(w, c, ts += 100, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	}
	for (uint64_t c = 1; c <= n; c++) {
		ev(w, c, ts += 100, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
		ev(w, c, ts += 100, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2);
		ev(w, c, ts += 100, TT_TCP_FIN_WAIT2, TT_TCP_CLOSE);
		/* the live loop's expiry tick, every 1000 closes */
		if (c % 1000 == 0)
			journal_expire(w, ts);
	}
	journal_expire(w, ts + 1000000000ull);
	journal_end(w);
	return journal_close(w) ? 1 : 0;
}
