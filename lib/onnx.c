/* onnx.c: a kd model as an ONNX file (onnx.h).
 *
 * An ONNX file is one protobuf message, ModelProto, of onnx/onnx.proto.
 * It is written here field by field with that file's field numbers, so kd
 * needs no protobuf library. Protobuf in brief: a message is a sequence of
 * fields, each a key varint (field number << 3 | wire type) and a value:
 * a varint (wire type 0) or a length varint and that many bytes (wire
 * type 2: strings, bytes and nested messages). Varints are 7 bits a byte,
 * lowest first, the top bit set on every byte but the last.
 *
 * A nested message's length comes before it, so each one is produced
 * twice: into a sink that only counts bytes, for its length, then into
 * the file. Counting a tensor's raw data costs nothing (its length is
 * known), so nothing big is built in memory and the weights go straight
 * from the model to the file, 4 KiB at a time.
 *
 * The graph, for a model of L layers (standardisation optional):
 *
 *   input (N,D) -> Sub mean -> Mul istd -> Gemm W0,b0 -> Relu -> ...
 *               -> Gemm W{L-1},b{L-1} -> logits (N,K) -> Softmax -> probabilities
 *
 * which is what kdm_forward computes: (x - mean) * istd, then x W^T + b
 * per layer with a ReLU between layers. */
#include "onnx.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "le.h"
#include "model.h"

#define ONNX_IR_VERSION 7  /* the first IR version that opset 13 allows */
#define ONNX_OPSET      13 /* the default domain's operator set */
#define ONNX_FLOAT      1  /* TensorProto.DataType FLOAT */
#define ONNX_ATTR_INT   2  /* AttributeProto.AttributeType INT */

enum { PB_VARINT = 0, PB_LEN = 2 }; /* protobuf wire types */

/* ---- the protobuf sink ---- */

/* pb: where protobuf bytes go */
typedef struct pb {
	FILE *fp;    /* the file, or NULL to count bytes only */
	uint64_t n;  /* bytes produced so far */
	int err;     /* errno of the first failed write, or 0 */
} pb;

/* pb_body: writes the fields of one message (or the bytes of one string)
 * described by arg into p; called once to count and once to write, so it
 * must produce the same bytes each time */
typedef void (*pb_body)(pb *p, const void *arg);

/* pb_bytes: len bytes of buf; after a failed write nothing more is
 * written (the count goes on) */
static void
pb_bytes(pb *p, const void *buf, size_t len)
{
	p->n += len;
	if (!p->fp || p->err || !len)
		return;
	errno = 0;
	if (fwrite(buf, 1, len, p->fp) != len)
		p->err = errno ? errno : EIO;
}

