/* le.h: the little-endian byte order of kd's files (streams, model files,
 * checkpoints), field by field, never a C struct written whole, and a
 * CRC-32 over buffers of any length. Header-only: every function is
 * static inline. */
#ifndef KD_LE_H
#define KD_LE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

static inline void
kd_put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void
kd_put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void
kd_put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t
kd_get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
kd_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t
kd_get_u64(const unsigned char *p)
{
	return (uint64_t)kd_get_u32(p) | (uint64_t)kd_get_u32(p + 4) << 32;
}

/* kd_put_f64, kd_get_f64: an IEEE-754 binary64 by its bits */
static inline void
kd_put_f64(unsigned char *p, double v)
{
	uint64_t u;
	memcpy(&u, &v, 8);
	kd_put_u64(p, u);
}

static inline double
kd_get_f64(const unsigned char *p)
{
	uint64_t u = kd_get_u64(p);
	double v;
	memcpy(&v, &u, 8);
	return v;
}

/* kd_crc32: zlib's crc32 of n bytes at p, continuing crc (start from
 * crc32(0, Z_NULL, 0)); n may exceed zlib's uInt */
static inline uLong
kd_crc32(uLong crc, const void *p, size_t n)
{
	const Bytef *b = p;
	while (n > 0) {
		uInt c = n > (1u << 30) ? (1u << 30) : (uInt)n;
		crc = crc32(crc, b, c);
		b += c;
		n -= c;
	}
	return crc;
}

#endif
