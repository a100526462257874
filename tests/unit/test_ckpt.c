/* test_ckpt.c: training checkpoints (ckpt.h): a state saved and loaded back
 * whole, and every checkpoint a run must not resume from refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"
#include "kdtest.h"

#define N 5  /* rows */
#define P 7  /* parameters */

/* arrays of a state, filled from seed */
typedef struct arrays {
	uint32_t order[N];
	float params[P], vel[P], sq[P], best[P], avg[P];
} arrays;

static void
fill(kdckpt_state *s, arrays *a, unsigned seed)
{
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < N; i++)
		a->order[i] = (uint32_t)((i * 3 + seed) % N);
	for (size_t i = 0; i < P; i++) {
		a->params[i] = (float)i * 0.5f + (float)seed;
		a->vel[i] = -(float)i;
		a->sq[i] = (float)(i * i);
		a->best[i] = 1.0f / (float)(i + 1);
		a->avg[i] = (float)seed - (float)i;
	}
	s->fingerprint = 0xabcdef12u;
	s->epoch = 3;
	s->epochs = 10;
	kdr_init(&s->rng, 42 + seed);
	s->first_loss = 2.5;
	s->best_err = 0.125;
	s->n = N;
	s->order = a->order;
	s->nparams = P;
	s->params = a->params;
	s->vel = a->vel;
	s->sq = a->sq;
	s->best = a->best;
	s->avg = a->avg;
	s->patience = 1;
	s->best_epoch = 2;
}

static char path[64];

/* save_fresh: s saved to a new temporary path */
static int
save_fresh(const kdckpt_state *s, kd_err *e)
{
	int fd;

	strcpy(path, "/tmp/test_ckpt.XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		return -1;
	close(fd);
	return kdckpt_save(path, s, e);
}

static void
test_round_trip(void)
{
	kdckpt_state s, t;
	arrays a, b;
	kd_err e = { { 0 }, 0 };

	fill(&s, &a, 1);
	KT_CHECK(save_fresh(&s, &e) == 0);
	fill(&t, &b, 2); /* what the run expects is the same; the values differ */
	t.epoch = 0;
	t.first_loss = 0;
	t.best_err = INFINITY;
	t.best_epoch = 0;
	KT_CHECK(kdckpt_load(path, &t, &e) == 0);
	KT_CHECK(t.epoch == 3 && t.epochs == 10 && t.best_epoch == 2);
	KT_CHECK(t.first_loss == 2.5 && t.best_err == 0.125);
	KT_CHECK(!memcmp(&t.rng, &s.rng, sizeof t.rng));
	KT_CHECK(!memcmp(&a, &b, sizeof a));
	unlink(path);
}

/* another run's checkpoint, another shape, a damaged file: refused */
static void
test_refusals(void)
{
	kdckpt_state s, t;
	arrays a, b;
	kd_err e = { { 0 }, 0 };
	unsigned char buf[4096];
	size_t n;
	FILE *f;

	fill(&s, &a, 1);
	KT_CHECK(save_fresh(&s, &e) == 0);
	fill(&t, &b, 1);
	t.fingerprint ^= 1;
	KT_CHECK(kdckpt_load(path, &t, &e) == -1);
	KT_CHECK(strstr(e.msg, path) != NULL);
	fill(&t, &b, 1);
	t.nparams = P - 1;
	KT_CHECK(kdckpt_load(path, &t, &e) == -1);
	fill(&t, &b, 1);
	t.n = N - 1;
	KT_CHECK(kdckpt_load(path, &t, &e) == -1);
	/* a flipped byte anywhere, and every cut */
	f = fopen(path, "rb");
	n = f ? fread(buf, 1, sizeof buf, f) : 0;
	if (f)
		fclose(f);
	KT_CHECK(n > 40);
	for (size_t at = 0; at < n; at += 7) {
		for (int cut = 0; cut < 2; cut++) {
			f = fopen(path, "wb");
			if (!f)
				continue;
			buf[at] ^= cut ? 0 : 0x40;
			fwrite(buf, 1, cut ? at : n, f);
			buf[at] ^= cut ? 0 : 0x40;
			fclose(f);
			fill(&t, &b, 1);
			memset(&e, 0, sizeof e);
			KT_CHECK(kdckpt_load(path, &t, &e) == -1);
			KT_CHECK(e.msg[0] != '\0');
		}
	}
	/* trailing bytes */
	f = fopen(path, "wb");
	if (f) {
		fwrite(buf, 1, n, f);
		fputc(0, f);
		fclose(f);
	}
	fill(&t, &b, 1);
	KT_CHECK(kdckpt_load(path, &t, &e) == -1);
	unlink(path);
	KT_CHECK(kdckpt_load(path, &t, &e) == -1);
}

int
main(void)
{
	KT_RUN(test_round_trip);
	KT_RUN(test_refusals);
	return kt_done();
}
