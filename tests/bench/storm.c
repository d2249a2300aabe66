/* Connection storm on loopback: one client thread connects, sends a byte and
 * closes, as fast as it can; one server thread accepts, reads, closes.
 * Usage: storm PORT SECONDS    Prints: connections N seconds S rate R
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

static int listen_fd;
static volatile int done;

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
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	long port, n = 0, failed = 0;
	double secs, start, end;
	pthread_t thr;
	int one = 1;

	if (argc != 3 || (port = strtol(argv[1], NULL, 10)) <= 0 || port > 65535 ||
	    (secs = strtod(argv[2], NULL)) <= 0) {
		fprintf(stderr, "usage: storm PORT SECONDS\n");
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
	pthread_create(&thr, NULL, serve, NULL);
	start = now();
	end = start + secs;
	while (now() < end) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    write(fd, "x", 1) != 1) {
			failed++;
		} else {
			n++;
		}
		if (fd >= 0)
			close(fd);
	}
	secs = now() - start;
	done = 1;
	/* wake the server thread out of accept() */
	close(socket(AF_INET, SOCK_STREAM, 0));
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
	}
	pthread_join(thr, NULL);
	printf("connections %ld failed %ld seconds %.3f rate %.0f\n", n, failed, secs, n / secs);
	return 0;
}
