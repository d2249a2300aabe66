/* /proc/net/netstat: the namespace's TcpExt counters the listener view uses. */
#include <stdlib.h>
#include <string.h>
#include "netstat.h"

int netstat_parse(const char *text, uint64_t counters[LW_N_COUNTERS])
{
	const char *names = NULL, *line = text;

	memset(counters, 0, LW_N_COUNTERS * sizeof(counters[0]));
	/* "TcpExt: Name Name ...\nTcpExt: 1 2 ...\n": a header line, then values */
	while (line && *line) {
		const char *next = strchr(line, '\n');

		if (!strncmp(line, "TcpExt:", 7)) {
			if (!names) {
				names = line + 7;
			} else {
				const char *n = names, *v = line + 7;

				for (;;) {
					size_t nl, vl;

					while (*n == ' ')
						n++;
					while (*v == ' ')
						v++;
					nl = strcspn(n, " \n");
					vl = strcspn(v, " \n");
					if (!nl || !vl)
						break;
					for (int k = 0; k < LW_N_COUNTERS; k++)
						if (strlen(lw_counter_names[k]) == nl &&
						    !strncmp(n, lw_counter_names[k], nl))
							counters[k] = strtoull(v, NULL, 10);
					n += nl;
					v += vl;
				}
				return 0;
			}
		}
		line = next ? next + 1 : NULL;
	}
	return -1;
}
