#!/usr/bin/env bats
# kd-student-mpi (make MPI=1; make check builds it when mpicc is there):
# `mpirun -np 2 kd-student-mpi --batch B` trains the student that
# kd-student trains with --batch 2B, to float rounding, and not the one
# of --batch B; a failure on any one process (a bad file, a checkpoint that
# cannot be written, divergence, other options) ends the whole job with
# status 1 instead of leaving the others waiting; a run stopped after a
# checkpoint resumes to the same model, byte for byte.
#
# Every mpirun runs under `timeout`, so that a hang fails the test rather
# than the suite. Open MPI refuses root without the two OMPI_ALLOW_* below.
# Under AddressSanitizer (make asan) leak detection is off for these runs:
# Open MPI's plugins leave allocations behind at exit, reported from
# unloaded libraries that no suppression can name; the same training code
# is leak-checked in the plain kd-student tests and in test_workers.

load helpers

MPI_STUDENT=$KD_BIN/kd-student-mpi

setup_file() {
	[ -x "$KD_BIN/kd-student-mpi" ] && command -v mpirun > /dev/null || return 0
	cd "$BATS_FILE_TMPDIR" || return 1
	kd-gen blobs --rows 3000 --features 20 --classes 5 --seed 8 --sep 2 > d.csv
	kd-gen blobs --rows 500 --features 20 --classes 5 --seed 9 --sep 2 > test.csv
	kd-teacher train -q -o t.kdm --hidden 32 --epochs 2 --threads 1 d.csv
	kd-teacher -m t.kdm --inputs --threads 1 d.csv | kd-soften -T 4 > t.kd
	kd-teacher -m t.kdm --layer 1 --threads 1 d.csv > h.kd
}

setup() {
	if [ ! -x "$MPI_STUDENT" ]; then
		skip "kd-student-mpi is not built: mpicc was not found (Debian: apt-get install libopenmpi-dev openmpi-bin; then make MPI=1)"
	fi
	if ! command -v mpirun > /dev/null; then
		skip "mpirun was not found (Debian: apt-get install openmpi-bin)"
	fi
	cd "$BATS_TEST_TMPDIR" || exit 1
	ln -s "$BATS_FILE_TMPDIR"/{d.csv,test.csv,t.kd,h.kd} .
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
	export ASAN_OPTIONS=detect_leaks=0
}

# mpi NP ARGS...: kd-student-mpi on NP processes of this machine, at most
# 5 minutes
mpi() {
	local np=$1
	shift
	timeout 300 mpirun --oversubscribe -np "$np" "$MPI_STUDENT" "$@"
}

# logits MODEL: the model's logits on the test rows, as CSV
logits() {
	kd-teacher -m "$1" --threads 1 test.csv | kd-cat > "${1%.kdm}.csv"
}

OPTS=(--hidden 64,64 --epochs 4 --threads 1 --seed 3 --val 300 --lr 0.05 --targets t.kd)

@test "mpirun -np 2 with --batch 32 trains the student of one process with --batch 64, and not that of --batch 32" {
	run --separate-stderr mpi 2 -o p2.kdm "${OPTS[@]}" --batch 32
	assert_success
	[ "$(ls ./*.kdm)" = "./p2.kdm" ]
	# rank 0 alone reports, one line per epoch
	[ "$(grep -c '^kd-student-mpi: epoch [1-4]/4 ' <<< "$stderr")" -eq 4 ]
	[[ "$stderr" != *'rank 1'* ]]
	# and ends with the time the sums took: 43 steps an epoch (2700
	# rows, 64 a step), one validation sum an epoch, one check of the options
	grep -q '^kd-student-mpi: 2 processes: 177 sums (0.0 MB of gradients each) took ' <<< "$stderr"
	kd-student -q -o p1.kdm "${OPTS[@]}" --batch 64
	kd-student -q -o p1-half.kdm "${OPTS[@]}" --batch 32
	logits p2.kdm
	logits p1.kdm
	logits p1-half.kdm
	run same_records p1.csv p2.csv
	assert_success
	# the comparison can fail: each process's batch alone is another run
	run same_records p1-half.csv p2.csv
	assert_failure
	# 2700 training rows, 64 a step: the last step's 12 rows are all
	# rank 0's, rank 1 adds zeros; --alpha mixes in the labels
	mpi 2 -q -o a2.kdm "${OPTS[@]}" --batch 32 --alpha 0.5 d.csv
	kd-student -q -o a1.kdm "${OPTS[@]}" --batch 64 --alpha 0.5 d.csv
	logits a2.kdm
	logits a1.kdm
	run same_records a1.csv a2.csv
	assert_success
}

@test "with a hint, mpirun -np 2 --batch 32 trains the student of one process with --batch 64" {
	mpi 2 -q -o p2.kdm "${OPTS[@]}" --batch 32 --hint h.kd
	kd-student -q -o p1.kdm "${OPTS[@]}" --batch 64 --hint h.kd
	kd-student -q -o p0.kdm "${OPTS[@]}" --batch 64
	logits p2.kdm
	logits p1.kdm
	logits p0.kdm
	run same_records p1.csv p2.csv
	assert_success
	# the hint's part can fail: without it, another student
	run same_records p0.csv p2.csv
	assert_failure
}

@test "kd-student-mpi on one process is kd-student, byte for byte" {
	mpi 1 -q -o m1.kdm "${OPTS[@]}" --batch 16
	kd-student -q -o s1.kdm "${OPTS[@]}" --batch 16
	cmp m1.kdm s1.kdm
}

