/* CRC-32C: hardware where the CPU has it, else a byte-wise table. Both give
 * the same value (a unit test checks the standard check value and that the
 * two agree).
 */
#include <string.h>
#include "crc32c.h"

#define CRC32C_POLY 0x82F63B78u	/* reflected Castagnoli polynomial */

static uint32_t table[256];

static void table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		table[i] = c;
	}
}

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (!table[1])
		table_init();
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *buf,
							     size_t len)
{
	const unsigned char *p = buf;
	uint64_t c = ~crc;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	for (; len; p++, len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p);
	return ~(uint32_t)c;
}

static int have_hw(void)
{
	static int have = -1;

	if (have < 0)
		have = __builtin_cpu_supports("sse4.2");
	return have;
}
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>

__attribute__((target("+crc"))) static uint32_t crc32c_hw(uint32_t crc, const void *buf,
							  size_t len)
{
	const unsigned char *p = buf;
	uint32_t c = ~crc;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_aarch64_crc32cx(c, v);
	}
	for (; len; p++, len--)
		c = __builtin_aarch64_crc32cb(c, *p);
	return ~c;
}

static int have_hw(void)
{
	static int have = -1;

	if (have < 0)
		have = (getauxval(AT_HWCAP) & (1ul << 7)) != 0;	/* HWCAP_CRC32 */
	return have;
}
#else
static uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	return crc32c_sw(crc, buf, len);
}

static int have_hw(void)
{
	return 0;
}
#endif

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	return have_hw() ? crc32c_hw(crc, buf, len) : crc32c_sw(crc, buf, len);
}
