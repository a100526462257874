/* model.h: saving and loading kd models (the .kdm file format).
 *
 * The format is written down in lib/MODEL-FORMAT.md: a magic number and a
 * version, the layer sizes, the optional standardisation and class names,
 * the parameters as little-endian f32, and a CRC-32 of everything before
 * it. These functions belong with the perceptron of mlp.h and share its
 * kdm_ prefix. */
#ifndef KD_MODEL_H
#define KD_MODEL_H

#include "kd_err.h"
#include "mlp.h"

#define KDM_FORMAT_VERSION 1                   /* the version written and read */
#define KDM_MAX_NAMES_LEN  ((uint64_t)1 << 30) /* bytes of class names */

/* kdmod_save: write m to path atomically with lib/out.h: into a temporary
 * file beside path, flushed, synced and closed, then renamed over path, so
 * readers see the old file or the new one, never half of one ("-" is
 * stdout; a device such as /dev/null is written in place). 0 on success;
 * -1 with e set (and no temporary file left behind) on any failure. */
int kdmod_save(const kdm_model *m, const char *path, kd_err *e);

/* kdmod_load: the model stored at path, or NULL with e set when the file is
 * missing or unreadable, is not a kd model file, has another format
 * version, is truncated, has trailing bytes, fails its checksum, or
 * declares sizes beyond the limits of mlp.h. Sizes are checked against the
 * actual file size before any allocation. A pipe (e.g. <(...)) is read
 * into memory first. */
kdm_model *kdmod_load(const char *path, kd_err *e);

/* kdmod_load_mem: the same from the len bytes at buf, a whole model file
 * (read from elsewhere); name stands for it in messages. */
kdm_model *kdmod_load_mem(const void *buf, size_t len, const char *name,
                          kd_err *e);

/* kdmod_fingerprint: a 64-bit fingerprint (le.h's kd_hash64, never 0) of
 * what decides m's outputs: its layer sizes, parameters, standardisation
 * and class names. Streams carry it in their header (kds.h). */
uint64_t kdmod_fingerprint(const kdm_model *m);

#endif
