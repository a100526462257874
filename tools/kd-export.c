/* kd-export: a kd model as code that runs without kd: C99 source, or ONNX. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "export.h"
#include "model.h"
#include "onnx.h"
#include "out.h"

static void
usage(void)
{
	printf("Usage: kd-export --c -o FILE.c [--name NAME] [--int8] MODEL\n"
	       "       kd-export --onnx [-o FILE.onnx] MODEL\n"
	       "Turn a kd model into code that runs without kd.\n"
	       "\n"
	       "--c writes one C99 source file and its header (FILE.h beside\n"
	       "FILE.c) with the weights, the input standardisation and the class\n"
	       "names baked in. The header declares, for NAME:\n"
	       "  NAME_INPUTS, NAME_CLASSES       features in a row, classes\n"
	       "  NAME_class_names[]              class names (NULL when unnamed)\n"
	       "  void NAME_logits(const float *x, float *logits)\n"
	       "  void NAME_probs(const float *x, float *probs)\n"
	       "  int  NAME_predict(const float *x)\n"
	       "x is one row of raw features as kd reads them (the CSV's numbers,\n"
	       "IDX pixels divided by 255). The code needs only libm, allocates\n"
	       "nothing, is reentrant and compiles with\n"
	       "cc -std=c99 -Wall -Wextra -Werror -pedantic. Its logits match\n"
	       "kd-teacher -m's to float rounding. --int8 stores each weight as a\n"
	       "signed byte with one float scale per output unit: four times\n"
	       "smaller, with a small change in the logits.\n"
	       "\n"
	       "--onnx writes an ONNX model (opset 13): input \"input\" (N, D) float,\n"
	       "the standardisation as Sub and Mul, one Gemm per layer with Relu\n"
	       "between, outputs \"logits\" (N, K) and \"probabilities\" (Softmax);\n"
	       "the class names (a JSON array) and the model's fingerprint are in\n"
	       "its metadata, under class_names and kd_model_fingerprint.\n"
	       "\n"
	       "Options:\n"
	       "      --c            write C99 source (-o FILE.c required)\n"
	       "      --onnx         write an ONNX model (to stdout without -o)\n"
	       "  -o, --output FILE  write to FILE (atomically); with --c the header\n"
	       "                     goes beside it, FILE without .c, then .h\n"
	       "      --name NAME    the C prefix of the functions (default: FILE's\n"
	       "                     base name, made an identifier)\n"
	       "      --int8         with --c: weights as bytes with per-unit scales\n"
	       "  -h, --help         show this help and exit\n"
	       "  -V, --version      show the version and exit\n"
	       "\n"
	       "Exit status: 0 on success, 1 on an error (a damaged model, a write\n"
	       "that fails: nothing is left behind), 2 on bad usage.\n"
	       "\n"
	       "Examples:\n"
	       "  kd-export --c -o student.c student.kdm     # student.c, student.h\n"
	       "  cc -std=c99 -O2 -c student.c\n"
	       "  kd-export --c --int8 --name tiny -o tiny.c student.kdm\n"
	       "  kd-export --onnx -o student.onnx student.kdm\n");
}

/* default_name: FILE's base name without its extension, every other
 * character than a letter, digit or _ made _, and "m" in front when it
 * would start with a digit or _; into buf (65 bytes) */
static void
default_name(const char *path, char *buf)
{
	const char *b = strrchr(path, '/');
	size_t n = 0;

	b = b ? b + 1 : path;
	if (isdigit((unsigned char)*b) || *b == '_' || !*b || *b == '.')
		buf[n++] = 'm';
	for (; *b && *b != '.' && n < 64; b++)
		buf[n++] = isalnum((unsigned char)*b) ? *b : '_';
	buf[n] = '\0';
}

/* header_path: path with a final ".c" replaced by ".h" (or ".h" added) */
static char *
header_path(const char *path)
{
	size_t n = strlen(path);
	char *h = malloc(n + 3);

	if (!h)
		kdc_die("out of memory");
	memcpy(h, path, n + 1);
	if (n > 2 && !strcmp(path + n - 2, ".c"))
		h[n - 1] = 'h';
	else
		strcat(h, ".h");
	return h;
}