@test "kd-student-mpi needs --targets FILE: stdin reaches one process only" {
	run --separate-stderr "$MPI_STUDENT" -o x.kdm --hidden 8 < t.kd
	assert_equal "$status" 2
	assert_equal "$stderr" "kd-student-mpi: give the targets as --targets FILE: under mpirun stdin reaches one process only (see kd-student-mpi --help)"
	[ ! -e x.kdm ]
}

@test "a bad file on one process ends every process with status 1" {
	head -c 20000 t.kd > cut.kd
	run timeout 300 mpirun --oversubscribe -np 1 "$MPI_STUDENT" -q -o x.kdm "${OPTS[@]}" \
		: -np 1 "$MPI_STUDENT" -q -o x.kdm "${OPTS[@]}" --targets cut.kd
	assert_equal "$status" 1
	assert_output --partial "kd-student-mpi (rank 1): 'cut.kd': truncated"
	[ ! -e x.kdm ]
	no_temporaries .
}

@test "a checkpoint that rank 0 cannot write, in the middle of training, ends rank 1 too" {
	run mpi 2 -q -o x.kdm "${OPTS[@]}" --epochs 50 --checkpoint no/such/dir/ck
	assert_equal "$status" 1
	assert_output --partial "kd-student-mpi: "
	assert_output --partial "no/such/dir/ck"
	[ ! -e x.kdm ]
}

@test "processes given other options are refused, all of them" {
	run timeout 300 mpirun --oversubscribe -np 1 "$MPI_STUDENT" -q -o x.kdm "${OPTS[@]}" \
		: -np 1 "$MPI_STUDENT" -q -o x.kdm "${OPTS[@]}" --lr 0.1
	assert_equal "$status" 1
	assert_output --partial "the 2 workers were not given the same options and data"
	[ ! -e x.kdm ]
}

@test "divergence stops every process" {
	# the stream's rows at 1000 times the scale, unscaled
	kd-gen blobs --rows 3000 --features 20 --classes 5 --seed 8 --scale 1000 > big.csv
	kd-teacher -m "$BATS_FILE_TMPDIR/t.kdm" --threads 1 big.csv | kd-soften -T 4 > big.kd
	run mpi 2 -q -o x.kdm "${OPTS[@]}" --targets big.kd --optimizer sgd --lr 10 --no-standardize big.csv
	assert_equal "$status" 1
	# each process finds it; the first to abort may end the other's
	# message before it is written
	assert_output --regexp "kd-student-mpi( \(rank 1\))?: training diverged in epoch 1: the loss became"
	[ ! -e x.kdm ]
}

@test "dead ReLUs are told once, by rank 0, not by every process" {
	# too large a rate kills hidden units (as in model.bats); each process
	# holds the same model and validation rows
	run --separate-stderr mpi 2 -q -o x.kdm "${OPTS[@]}" --optimizer sgd --hidden 16,16 --lr 3
	assert_success
	echo "$stderr"
	[ "$(grep -c 'never fire on the 2700 training rows' <<< "$stderr")" -eq 1 ]
	grep -q '^kd-student-mpi: [0-9]* of 16 units of hidden layer [12] never fire' <<< "$stderr"
	[ -s x.kdm ]
}

@test "stopped after a checkpoint, mpirun -np 2 --resume gives the same model; one process refuses it" {
	# enough epochs after the first checkpoint (0.4 s each here) that the
	# run is still going when the test stops it
	BIG=(--hidden 512,512 --epochs 16 --threads 1 --seed 3 --val 300 --targets t.kd --batch 32)
	mpi 2 -q -o whole.kdm "${BIG[@]}"
	timeout 300 mpirun --oversubscribe -np 2 "$MPI_STUDENT" -q -o s.kdm "${BIG[@]}" --checkpoint ck 2> err &
	pid=$!
	for i in $(seq 600); do
		[ -e ck ] && break
		sleep 0.1
	done
	[ -e ck ] || { kill "$pid"; echo "no checkpoint after 60 s"; false; }
	# SIGTERM to rank 0 itself (the one that writes checkpoints); mpirun
	# then stops rank 1. A SIGTERM to mpirun makes Open MPI follow it with
	# a SIGKILL after a second (odls_base_sigkill_timeout), which can catch
	# rank 0 still in the fsync of a checkpoint, and nothing can remove a
	# temporary after a SIGKILL
	mp=$(pgrep -P "$pid" -x mpirun)
	rank0=
	for p in $(pgrep -P "$mp" -x kd-student-mpi); do
		tr '\0' '\n' < "/proc/$p/environ" | grep -qx OMPI_COMM_WORLD_RANK=0 && rank0=$p
	done
	[ -n "$rank0" ] || { kill "$pid"; echo "rank 0 not found under mpirun $mp"; false; }
	kill -TERM "$rank0"
	st=0
	wait "$pid" || st=$?
	[ "$st" -ne 0 ] || { echo "mpirun ended by itself before SIGTERM: make the run longer"; false; }
	[ ! -e s.kdm ]
	no_temporaries .
	mpi 2 -q -o s.kdm "${BIG[@]}" --resume ck
	cmp whole.kdm s.kdm
	run kd-student -q -o s1.kdm "${BIG[@]}" --resume ck
	assert_equal "$status" 1
	assert_output --partial "a checkpoint of another run"
}
