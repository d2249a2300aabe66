/* libFuzzer target: the --web-config parser. Any bytes must parse or give
 * one terminated sentence, and a parsed file must free cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "web_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web_config c;
	char err[400];

	memset(err, 'x', sizeof(err));
	if (web_config_parse(&c, (const char *)data, size, "/etc/tcptrail", err, sizeof(err))) {
		if (!memchr(err, '\0', sizeof(err)) || strchr(err, '\n'))
			abort();	/* one terminated line */
		return 0;
	}
	web_config_free(&c);
	return 0;
}