/* export_c: m to outpath and its header (the C exporter's files) */
static void
export_c(const kdm_model *m, const char *model, const char *outpath, const char *name,
         int int8)
{
	char *hpath = header_path(outpath);
	const char *hbase = strrchr(hpath, '/') ? strrchr(hpath, '/') + 1 : hpath;
	const char *ins[1] = { model };
	kd_err e = { { 0 }, 0 };
	kdout_file oc, oh;

	kdc_not_input("-o", outpath, ins, 1);
	kdc_not_input("-o (its header)", hpath, ins, 1);
	if (kdout_open(&oc, outpath, 0, &e))
		kdc_fail(&e);
	if (kdout_open(&oh, hpath, 0, &e)) {
		kdout_abort(&oc);
		kdc_fail(&e);
	}
	if (kdex_c(m, name, hbase, model, int8, oc.fp, oh.fp, &e))
		goto fail;
	if (kdout_commit(&oh, &e)) {
		kdout_abort(&oc);
		kdc_fail(&e);
	}
	if (kdout_commit(&oc, &e)) {
		unlink(hpath); /* the header alone is of no use */
		kdc_fail(&e);
	}
	free(hpath);
	return;
fail:
	kdout_abort(&oc);
	kdout_abort(&oh);
	if (e.code == KD_EIO)
		kdc_die("'%s': %s", outpath, e.msg);
	kdc_fail(&e);
}

/* export_onnx: m as ONNX to outpath (NULL or "-": stdout) */
static void
export_onnx(const kdm_model *m, const char *model, const char *outpath)
{
	const char *ins[1] = { model };
	kd_err e = { { 0 }, 0 };
	kdout_file o;

	kdc_not_input("-o", outpath, ins, 1);
	if (kdout_open(&o, outpath, 1, &e))
		kdc_fail(&e);
	if (kdnx_write(m, o.fp, o.name, &e) || kdout_commit(&o, &e)) {
		kdout_abort(&o);
		kdc_fail(&e);
	}
}

int
main(int argc, char **argv)
{
	enum { OPT_C = 256, OPT_ONNX, OPT_NAME, OPT_INT8 };
	static const struct option longopts[] = {
		{ "c", no_argument, NULL, OPT_C },
		{ "onnx", no_argument, NULL, OPT_ONNX },
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "int8", no_argument, NULL, OPT_INT8 },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int to_c = 0, to_onnx = 0, int8 = 0, c;
	const char *outpath = NULL, *name = NULL;
	char defname[65];
	kd_err e = { { 0 }, 0 };
	kdm_model *m;

	kdc_init(argv[0]);
	while ((c = getopt_long(argc, argv, "o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_C: to_c = 1; break;
		case OPT_ONNX: to_onnx = 1; break;
		case 'o': outpath = optarg; break;
		case OPT_NAME: name = optarg; break;
		case OPT_INT8: int8 = 1; break;
		case 'h': usage(); kdc_close_stdout(); return 0;
		case 'V': kdc_version();
		default: kdc_bad_option(argv);
		}
	}
	if (to_c + to_onnx != 1)
		kdc_usage_error("give one of --c and --onnx");
	if (argc - optind != 1)
		kdc_usage_error("one model file is required");
	if (to_onnx && (int8 || name))
		kdc_usage_error("--int8 and --name go with --c");
	if (to_c && (!outpath || !strcmp(outpath, "-")))
		kdc_usage_error("--c writes two files: give the source's name with -o FILE.c");
	if (name && !kdex_name_ok(name))
		kdc_usage_error("--name: '%s' is not a C identifier (letters, digits and _, "
		                "at most 64, not starting with a digit or _)", name);
	if (to_c && !name) {
		default_name(outpath, defname);
		name = defname;
	}
	if (!(m = kdmod_load(argv[optind], &e)))
		kdc_fail(&e);
	if (to_c)
		export_c(m, argv[optind], outpath, name, int8);
	else
		export_onnx(m, argv[optind], outpath);
	kdm_free(m);
	return 0;
}
