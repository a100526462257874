/* cli.c: the tools' shared command-line helpers (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cblas.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *prog = "kd";

void
kdc_init(const char *argv0)
{
	const char *s;
	if (!argv0)
		return;
	s = strrchr(argv0, '/');
	prog = s ? s + 1 : argv0;
	opterr = 0; /* getopt's own messages name argv[0]: kdc_bad_option speaks */
}

const char *
kdc_prog(void)
{
	return prog;
}

static void vmsg(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void
vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
kdc_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(1);
}

void
kdc_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
kdc_fail(const kd_err *e)
{
	if (e->code != KD_EPIPE)
		fprintf(stderr, "%s: %s\n", prog, e->msg[0] ? e->msg : "failed");
	exit(1);
}

void
kdc_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see %s --help)\n", prog);
	va_end(ap);
	exit(2);
}

void
kdc_bad_option(char *const *argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	/* a long option as given (up to any '='), else the short one */
	if (!strncmp(arg, "--", 2))
		kdc_usage_error("bad option '%.*s' (unknown, or missing its value)",
		                (int)strcspn(arg, "="), arg);
	if (optopt > ' ' && optopt < 127)
		kdc_usage_error("bad option '-%c' (unknown, or missing its value)", optopt);
	kdc_usage_error("bad option '%s' (unknown, or missing its value)", arg);
}

void
kdc_version(void)
{
	printf("%s (kd) %s\n", prog, KD_VERSION_STRING);
	kdc_close_stdout();
	exit(0);
}

double
kdc_double(const char *opt, const char *s, double lo, double hi, int lo_open)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno == ERANGE || !isfinite(v))
		kdc_usage_error("%s: '%s' is not a number", opt, s);
	if (v < lo || v > hi || (lo_open && v == lo))
		kdc_usage_error("%s: %s is out of range (%s%g to %g)", opt, s,
		                lo_open ? "above " : "", lo, hi);
	return v;
}

long long
kdc_long(const char *opt, const char *s, long long lo, long long hi)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end || errno == ERANGE)
		kdc_usage_error("%s: '%s' is not a whole number", opt, s);
	if (v < lo || v > hi)
		kdc_usage_error("%s: %s is out of range (%lld to %lld)", opt, s, lo, hi);
	return v;
}

void
kdc_close_stdout(void)
{
	int err = 0;
	if (fflush(stdout) || ferror(stdout))
		err = errno ? errno : EIO;
	if (err == EPIPE)
		exit(1);
	if (err) {
		fprintf(stderr, "%s: write error on stdout: %s\n", prog, strerror(err));
		exit(1);
	}
}

void
kdc_not_input(const char *opt, const char *out, const char *const *ins, size_t n)
{
	struct stat so, si;

	if (!out || !strcmp(out, "-") || stat(out, &so) || !S_ISREG(so.st_mode))
		return; /* stdout, a file not there yet, or a device written in place */
	for (size_t i = 0; i < n; i++) {
		const char *in = ins[i];
		int got;
		if (!in)
			continue;
		got = !strcmp(in, "-") ? fstat(STDIN_FILENO, &si) : stat(in, &si);
		if (!got && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
			fprintf(stderr, "%s: %s '%s' is also an input (%s): refusing to overwrite it\n",
			        kdc_prog(), opt, out, !strcmp(in, "-") ? "standard input" : in);
			exit(2);
		}
	}
}

/* ---- OpenBLAS's kernels ---- */

/* better_core: the OpenBLAS kernels this CPU (and its OS) can run, from
 * its instruction sets, or NULL to leave OpenBLAS's choice alone */
static const char *
better_core(void)
{
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
		return "SkylakeX";
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return "Haswell";
#endif
	return NULL;
}

/* weak_core: OpenBLAS runs kernels older than AVX2 (its fallback for a
 * CPU it does not know by model is Prescott's) */
static int
weak_core(const char *name)
{
	static const char *const weak[] = {
		"Unknown", "Prescott", "Core2", "Penryn", "Dunnington",
		"Nehalem", "Sandybridge", "Atom", NULL
	};
	for (size_t i = 0; name && weak[i]; i++)
		if (!strcasecmp(name, weak[i]))
			return 1;
	return 0;
}

int
kdc_choose_core(char *const argv[])
{
	const char *want;
	char path[4096];
	ssize_t n;

	if (getenv("OPENBLAS_CORETYPE") || !argv || !argv[0])
		return 0;
	want = better_core();
	if (!want || !weak_core(openblas_get_corename()))
		return 0;
	n = readlink("/proc/self/exe", path, sizeof path);
	if (n <= 0 || (size_t)n >= sizeof path)
		return 0;
	path[n] = '\0';
	if (setenv("OPENBLAS_CORETYPE", want, 1))
		return 0;
	execv(path, argv);
	unsetenv("OPENBLAS_CORETYPE"); /* go on with the kernels there are */
	return -1;
}

void
kdc_rows_progress(size_t done, size_t total, void *ctx)
{
	static int tty = -1;
	static unsigned shown = 101;
	unsigned pc = total ? (unsigned)(100.0 * (double)done / (double)total) : 100;

	(void)ctx;
	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	if (!tty || total < 20000) /* a run of a moment needs no meter */
		return;
	if (done >= total) {
		fprintf(stderr, "\r%*s\r", 60, "");
		fflush(stderr);
		shown = 101;
		return;
	}
	if (pc == shown)
		return;
	shown = pc;
	fprintf(stderr, "\r%s: rows %zu/%zu  %3u%%", kdc_prog(), done, total, pc);
	fflush(stderr);
}
