/* kd_err.h: the one error type of the kd library.
 *
 * Library functions never print and never exit: they return a status and,
 * on failure, leave a message in a kd_err that the caller (a tool) prints
 * with its own name in front. Messages follow git's style: lowercase, no
 * final period, the subject in quotes, e.g. "'x.kd': truncated at record 12".
 */
#ifndef KD_ERR_H
#define KD_ERR_H

#include <stddef.h>

#define KD_ERR_MAX 512

typedef struct kd_err {
	char msg[KD_ERR_MAX]; /* human-readable reason, "" when none */
	int  code;            /* kd_errcode of the failure, 0 when none */
} kd_err;

enum kd_errcode {
	KD_EOK = 0,
	KD_EIO,      /* read or write failure (errno-based) */
	KD_EPIPE,    /* output pipe closed by the reader: exit quietly */
	KD_EFORMAT,  /* malformed input: bad magic, truncation, bad values */
	KD_ERANGE,   /* a value or size outside what kd accepts */
	KD_EMISMATCH,/* inputs that must agree do not */
	KD_ENOMEM,   /* allocation failure */
	KD_EUSAGE    /* caller asked for something impossible */
};

/* kd_err_set: fill e (when not NULL) with code and a printf-style message. */
void kd_err_set(kd_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* kd_err_clear: reset e to "no error". */
void kd_err_clear(kd_err *e);

#endif
