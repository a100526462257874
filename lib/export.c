/* export.c: a model as C99 source (see export.h). */
#include "export.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int
kdex_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64 || name[0] == '_' || isdigit((unsigned char)name[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return 0;
	return 1;
}

/* file_ok: 1 when s may stand in #include "s": a file name of printable
 * ASCII without a quote, a backslash, a slash or a question mark (which
 * could end the name, escape, or form a trigraph) */
static int
file_ok(const char *s)
{
	if (!*s || strlen(s) > 200)
		return 0;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || strchr("\"'\\/?", *s))
			return 0;
	return 1;
}

/* comment_ok: 1 when s can go inside a C comment unchanged */
static int
comment_ok(const char *s)
{
	for (const char *c = s; *c; c++)
		if (*c == '\n' || *c == '\r' || (c[0] == '*' && c[1] == '/') ||
		    (c[0] == '/' && c[1] == '*') || (unsigned char)*c < 0x20)
			return 0;
	return 1;
}

/* put_floats: "{ a, b, ... }" of n floats as exact hexadecimal literals */
static void
put_floats(FILE *f, const float *v, size_t n)
{
	fputs("{\n", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%af,%s", i % 6 ? " " : "\t", (double)v[i], i % 6 == 5 || i == n - 1 ? "\n" : "");
	fputs("}", f);
}

/* put_string: s as a C string literal, every byte outside printable
 * ASCII (and " \ ?) as an octal escape, so that no name can end the
 * literal or form a trigraph */
static void
put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\' && *c != '?')
			fputc(*c, f);
		else
			fprintf(f, "\\%03o", *c);
	}
	fputc('"', f);
}

/* quantise: row r of W (n_out, n_in) to bytes q with scale s[r] =
 * max |w| / 127 (1 for a row of zeros): w ~ q * s. (A scale chosen for
 * the least squared error, clipping the largest weights, agreed no
 * better with the float model on Fashion-MNIST or digits.) */
static void
quantise(const float *W, size_t n_out, size_t n_in, signed char *q, float *s)
{
	for (size_t r = 0; r < n_out; r++) {
		const float *w = W + r * n_in;
		float mx = 0.0f;
		for (size_t i = 0; i < n_in; i++)
			mx = fabsf(w[i]) > mx ? fabsf(w[i]) : mx;
		s[r] = mx > 0.0f ? mx / 127.0f : 1.0f;
		for (size_t i = 0; i < n_in; i++)
			q[r * n_in + i] = (signed char)lrintf(w[i] / s[r]);
	}
}

