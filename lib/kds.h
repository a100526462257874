/* kds.h: the kd stream, read and written in constant memory.
 *
 * A kd stream is a zstd-compressed sequence of records (class scores of one
 * row each, with the row's id, its label when known, and optionally its
 * input features) between a self-describing header and a trailer that holds
 * the record count. Streams written separately with the same header and
 * joined with cat read as one stream. The byte format is specified in
 * lib/STREAM-FORMAT.md.
 *
 * Lifecycle: kds_open / kds_read / kds_close to read,
 *            kds_create / kds_write / kds_finish / kds_writer_free to write.
 * Functions return 0 (or 1, "got one") on success and -1 on failure, with
 * the reason in a kd_err; none of them prints or exits. */
#ifndef KD_KDS_H
#define KD_KDS_H

#include <stdint.h>
#include <stdio.h>

#include "kd_err.h"

#define KDS_VERSION   3            /* written for class scores; 1 and 2 are read too */
#define KDS_VERSION_FEATURES 4     /* written for features (kind KDP_FEATURES) */
#define KDS_MAX_LABEL (1u << 20)   /* labels of a features stream: below this */
#define KDS_MAX_RUNS  (1u << 20)   /* separate runs of row ids, see kds_check_rows */
#define KDS_MAX_K     (1u << 20)   /* classes per record */
#define KDS_MAX_DIM   (1u << 22)   /* input features per record */
#define KDS_MAX_NAMES (1u << 20)   /* bytes of class names */
#define KDS_MAX_TEMP  1e12

enum kds_input_type {
	KDS_IN_NONE = 0, /* records carry no inputs */
	KDS_IN_F32 = 1,  /* inputs as IEEE-754 binary32 */
	KDS_IN_U8 = 2    /* inputs as bytes b, standing for b / 255 (pixels) */
};

typedef struct kds_header {
	uint32_t k;          /* number of classes, 1..KDS_MAX_K */
	int      kind;       /* KDP_LOGITS, KDP_PROBS or KDP_LOGPROBS (prob.h) */
	double   temp;       /* temperature already applied, > 0 (1: none) */
	int      has_label;  /* 1 when every record carries a label in [0,k) */
	int      input_type; /* enum kds_input_type */
	uint32_t dim;        /* input features per record, 0 with KDS_IN_NONE */
	uint32_t width;      /* image width of the inputs, 0 when not images */
	uint32_t height;     /* image height of the inputs, 0 when not images */
	uint32_t names_len;  /* bytes in names, 0 when the classes are unnamed */
	char    *names;      /* k NUL-terminated class names back to back */
	uint64_t rows;       /* rows of the whole data set, whose ids are 0 to
	                        rows-1 (0: not known); shards of one data set
	                        share it, see kds_check_rows */
	uint64_t model_fp;   /* fingerprint of what made the values: the model
	                        (kdmod_fingerprint), or the models a kd-average
	                        combined; 0 when not known */
	uint64_t data_fp;    /* fingerprint of the data set the rows are from
	                        (kdd_fingerprint), of all its rows even in a
	                        shard; 0 when not known */
} kds_header;

typedef struct kds_record {
	uint64_t id;     /* row id, unique within a data set */
	int32_t  label;  /* class in [0,k), or -1 when the stream has none */
	float   *values; /* k class scores of the header's kind */
	float   *inputs; /* dim input features, NULL when the stream has none */
} kds_record;

/* kds_header_init: h = a header for k classes of `kind` at temperature 1,
 * no labels, no inputs, no names. */
void kds_header_init(kds_header *h, uint32_t k, int kind);

/* kds_header_check: 0 when h is a header kd can write, else -1 and why. */
int kds_header_check(const kds_header *h, kd_err *e);

/* kds_header_copy: dst = src with its own copy of the names; 0 or -1. */
int kds_header_copy(kds_header *dst, const kds_header *src, kd_err *e);

/* kds_header_free: release what kds_header_copy allocated. */
void kds_header_free(kds_header *h);

/* kds_class_name: the name of class c, or NULL when classes are unnamed. */
const char *kds_class_name(const kds_header *h, uint32_t c);

/* ---- reading ---- */

typedef struct kds_reader kds_reader;

/* kds_open: open path ("-" or NULL: standard input) and read the header.
 * Errors name the path ("stdin" for standard input). NULL on failure. */
kds_reader *kds_open(const char *path, kd_err *e);

/* kds_open_fp: the same on an open stream; name is used in messages.
 * The reader does not close fp. */
kds_reader *kds_open_fp(FILE *fp, const char *name, kd_err *e);

/* kds_scores_only: 0 when r holds class scores (logits, probabilities,
 * log-probabilities); -1 with e naming the file when it holds features,
 * which a tool that softens, averages, scores or distils cannot use. */
int kds_scores_only(const kds_reader *r, kd_err *e);

/* kds_header_of: the stream's header, valid until kds_close. */
const kds_header *kds_header_of(const kds_reader *r);

/* kds_name: the name used in messages ("x.kd" or "stdin"). */
const char *kds_name(const kds_reader *r);

/* kds_read: the next record into rec; its arrays belong to the reader and
 * stay valid until the next kds_read. Returns 1 for a record, 0 at the end
 * of a complete stream, -1 on any error (truncation, corruption, a bad
 * value), naming the record ("'x.kd': truncated at record 12"). */
int kds_read(kds_reader *r, kds_record *rec, kd_err *e);

/* kds_check_rows: from now on, when the header gives the data set's rows,
 * make kds_read fail on a row id out of range or repeated, and at the end
 * of the stream on any row id missing, naming the row: the check that the
 * shards of a data set, joined with cat in any order, hold every row once.
 * Call it right after kds_open. Memory grows with the number of separate
 * runs of consecutive ids (one per shard), not with the records; more
 * than KDS_MAX_RUNS runs are refused. No effect when rows is 0. */
void kds_check_rows(kds_reader *r);

/* kds_version: the format version of the stream (of its first part). */
int kds_version(const kds_reader *r);

/* kds_count: the number of records returned so far. */
uint64_t kds_count(const kds_reader *r);

/* kds_close: release r (and close its file when kds_open opened it). */
void kds_close(kds_reader *r);

/* ---- writing ---- */

typedef struct kds_writer kds_writer;

/* kds_create: start a stream with header h on fp (not closed by kd);
 * name is used in messages. The header is copied. NULL on failure. */
kds_writer *kds_create(FILE *fp, const char *name, const kds_header *h,
                       kd_err *e);

/* kds_write: append one record (label ignored without labels, inputs
 * ignored without inputs). Values and inputs are checked: a record that
 * would make the stream unreadable is refused. 0 or -1. */
int kds_write(kds_writer *w, const kds_record *rec, kd_err *e);

/* kds_finish: write the trailer, end the zstd frame and flush fp.
 * Without it the stream reads as truncated. 0 or -1 (KD_EPIPE when the
 * reader of a pipe has gone). */
int kds_finish(kds_writer *w, kd_err *e);

/* kds_writer_count: records written so far. */
uint64_t kds_writer_count(const kds_writer *w);

/* kds_writer_free: release w (does not close its file). */
void kds_writer_free(kds_writer *w);

/* kds_record_size: bytes of one encoded record under h (before zstd). */
size_t kds_record_size(const kds_header *h);

#endif
