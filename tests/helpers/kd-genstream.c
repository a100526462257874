/* kd-genstream: a deterministic kd stream generator, for tests and bench
 * only (like zstd's datagen). Logits are Gaussian with a spread of --scale;
 * probabilities and log-probabilities are their softmax. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "kds.h"
#include "out.h"
#include "prob.h"
#include "rng.h"

static void
usage(void)
{
	printf("Usage: kd-genstream --rows N --classes K [--kind KIND] [--labels]\n"
	       "                    [--inputs D] [--u8] [--seed S] [--first-id I]\n"
	       "                    [--scale X] [-T TEMP] [-o FILE]\n"
	       "Write a deterministic kd stream of N random records (tests only).\n");
}

int
main(int argc, char **argv)
{
	enum { O_ROWS = 256, O_CLASSES, O_KIND, O_LABELS, O_INPUTS, O_U8, O_SEED, O_FIRST, O_SCALE };
	static const struct option longopts[] = {
		{ "rows", required_argument, NULL, O_ROWS },
		{ "classes", required_argument, NULL, O_CLASSES },
		{ "kind", required_argument, NULL, O_KIND },
		{ "labels", no_argument, NULL, O_LABELS },
		{ "inputs", required_argument, NULL, O_INPUTS },
		{ "u8", no_argument, NULL, O_U8 },
		{ "seed", required_argument, NULL, O_SEED },
		{ "first-id", required_argument, NULL, O_FIRST },
		{ "scale", required_argument, NULL, O_SCALE },
		{ "temperature", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	long long rows = -1, first = 0;
	uint64_t seed = 1;
	double scale = 3.0;
	const char *outpath = NULL;
	kds_header h;
	kdr_rng rng;
	kd_err e;
	kdout_file o;
	kds_writer *w;
	float *z, *v, *x;
	int c, u8 = 0;

	kdc_init(argv[0]);
	kds_header_init(&h, 0, KDP_LOGITS);
	while ((c = getopt_long(argc, argv, "T:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case O_ROWS: rows = kdc_long("--rows", optarg, 0, 1LL << 40); break;
		case O_CLASSES: h.k = (uint32_t)kdc_long("--classes", optarg, 1, KDS_MAX_K); break;
		case O_KIND:
			if ((h.kind = kdp_kind_parse(optarg)) < 0)
				kdc_usage_error("--kind: '%s'", optarg);
			break;
		case O_LABELS: h.has_label = 1; break;
		case O_INPUTS: h.dim = (uint32_t)kdc_long("--inputs", optarg, 1, KDS_MAX_DIM); break;
		case O_U8: u8 = 1; break;
		case O_SEED: seed = (uint64_t)kdc_long("--seed", optarg, 0, 1LL << 62); break;
		case O_FIRST: first = kdc_long("--first-id", optarg, 0, 1LL << 62); break;
		case O_SCALE: scale = kdc_double("--scale", optarg, 0, 1e30, 0); break;
		case 'T': h.temp = kdc_double("-T", optarg, 0, 1e12, 1); break;
		case 'o': outpath = optarg; break;
		case 'h': usage(); return 0;
		default: kdc_usage_error("unknown option");
		}
	}
	if (rows < 0 || h.k == 0)
		kdc_usage_error("--rows and --classes are required");
	if (h.dim)
		h.input_type = u8 ? KDS_IN_U8 : KDS_IN_F32;
	kdr_init(&rng, seed);
	z = malloc(4 * (size_t)h.k);
	v = malloc(4 * (size_t)h.k);
	x = malloc(4 * (size_t)h.dim + 4);
	if (!z || !v || !x)
		kdc_die("out of memory");
	if (kdout_open(&o, outpath, 1, &e) || !(w = kds_create(o.fp, o.name, &h, &e)))
		kdc_fail(&e);
	for (long long i = 0; i < rows; i++) {
		kds_record r;
		for (uint32_t k = 0; k < h.k; k++)
			z[k] = (float)(scale * kdr_normal(&rng));
		if (h.kind == KDP_LOGITS)
			for (uint32_t k = 0; k < h.k; k++)
				v[k] = z[k];
		else
			kdp_soften(KDP_LOGITS, z, h.k, 1.0, h.kind == KDP_LOGPROBS, v);
		for (uint32_t j = 0; j < h.dim; j++)
			x[j] = u8 ? (float)kdr_below(&rng, 256) / 255.0f : (float)kdr_normal(&rng);
		r.id = (uint64_t)(first + i);
		r.label = (int32_t)kdr_below(&rng, h.k);
		r.values = v;
		r.inputs = x;
		if (kds_write(w, &r, &e))
			kdc_fail(&e);
	}
	if (kds_finish(w, &e) || kdout_commit(&o, &e))
		kdc_fail(&e);
	kds_writer_free(w);
	free(z);
	free(v);
	free(x);
	return 0;
}
