/* Holds COUNT established loopback connections, both ends, for the scale
 * benchmark (tests/bench/scale.py): one process can hold only 20,000
 * descriptors here, so a million connections take a fleet of these.
 *
 * Usage: holder ADDR PORT COUNT
 * Listens on ADDR:PORT, connects COUNT clients to it and accepts them, then
 * prints "ready COUNT" and obeys commands, one a line, on stdin:
 *   halfclose M   shutdown(SHUT_WR) the client end of the first M
 *                 connections: their server ends enter CLOSE_WAIT, held
 *                 here (a leak). Prints "halfclosed M".
 *   close         close every connection: client FIN first (shutdown), then
 *                 the server end, then the client descriptor, so neither end
 *                 is ever an orphan the kernel could reset under
 *                 tcp_max_orphans. Prints "closed N SECONDS".
 *   exit          exit (end of input too).
 * It dies with its parent (PR_SET_PDEATHSIG), so a killed benchmark leaves no
 * holder behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Connections queued before they are accepted: under somaxconn (4096). */
#define BATCH 1000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
	fprintf(stderr, "holder: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Connects and accepts count connections to the listener lfd at sa. */
static int build(int lfd, const struct sockaddr_in *sa, int *cli, int *srv, long count)
{
	for (long done = 0; done < count;) {
		long n = count - done < BATCH ? count - done : BATCH;

		for (long i = 0; i < n; i++) {
			cli[done + i] = socket(AF_INET, SOCK_STREAM, 0);
			if (cli[done + i] < 0)
				return die("socket");
			if (connect(cli[done + i], (const struct sockaddr *)sa, sizeof(*sa)))
				return die("connect");
		}
		for (long i = 0; i < n; i++) {
			srv[done + i] = accept(lfd, NULL, NULL);
			if (srv[done + i] < 0)
				return die("accept");
		}
		done += n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct rlimit rl;
	char line[64];
	long count, half = 0, port;
	int lfd, one = 1, *cli, *srv;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 ||
	    (port = strtol(argv[2], NULL, 10)) <= 0 || port > 65535 ||
	    (count = strtol(argv[3], NULL, 10)) <= 0 || count > 1000000) {
		fprintf(stderr, "usage: holder ADDR PORT COUNT\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)	/* the parent died before the line above */
		return 1;
	sa.sin_port = htons((uint16_t)port);
	/* two descriptors a connection, and the listener */
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((rlim_t)(2 * count + 8) > rl.rlim_cur) {
		fprintf(stderr, "holder: %ld connections need %ld descriptors; the limit is %llu\n",
			count, 2 * count + 8, (unsigned long long)rl.rlim_cur);
		return 1;
	}
	cli = calloc((size_t)count, sizeof(*cli));
	srv = calloc((size_t)count, sizeof(*srv));
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (!cli || !srv || lfd < 0)
		return die("setup");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4096))
		return die("listen");
	if (build(lfd, &sa, cli, srv, count))
		return 1;
	printf("ready %ld\n", count);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		long m;

		if (sscanf(line, "halfclose %ld", &m) == 1) {
			for (; half < m && half < count; half++)
				if (shutdown(cli[half], SHUT_WR))
					return die("shutdown");
			printf("halfclosed %ld\n", half);
		} else if (!strcmp(line, "close\n")) {
			double t0 = now();

			for (long i = 0; i < count; i++) {
				if (i >= half)
					shutdown(cli[i], SHUT_WR);
				close(srv[i]);
				close(cli[i]);
			}
			printf("closed %ld %.3f\n", count, now() - t0);
		} else if (!strcmp(line, "exit\n")) {
			break;
		}
		fflush(stdout);
	}
	return 0;
}
