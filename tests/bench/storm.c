/* Connection storm on loopback: each client thread connects, sends a byte
 * and closes, as fast as it can; as many server threads accept, read, close.
 * More threads than CPUs saturate the machine, as a busy server does.
 * Usage: storm PORT SECONDS [THREADS]
 * Prints: connections N failed F seconds S rate R
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

static int listen_fd;
static volatile int done;
static long accepted;	/* connections served, by all server threads */
static struct sockaddr_in sa = { .sin_family = AF_INET };
static double end_at;

struct client {
	pthread_t thr;
	long n, failed;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *serve(void *arg)
{
	char b;

	(void)arg;
	while (!done) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0)
			continue;
		while (read(fd, &b, 1) < 0 && errno == EINTR)
			;
		close(fd);
		__atomic_fetch_add(&accepted, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *connect_loop(void *arg)
{
	struct client *c = arg;

	while (now() < end_at) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    write(fd, "x", 1) != 1)
			c->failed++;
		else
			c->n++;
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static struct client clients[MAX_THREADS];
	pthread_t servers[MAX_THREADS];
	long port, threads = 1, n = 0, failed = 0;
	double secs, start;
	int one = 1;

	if (argc < 3 || argc > 4 || (port = strtol(argv[1], NULL, 10)) <= 0 || port > 65535 ||
	    (secs = strtod(argv[2], NULL)) <= 0 ||
	    (argc == 4 && ((threads = strtol(argv[3], NULL, 10)) < 1 || threads > MAX_THREADS))) {
		fprintf(stderr, "usage: storm PORT SECONDS [THREADS (1-%d)]\n", MAX_THREADS);
		return 2;
	}
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(listen_fd, 4096)) {
		perror("storm: listen");
		return 1;
	}
	for (long i = 0; i < threads; i++)
		pthread_create(&servers[i], NULL, serve, NULL);
	start = now();
	end_at = start + secs;
	for (long i = 0; i < threads; i++)
		pthread_create(&clients[i].thr, NULL, connect_loop, &clients[i]);
	for (long i = 0; i < threads; i++) {
		pthread_join(clients[i].thr, NULL);
		n += clients[i].n;
		failed += clients[i].failed;
	}
	secs = now() - start;
	/* Serve every connection still queued before the listener goes: a
	 * connection the listener drops unaccepted has a shorter life than
	 * the others (no LAST_ACK), and the counts expect whole lives.
	 */
	for (double until = now() + 5;
	     __atomic_load_n(&accepted, __ATOMIC_RELAXED) < n && now() < until;)
		usleep(1000);
	done = 1;
	/* wake the server threads out of accept() without a connection more */
	shutdown(listen_fd, SHUT_RD);
	for (long i = 0; i < threads; i++)
		pthread_join(servers[i], NULL);
	printf("connections %ld failed %ld seconds %.3f rate %.0f\n", n, failed, secs, n / secs);
	return 0;
}
