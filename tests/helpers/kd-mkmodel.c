/* kd-mkmodel: write an untrained model of a given shape, for tests only.
 *
 *   kd-mkmodel --inputs D --classes K [--hidden W,W...] [--seed S]
 *              [--names a,b,c] [--scale X] -o MODEL
 *
 * Weights are He-initialised from the seed (kdm_new), so the same
 * arguments give the same file; --scale multiplies every parameter, to
 * make confident (or flat) models; --names gives the classes names. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mlp.h"
#include "model.h"

static void
usage(void)
{
	printf("Usage: kd-mkmodel --inputs D --classes K [--hidden W,W...] [--seed S]\n"
	       "                  [--names a,b,c] [--scale X] -o MODEL\n"
	       "Write an untrained, seeded model (tests only).\n");
}

int
main(int argc, char **argv)
{
	enum { O_INPUTS = 256, O_CLASSES, O_HIDDEN, O_SEED, O_NAMES, O_SCALE };
	static const struct option longopts[] = {
		{ "inputs", required_argument, NULL, O_INPUTS },
		{ "classes", required_argument, NULL, O_CLASSES },
		{ "hidden", required_argument, NULL, O_HIDDEN },
		{ "seed", required_argument, NULL, O_SEED },
		{ "names", required_argument, NULL, O_NAMES },
		{ "scale", required_argument, NULL, O_SCALE },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	size_t D = 0, K = 0, hidden[KDM_MAX_LAYERS], nh = 0;
	uint64_t seed = 1;
	double scale = 1.0;
	char *names = NULL;
	const char *out = NULL;
	kdm_model *m;
	kd_err e;
	int c;

	kdc_init(argv[0]);
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case O_INPUTS: D = (size_t)kdc_long("--inputs", optarg, 1, 1 << 24); break;
		case O_CLASSES: K = (size_t)kdc_long("--classes", optarg, 1, 1 << 20); break;
		case O_HIDDEN: {
			char *s = optarg, *end;
			for (;;) {
				if (nh == KDM_MAX_LAYERS - 1)
					kdc_usage_error("--hidden: too many layers");
				hidden[nh++] = strtoul(s, &end, 10);
				if (*end != ',')
					break;
				s = end + 1;
			}
			if (*end)
				kdc_usage_error("--hidden: '%s'", optarg);
			break;
		}
		case O_SEED: seed = (uint64_t)kdc_long("--seed", optarg, 0, 1LL << 62); break;
		case O_NAMES: names = optarg; break;
		case O_SCALE: scale = kdc_double("--scale", optarg, 0, 1e6, 0); break;
		case 'o': out = optarg; break;
		case 'h': usage(); return 0;
		default: kdc_usage_error("unknown option");
		}
	}
	if (!D || !K || !out)
		kdc_usage_error("--inputs, --classes and -o are required");
	if (!(m = kdm_new(D, hidden, nh, K, seed, &e)))
		kdc_fail(&e);
	for (size_t i = 0; i < kdm_nparams(m); i++)
		kdm_params(m)[i] *= (float)scale;
	if (names) {
		/* a,b,c to the model file's blob: commas become NULs */
		size_t len = strlen(names) + 1, n = 1;
		for (char *p = names; *p; p++)
			if (*p == ',') {
				*p = '\0';
				n++;
			}
		if (n != K)
			kdc_usage_error("--names: %zu names for %zu classes", n, K);
		if (kdm_set_names(m, names, len, &e))
			kdc_fail(&e);
	}
	if (kdmod_save(m, out, &e))
		kdc_fail(&e);
	kdm_free(m);
	return 0;
}
