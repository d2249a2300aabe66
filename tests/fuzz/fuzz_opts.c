/* libFuzzer target: the command line. The input is split at NUL bytes into
 * arguments; any of them must parse or give one sentence, never crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 2];
	struct options o;
	char err[256];
	int argc = 1;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = "tcptrail";
	for (size_t i = 0; i < size && argc <= MAX_ARGS; i += strlen(copy + i) + 1)
		argv[argc++] = copy + i;
	argv[argc] = NULL;
	if (opts_parse(&o, argc, argv, err, sizeof(err)) && !memchr(err, '\0', sizeof(err)))
		abort();	/* the message must be a terminated sentence */
	free(copy);
	return 0;
}
