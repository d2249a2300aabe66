/* The closing lines on stderr. */
#include <stdio.h>
#include "summary.h"

void summary_print(struct ingest *in, uint32_t still_open)
{
	summary_print_stats(ingest_stats(in), still_open);
}

void summary_print_stats(const struct ingest_stats *st, uint32_t still_open)
{
	const uint64_t *by = st->lost_by_cause;

	fprintf(stderr,
		"tcptrail: %llu records, %llu histories (%llu incomplete), %llu lost, "
		"%llu evicted, %llu vanished, %u still open, %llu CLOSE_WAIT leaks "
		"(%llu resolved); lost by cause:",
		(unsigned long long)st->records, (unsigned long long)st->histories,
		(unsigned long long)st->incomplete, (unsigned long long)st->lost,
		(unsigned long long)st->evicted, (unsigned long long)st->vanished, still_open,
		(unsigned long long)st->leaks, (unsigned long long)st->leaks_resolved);
	for (uint8_t c = 0; c < LOST_N_CAUSES; c++)
		fprintf(stderr, "%s %s %llu", c ? "," : "", lost_cause_name(c),
			(unsigned long long)by[c]);
	fputc('\n', stderr);
	if (st->unwatched)
		fprintf(stderr, "tcptrail: %llu CLOSE_WAIT sockets went unwatched: the table "
			"(--max-conns) was full\n", (unsigned long long)st->unwatched);
	if (st->repeated)
		fprintf(stderr, "tcptrail: %llu transitions came twice; the repeats were "
			"left out\n", (unsigned long long)st->repeated);
}

/* Peak resident memory of this process image in KiB (VmHWM). Unlike
 * ru_maxrss, it does not carry over the parent's size from before exec.
 */
long summary_peak_rss_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

void summary_print_listeners(const struct listen_watch *lw)
{
	const struct lw_stats *st = listen_watch_stats(lw);

	fprintf(stderr, "tcptrail: %llu listener samples, %llu alerts",
		(unsigned long long)st->samples, (unsigned long long)st->alerts);
	if (st->listeners_dropped || st->requests_dropped || st->namespaces_dropped)
		fprintf(stderr, "; beyond the limits: %llu listener, %llu half-open request and "
			"%llu namespace readings (raise --max-listeners)",
			(unsigned long long)st->listeners_dropped,
			(unsigned long long)st->requests_dropped,
			(unsigned long long)st->namespaces_dropped);
	/* counted only where memory ran out: said then, or never */
	if (st->accepts_untimed)
		fprintf(stderr, "; %llu accept waits not timed (out of memory)",
			(unsigned long long)st->accepts_untimed);
	fputc('\n', stderr);
}
