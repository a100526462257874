/* data.h: loading labelled or unlabelled data sets into memory.
 *
 * Three sources: CSV files (through libcsv, gzip read transparently), IDX
 * files as Fashion-MNIST ships them (u8 images and u8 labels, gzip or
 * plain), and, later, kd streams that carry their inputs. kdd_load picks
 * one by looking at the file; kdd_csv_load and kdd_idx_load load one kind.
 *
 * Every loaded row gets an id: its index in file order for CSV and IDX, so
 * a row can be followed through splits and subsets back to its source.
 *
 * CSV rules: one row per record; every row has as many fields as the
 * first (the header when there is one); every field but the label is a
 * finite decimal number that fits a float ("1", "-2.5e3"; not "nan",
 * "inf", "0x1p3", "", "1,5" or "3 kg"); the label is a non-negative
 * integer ("3" or "3.0"). Blank lines are skipped; CRLF, CR and LF line
 * ends are all accepted, and the last line need not end in one. Fields may
 * be quoted; spaces around unquoted fields are ignored; a UTF-8 byte order
 * mark at the start is skipped.
 *
 * Errors name the place: "'x.csv':3:2: 'abc' is not a number" (line and
 * field counted from 1; a row's line is the one it starts on), or the file
 * alone: "'x.csv': no data rows", "cannot open 'x.csv': No such file or
 * directory". Standard input, path "-", is called '<stdin>'. */
#ifndef KD_DATA_H
#define KD_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "kd_err.h"

/* a data set in memory; a zeroed kdd_set is a valid empty set */
typedef struct kdd_set {
	size_t n, d;          /* rows, features */
	float *x;             /* (n,d) row-major */
	int32_t *y;           /* n labels in [0,k), or NULL when unlabelled */
	uint64_t *id;         /* n row ids: 0..n-1 in file order for CSV and IDX */
	size_t k;             /* number of classes: max label + 1, or 0 when
	                         unlabelled (callers may raise it) */
	size_t width, height; /* image shape when known (28,28 for IDX), else 0 */
	char *names;          /* k NUL-terminated class names back to back
	                         (Fashion-MNIST's, or a stream's), or NULL */
	size_t names_len;     /* bytes in names, 0 when unnamed */
	size_t kline;         /* CSV: the file line of the first row with the
	                         largest label (k - 1); 0 when not known */
	size_t *line;         /* CSV: n file lines (from 1) of the rows, for
	                         messages; NULL otherwise (and in subsets) */
} kdd_set;

/* kdd_label_range: e = row i of s (read from name) has a label that
 * model (K classes) has no class for: its file line for CSV, else its
 * row from 1 */
void kdd_label_range(const kdd_set *s, const char *name, size_t i, size_t K,
                     const char *model, kd_err *e);

/* kdd_empty_class: the first class below k with no row in s, or k when
 * every class has one (s labelled) */
size_t kdd_empty_class(const kdd_set *s, size_t k);

#define KDD_MAX_FIELDS ((size_t)1 << 22) /* most fields in one CSV row */
#define KDD_MAX_K      ((size_t)1 << 20) /* largest number of classes */

/* how to read a CSV file; a zeroed struct (or NULL) gives the defaults:
 * label in the last column, no header, labels below KDD_MAX_K */
typedef struct kdd_csv_opts {
	size_t label_col; /* column of the label, from 1 like cut -f; 0 = last */
	int unlabelled;   /* nonzero: no label column, every field a feature */
	int header;       /* nonzero: the first row names the columns: skip it */
	size_t max_k;     /* labels must be below this; 0 = KDD_MAX_K */
	size_t features;  /* nonzero, with label_col 0: rows of exactly this
	                     many fields have no label column (a model's
	                     inputs: new rows to predict), rows of one more
	                     have the label last */
} kdd_csv_opts;

/* how kdd_load reads its spec; zeroed or NULL gives the defaults */
typedef struct kdd_load_opts {
	kdd_csv_opts csv; /* for CSV; csv.unlabelled and csv.max_k apply to
	                     IDX too (unlabelled: the labels file is not read) */
	size_t max_rows;  /* keep only the first max_rows rows; 0 = all */
} kdd_load_opts;

/* kdd_load: load spec into out, choosing the reader by content:
 *   "fashion-mnist:train", "fashion-mnist:test"
 *           the IDX files in /usr/share/datasets/fashion-mnist
 *   a directory holding exactly one "*images-idx3-ubyte[.gz]" file
 *           that IDX images file, with its labels as below
 *   a file whose (gunzipped) first bytes are 00 00 08 03
 *           IDX images; labels from the same path with "images-idx3"
 *           replaced by "labels-idx1" (".gz" added or dropped if need be)
 *           when that file exists, else unlabelled
 *   a file starting with the zstd magic 28 B5 2F FD
 *           a kd stream whose records carry their inputs (kdd_stream_load)
 *   anything else, and "-" (standard input)
 *           CSV
 * Returns 0, or -1 with e set and out zeroed. */
int kdd_load(const char *spec, const kdd_load_opts *o, kdd_set *out, kd_err *e);

