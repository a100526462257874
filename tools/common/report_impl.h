/* report_impl.h: what report.c (kd-eval's scores) shares with
 * report_sim.c (kd-eval --similar): cells of a table, JSON values, gnuplot
 * text and the drawing of a script; not for the tools. */
#ifndef KD_REPORT_IMPL_H
#define KD_REPORT_IMPL_H

#include <stdint.h>
#include <stdio.h>

#include "kd_err.h"

#define CELL 48 /* bytes of one formatted cell (kdrep_fmt_num) */

/* kdrep_fmt_num: into buf (48 bytes) v times scale with dec decimals, or
 * "-" when v is NaN */
void kdrep_fmt_num(char *buf, double v, double scale, int dec);
/* kdrep_put_cell: s padded to width w, left- or right-aligned, after a
 * gap unless first */
void kdrep_put_cell(FILE *f, const char *s, int w, int left, int first);
/* kdrep_int_width: the digits of v */
int kdrep_int_width(uint64_t v);
/* kdrep_json_str: s as a JSON string (NULL: null) */
void kdrep_json_str(FILE *f, const char *s);
/* kdrep_json_num: v as a JSON number, null for NaN */
void kdrep_json_num(FILE *f, double v);
/* kdrep_json_u64s: n counts as a JSON array */
void kdrep_json_u64s(FILE *f, const uint64_t *v, size_t n);
/* kdrep_gp_str: s as a gnuplot string that no reader of gnuplot's takes
 * as code (report.c says how) */
void kdrep_gp_str(FILE *f, const char *s);
/* kdrep_gp_tics: the tics of K classes on axis ("x" or "y"), named when
 * names (K names back to back) is not NULL */
void kdrep_gp_tics(FILE *f, const char *axis, size_t K, const char *names);
/* kdrep_draw: the picture of script(f, arg, e) as a PNG at path, written
 * atomically. 0, or -1 with e set. */
int kdrep_draw(const char *path, int (*script)(FILE *, const void *, kd_err *),
               const void *arg, kd_err *e);

#endif
