/* out.c: atomic output files (see out.h).
 *
 * The one piece of global state in lib/: the list of temporaries to remove
 * when a signal stops the process. A signal handler can only reach static
 * storage, and the list is small and fixed.
 *
 * A temporary must never exist on disk without being on the list: a signal
 * between mkstemp creating it and the list naming it would leave it behind
 * (a loop of kdout_open/kdout_commit killed at random times left one in 4% of
 * the kills, and in a third of them on tmpfs). So a file is created, and
 * the list changed, inside a "busy" section: the calling thread blocks the
 * signals, so the handler cannot run there, and a handler running in
 * another thread of the process (Open MPI's, say) waits for the section to
 * end before it reads the list. A thread that enters the section while a
 * handler is already running waits to be stopped with the process instead
 * (busy and dying are checked in opposite orders, so one side always sees
 * the other). */
#include "out.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KDOUT_MAX_PENDING 16

#if ATOMIC_INT_LOCK_FREE != 2
#error "out.c needs lock-free atomic int for its signal handler"
#endif

static char *volatile pending[KDOUT_MAX_PENDING];
static int handlers_set;
static atomic_int busy;  /* threads inside a busy section */
static atomic_int dying; /* a handler has started */
static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

static void
on_signal(int sig)
{
	atomic_store(&dying, 1);
	while (atomic_load(&busy) > 0)
		; /* another thread is creating or untracking a temporary */
	for (int i = 0; i < KDOUT_MAX_PENDING; i++)
		if (pending[i])
			unlink(pending[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* busy_enter, busy_leave: a section in which the calling thread cannot be
 * stopped by a signal and no handler reads the list (see above) */
static void
busy_enter(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof stop_sigs / sizeof stop_sigs[0]; i++)
		sigaddset(&set, stop_sigs[i]);
	pthread_sigmask(SIG_BLOCK, &set, old);
	atomic_fetch_add(&busy, 1);
	if (atomic_load(&dying)) {
		/* a handler in another thread is removing the temporaries and
		 * will stop the process: do not start a new one */
		atomic_fetch_sub(&busy, 1);
		for (;;)
			pause();
	}
}

static void
busy_leave(const sigset_t *old)
{
	atomic_fetch_sub(&busy, 1);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

static void
track(char *tmp)
{
	if (!handlers_set) {
		for (size_t i = 0; i < sizeof stop_sigs / sizeof stop_sigs[0]; i++) {
			struct sigaction sa, old;
			sigaction(stop_sigs[i], NULL, &old);
			if (old.sa_handler == SIG_IGN)
				continue; /* keep what the parent chose */
			memset(&sa, 0, sizeof sa);
			sa.sa_handler = on_signal;
			sigemptyset(&sa.sa_mask);
			sigaction(stop_sigs[i], &sa, NULL);
		}
		handlers_set = 1;
	}
	for (int i = 0; i < KDOUT_MAX_PENDING; i++)
		if (!pending[i]) {
			pending[i] = tmp;
			return;
		}
}

static void
untrack(const char *tmp)
{
	for (int i = 0; i < KDOUT_MAX_PENDING; i++)
		if (pending[i] == tmp)
			pending[i] = NULL;
}

/* sync_dir: make the rename in the directory of path durable; best effort,
 * the data itself is already synced */
static void
sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash) {
		dir = strdup(".");
	} else {
		size_t n = slash == path ? 1 : (size_t)(slash - path);
		dir = malloc(n + 1);
		if (dir) {
			memcpy(dir, path, n);
			dir[n] = '\0';
		}
	}
	if (!dir)
		return;
	fd = open(dir, O_RDONLY);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

int
kdout_open(kdout_file *o, const char *path, int binary, kd_err *e)
{
	int fd;

	memset(o, 0, sizeof *o);
	if (path && !*path) {
		kd_err_set(e, KD_EUSAGE, "an empty file name");
		return -1;
	}
	if (!path || !strcmp(path, "-")) {
		o->fp = stdout;
		o->name = "stdout";
		if (binary && isatty(STDOUT_FILENO)) {
			kd_err_set(e, KD_EUSAGE, "refusing to write binary data to a terminal (redirect stdout or use -o FILE)");
			return -1;
		}
		return 0;
	}
	/* a device, a FIFO or any other file that is not a regular one
	 * (-o /dev/null, /dev/full, a named pipe) is written in place:
	 * renaming a temporary over it would replace the device */
	{
		struct stat st;
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			if (S_ISDIR(st.st_mode)) {
				kd_err_set(e, KD_EIO, "cannot write '%s': %s", path, strerror(EISDIR));
				return -1;
			}
			o->fp = fopen(path, "wb");
			if (!o->fp) {
				kd_err_set(e, KD_EIO, "cannot open '%s': %s", path, strerror(errno));
				return -1;
			}
			if (binary && isatty(fileno(o->fp))) {
				fclose(o->fp);
				kd_err_set(e, KD_EUSAGE, "refusing to write binary data to a terminal ('%s')", path);
				return -1;
			}
			o->path = strdup(path);
			if (!o->path) {
				fclose(o->fp);
				kd_err_set(e, KD_ENOMEM, "out of memory");
				return -1;
			}
			o->name = o->path;
			return 0;
		}
	}
	o->path = strdup(path);
	o->tmp = malloc(strlen(path) + 16);
	if (!o->path || !o->tmp) {
		free(o->path);
		free(o->tmp);
		kd_err_set(e, KD_ENOMEM, "out of memory");
		return -1;
	}
	o->name = o->path;
	sprintf(o->tmp, "%s.tmp.XXXXXX", path);
	{
		sigset_t old;
		int err;

		busy_enter(&old);
		fd = mkstemp(o->tmp);
		err = errno;
		if (fd >= 0)
			track(o->tmp);
		busy_leave(&old);
		if (fd < 0) {
			kd_err_set(e, KD_EIO, "cannot create a temporary file for '%s': %s", path, strerror(err));
			free(o->path);
			free(o->tmp);
			memset(o, 0, sizeof *o);
			return -1;
		}
	}
	/* mkstemp makes the file 0600; an output file gets the usual mode */
	{
		mode_t um = umask(0);
		umask(um);
		fchmod(fd, 0666 & ~um);
	}
	o->fp = fdopen(fd, "wb");
	if (!o->fp) {
		kd_err_set(e, KD_EIO, "cannot create '%s': %s", path, strerror(errno));
		close(fd);
		kdout_abort(o);
		return -1;
	}
	return 0;
}

static void
release(kdout_file *o)
{
	if (o->tmp) {
		sigset_t old;

		/* a handler must not read the name while it is freed */
		busy_enter(&old);
		untrack(o->tmp);
		busy_leave(&old);
		free(o->tmp);
	}
	free(o->path);
	memset(o, 0, sizeof *o);
}

int
kdout_commit(kdout_file *o, kd_err *e)
{
	int err = 0;

	if (!o->fp)
		return 0;
	if (fflush(o->fp) || ferror(o->fp))
		err = errno ? errno : EIO;
	if (!o->path) {
		if (err) {
			kd_err_set(e, err == EPIPE ? KD_EPIPE : KD_EIO,
			           "write error on stdout: %s", strerror(err));
			return -1;
		}
		return 0;
	}
	if (!o->tmp) { /* a device or FIFO, written in place */
		if (fclose(o->fp) && !err)
			err = errno;
		o->fp = NULL;
		if (err)
			kd_err_set(e, KD_EIO, "write error on '%s': %s", o->path, strerror(err));
		release(o);
		return err ? -1 : 0;
	}
	if (!err && fsync(fileno(o->fp)) && errno != EINVAL)
		err = errno;
	if (fclose(o->fp) && !err)
		err = errno;
	o->fp = NULL;
	if (!err && rename(o->tmp, o->path)) {
		kd_err_set(e, KD_EIO, "cannot rename '%s' to '%s': %s", o->tmp,
		           o->path, strerror(errno));
		unlink(o->tmp);
		release(o);
		return -1;
	}
	if (err) {
		kd_err_set(e, KD_EIO, "write error on '%s': %s", o->path, strerror(err));
		unlink(o->tmp);
		release(o);
		return -1;
	}
	sync_dir(o->path);
	release(o);
	return 0;
}

void
kdout_abort(kdout_file *o)
{
	if (o->path) {
		if (o->fp)
			fclose(o->fp);
		if (o->tmp)
			unlink(o->tmp);
		release(o);
	}
}
