/* Error sink: everything the program says on stderr goes through here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/libbpf.h>
#include "log.h"

static int verbosity;

void log_set_verbosity(int level)
{
	verbosity = level;
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "tcptrail: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void p_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

static log_capture_fn capture_fn;
static void *capture_arg;

void log_capture_libbpf(log_capture_fn fn, void *arg)
{
	capture_fn = fn;
	capture_arg = arg;
}

/* Hand one libbpf message, whole, to the capture: the verifier's log can be
 * megabytes, so it is sized first. Only loads that fail produce much.
 */
static void capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list aq;
	char *msg;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || !(msg = malloc((size_t)n + 1)))
		return;
	va_copy(aq, ap);
	vsnprintf(msg, (size_t)n + 1, fmt, aq);
	va_end(aq);
	capture_fn(level == LIBBPF_WARN, msg, capture_arg);
	free(msg);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (capture_fn && level == LIBBPF_WARN)
		capture(level, fmt, ap);
	if (verbosity < 2 && level != LIBBPF_WARN)
		return 0;
	if (verbosity < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
