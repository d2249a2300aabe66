/* CRC-32C: the CPU's instruction where it has one, else a byte-wise table.
 * Both give the same value (a unit test checks the standard check value and
 * that the two agree).
 */
#include <stdbool.h>
#include <string.h>
#include "crc32c.h"

#define CRC32C_POLY 0x82F63B78u	/* reflected Castagnoli polynomial */

/* The instruction that folds 8 bytes, and 1, into a CRC-32C, per
 * architecture; the table alone elsewhere.
 */
#if defined(__x86_64__)
#define HW_TARGET __attribute__((target("sse4.2")))
#define HW_STEP8(c, v) ((uint32_t)__builtin_ia32_crc32di((c), (v)))
#define HW_STEP1(c, b) __builtin_ia32_crc32qi((c), (b))
#define HW_PRESENT() __builtin_cpu_supports("sse4.2")
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#define HW_TARGET __attribute__((target("+crc")))
#define HW_STEP8(c, v) __builtin_aarch64_crc32cx((c), (v))
#define HW_STEP1(c, b) __builtin_aarch64_crc32cb((c), (b))
#define HW_PRESENT() ((getauxval(AT_HWCAP) & (1ul << 7)) != 0) /* HWCAP_CRC32 */
#endif

static uint32_t table[256];
static bool have_hw;

/* Before main(): no thread can see a half-built table. */
__attribute__((constructor)) static void crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		table[i] = c;
	}
#ifdef HW_STEP8
	have_hw = HW_PRESENT();
#endif
}

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#ifdef HW_STEP8
HW_TARGET static uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t c = ~crc;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = HW_STEP8(c, v);
	}
	for (; len; p++, len--)
		c = HW_STEP1(c, *p);
	return ~c;
}
#else
static uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	return crc32c_sw(crc, buf, len);
}
#endif

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	return have_hw ? crc32c_hw(crc, buf, len) : crc32c_sw(crc, buf, len);
}
