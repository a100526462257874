/* test_onnx.c: kd-export's writers (onnx.h, export.h).
 *
 * The ONNX file is read back here by a small protobuf reader written from
 * the wire format alone (key varint = field << 3 | type; type 0 a varint,
 * type 2 a length and bytes), independent of onnx.c's writer: every
 * length must fit its parent, and the fields must hold the model (the IR
 * version, the opset, the nodes in order, each weight's raw bytes, the
 * metadata). python3-onnx's checker and onnxruntime read the same files in
 * tests/bats/export.bats. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "kdtest.h"
#include "le.h"
#include "mlp.h"
#include "model.h"
#include "onnx.h"

/* ---- a protobuf reader ---- */

typedef struct span {
	const unsigned char *p, *end;
} span;

/* field: the next field of s: its number, type, varint value or bytes;
 * 1, 0 at the end, -1 when it runs past the end or has another type */
typedef struct field {
	unsigned num, type;
	uint64_t v;
	span b;
} field;

static int
varint(span *s, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (s->p >= s->end)
			return -1;
		unsigned char c = *s->p++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
	}
	return -1;
}

static int
next(span *s, field *f)
{
	uint64_t key;

	if (s->p == s->end)
		return 0;
	if (varint(s, &key))
		return -1;
	f->num = (unsigned)(key >> 3);
	f->type = (unsigned)(key & 7);
	if (f->type == 0)
		return varint(s, &f->v) ? -1 : 1;
	if (f->type != 2 || varint(s, &f->v) || f->v > (uint64_t)(s->end - s->p))
		return -1;
	f->b.p = s->p;
	f->b.end = s->p + f->v;
	s->p += f->v;
	return 1;
}

/* str_eq: the bytes of f are the string s */
static int
str_eq(const field *f, const char *s)
{
	return f->b.end - f->b.p == (long)strlen(s) && !memcmp(f->b.p, s, strlen(s));
}

/* a model 3-4-2 with standardisation, names and known weights */
static kdm_model *
small_model(void)
{
	size_t sizes[3] = { 3, 4, 2 };
	const float mean[3] = { 1.0f, -2.0f, 0.5f }, std[3] = { 2.0f, 0.25f, 1.0f };
	const char *const names[2] = { "cat \"x\"", "dog\\y" };
	kdm_model *m = kdm_alloc(sizes, 2, NULL);

	if (!m)
		return NULL;
	for (size_t i = 0; i < m->nparams; i++)
		m->params[i] = (float)((double)i * 0.37 - 3.1);
	if (kdm_set_standardize(m, mean, std, NULL) || kdm_set_name_list(m, names, NULL)) {
		kdm_free(m);
		return NULL;
	}
	return m;
}

/* onnx_bytes: m written by kdnx_write, read back; *len its size */
static unsigned char *
onnx_bytes(const kdm_model *m, size_t *len)
{
	FILE *f = tmpfile();
	unsigned char *buf = NULL;
	kd_err e = { { 0 }, 0 };
	long n;

	if (!f)
		return NULL;
	if (kdnx_write(m, f, "mem", &e) == 0 && (n = ftell(f)) > 0 && (buf = malloc((size_t)n))) {
		rewind(f);
		*len = fread(buf, 1, (size_t)n, f);
	}
	fclose(f);
	return buf;
}

/* tensor_check: an initializer f holds a float tensor named as one of m's
 * (mean, istd, W0, b0, ...) with m's shape and values, bit for bit;
 * returns 1 when it matched one, and counts it in *seen */
