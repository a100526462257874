/* ckpt.c: training checkpoints (see ckpt.h and CHECKPOINT-FORMAT.md),
 * written and read field by field in little-endian order. */
#include "ckpt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "binfile.h"
#include "le.h"
#include "out.h"

static const unsigned char MAGIC[4] = { 'K', 'D', 'K', 0x1a };

#define HEADER_SIZE 96 /* bytes before the order array */
#define FLAG_BEST 1u   /* the best parameters follow the velocities */
#define FLAG_AVG  2u   /* the moving average follows them (--ema) */
#define FLAG_ADAM 4u   /* Adam's second moments follow them */
#define FLAG_STOP 8u   /* the best epoch follows them (--patience) */
#define FLAG_HINT 16u  /* the hint's regressor comes last (--hint) */

/* ---- writing ---- */

/* flags_of: the flags of a run whose state is s */
static uint32_t
flags_of(const kdckpt_state *s)
{
	return (s->best ? FLAG_BEST : 0) | (s->avg ? FLAG_AVG : 0) |
	       (s->sq ? FLAG_ADAM : 0) | (s->patience ? FLAG_STOP : 0) |
	       (s->nhint ? FLAG_HINT : 0);
}

int
kdckpt_save(const char *path, const kdckpt_state *s, kd_err *e)
{
	unsigned char h[HEADER_SIZE];
	kdout_file o;
	kdbin_writer w;

	memset(h, 0, sizeof h);
	memcpy(h, MAGIC, 4);
	kd_put_u32(h + 4, KDCKPT_FORMAT_VERSION);
	kd_put_u32(h + 8, s->fingerprint);
	kd_put_u32(h + 12, flags_of(s));
	kd_put_u64(h + 16, s->epoch);
	kd_put_u64(h + 24, s->epochs);
	kd_put_u64(h + 32, s->n);
	kd_put_u64(h + 40, s->nparams);
	for (int i = 0; i < 4; i++)
		kd_put_u64(h + 48 + 8 * i, s->rng.s[i]);
	kd_put_f64(h + 80, s->first_loss);
	kd_put_f64(h + 88, s->best_err);

	if (kdout_open(&o, path, 1, e))
		return -1;
	kdbin_writer_init(&w, o.fp);
	kdbin_write(&w, h, sizeof h);
	kdbin_write_u32s(&w, s->order, s->n);
	kdbin_write_u32s(&w, s->params, s->nparams);
	kdbin_write_u32s(&w, s->vel, s->nparams);
	if (s->best)
		kdbin_write_u32s(&w, s->best, s->nparams);
	if (s->avg)
		kdbin_write_u32s(&w, s->avg, s->nparams);
	if (s->sq)
		kdbin_write_u32s(&w, s->sq, s->nparams);
	if (s->patience) {
		unsigned char b[8];
		kd_put_u64(b, s->best_epoch);
		kdbin_write(&w, b, 8);
	}
	if (s->nhint) {
		unsigned char b[8];
		kd_put_u64(b, s->nhint);
		kdbin_write(&w, b, 8);
		kdbin_write_u32s(&w, s->hint, s->nhint);
		kdbin_write_u32s(&w, s->hint_vel, s->nhint);
		if (s->sq)
			kdbin_write_u32s(&w, s->hint_sq, s->nhint);
	}
	kdbin_write_crc(&w);
	/* a failed write leaves ferror set: kdout_commit reports it and
	 * removes the temporary, so the previous checkpoint stays */
	return kdout_commit(&o, e);
}

/* ---- reading ---- */

/* order_ok: order is a permutation of 0..n-1 */
static int
order_ok(const uint32_t *order, size_t n)
{
	unsigned char *seen = calloc(n ? n : 1, 1);
	int ok = seen != NULL;

	for (size_t i = 0; ok && i < n; i++) {
		if (order[i] >= n || seen[order[i]])
			ok = 0;
		else
			seen[order[i]] = 1;
	}
	free(seen);
	return ok;
}

