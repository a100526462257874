/* kd_mpi.h: the MPI side of kd-student-mpi, data-parallel training of one
 * student on the P processes of `mpirun -np P` (make MPI=1; Open MPI).
 *
 * Only tools/kd-student.c includes it, and only when built with -DKD_MPI:
 * lib/ knows nothing of MPI. It gives the training loop its kdt_reduce_fn
 * (MPI_Allreduce sums over MPI_COMM_WORLD), makes a failure on any process
 * end the whole job (an exit before MPI_Finalize calls MPI_Abort, so no
 * process waits forever in a sum that the failed one will never join),
 * and checks at the end that every process holds the same parameters. */
#ifndef KD_MPI_H
#define KD_MPI_H

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpi.h>

#include "cli.h"
#include "cli_train.h"
#include "kd_err.h"
#include "le.h"
#include "mlp.h"
#include "model.h"

/* time spent in kdmpi_reduce, and its calls (for the summary line) */
static double kdmpi_reduce_s;
static size_t kdmpi_reduce_calls;

/* kdmpi_sum: sum n values of type t at p over all processes, in place, in
 * pieces of at most INT_MAX (MPI counts are ints) */
static int
kdmpi_sum(void *p, size_t n, size_t size, MPI_Datatype t, kd_err *e)
{
	char *c = p;
	while (n > 0) {
		int k = n > INT_MAX ? INT_MAX : (int)n, rc;
		rc = MPI_Allreduce(MPI_IN_PLACE, c, k, t, MPI_SUM, MPI_COMM_WORLD);
		if (rc != MPI_SUCCESS) {
			char msg[MPI_MAX_ERROR_STRING];
			int len = 0;
			MPI_Error_string(rc, msg, &len);
			kd_err_set(e, KD_EIO, "MPI_Allreduce failed: %s", msg);
			return -1;
		}
		c += (size_t)k * size;
		n -= (size_t)k;
	}
	return 0;
}

/* kdmpi_reduce: the kdt_reduce_fn of an MPI run. Open MPI gives every
 * process the same sums bit for bit (kdmpi_same_params checks it) */
static int
kdmpi_reduce(float *f, size_t nf, double *s, size_t ns, void *ctx, kd_err *e)
{
	double t0 = MPI_Wtime();
	int rc;

	(void)ctx;
	rc = kdmpi_sum(f, nf, sizeof *f, MPI_FLOAT, e);
	if (!rc)
		rc = kdmpi_sum(s, ns, sizeof *s, MPI_DOUBLE, e);
	kdmpi_reduce_s += MPI_Wtime() - t0;
	kdmpi_reduce_calls++;
	return rc;
}

/* kdmpi_atexit: an exit (kdc_die, kdc_fail) between MPI_Init and
 * MPI_Finalize ends every process of the job, with status 1 */
static void
kdmpi_atexit(void)
{
	int init = 0, fin = 0;
	MPI_Initialized(&init);
	if (init)
		MPI_Finalized(&fin);
	if (init && !fin)
		MPI_Abort(MPI_COMM_WORLD, 1);
}

/* kdmpi_threads: BLAS threads for one of the processes on this machine:
 * the cores it may run on (mpirun binds each process to one core when it
 * starts 2 or fewer), at most the machine's cores shared among its
 * processes */
static int
kdmpi_threads(void)
{
	MPI_Comm node;
	int local = 1, aff, online;
	cpu_set_t set;

	if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0,
	                        MPI_INFO_NULL, &node) == MPI_SUCCESS) {
		MPI_Comm_size(node, &local);
		MPI_Comm_free(&node);
	}
	online = (int)sysconf(_SC_NPROCESSORS_ONLN);
	aff = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : online;
	if (online < 1)
		online = 1;
	if (aff > online / local)
		aff = online / local;
	return aff > 0 ? aff : 1;
}

/* kdmpi_start: join the job and make this process one of its workers in
 * cfg: its rank, the reduce hook, its name in messages (rank 0 keeps the
 * plain name; only it prints progress) and, unless --threads was given,
 * its share of the cores. Returns the rank. */
static int
kdmpi_start(kdc_train_cfg *cfg, const char *prog)
{
	static char name[128];
	int rank = 0, size = 1;

	if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
		kdc_die("MPI_Init failed");
	atexit(kdmpi_atexit);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (rank > 0) {
		const char *s = strrchr(prog, '/');
		snprintf(name, sizeof name, "%s (rank %d)", s ? s + 1 : prog, rank);
		kdc_init(name);
		cfg->quiet = 1;
	}
	cfg->t.workers = (size_t)size;
	cfg->t.worker = (size_t)rank;
	cfg->t.reduce = kdmpi_reduce;
	if (!cfg->threads)
		cfg->threads = kdmpi_threads();
	return rank;
}

/* kdmpi_same_params: every process ends with the same parameters, or
 * exit 1 (all of them: see kdmpi_atexit) */
static void
kdmpi_same_params(const kdm_model *m)
{
	unsigned lo, hi, crc;

	crc = (unsigned)kd_crc32(crc32(0L, Z_NULL, 0), m->params, m->nparams * sizeof *m->params);
	lo = hi = crc;
	MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UNSIGNED, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UNSIGNED, MPI_MAX, MPI_COMM_WORLD);
	if (lo != hi)
		kdc_die("the processes ended with different parameters (CRC-32 %08x to %08x): "
		        "the MPI sums were not the same on every process", lo, hi);
}

/* kdmpi_end: leave the job (after rank 0 has written the model); with
 * more than one process and progress on, rank 0 first says how long the
 * sums took: the communication, and the waits for a slower process */
static void
kdmpi_end(const kdc_train_cfg *cfg, size_t nparams)
{
	if (!cfg->quiet && cfg->t.workers > 1)
		fprintf(stderr, "%s: %zu processes: %zu sums (%.1f MB of gradients each) took %.1f s, "
		        "%.2f ms each, waits for the slowest process included\n",
		        kdc_prog(), cfg->t.workers, kdmpi_reduce_calls, 4e-6 * (double)nparams,
		        kdmpi_reduce_s, kdmpi_reduce_calls ? 1e3 * kdmpi_reduce_s / (double)kdmpi_reduce_calls : 0.0);
	MPI_Finalize();
}

#endif
