/* le.h: the little-endian byte order of kd's files (streams, model files,
 * checkpoints), field by field, never a C struct written whole, a CRC-32
 * over buffers of any length, and a 64-bit fingerprint. Header-only:
 * every function is static inline. */
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

/* kd_hash64: continue the fingerprint h over n bytes at p, 8 at a time
 * (little-endian words; the last 1 to 7 bytes as one word with the count
 * mixed in). Start from KD_HASH64_START. Not cryptographic: it tells
 * apart data sets and models made by mistake, not by an adversary. */
#define KD_HASH64_START 0x9e3779b97f4a7c15ull

static inline uint64_t
kd_hash64_mix(uint64_t h, uint64_t w)
{
	h ^= w * 0xff51afd7ed558ccdull;
	h = (h << 31 | h >> 33) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

static inline uint64_t
kd_hash64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned char tail[8] = { 0 };
	for (; n >= 8; b += 8, n -= 8)
		h = kd_hash64_mix(h, kd_get_u64(b));
	if (n) {
		memcpy(tail, b, n);
		h = kd_hash64_mix(h, kd_get_u64(tail) ^ (uint64_t)n << 56);
	}
	return h;
}

#endif