static int
tensor_check(const kdm_model *m, span t, int *seen)
{
	size_t dims[2], nd = 0, n = 1;
	const float *want = NULL;
	char name[32] = "";
	field f;
	span raw = { NULL, NULL };
	int r, type = 0;

	while ((r = next(&t, &f)) == 1) {
		if (f.num == 1 && f.type == 0 && nd < 2)
			dims[nd++] = (size_t)f.v;
		else if (f.num == 2 && f.type == 0)
			type = (int)f.v;
		else if (f.num == 8 && f.type == 2 && f.v < sizeof name)
			memcpy(name, f.b.p, f.v), name[f.v] = '\0';
		else if (f.num == 9 && f.type == 2)
			raw = f.b;
	}
	if (r < 0 || type != 1)
		return 0;
	if (!strcmp(name, "mean") && nd == 1 && dims[0] == m->D)
		want = m->mean;
	else if (!strcmp(name, "istd") && nd == 1 && dims[0] == m->D)
		want = m->istd;
	else if (name[0] == 'W' && nd == 2) {
		size_t l = (size_t)atoi(name + 1);
		if (l < m->n_layers && dims[0] == m->sizes[l + 1] && dims[1] == m->sizes[l])
			want = m->W[l];
	} else if (name[0] == 'b' && nd == 1) {
		size_t l = (size_t)atoi(name + 1);
		if (l < m->n_layers && dims[0] == m->sizes[l + 1])
			want = m->b[l];
	}
	if (!want)
		return 0;
	for (size_t i = 0; i < nd; i++)
		n *= dims[i];
	if ((size_t)(raw.end - raw.p) != 4 * n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t u = (uint32_t)raw.p[4 * i] | (uint32_t)raw.p[4 * i + 1] << 8 |
		             (uint32_t)raw.p[4 * i + 2] << 16 | (uint32_t)raw.p[4 * i + 3] << 24;
		float v;
		memcpy(&v, &u, 4);
		if (memcmp(&v, &want[i], 4))
			return 0;
	}
	(*seen)++;
	return 1;
}

/* the ops of the graph's nodes, in order, joined by ',' into ops */
static void
graph_check(const kdm_model *m, span g, char *ops, size_t cap, int *tensors, int *ios)
{
	field f, nf;
	int r;

	ops[0] = '\0';
	while ((r = next(&g, &f)) == 1) {
		if (f.num == 1 && f.type == 2) { /* NodeProto: op_type 4 */
			span n = f.b;
			while (next(&n, &nf) == 1)
				if (nf.num == 4 && nf.type == 2 && strlen(ops) + nf.v + 2 < cap) {
					if (ops[0])
						strcat(ops, ",");
					strncat(ops, (const char *)nf.b.p, nf.v);
				}
		} else if (f.num == 5 && f.type == 2) {
			KT_CHECK(tensor_check(m, f.b, tensors));
		} else if ((f.num == 11 || f.num == 12) && f.type == 2) {
			span v = f.b;
			while (next(&v, &nf) == 1)
				if (nf.num == 1)
					*ios += str_eq(&nf, "input") || str_eq(&nf, "logits") ||
					        str_eq(&nf, "probabilities");
		}
	}
	KT_CHECK(r == 0);
}

static void
test_onnx_fields(void)
{
	kdm_model *m = small_model();
	size_t len = 0;
	unsigned char *buf = m ? onnx_bytes(m, &len) : NULL;
	span s = { buf, buf + len };
	field f, mf;
	char ops[128] = "", fp[17];
	int r, ir = 0, opset = 0, tensors = 0, ios = 0, names = 0, fps = 0;

	KT_CHECK(m && buf && len > 0);
	if (!buf) {
		kdm_free(m);
		return;
	}
	snprintf(fp, sizeof fp, "%016llx", (unsigned long long)kdmod_fingerprint(m));
	while ((r = next(&s, &f)) == 1) {
		if (f.num == 1 && f.type == 0)
			ir = (int)f.v;
		else if (f.num == 7 && f.type == 2)
			graph_check(m, f.b, ops, sizeof ops, &tensors, &ios);
		else if (f.num == 8 && f.type == 2) { /* OperatorSetIdProto */
			span o = f.b;
			while (next(&o, &mf) == 1)
				if (mf.num == 2 && mf.type == 0)
					opset = (int)mf.v;
		} else if (f.num == 14 && f.type == 2) { /* StringStringEntryProto */
			span e = f.b;
			field key = { 0 }, val = { 0 };
			while (next(&e, &mf) == 1)
				*(mf.num == 1 ? &key : &val) = mf;
			if (str_eq(&key, "class_names"))
				names += str_eq(&val, "[\"cat \\\"x\\\"\",\"dog\\\\y\"]");
			if (str_eq(&key, "kd_model_fingerprint"))
				fps += str_eq(&val, fp);
		}
	}
	KT_CHECK(r == 0);
	KT_CHECK(ir == 7);
	KT_CHECK(opset == 13);
	KT_CHECK(!strcmp(ops, "Sub,Mul,Gemm,Relu,Gemm,Softmax"));
	KT_CHECK(tensors == 6); /* mean, istd, W0, b0, W1, b1 */
	KT_CHECK(ios == 3);
	KT_CHECK(names == 1);
	KT_CHECK(fps == 1);
	free(buf);
	kdm_free(m);
}

