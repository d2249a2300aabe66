/* Error sink: everything the program says on stderr goes through here. */
#include <stdarg.h>
#include <stdio.h>
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

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
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