/* pb_varint: v as a base-128 varint, lowest 7 bits first */
static void
pb_varint(pb *p, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	while (v >= 0x80) {
		b[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (unsigned char)v;
	pb_bytes(p, b, n);
}

/* pb_key: the key of field number `field` with wire type wt */
static void
pb_key(pb *p, unsigned field, unsigned wt)
{
	pb_varint(p, (uint64_t)field << 3 | wt);
}

/* pb_int: an integer field (int32, int64 or enum; kd's are never
 * negative) */
static void
pb_int(pb *p, unsigned field, uint64_t v)
{
	pb_key(p, field, PB_VARINT);
	pb_varint(p, v);
}

/* pb_str: a string field */
static void
pb_str(pb *p, unsigned field, const char *s)
{
	size_t n = strlen(s);

	pb_key(p, field, PB_LEN);
	pb_varint(p, n);
	pb_bytes(p, s, n);
}

/* pb_nested: a length-delimited field whose contents body writes: counted
 * first for the length that precedes them. A counting sink takes the
 * count as it is, so each level is walked once per level above it, not
 * twice per level. */
static void
pb_nested(pb *p, unsigned field, pb_body body, const void *arg)
{
	pb count = { NULL, 0, 0 };

	body(&count, arg);
	pb_key(p, field, PB_LEN);
	pb_varint(p, count.n);
	if (p->fp)
		body(p, arg);
	else
		p->n += count.n;
}

/* pb_floats: n floats as little-endian IEEE-754 binary32, whatever the
 * host's byte order, through a small buffer */
static void
pb_floats(pb *p, const float *x, size_t n)
{
	unsigned char buf[4096];
	size_t i = 0;

	if (!p->fp) {
		p->n += 4 * (uint64_t)n;
		return;
	}
	while (i < n && !p->err) {
		size_t len = 0;
		for (; i < n && len < sizeof buf; i++, len += 4) {
			uint32_t u;
			memcpy(&u, &x[i], 4);
			kd_put_u32(buf + len, u);
		}
		pb_bytes(p, buf, len);
	}
}

/* ---- ONNX messages, each a body for pb_nested ---- */

/* tensor: a float32 initializer of one or two dimensions */
typedef struct tensor {
	const char *name;  /* its value name in the graph */
	size_t dims[2];    /* its shape */
	size_t ndim;       /* 1 or 2 */
	const float *x;    /* its values, row-major */
} tensor;

/* tensor_body: TensorProto: dims 1, data_type 2, name 8, raw_data 9 */
static void
tensor_body(pb *p, const void *arg)
{
	const tensor *t = arg;
	size_t n = 1;

	for (size_t i = 0; i < t->ndim; i++) {
		pb_int(p, 1, t->dims[i]);
		n *= t->dims[i];
	}
	pb_int(p, 2, ONNX_FLOAT);
	pb_str(p, 8, t->name);
	pb_key(p, 9, PB_LEN);
	pb_varint(p, 4 * (uint64_t)n);
	pb_floats(p, t->x, n);
}

/* dim_body: TensorShapeProto.Dimension: dim_value 1 when arg points to a
 * size_t, else dim_param 2, the symbolic batch size "N" */
static void
dim_body(pb *p, const void *arg)
{
	if (arg)
		pb_int(p, 1, *(const size_t *)arg);
	else
		pb_str(p, 2, "N");
}

/* shape_body: TensorShapeProto (dim 1, repeated): (N, *cols) */
static void
shape_body(pb *p, const void *arg)
{
	pb_nested(p, 1, dim_body, NULL);
	pb_nested(p, 1, dim_body, arg);
}

/* tensor_type_body: TypeProto.Tensor: elem_type 1, shape 2 */
static void
tensor_type_body(pb *p, const void *arg)
{
	pb_int(p, 1, ONNX_FLOAT);
	pb_nested(p, 2, shape_body, arg);
}

/* type_body: TypeProto: tensor_type 1 */
static void
type_body(pb *p, const void *arg)
{
	pb_nested(p, 1, tensor_type_body, arg);
}

/* value_info: a graph input or output, float32 (N, cols) */
typedef struct value_info {
	const char *name;
	size_t cols;
} value_info;

/* value_info_body: ValueInfoProto: name 1, type 2 */
static void
value_info_body(pb *p, const void *arg)
{
	const value_info *v = arg;

	pb_str(p, 1, v->name);
	pb_nested(p, 2, type_body, &v->cols);
}

/* node: one operator of the graph, with at most one integer attribute */
typedef struct node {
	const char *op;      /* op_type: "Gemm", "Relu", ... */
	const char *name;    /* the node's name */
	const char *in[3];   /* input value names */
	size_t n_in;
	const char *out;     /* its output value's name */
	const char *attr;    /* the attribute's name, or NULL */
	uint64_t attr_value; /* its value */
} node;

/* attr_body: AttributeProto: name 1, i 3, type 20 (INT) */
static void
attr_body(pb *p, const void *arg)
{
	const node *n = arg;

	pb_str(p, 1, n->attr);
	pb_int(p, 3, n->attr_value);
	pb_int(p, 20, ONNX_ATTR_INT);
}

/* node_body: NodeProto: input 1, output 2, name 3, op_type 4, attribute 5 */
static void
node_body(pb *p, const void *arg)
{
	const node *n = arg;

	for (size_t i = 0; i < n->n_in; i++)
		pb_str(p, 1, n->in[i]);
	pb_str(p, 2, n->out);
	pb_str(p, 3, n->name);
	pb_str(p, 4, n->op);
	if (n->attr)
		pb_nested(p, 5, attr_body, n);
}

/* layer_name: into buf (32 bytes), what with the layer number l:
 * "W0", "gemm1", ... */
static const char *
layer_name(char *buf, const char *what, size_t l)
{
	snprintf(buf, 32, "%s%zu", what, l);
	return buf;
}

/* graph_nodes: the graph's nodes (GraphProto field 1) in the order they
 * run: Sub and Mul when m standardises, a Gemm per layer (C = b, B = W
 * transposed, as W is stored (out, in)) and a Relu after all but the last,
 * and the Softmax of the logits over the classes (axis 1) */
static void
graph_nodes(pb *p, const kdm_model *m)
{
	char x[32] = "input", g[32], nm[32], w[32], b[32];
	size_t L = m->n_layers;

	if (m->standardize) {
		node sub = { "Sub", "sub", { "input", "mean" }, 2, "centred", NULL, 0 };
		node mul = { "Mul", "mul", { "centred", "istd" }, 2, "standardized", NULL, 0 };
		pb_nested(p, 1, node_body, &sub);
		pb_nested(p, 1, node_body, &mul);
		strcpy(x, "standardized");
	}
	for (size_t l = 0; l < L; l++) {
		node gemm = { "Gemm", layer_name(nm, "gemm", l),
		              { x, layer_name(w, "W", l), layer_name(b, "b", l) }, 3,
		              l == L - 1 ? "logits" : layer_name(g, "gemm", l),
		              "transB", 1 };
		pb_nested(p, 1, node_body, &gemm);
		if (l == L - 1)
			break;
		node relu = { "Relu", layer_name(nm, "relu", l), { g }, 1,
		              layer_name(x, "relu", l), NULL, 0 };
		pb_nested(p, 1, node_body, &relu);
	}
	node softmax = { "Softmax", "softmax", { "logits" }, 1, "probabilities",
	                 "axis", 1 };
	pb_nested(p, 1, node_body, &softmax);
}

/* graph_initializers: the constants (GraphProto field 5): mean and istd
 * (D) when m standardises, then W_l (sizes[l+1], sizes[l]) and b_l
 * (sizes[l+1]) of every layer */
static void
graph_initializers(pb *p, const kdm_model *m)
{
	char w[32], b[32];

	if (m->standardize) {
		tensor mean = { "mean", { m->D, 0 }, 1, m->mean };
		tensor istd = { "istd", { m->D, 0 }, 1, m->istd };
		pb_nested(p, 5, tensor_body, &mean);
		pb_nested(p, 5, tensor_body, &istd);
	}
	for (size_t l = 0; l < m->n_layers; l++) {
		size_t out = m->sizes[l + 1];
		tensor W = { layer_name(w, "W", l), { out, m->sizes[l] }, 2, m->W[l] };
		tensor B = { layer_name(b, "b", l), { out, 0 }, 1, m->b[l] };
		pb_nested(p, 5, tensor_body, &W);
		pb_nested(p, 5, tensor_body, &B);
	}
}

/* graph_body: GraphProto: node 1, name 2, initializer 5, input 11,
 * output 12 */
static void
graph_body(pb *p, const void *arg)
{
	const kdm_model *m = arg;
	value_info in = { "input", m->D };
	value_info logits = { "logits", m->K };
	value_info probs = { "probabilities", m->K };

	graph_nodes(p, m);
	pb_str(p, 2, "kd");
	graph_initializers(p, m);
	pb_nested(p, 11, value_info_body, &in);
	pb_nested(p, 12, value_info_body, &logits);
	pb_nested(p, 12, value_info_body, &probs);
}

/* opset_body: OperatorSetIdProto: domain 1 ("", the ONNX operators),
 * version 2 */
static void
opset_body(pb *p, const void *arg)
{
	(void)arg;
	pb_str(p, 1, "");
	pb_int(p, 2, ONNX_OPSET);
}

/* json_string: s as a JSON string: quotes and backslashes escaped, control
 * characters (and DEL) as \u00XX; runs of plain bytes written at once */
static void
json_string(pb *p, const char *s)
{
	pb_bytes(p, "\"", 1);
	while (*s) {
		size_t run = 0;
		unsigned char c;
		char esc[8];

		while ((c = (unsigned char)s[run]) && c != '"' && c != '\\' &&
		       c >= 0x20 && c != 0x7f)
			run++;
		pb_bytes(p, s, run);
		s += run;
		if (!(c = (unsigned char)*s))
			break;
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof esc, "\\%c", c);
		else
			snprintf(esc, sizeof esc, "\\u%04x", c);
		pb_bytes(p, esc, strlen(esc));
		s++;
	}
	pb_bytes(p, "\"", 1);
}

/* names_json: the bytes of the JSON array of m's class names */
static void
names_json(pb *p, const void *arg)
{
	const kdm_model *m = arg;

	pb_bytes(p, "[", 1);
	for (size_t k = 0; k < m->K; k++) {
		if (k)
			pb_bytes(p, ",", 1);
		json_string(p, kdm_name(m, k));
	}
	pb_bytes(p, "]", 1);
}

/* entry: a metadata key and its value, a string or the names' JSON */
typedef struct entry {
	const char *key;
	const char *value;       /* the value, or NULL: names' JSON */
	const kdm_model *m;      /* whose names, when value is NULL */
} entry;

/* entry_body: StringStringEntryProto: key 1, value 2 */
static void
entry_body(pb *p, const void *arg)
{
	const entry *en = arg;

	pb_str(p, 1, en->key);
	if (en->value)
		pb_str(p, 2, en->value);
	else
		pb_nested(p, 2, names_json, en->m);
}

/* model_body: ModelProto: ir_version 1, producer_name 2, graph 7,
 * opset_import 8, metadata_props 14 (the model's fingerprint, and its
 * class names when it has them) */
static void
model_body(pb *p, const kdm_model *m)
{
	char fp[17];
	entry fingerprint = { "kd_model_fingerprint", fp, NULL };
	entry names = { "class_names", NULL, m };

	snprintf(fp, sizeof fp, "%016" PRIx64, kdmod_fingerprint(m));
	pb_int(p, 1, ONNX_IR_VERSION);
	pb_str(p, 2, "kd");
	pb_nested(p, 7, graph_body, m);
	pb_nested(p, 8, opset_body, NULL);
	if (m->names)
		pb_nested(p, 14, entry_body, &names);
	pb_nested(p, 14, entry_body, &fingerprint);
}

int
kdnx_write(const kdm_model *m, FILE *fp, const char *name, kd_err *e)
{
	pb p = { fp, 0, 0 };

	model_body(&p, m);
	/* a buffered write fails at the flush: report it here, by name */
	errno = 0;
	if (!p.err && (fflush(fp) || ferror(fp)))
		p.err = errno ? errno : EIO;
	if (p.err) {
		kd_err_set(e, p.err == EPIPE ? KD_EPIPE : KD_EIO,
		           "write error on '%s': %s", name, strerror(p.err));
		return -1;
	}
	return 0;
}
