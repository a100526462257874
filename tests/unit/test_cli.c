/* test_cli.c: the command line the tools share (tools/common/cli.h): option
 * values parsed or refused with exit 2, outputs that are inputs refused,
 * a message in the one error style. The refusals exit, so each runs in a
 * child process whose status and stderr are checked. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "kdtest.h"

/* in_child: run fn(arg) in a child with stderr into a pipe; its exit
 * status (or -1), and what it wrote into err (cap bytes) */
static int
in_child(void (*fn)(const void *), const void *arg, char *err, size_t cap)
{
	int fd[2], st;
	pid_t pid;
	ssize_t n, got = 0;

	if (pipe(fd))
		return -1;
	if ((pid = fork()) == 0) {
		close(fd[0]);
		dup2(fd[1], 2);
		fn(arg);
		_exit(0);
	}
	close(fd[1]);
	while ((n = read(fd[0], err + got, cap - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(fd[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void
parse_double(const void *s)
{
	kdc_double("-T", s, 0.0, 100.0, 1);
}

static void
parse_long(const void *s)
{
	kdc_long("--epochs", s, 1, 1000);
}

static void
die_named(const void *s)
{
	kdc_die("'%s': truncated at record %d", (const char *)s, 1234);
}

static void
test_values(void)
{
	char err[512];

	KT_CHECK(kdc_double("-T", "8", 0.0, 100.0, 1) == 8.0);
	KT_CHECK(kdc_double("-T", "1e-3", 0.0, 100.0, 1) == 1e-3);
	KT_CHECK(kdc_long("--epochs", "90", 1, 1000) == 90);
	/* refused: not a number, trailing text, out of range, the open end,
	 * not finite; each with exit 2 and the option named */
	const char *bad_d[] = { "x", "8x", "", "200", "0", "nan", "inf", "-1" };
	for (size_t i = 0; i < sizeof bad_d / sizeof *bad_d; i++) {
		KT_CHECK(in_child(parse_double, bad_d[i], err, sizeof err) == 2);
		KT_CHECK(strstr(err, "test_cli: ") == err && strstr(err, "-T") != NULL);
	}
	const char *bad_l[] = { "1.5", "0", "1001", "ten", "99999999999999999999" };
	for (size_t i = 0; i < sizeof bad_l / sizeof *bad_l; i++) {
		KT_CHECK(in_child(parse_long, bad_l[i], err, sizeof err) == 2);
		KT_CHECK(strstr(err, "--epochs") != NULL);
	}
}

static void
test_error_style(void)
{
	char err[512];

	KT_CHECK(in_child(die_named, "x.kd", err, sizeof err) == 1);
	KT_CHECK(!strcmp(err, "test_cli: 'x.kd': truncated at record 1234\n"));
}

static char in_path[64];

static void
output_is_input(const void *out)
{
	const char *ins[2] = { NULL, in_path };
	kdc_not_input("-o", out, ins, 2);
}

static void
test_not_input(void)
{
	char err[512], other[80];
	int fd;

	strcpy(in_path, "/tmp/test_cli.XXXXXX");
	if ((fd = mkstemp(in_path)) < 0)
		return;
	close(fd);
	KT_CHECK(in_child(output_is_input, in_path, err, sizeof err) == 2);
	KT_CHECK(strstr(err, in_path) != NULL);
	snprintf(other, sizeof other, "%s.other", in_path);
	KT_CHECK(in_child(output_is_input, other, err, sizeof err) == 0);
	KT_CHECK(in_child(output_is_input, "-", err, sizeof err) == 0);
	unlink(in_path);
}

int
main(int argc, char **argv)
{
	(void)argc;
	kdc_init(argv[0]);
	KT_RUN(test_values);
	KT_RUN(test_error_style);
	KT_RUN(test_not_input);
	return kt_done();
}