/* a write that fails is reported, by the name given */
static void
test_onnx_write_error(void)
{
	kdm_model *m = small_model();
	FILE *f = fopen("/dev/null", "r"); /* writes to it fail */
	kd_err e = { { 0 }, 0 };

	KT_CHECK(m && f);
	if (m && f) {
		KT_CHECK(kdnx_write(m, f, "ro.onnx", &e) == -1);
		KT_CHECK(strstr(e.msg, "'ro.onnx'") != NULL);
	}
	if (f)
		fclose(f);
	kdm_free(m);
}

static void
test_export_names(void)
{
	KT_CHECK(kdex_name_ok("student"));
	KT_CHECK(kdex_name_ok("m9_lives_v2"));
	KT_CHECK(!kdex_name_ok(""));
	KT_CHECK(!kdex_name_ok("9x"));
	KT_CHECK(!kdex_name_ok("_x"));
	KT_CHECK(!kdex_name_ok("a-b"));
	KT_CHECK(!kdex_name_ok("x;y"));
	KT_CHECK(kdex_name_ok("a234567890123456789012345678901234567890123456789012345678901234"));
	KT_CHECK(!kdex_name_ok("a2345678901234567890123456789012345678901234567890123456789012345"));
}

/* the C source: refused for a parameter that is not finite or a header
 * #include cannot name; otherwise the weights are there as exact
 * hexadecimal floats, and as bytes with --int8 */
static void
test_export_c(void)
{
	kdm_model *m = small_model();
	FILE *c = tmpfile(), *h = tmpfile();
	kd_err e = { { 0 }, 0 };
	char text[1 << 16], want[64];
	size_t n;

	KT_CHECK(m && c && h);
	if (!m || !c || !h)
		goto out;
	KT_CHECK(kdex_c(m, "s", "a\"b.h", "s.kdm", 0, c, h, &e) == -1);
	KT_CHECK(strstr(e.msg, "#include") != NULL);
	KT_CHECK(kdex_c(m, "s", "s.h", "s.kdm", 0, c, h, &e) == 0);
	rewind(c);
	n = fread(text, 1, sizeof text - 1, c);
	text[n] = '\0';
	snprintf(want, sizeof want, "%af", (double)m->W[1][5]);
	KT_CHECK(strstr(text, want) != NULL);
	KT_CHECK(strstr(text, "\"cat \\042x\\042\"") != NULL);
	KT_CHECK(strstr(text, "\"dog\\134y\"") != NULL);
	KT_CHECK(strstr(text, "#include \"s.h\"") != NULL);
	m->params[3] = NAN;
	KT_CHECK(kdex_c(m, "s", "s.h", "s.kdm", 1, c, h, &e) == -1);
	KT_CHECK(strstr(e.msg, "not finite") != NULL);
out:
	if (c)
		fclose(c);
	if (h)
		fclose(h);
	kdm_free(m);
}

int
main(void)
{
	KT_RUN(test_onnx_fields);
	KT_RUN(test_onnx_write_error);
	KT_RUN(test_export_names);
	KT_RUN(test_export_c);
	return kt_done();
}