static int
finite_all(const float *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

static void
put_header(const kdm_model *m, const char *name, const char *model, FILE *h)
{
	char up[65];
	size_t i;

	for (i = 0; name[i]; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	up[i] = '\0';
	fprintf(h, "/* The kd model '%s' as C99 (kd-export --c): a %zu", model, m->sizes[0]);
	for (size_t l = 1; l <= m->n_layers; l++)
		fprintf(h, "-%zu", m->sizes[l]);
	fprintf(h, " network, fingerprint %016llx. */\n", (unsigned long long)kdmod_fingerprint(m));
	fprintf(h, "#ifndef %s_KD_H\n#define %s_KD_H\n\n", up, up);
	fprintf(h, "#define %s_INPUTS %zu\n#define %s_CLASSES %zu\n\n", up, m->D, up, m->K);
	fprintf(h, "/* the class names (NULL when the model has none) */\n");
	fprintf(h, "extern const char *const %s_class_names[%s_CLASSES];\n\n", name, up);
	fprintf(h, "/* %s_logits: the logits of one row x of %s_INPUTS raw features\n"
	           " * (as kd reads them: CSV numbers, IDX pixels / 255) */\n"
	           "void %s_logits(const float *x, float *logits);\n", name, up, name);
	fprintf(h, "/* %s_probs: the class probabilities, softmax of the logits */\n"
	           "void %s_probs(const float *x, float *probs);\n", name, name);
	fprintf(h, "/* %s_predict: the most probable class, 0 to %s_CLASSES - 1 */\n"
	           "int %s_predict(const float *x);\n\n#endif\n", name, up, name);
}

/* the code that runs the layers: one dense layer, float or int8 */
static const char dense_f[] =
	"/* out (n_out) = W (n_out, n_in) in (n_in) + b, then ReLU when relu */\n"
	"static void\n"
	"dense(const float *W, const float *b, int n_out, int n_in, const float *in,\n"
	"      float *out, int relu)\n"
	"{\n"
	"\tint o, i;\n"
	"\tfor (o = 0; o < n_out; o++) {\n"
	"\t\tconst float *w = W + (long)o * n_in;\n"
	"\t\tfloat s = 0.0f;\n"
	"\t\tfor (i = 0; i < n_in; i++)\n"
	"\t\t\ts += w[i] * in[i];\n"
	"\t\ts += b[o];\n"
	"\t\tout[o] = relu && s < 0.0f ? 0.0f : s;\n"
	"\t}\n"
	"}\n\n";
static const char dense_q[] =
	"/* out (n_out) = (Q (n_out, n_in) in (n_in)) * scale + b, then ReLU when\n"
	" * relu: Q holds the weights as bytes, scale one factor per output */\n"
	"static void\n"
	"dense(const signed char *Q, const float *scale, const float *b, int n_out,\n"
	"      int n_in, const float *in, float *out, int relu)\n"
	"{\n"
	"\tint o, i;\n"
	"\tfor (o = 0; o < n_out; o++) {\n"
	"\t\tconst signed char *q = Q + (long)o * n_in;\n"
	"\t\tfloat s = 0.0f;\n"
	"\t\tfor (i = 0; i < n_in; i++)\n"
	"\t\t\ts += (float)q[i] * in[i];\n"
	"\t\ts = s * scale[o] + b[o];\n"
	"\t\tout[o] = relu && s < 0.0f ? 0.0f : s;\n"
	"\t}\n"
	"}\n\n";

/* put_weights: layer l's weights (and scales) and biases as arrays */
static int
put_weights(const kdm_model *m, size_t l, int int8, FILE *c, kd_err *e)
{
	size_t n_out = m->sizes[l + 1], n_in = m->sizes[l];

	if (!int8) {
		fprintf(c, "static const float W%zu[%zu] = ", l, n_out * n_in);
		put_floats(c, m->W[l], n_out * n_in);
	} else {
		signed char *q = malloc(n_out * n_in);
		float *s = malloc(n_out * sizeof *s);
		if (!q || !s) {
			free(q);
			free(s);
			kd_err_set(e, KD_ENOMEM, "out of memory");
			return -1;
		}
		quantise(m->W[l], n_out, n_in, q, s);
		fprintf(c, "static const signed char W%zu[%zu] = {\n", l, n_out * n_in);
		for (size_t i = 0; i < n_out * n_in; i++)
			fprintf(c, "%s%d,%s", i % 16 ? " " : "\t", q[i], i % 16 == 15 || i == n_out * n_in - 1 ? "\n" : "");
		fprintf(c, "};\nstatic const float S%zu[%zu] = ", l, n_out);
		put_floats(c, s, n_out);
		free(q);
		free(s);
	}
	fprintf(c, ";\nstatic const float b%zu[%zu] = ", l, n_out);
	put_floats(c, m->b[l], n_out);
	fputs(";\n\n", c);
	return 0;
}

/* put_run: NAME_logits, NAME_probs and NAME_predict */
static void
put_run(const kdm_model *m, const char *name, int int8, FILE *c)
{
	size_t L = m->n_layers, maxw = 1;

	for (size_t l = 1; l < L; l++)
		maxw = m->sizes[l] > maxw ? m->sizes[l] : maxw;
	fprintf(c, "void\n%s_logits(const float *x, float *logits)\n{\n", name);
	fprintf(c, "\tfloat a[%zu], h[%zu];\n", maxw, maxw);
	if (m->standardize)
		fprintf(c, "\tfloat z[%zu];\n\tint i;\n\tfor (i = 0; i < %zu; i++)\n"
		           "\t\tz[i] = (x[i] - mean[i]) * istd[i];\n", m->D, m->D);
	fprintf(c, "\t(void)a;\n\t(void)h;\n");
	for (size_t l = 0; l < L; l++) {
		const char *in = l == 0 ? (m->standardize ? "z" : "x") : (l % 2 ? "a" : "h");
		const char *out = l == L - 1 ? "logits" : (l % 2 ? "h" : "a");
		if (int8)
			fprintf(c, "\tdense(W%zu, S%zu, b%zu, %zu, %zu, %s, %s, %d);\n", l, l, l,
			        m->sizes[l + 1], m->sizes[l], in, out, l < L - 1);
		else
			fprintf(c, "\tdense(W%zu, b%zu, %zu, %zu, %s, %s, %d);\n", l, l,
			        m->sizes[l + 1], m->sizes[l], in, out, l < L - 1);
	}
	fputs("}\n\n", c);
	fprintf(c, "void\n%s_probs(const float *x, float *probs)\n{\n"
	           "\tint k;\n\tfloat mx;\n\tdouble sum = 0.0;\n"
	           "\t%s_logits(x, probs);\n\tmx = probs[0];\n"
	           "\tfor (k = 1; k < %zu; k++)\n\t\tmx = probs[k] > mx ? probs[k] : mx;\n"
	           "\tfor (k = 0; k < %zu; k++) {\n\t\tprobs[k] = (float)exp((double)(probs[k] - mx));\n"
	           "\t\tsum += probs[k];\n\t}\n"
	           "\tfor (k = 0; k < %zu; k++)\n\t\tprobs[k] = (float)(probs[k] / sum);\n}\n\n",
	        name, name, m->K, m->K, m->K);
	fprintf(c, "int\n%s_predict(const float *x)\n{\n"
	           "\tfloat z[%zu];\n\tint k, best = 0;\n"
	           "\t%s_logits(x, z);\n"
	           "\tfor (k = 1; k < %zu; k++)\n\t\tif (z[k] > z[best])\n\t\t\tbest = k;\n"
	           "\treturn best;\n}\n", name, m->K, name, m->K);
}

int
kdex_c(const kdm_model *m, const char *name, const char *header, const char *model,
       int int8, FILE *c, FILE *h, kd_err *e)
{
	if (!kdex_name_ok(name)) {
		kd_err_set(e, KD_EUSAGE, "'%s' is not a C identifier (letters, digits and _, "
		           "at most 64, not starting with a digit or _)", name);
		return -1;
	}
	if (!file_ok(header)) {
		kd_err_set(e, KD_EUSAGE, "'%s' cannot be named in #include: give a file name of "
		           "printable ASCII without \" ' \\ or ?", header);
		return -1;
	}
	if (!comment_ok(model))
		model = "(a model file)";
	if (!finite_all(m->params, m->nparams) ||
	    (m->standardize && (!finite_all(m->mean, m->D) || !finite_all(m->istd, m->D)))) {
		kd_err_set(e, KD_ERANGE, "the model '%s' has a parameter that is not finite", model);
		return -1;
	}
	put_header(m, name, model, h);

	fprintf(c, "/* The kd model '%s' as C99 (kd-export --c%s); see %s. */\n", model,
	        int8 ? " --int8" : "", header);
	fprintf(c, "#include \"%s\"\n\n#include <math.h>\n#include <stddef.h>\n\n", header);
	fprintf(c, "const char *const %s_class_names[%zu] = {\n", name, m->K);
	for (size_t k = 0; k < m->K; k++) {
		const char *nm = kdm_name(m, k);
		fputc('\t', c);
		if (nm)
			put_string(c, nm);
		else
			fputs("NULL", c);
		fputs(",\n", c);
	}
	fputs("};\n\n", c);
	if (m->standardize) {
		fprintf(c, "static const float mean[%zu] = ", m->D);
		put_floats(c, m->mean, m->D);
		fprintf(c, ";\nstatic const float istd[%zu] = ", m->D);
		put_floats(c, m->istd, m->D);
		fputs(";\n\n", c);
	}
	for (size_t l = 0; l < m->n_layers; l++)
		if (put_weights(m, l, int8, c, e))
			return -1;
	fputs(int8 ? dense_q : dense_f, c);
	put_run(m, name, int8, c);
	if (ferror(c) || ferror(h)) {
		kd_err_set(e, KD_EIO, "write error: %s", strerror(errno));
		return -1;
	}
	return 0;
}
