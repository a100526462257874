/* out.h: output files that appear whole or not at all.
 *
 * kdout_open on a path writes into a temporary file beside it (same folder,
 * so the final rename is atomic); kdout_commit flushes, checks every write,
 * closes and renames it into place; kdout_abort removes it. If the process is
 * stopped by SIGINT, SIGTERM, SIGHUP or SIGPIPE in between, the temporary
 * is removed too, so no half-written file is ever left under the final
 * name. Path NULL or "-" means standard output, written in place; binary
 * data is then refused when standard output is a terminal. A path that
 * exists and is not a regular file (/dev/null, /dev/full, a FIFO) is
 * written in place too, never replaced; a directory is refused. */
#ifndef KD_OUT_H
#define KD_OUT_H

#include <stdio.h>

#include "kd_err.h"

typedef struct kdout_file {
	FILE *fp;        /* where to write */
	char *path;      /* final path, NULL for standard output */
	char *tmp;       /* temporary path while open, NULL for standard output */
	const char *name;/* for messages: the path, or "stdout" */
} kdout_file;

/* kdout_open: start writing to path (NULL or "-": stdout). binary: refuse
 * a terminal on stdout. 0, or -1 with the reason. */
int kdout_open(kdout_file *o, const char *path, int binary, kd_err *e);

/* kdout_commit: flush and check all writes, then close and rename into place
 * (stdout is flushed and checked, not closed). 0, or -1 with the reason
 * (KD_EPIPE for a closed pipe) after removing the temporary. */
int kdout_commit(kdout_file *o, kd_err *e);

/* kdout_abort: give up: remove the temporary (stdout is left as it is). */
void kdout_abort(kdout_file *o);

#endif
