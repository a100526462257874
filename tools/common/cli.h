/* cli.h: what every kd tool shares at the command line: its name in
 * messages, one error style, exit codes, and option value parsing.
 *
 * Exit codes: 0 success, 1 runtime error, 2 bad usage. Messages go to
 * stderr as "kd-soften: 'x.kd': truncated at record 1234". The command
 * line's side: it prints and exits, which lib/ never does (its functions
 * return a kd_err for the tool to show here). */
#ifndef KD_CLI_H
#define KD_CLI_H

#include "kd_err.h"

#define KD_VERSION_STRING "0.1.0"

/* kdc_init: remember the program name (basename of argv0) for messages. */
void kdc_init(const char *argv0);
/* kdc_prog: the program name. */
const char *kdc_prog(void);

/* kdc_die: print "prog: message" and exit 1. */
void kdc_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* kdc_fail: print e's message and exit 1; silently for a closed pipe. */
void kdc_fail(const kd_err *e) __attribute__((noreturn));
/* kdc_warn: print "prog: message" and go on. */
void kdc_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* kdc_usage_error: print "prog: message (see prog --help)"; exit 2. */
void kdc_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* kdc_bad_option: after getopt_long returned '?': name the option it
 * could not take (unknown, or without its value) as a usage error. */
void kdc_bad_option(char *const *argv) __attribute__((noreturn));
/* kdc_version: print "prog (kd) VERSION" to stdout and exit 0. */
void kdc_version(void) __attribute__((noreturn));

/* kdc_double: parse option opt's value s as a finite number in [lo, hi]
 * (lo excluded when lo_open); bad usage (exit 2) otherwise. */
double kdc_double(const char *opt, const char *s, double lo, double hi, int lo_open);
/* kdc_long: parse an integer in [lo, hi]; bad usage otherwise. */
long long kdc_long(const char *opt, const char *s, long long lo, long long hi);

/* kdc_not_input: before any work: exit 2 when the output path out (of
 * option opt; NULL or "-", standard output, is not checked) names the same
 * file (device and inode) as one of the n inputs ins, which may hold NULL
 * (skipped) and "-" (standard input). */
void kdc_not_input(const char *opt, const char *out, const char *const *ins, size_t n);

/* kdc_close_stdout: flush stdout and exit 1 with a message when any write
 * to it failed (full disk); quietly for a closed pipe. */
void kdc_close_stdout(void);

/* kdc_rows_progress: a progress callback (infer.h's kdi_opts.progress):
 * "prog: rows 12000/60000  20%" on stderr, over itself, when stderr is a
 * terminal and the run is long enough to watch; the line is cleared at
 * the end. ctx: NULL. */
void kdc_rows_progress(size_t done, size_t total, void *ctx);

/* kdc_choose_core: make OpenBLAS run the kernels the CPU can.
 *
 * OpenBLAS chooses its kernels when it is loaded, before main, by the
 * CPU's model number; a virtual CPU it does not know (the machines kd was
 * built on say "Intel(R) Xeon(R) Processor" and have AVX-512) gets its
 * oldest x86-64 kernels (Prescott, SSE3), with which sgemm ran 2.6 times
 * slower. It reads OPENBLAS_CORETYPE only then. So when that variable is
 * unset, OpenBLAS runs kernels older than AVX2 and the CPU (and OS) can
 * run AVX2 and FMA (Haswell's kernels) or AVX-512 (SkylakeX's), this sets
 * the variable and executes the program again (/proc/self/exe) with
 * argv, the same process with the same open files. Call it first thing
 * in main, before anything is read or written. Returns 0 without doing
 * anything otherwise (another CPU or OS, the user's own choice, no
 * /proc), and -1 if the execution failed (the program can go on). */
int kdc_choose_core(char *const argv[]);

#endif
