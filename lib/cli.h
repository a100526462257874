/* cli.h: what every kd tool shares at the command line: its name in
 * messages, one error style, exit codes, and option value parsing.
 *
 * Exit codes: 0 success, 1 runtime error, 2 bad usage. Messages go to
 * stderr as "kd-soften: 'x.kd': truncated at record 1234". This is the only
 * lib/ module that prints or exits; the others return a kd_err. */
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

#endif
