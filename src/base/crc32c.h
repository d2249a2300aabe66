/* CRC-32C (Castagnoli), the recording's checksum since format version 6:
 * the CPU computes it (SSE4.2 on x86-64, the CRC extension on arm64) about
 * ten times faster than zlib's crc32 computes CRC-32, which was a third of
 * a replay's time. Without the instructions, a table does it.
 */
#ifndef TT_CRC32C_H
#define TT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue crc (0 to start) over len bytes. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* The table path alone, for machines without the instructions (and tests). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
