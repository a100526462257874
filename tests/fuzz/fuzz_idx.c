/* fuzz_idx: the IDX reader (kdd_idx_load) on any bytes. The input is
 *   byte 0      bit 0: there is a labels file
 *   bytes 1-2   L, little-endian: the labels file is the last L bytes
 *   the rest    the images file (gzip or plain), then the labels file */
#define _GNU_SOURCE
#include <stdlib.h>

#include "data.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fz_file img = { -1, "" }, lab = { -1, "" };
	const char *ip, *lp = NULL;
	size_t L;
	kdd_set s;
	kd_err e;

	if (size < 3)
		return 0;
	L = (size_t)data[1] | (size_t)data[2] << 8;
	if (!(data[0] & 1))
		L = 0;
	data += 3;
	size -= 3;
	if (L > size)
		L = size;
	ip = fz_put(&img, data, size - L);
	if (data[-3] & 1)
		lp = fz_put(&lab, data + size - L, L);
	if (kdd_idx_load(ip, lp, &s, &e) == 0) {
		if (s.n == 0 || s.d != s.width * s.height)
			abort();
		for (size_t i = 0; i < s.n * s.d; i++)
			if (!(s.x[i] >= 0.0f && s.x[i] <= 1.0f))
				abort();
		kdd_free(&s);
	}
	return 0;
}
