/* export.h: a model as C99 source that runs without kd (kd-export --c).
 * Prefix kdex_.
 *
 * The source is one .c file and its header. The header declares, for a
 * model exported under the name NAME:
 *   NAME_INPUTS, NAME_CLASSES       the row's features and the classes
 *   NAME_class_names[NAME_CLASSES]  the class names (NULL without names)
 *   void NAME_logits(const float *x, float *logits)
 *   void NAME_probs(const float *x, float *probs)
 *   int  NAME_predict(const float *x)
 * x is one row of raw features as kd reads them (CSV numbers; IDX pixels
 * divided by 255); the input standardisation, the weights and the class
 * names are in the .c file. The code needs libm alone, allocates
 * nothing (hidden activations live on the stack: two arrays of the
 * widest hidden layer), is reentrant, and compiles with
 * `cc -std=c99 -Wall -Wextra -Werror -pedantic`. Weights are written as
 * hexadecimal float literals, exactly; with int8, each layer's weights
 * are rounded to signed bytes with one float scale per output unit
 * (the largest |w| of its row over 127), four times smaller. */
#ifndef KD_EXPORT_H
#define KD_EXPORT_H

#include <stdio.h>

#include "kd_err.h"
#include "mlp.h"

/* kdex_name_ok: 1 when name is a C identifier of at most 64 characters
 * that does not start with an underscore (kd-export's --name). */
int kdex_name_ok(const char *name);

/* kdex_c: write m as C source: the header to h (to be saved as header,
 * the file name the source includes) and the source to c, under the
 * identifier name (kdex_name_ok), with weights as int8 when int8 is
 * set. model names the model in the files' opening comments (its file
 * name; it must not hold a newline or the two characters that end a
 * comment, else a neutral word is written). 0, or -1 with e set when a
 * parameter is not finite or a write fails (the caller owns both
 * files and removes them). */
int kdex_c(const kdm_model *m, const char *name, const char *header, const char *model,
           int int8, FILE *c, FILE *h, kd_err *e);

#endif
