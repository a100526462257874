/* fuzz_csv: the CSV readers on any bytes. The first byte chooses what
 * reads the rest, and how:
 *   bits 0-1  the reader: 0, 1 kdd_csv_load; 2 kdcat_import (kd-cat
 *             --import) into /dev/null; 3 kdd_load, which sniffs the
 *             content and may read it as IDX or a kd stream instead
 *   bit 2     a header line (--header)
 *   bit 3     unlabelled (every column a feature)
 *   bits 4-5  the label column (0: the last; kdcat_import: none)
 *   bit 6     labels below 3 only (max_k)
 *   bit 7     kdcat_import: probabilities (else the kind the header says) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "data.h"
#include "fuzz.h"
#include "kdcat.h"
#include "prob.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fz_file f = { -1, "" };
	static FILE *null;
	const char *path;
	kdd_set s;
	kd_err e;
	uint8_t b;

	if (size < 1)
		return 0;
	b = data[0];
	path = fz_put(&f, data + 1, size - 1);
	switch (b & 3) {
	case 0:
	case 1: {
		kdd_csv_opts o = { 0 };
		o.header = (b >> 2) & 1;
		o.unlabelled = (b >> 3) & 1;
		o.label_col = (b >> 4) & 3;
		o.max_k = (b >> 6) & 1 ? 3 : 0;
		if (kdd_csv_load(path, &o, &s, &e) == 0) {
			if (s.n == 0 || !s.x || !s.id)
				abort();
			for (size_t i = 0; s.y && i < s.n; i++)
				if (s.y[i] < 0 || (size_t)s.y[i] >= s.k)
					abort();
			kdd_free(&s);
		}
		break;
	}
	case 2: {
		kdcat_import_opts o;
		if (!null && !(null = fopen("/dev/null", "wb")))
			abort();
		kdcat_import_opts_init(&o);
		o.skip_header = (b >> 2) & 1;
		o.label_col = (b >> 4) & 3;
		o.id_col = (b >> 3) & 1 ? 1 : 0;
		o.kind = (b >> 7) & 1 ? KDP_PROBS : -1;
		(void)kdcat_import(path, &o, null, "null", &e);
		clearerr(null);
		break;
	}
	default: {
		kdd_load_opts o = { 0 };
		o.csv.header = (b >> 2) & 1;
		o.csv.unlabelled = (b >> 3) & 1;
		o.csv.label_col = (b >> 4) & 3;
		o.max_rows = (b >> 6) & 1 ? 2 : 0;
		if (kdd_load(path, &o, &s, &e) == 0)
			kdd_free(&s);
	}
	}
	return 0;
}
