/* blobs.h: a small labelled data set for the training tests: n rows of d
 * features around k class centres (feature j is shifted by `shift` for the
 * rows of class j mod k), and, when targets is not NULL, a teacher's soft
 * targets (n, k) for them: mostly the class, some noise. The rows own
 * their arrays (kdd_free); targets is the caller's. */
#ifndef KD_TEST_BLOBS_H
#define KD_TEST_BLOBS_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "rng.h"

static void
kt_blobs(kdd_set *s, size_t n, size_t d, size_t k, float shift, float *targets,
         kdr_rng *r)
{
	memset(s, 0, sizeof *s);
	s->n = n;
	s->d = d;
	s->k = k;
	s->x = malloc(n * d * sizeof *s->x);
	s->y = malloc(n * sizeof *s->y);
	s->id = malloc(n * sizeof *s->id);
	for (size_t i = 0; i < n; i++) {
		int32_t c = (int32_t)kdr_below(r, k);
		float sum = 0.0f;
		s->y[i] = c;
		s->id[i] = i;
		for (size_t j = 0; j < d; j++)
			s->x[i * d + j] = (float)kdr_normal(r) + (j % k == (size_t)c ? shift : 0.0f);
		if (!targets)
			continue;
		for (size_t q = 0; q < k; q++) {
			float z = (q == (size_t)c ? 2.0f : 0.0f) + 0.5f * (float)kdr_normal(r);
			targets[i * k + q] = expf(z);
			sum += targets[i * k + q];
		}
		for (size_t q = 0; q < k; q++)
			targets[i * k + q] /= sum;
	}
}

#endif
