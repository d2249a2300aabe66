/* The one monotonic clock. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"

uint64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The kernel stamps a process's start in clock ticks since boot (field 22
 * of /proc/self/stat, counted on CLOCK_BOOTTIME): exec, not main().
 */
uint64_t clock_since_exec_ms(void)
{
	char buf[1024], *p;
	unsigned long long start = 0;
	long hz = sysconf(_SC_CLK_TCK);
	struct timespec ts;
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || hz <= 0)
		return 0;
	buf[n] = 0;
	/* the command name may hold spaces and parentheses: skip past the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* field 3 follows; starttime is field 22 */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return 0;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	uint64_t now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	uint64_t start_ms = start * 1000 / (unsigned long long)hz;

	return now_ms > start_ms ? now_ms - start_ms : 0;
}