static int
load(kdbin_reader *r, kdckpt_state *s, uint64_t size)
{
	const char *path = r->path;
	kd_err *e = r->e;
	unsigned char h[HEADER_SIZE], be[8] = { 0 }, hn[8] = { 0 };
	uint32_t version, flags;
	uint64_t expect;

	if (size < 8) {
		kd_err_set(e, KD_EFORMAT, "'%s': not a kd checkpoint", path);
		return -1;
	}
	if (kdbin_read(r, h, size < HEADER_SIZE ? 8 : HEADER_SIZE))
		return -1;
	if (memcmp(h, MAGIC, 4)) {
		kd_err_set(e, KD_EFORMAT, "'%s': not a kd checkpoint", path);
		return -1;
	}
	version = kd_get_u32(h + 4);
	if (version != KDCKPT_FORMAT_VERSION) {
		kd_err_set(e, KD_EFORMAT, "'%s': checkpoint format version %lu is not supported (this kd reads version %d)",
		           path, (unsigned long)version, KDCKPT_FORMAT_VERSION);
		return -1;
	}
	if (size < HEADER_SIZE) {
		kd_err_set(e, KD_EFORMAT, "'%s': truncated checkpoint", path);
		return -1;
	}
	flags = kd_get_u32(h + 12);
	if (kd_get_u32(h + 8) != s->fingerprint || kd_get_u64(h + 24) != s->epochs ||
	    kd_get_u64(h + 32) != s->n || kd_get_u64(h + 40) != s->nparams ||
	    flags != flags_of(s)) {
		kd_err_set(e, KD_EMISMATCH, "'%s': a checkpoint of another run (other data, "
		           "options or model shape): cannot resume this one", path);
		return -1;
	}
	/* n and nparams are the run's own, so this cannot overflow */
	expect = HEADER_SIZE + 4 * (uint64_t)s->n +
	         4 * (uint64_t)s->nparams * (2 + !!s->best + !!s->avg + !!s->sq) +
	         8 * !!s->patience + 4;
	if (s->nhint) /* the run's own regressor: no overflow either */
		expect += 8 + 4 * (uint64_t)s->nhint * (2 + !!s->sq);
	if (size != expect) {
		kd_err_set(e, KD_EFORMAT, "'%s': %s (%llu bytes, expected %llu)", path,
		           size < expect ? "truncated checkpoint" : "trailing garbage after the checkpoint",
		           (unsigned long long)size, (unsigned long long)expect);
		return -1;
	}
	if (kdbin_read_u32s(r, s->order, s->n) || kdbin_read_u32s(r, s->params, s->nparams) ||
	    kdbin_read_u32s(r, s->vel, s->nparams) ||
	    (s->best && kdbin_read_u32s(r, s->best, s->nparams)) ||
	    (s->avg && kdbin_read_u32s(r, s->avg, s->nparams)) ||
	    (s->sq && kdbin_read_u32s(r, s->sq, s->nparams)) ||
	    (s->patience && kdbin_read(r, be, 8)) ||
	    (s->nhint && kdbin_read(r, hn, 8)))
		return -1;
	if (s->nhint && kd_get_u64(hn) != s->nhint) {
		kd_err_set(e, KD_EMISMATCH, "'%s': a checkpoint of another run (another hint "
		           "regressor): cannot resume this one", path);
		return -1;
	}
	if (s->nhint && (kdbin_read_u32s(r, s->hint, s->nhint) ||
	                 kdbin_read_u32s(r, s->hint_vel, s->nhint) ||
	                 (s->sq && kdbin_read_u32s(r, s->hint_sq, s->nhint))))
		return -1;
	if (kdbin_read_crc(r))
		return -1;
	s->epoch = kd_get_u64(h + 16);
	for (int i = 0; i < 4; i++)
		s->rng.s[i] = kd_get_u64(h + 48 + 8 * i);
	s->first_loss = kd_get_f64(h + 80);
	s->best_err = kd_get_f64(h + 88);
	s->best_epoch = kd_get_u64(be);
	/* the checksum held: what fails below was written this way */
	if (s->epoch < 1 || s->epoch > s->epochs || s->best_epoch > s->epoch ||
	    !(s->rng.s[0] | s->rng.s[1] | s->rng.s[2] | s->rng.s[3]) ||
	    !isfinite(s->first_loss) || isnan(s->best_err) ||
	    !order_ok(s->order, s->n)) {
		kd_err_set(e, KD_EFORMAT, "'%s': bad checkpoint (an impossible training state)", path);
		return -1;
	}
	return 0;
}

int
kdckpt_load(const char *path, kdckpt_state *s, kd_err *e)
{
	struct stat st;
	kdbin_reader r;
	int rc;
	FILE *f = kdbin_open_file(path, &st, e);

	if (!f)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		kd_err_set(e, KD_EIO, "cannot read '%s': not a regular file", path);
		fclose(f);
		return -1;
	}
	kdbin_reader_init(&r, f, path, "checkpoint", e);
	rc = load(&r, s, (uint64_t)st.st_size);
	fclose(f);
	return rc;
}
