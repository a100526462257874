/* kdcat.h: kd streams to and from CSV text (the work behind kd-cat).
 *
 * Export writes first what a row cannot say, as one CSV record:
 *   #kd-stream,kind=probs,temperature=4[,model=HEX][,names,"A","B",...]
 * (the model's fingerprint when known, the class names when there are
 * some), then the column names 'id,label,' and one column per class (z0..
 * logits, p0.. probabilities, lp0.. log-probabilities) and optionally the
 * inputs (x0..), then the rows: numbers printed with 9 significant digits
 * so that a float reads back bit for bit. Import reads such text back
 * with its kind, temperature, model and names, or plain CSV rows of class
 * scores, into a stream. The data set's rows and fingerprint are not
 * carried: the CSV may have been cut to some of the rows. */
#ifndef KD_KDCAT_H
#define KD_KDCAT_H

#include <stdint.h>
#include <stdio.h>

#include "kd_err.h"

#define KDCAT_META "#kd-stream" /* the first field of export's first line */

typedef struct kdcat_import_opts {
	int      kind;        /* KDP_*, or -1: logits unless the header says */
	double   temp;        /* temperature already applied (default 1) */
	int      temp_given;  /* temp was asked for: a file at another is refused */
	size_t   label_col;   /* column holding the label, from 1; 0 none */
	size_t   id_col;      /* column holding the row id, from 1; 0 none */
	int      skip_header; /* skip the first line */
} kdcat_import_opts;

/* kdcat_import_opts_init: the defaults (kind -1, T 1, no label, no id). */
void kdcat_import_opts_init(kdcat_import_opts *o);

/* kdcat_export: print stream path ("-": stdin) as CSV on out. */
int kdcat_export(const char *path, int with_inputs, FILE *out, kd_err *e);

/* kdcat_top: print stream path ("-": stdin) as one CSV line per record
 * for a person: 'id,label,class1,p1,...' with the top classes (names
 * when the stream has them, else numbers; quoted where CSV needs it),
 * most probable first, and their probabilities under the model's own
 * distribution (the stream's temperature undone). The label is empty
 * in unlabelled streams. top: 1 to the stream's classes. */
int kdcat_top(const char *path, size_t top, FILE *out, kd_err *e);

/* kdcat_info: print what the header of stream path says and its count. */
int kdcat_info(const char *path, FILE *out, kd_err *e);

/* kdcat_import: read CSV from path ("-": stdin; gzip read directly) and
 * write it as a finished kd stream to out (named out_name in messages).
 * Errors name the CSV file, line and column. */
int kdcat_import(const char *path, const kdcat_import_opts *o, FILE *out,
                 const char *out_name, kd_err *e);

#endif
