/* Unit test runner: prints one line per test and a closing count. */
#include <stdio.h>
#include "harness.h"

int harness_failed_checks;

extern const struct test_case history_tests[], ingest_tests[], table_tests[],
	fmt_tests[], opts_tests[], leak_tests[], listen_tests[], record_tests[], metrics_tests[], cgroup_tests[],
	phase_tests[], ports_tests[], syn_rate_tests[], text_view_tests[], report_tests[],
	kept_tests[], extremes_tests[], web_tests[], slow_tests[], timers_tests[];

static const struct test_case *const suites[] = {
	history_tests, ingest_tests, table_tests, fmt_tests, opts_tests, leak_tests,
	listen_tests, record_tests, metrics_tests, cgroup_tests, phase_tests,
	ports_tests, syn_rate_tests, text_view_tests, report_tests, kept_tests, extremes_tests,
	web_tests, slow_tests, timers_tests,
};

int main(void)
{
	int passed = 0, failed = 0;

	/* unbuffered: a crash must not swallow the lines already earned */
	setvbuf(stdout, NULL, _IONBF, 0);

	for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		for (const struct test_case *t = suites[s]; t->name; t++) {
			int before = harness_failed_checks;

			t->fn();
			if (harness_failed_checks == before) {
				printf("PASS unit/%s\n", t->name);
				passed++;
			} else {
				printf("FAIL unit/%s\n", t->name);
				failed++;
			}
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
