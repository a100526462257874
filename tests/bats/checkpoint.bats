#!/usr/bin/env bats
# kd-student and kd-teacher train stopped by a signal: no model file is
# left, or with --checkpoint the last complete checkpoint, from which
# --resume goes on to the same model, byte for byte, as a run never stopped.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
	kd-gen blobs --rows 12000 --features 20 --classes 5 --seed 8 > d.csv
	kd-teacher train -q -o t.kdm --hidden 32 --epochs 1 --threads 1 d.csv
	kd-teacher -m t.kdm --inputs --threads 1 d.csv | kd-soften -T 4 > t.kd
}

# background jobs of a non-interactive shell start with SIGINT ignored
# (and kd keeps what its parent chose): STUDENT gives the default back, and
# execs kd-student so that $! is its pid
STUDENT=(env --default-signal=INT,TERM kd-student)

# the student of every test: big enough that an epoch takes a while (0.17 s
# here with OpenBLAS's AVX-512 kernels), and enough epochs after the first
# checkpoint for the test to stop it before it ends by itself
OPTS=(--hidden 256,256 --epochs 12 --threads 1 --seed 3 --val 1000 --targets t.kd)

# stop_after_checkpoint SIG: start kd-student with --checkpoint ck, wait
# until the first checkpoint is written, stop it with SIG
stop_after_checkpoint() {
	"${STUDENT[@]}" -q -o s.kdm "${OPTS[@]}" --checkpoint ck 2> err &
	local pid=$! i
	for i in $(seq 600); do
		[ -e ck ] && break
		sleep 0.1
	done
	[ -e ck ] || { kill "$pid"; echo "no checkpoint after 60 s"; return 1; }
	kill -"$1" "$pid"
	local st=0
	wait "$pid" || st=$?
	# killed by the signal, as the shell sees it: 128 + its number
	[ "$st" -eq $((128 + $(kill -l "$1"))) ] || { echo "kd-student exited $st after SIG$1"; return 1; }
}

# resumes_only_itself: with OPTS ending in an option and its value, a run
# stopped after its first checkpoint resumes to the model of a run never
# stopped, and its checkpoint does not resume a run without that option
resumes_only_itself() {
	kd-student -q -o whole.kdm "${OPTS[@]}"
	stop_after_checkpoint TERM
	run kd-student -q -o s.kdm "${OPTS[@]}" --resume ck
	assert_success
	cmp whole.kdm s.kdm
	run kd-student -q -o s2.kdm "${OPTS[@]:0:${#OPTS[@]}-2}" --resume ck
	assert_failure
	assert_output --partial "'ck': a checkpoint of another run"
}

@test "interrupted without checkpoints: no model and no temporary are left" {
	for sig in INT TERM; do
		# far more epochs than it can run in the second it is given
		"${STUDENT[@]}" -q -o s.kdm "${OPTS[@]}" --epochs 1000 2> err &
		pid=$!
		sleep 1
		kill -"$sig" "$pid"
		st=0
		wait "$pid" || st=$?
		[ "$st" -eq $((128 + $(kill -l "$sig"))) ] || { echo "exit $st after SIG$sig"; false; }
		[ ! -e s.kdm ]
		no_temporaries .
	done
}

@test "SIGINT and SIGTERM leave the last checkpoint, and --resume gives the same model" {
	kd-student -q -o whole.kdm "${OPTS[@]}"
	for sig in INT TERM; do
		rm -f ck s.kdm
		stop_after_checkpoint "$sig"
		[ ! -e s.kdm ]
		no_temporaries .
		run kd-student -q -o s.kdm "${OPTS[@]}" --resume ck
		assert_success
		cmp whole.kdm s.kdm
	done
}

@test "--ema: the moving average is in the checkpoint, and --resume gives the same model" {
	# (that the average is what is saved, and is not the last weights, is
	# test_train's part)
	OPTS+=(--ema 0.99)
	resumes_only_itself
	# a decay of 1 would never move
	run --separate-stderr kd-student -q -o s3.kdm "${OPTS[@]}" --ema 1
	assert_failure 2
	[[ "$stderr" == "kd-student: --ema: 1 is out of range (0 to 0.999999)"* ]] || { echo "$stderr"; false; }
	[ ! -e s3.kdm ]
}

@test "--hint: the regressor and its moments are in the checkpoint, and --resume gives the same model" {
	kd-teacher -m t.kdm --layer 1 --threads 1 d.csv > h.kd
	OPTS+=(--hint h.kd)
	resumes_only_itself
}