/* kdd_stream_load: every record of the kd stream path ("-": stdin) as a
 * data set: x from the records' inputs (d = 0 and x unused when the stream
 * carries none), y from their labels (NULL when unlabelled), id from their
 * ids, k, the image shape and class names from the header. With values
 * not NULL, *values gets the (n,K) class scores (free() it); with h not
 * NULL, *h gets a copy of the header (kds_header_free() it). Errors name
 * the stream and record. */
struct kds_header;
int kdd_stream_load(const char *path, kdd_set *out, float **values,
                    struct kds_header *h, kd_err *e);

/* kdd_set_names: give s a copy of k class names (a blob as in kdd_set);
 * 0 or -1 (out of memory). */
int kdd_set_names(kdd_set *s, const char *names, size_t len, kd_err *e);

/* kdd_csv_load: load the CSV file path ("-" for standard input, gzip or
 * plain) into out. Returns 0, or -1 with e set and out zeroed. */
int kdd_csv_load(const char *path, const kdd_csv_opts *o, kdd_set *out,
                 kd_err *e);

/* kdd_idx_load: load IDX images (magic 0x00000803, u8, n x rows x cols)
 * and, when labels_path is not NULL, IDX labels (magic 0x00000801, u8, n);
 * gzip or plain. Pixels become x/255 in [0,1]; width = cols, height = rows;
 * k = max label + 1. Returns 0, or -1 with e set and out zeroed. */
int kdd_idx_load(const char *images_path, const char *labels_path,
                 kdd_set *out, kd_err *e);

/* kdd_alloc: make out a set of n rows of d features, labelled or not, with
 * uninitialised x and y, ids 0..n-1, k = 0. The arrays are allocated even
 * when n = 0, so y != NULL tells a labelled set. Returns 0 or -1. */
int kdd_alloc(kdd_set *out, size_t n, size_t d, int labelled, kd_err *e);

/* kdd_fingerprint: a 64-bit fingerprint (le.h's kd_hash64, never 0) of
 * s's rows: their count, ids and input values, not the labels (a transfer
 * set read with and without them is one data set). Streams carry it in
 * their header (kds.h), so that one is not paired with another data set. */
uint64_t kdd_fingerprint(const kdd_set *s);

/* kdd_free: release the arrays of s and zero it (s may be zeroed already). */
void kdd_free(kdd_set *s);

/* kdd_is_image: 1 when the rows of s are images, width x height pixels
 * (what shifting and mirroring need), else 0 */
int kdd_is_image(const kdd_set *s);

/* kdd_subset: out = the rows idx[0..n-1] of in (in that order), with their
 * ids, labels, k and image shape. Returns 0, or -1 (an index >= in->n,
 * no memory) with e set and out zeroed. */
int kdd_subset(const kdd_set *in, const uint32_t *idx, size_t n,
               kdd_set *out, kd_err *e);

/* kdd_split: split in at random into val (nval rows) and train (the rest),
 * both keeping file order; the same seed gives the same split. nval 0
 * leaves val an empty set (labelled like in). Returns 0, or -1 (nval >
 * in->n, more than 2^32 - 1 rows, no memory) with e set, both zeroed. */
int kdd_split(const kdd_set *in, size_t nval, uint64_t seed,
              kdd_set *train, kdd_set *val, kd_err *e);

/* kdd_moments: per-feature mean and population standard deviation of s
 * (d values each), accumulated in double, two passes; 0 and 0 when n = 0. */
void kdd_moments(const kdd_set *s, float *mean, float *std);

/* kdd_parse_float: *out = the number s spells, when the whole of s is a
 * finite decimal number within float range ([+-]digits[.digits][e[+-]digits]).
 * Returns 0, or one of the negative KDD_NUM_ codes (out untouched). */
enum {
	KDD_NUM_OK = 0,
	KDD_NUM_BAD = -1,       /* not a decimal number (empty, junk, hex) */
	KDD_NUM_NONFINITE = -2, /* nan or inf, spelt out */
	KDD_NUM_RANGE = -3      /* a number beyond float range */
};
int kdd_parse_float(const char *s, float *out);

/* A CSV reader that hands out one row at a time in constant memory (in
 * the number of rows), for tools that stream CSV. */
typedef struct kdd_csv_reader kdd_csv_reader;

/* kdd_csv_open: open path ("-" = standard input, gzip or plain) for
 * reading rows. Returns NULL with e set on failure. */
kdd_csv_reader *kdd_csv_open(const char *path, kd_err *e);

/* kdd_csv_next: the next row: *fields points to *nfields NUL-terminated
 * strings (at least one), valid until the next call. Returns 1 for a row,
 * 0 at the end, -1 on error (e set, "'x.csv':LINE:FIELD: reason" or a
 * read error); after -1 every call returns -1 with the same error. */
int kdd_csv_next(kdd_csv_reader *r, char ***fields, size_t *nfields,
                 kd_err *e);

/* kdd_csv_line: the line (from 1) on which the row just returned starts. */
size_t kdd_csv_line(const kdd_csv_reader *r);

/* kdd_csv_name: the file's name as errors quote it ('<stdin>' for "-"). */
const char *kdd_csv_name(const kdd_csv_reader *r);

/* kdd_csv_close: close r and release it (r may be NULL). */
void kdd_csv_close(kdd_csv_reader *r);

#endif
