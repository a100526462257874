/* fuzz_model: the model file reader (kdmod_load_mem, the same parser as
 * kdmod_load) on any bytes; a model it accepts is run once on a row of
 * zeros, and its class names are looked up. With bit 0 of the first byte
 * set, the rest gets a correct CRC-32 in its last 4 bytes before it is
 * read, so that mutations reach the checks after the checksum (the
 * standardisation, the class names). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz.h"
#include "model.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kd_err e;
	kdm_model *m;
	kdm_ws *ws;
	float *x, *z;
	uint8_t *fixed = NULL;

	if (size < 1)
		return 0;
	if (data[0] & 1 && size >= 5) {
		uLong crc = crc32(0L, Z_NULL, 0);
		size -= 1;
		if (!(fixed = malloc(size)))
			abort();
		memcpy(fixed, data + 1, size);
		crc = crc32(crc, fixed, (uInt)(size - 4));
		for (int i = 0; i < 4; i++)
			fixed[size - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
		m = kdmod_load_mem(fixed, size, "fuzz", &e);
		free(fixed);
	} else {
		m = kdmod_load_mem(data + 1, size - 1, "fuzz", &e);
	}
	if (!m)
		return 0;
	ws = kdm_ws_new(m, 1);
	x = calloc(m->D, sizeof *x);
	z = malloc(m->K * sizeof *z);
	if (!ws || !x || !z || kdm_forward(m, ws, x, 1, z))
		abort();
	for (size_t k = 0; k < m->K; k++)
		if (m->names && !kdm_name(m, k))
			abort();
	kdm_ws_free(ws);
	free(x);
	free(z);
	kdm_free(m);
	return 0;
}