@test "--warmup: stopped within the warm-up, --resume gives the same model" {
	OPTS+=(--warmup 3) # the first checkpoint is a third of the way up
	resumes_only_itself
}

@test "--optimizer sgd: the momentum is in the checkpoint (Adam's moments are, by default), and --resume gives the same model" {
	OPTS+=(--optimizer sgd)
	resumes_only_itself
}

@test "--patience: the best epoch is in the checkpoint; a run resumed after its early stop trains no more" {
	OPTS+=(--patience 4)
	resumes_only_itself
	# a run that stopped early, resumed from its last checkpoint, ends at
	# once with the same model
	kd-student -o early.kdm "${OPTS[@]:0:${#OPTS[@]}-2}" --epochs 200 --lr 0.004 --patience 2 --checkpoint ck2 2> err
	grep -q "stopped early" err || { cat err; false; }
	run --separate-stderr kd-student -o again.kdm "${OPTS[@]:0:${#OPTS[@]}-2}" --epochs 200 --lr 0.004 --patience 2 --resume ck2
	assert_success
	cmp early.kdm again.kdm
	assert_equal "$stderr" ""
}

@test "kd-teacher train resumes too" {
	T_OPTS=(--hidden 64 --epochs 3 --threads 1 --seed 2 --val 500 --dropout 0.5)
	kd-teacher train -q -o whole.kdm "${T_OPTS[@]}" d.csv
	kd-teacher train -q -o half.kdm "${T_OPTS[@]}" --checkpoint ck d.csv
	# the checkpoint of the last epoch resumes to the end at once
	run kd-teacher train -q -o again.kdm "${T_OPTS[@]}" --resume ck d.csv
	assert_success
	cmp whole.kdm again.kdm
}

@test "a checkpoint of another run, a corrupt one or a missing one is refused by name" {
	stop_after_checkpoint TERM
	cp ck good
	# other options
	run --separate-stderr kd-student -q -o s.kdm "${OPTS[@]}" --lr 0.03 --resume ck
	assert_failure 1
	[[ "$stderr" == "kd-student: 'ck': a checkpoint of another run"* ]] || { echo "$stderr"; false; }
	[ ! -e s.kdm ]
	# a flipped byte in the parameters
	size=$(stat -c %s ck)
	printf '\x55' | dd of=ck bs=1 seek=$((size - 100)) conv=notrunc status=none
	run --separate-stderr kd-student -q -o s.kdm "${OPTS[@]}" --resume ck
	assert_failure 1
	[[ "$stderr" == *"'ck': checksum mismatch"* ]] || { echo "$stderr"; false; }
	# cut short
	head -c 1000 good > ck
	run --separate-stderr kd-student -q -o s.kdm "${OPTS[@]}" --resume ck
	assert_failure 1
	[[ "$stderr" == *"'ck': truncated checkpoint"* ]] || { echo "$stderr"; false; }
	# not a checkpoint, a missing file
	cp t.kd other.kd
	run --separate-stderr kd-student -q -o s.kdm "${OPTS[@]}" --resume other.kd
	assert_failure 1
	[[ "$stderr" == *"'other.kd': not a kd checkpoint"* ]] || { echo "$stderr"; false; }
	# the run's own targets: checkpoints would go on to it, so it is refused
	run --separate-stderr kd-student -q -o s.kdm "${OPTS[@]}" --resume t.kd
	assert_failure 2
	assert_equal "$stderr" "kd-student: --checkpoint 't.kd' is also an input (t.kd): refusing to overwrite it"
	run --separate-stderr kd-student -q -o s.kdm "${OPTS[@]}" --resume nothere
	assert_failure 1
	[[ "$stderr" == *"'nothere'"* ]] || { echo "$stderr"; false; }
	[ ! -e s.kdm ]
	no_temporaries .
}

@test "a checkpoint that cannot be written stops the run with a message" {
	run --separate-stderr kd-student -q -o s.kdm "${OPTS[@]}" --epochs 1 --checkpoint /dev/full
	assert_failure 1
	[[ "$stderr" == "kd-student: "*"/dev/full"* ]] || { echo "$stderr"; false; }
	run --separate-stderr kd-student -q -o s.kdm "${OPTS[@]}" --epochs 1 --checkpoint nodir/ck
	assert_failure 1
	[[ "$stderr" == *"nodir/ck"* ]] || { echo "$stderr"; false; }
	[ ! -e s.kdm ]
}
