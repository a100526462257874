#!/usr/bin/env bats
# kd-student --hint: a student's hidden layer learns a teacher's (FitNets,
# Romero et al. 2015) from the features stream of kd-teacher -m --layer,
# through a linear map trained with it and dropped after; the two stages
# (--hint-only, then --init); bad hints refused by name, nothing written.
# (The gradients are test_mlp's, one step of the loop test_train's; the
# checkpoint's part is checkpoint.bats's, MPI's mpi.bats's.)

load helpers

setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	kd-gen blobs --rows 1500 --features 12 --classes 4 --seed 5 > d.csv
	kd-gen blobs --rows 1500 --features 12 --classes 4 --seed 6 > other.csv
	kd-teacher train -q -o t.kdm --hidden 40,24 --epochs 3 --threads 1 d.csv
	kd-teacher -m t.kdm --inputs --threads 1 d.csv | kd-soften -T 4 > t.kd
	kd-teacher -m t.kdm --layer 1 --threads 1 d.csv > h1.kd
	kd-teacher -m t.kdm --layer 2 --threads 1 d.csv > h2.kd
}

setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
	ln -s "$BATS_FILE_TMPDIR"/{d.csv,other.csv,t.kdm,t.kd,h1.kd,h2.kd} .
}

OPTS=(--hidden 16,16 --epochs 4 --threads 1 --seed 3 --val 200 --targets t.kd)

# epoch_loss N LOG: the training loss of epoch N in a progress log
epoch_loss() {
	sed -n "s/^kd-student: epoch $1\/[0-9]* *loss \([0-9.]*\) .*/\1/p" "$2"
}

@test "--hint changes the student; --hint-weight 0 leaves it as without a hint, byte for byte" {
	kd-student -q -o plain.kdm "${OPTS[@]}"
	kd-student -q -o h.kdm "${OPTS[@]}" --hint h1.kd
	kd-student -q -o zero.kdm "${OPTS[@]}" --hint h1.kd --hint-weight 0
	cmp plain.kdm zero.kdm
	run cmp plain.kdm h.kdm
	assert_failure
	# the teacher's second layer, into the student's second, is another run
	kd-student -q -o h22.kdm "${OPTS[@]}" --hint h2.kd --hint-layer 2
	run cmp h.kdm h22.kdm
	assert_failure
	# the map is dropped: the student has its own shape and runs alone
	[ "$(stat -c %s h.kdm)" -eq "$(stat -c %s plain.kdm)" ]
	run kd-eval -m h.kdm d.csv
	assert_success
	# the same seed and threads: the same model
	kd-student -q -o h-again.kdm "${OPTS[@]}" --hint h1.kd
	cmp h.kdm h-again.kdm
}

@test "--hint-only: the hint's loss falls; --init then trains the classifier on the targets" {
	kd-student -o s1.kdm "${OPTS[@]}" --epochs 6 --hint h1.kd --hint-only --hint-weight 1 2> s1.log
	first=$(epoch_loss 1 s1.log)
	last=$(epoch_loss 6 s1.log)
	echo "hint loss: epoch 1 $first, epoch 6 $last"
	awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < 0.8 * a) }'
	kd-student -q -o s2.kdm "${OPTS[@]:2}" --init s1.kdm
	run kd-eval -m s2.kdm d.csv
	assert_success
	# the second stage starts from the first: another student than one
	# started from the seed
	kd-student -q -o fresh.kdm "${OPTS[@]}"
	run cmp s2.kdm fresh.kdm
	assert_failure
}

@test "--init: a model of other widths, inputs or classes is refused by name" {
	kd-student -q -o small.kdm "${OPTS[@]}"
	run --separate-stderr kd-student -q -o x.kdm "${OPTS[@]}" --hidden 8,8 --init small.kdm
	assert_failure 1
	assert_equal "$stderr" "kd-student: --init 'small.kdm': its hidden layers are not those of --hidden"
	kd-mkmodel --inputs 5 --hidden 8 --classes 4 -o narrow.kdm
	run --separate-stderr kd-student -q -o x.kdm --targets t.kd --epochs 1 --init narrow.kdm
	assert_failure 1
	assert_equal "$stderr" "kd-student: --init 'narrow.kdm': the model has 5 inputs and 4 classes, the data 12 and 4"
	run --separate-stderr kd-student -q -o x.kdm --targets t.kd --epochs 1 --init missing.kdm
	assert_failure 1
	[[ "$stderr" == *"'missing.kdm'"* ]] || { echo "$stderr"; false; }
	file_missing x.kdm
}

@test "a hint that is not a features stream, or not of the targets' rows, is refused by name" {
	run --separate-stderr kd-student -q -o x.kdm "${OPTS[@]}" --hint t.kd
	assert_failure 1
	assert_equal "$stderr" "kd-student: 't.kd' is a stream of probs, not the features of a hidden layer (kd-teacher -m MODEL --layer L writes them)"
	kd-teacher -m t.kdm --layer 1 --rows 1000 --threads 1 d.csv > short.kd
	run --separate-stderr kd-student -q -o x.kdm "${OPTS[@]}" --hint short.kd
	assert_failure 1
	assert_equal "$stderr" "kd-student: 'short.kd' has 1000 records, the targets 1500 (first unmatched: record 1001)"
	# the same ids, other labels: the rows of another data set
	kd-teacher -m t.kdm --layer 1 --threads 1 other.csv > other.kd
	run --separate-stderr kd-student -q -o x.kdm "${OPTS[@]}" --hint other.kd
	assert_failure 1
	[[ "$stderr" =~ ^"kd-student: 'other.kd': record "[0-9]+" (row id "[0-9]+") has label "[0-3]", the targets' has label "[0-3]$ ]] || { echo "$stderr"; false; }
	# the same rows in another order
	kd-teacher -m t.kdm --layer 1 --threads 1 --shard 1/2 -o p1.kd d.csv
	kd-teacher -m t.kdm --layer 1 --threads 1 --shard 2/2 -o p2.kd d.csv
	cat p2.kd p1.kd > swapped.kd
	run --separate-stderr kd-student -q -o x.kdm "${OPTS[@]}" --hint swapped.kd
	assert_failure 1
	[[ "$stderr" == "kd-student: 'swapped.kd': record 1 has row id "*", the targets' record 1 has id 0: the hint must come from the same rows, in the same order" ]] || { echo "$stderr"; false; }
	file_missing x.kdm
	no_temporaries .
}

@test "hint options without --hint, a layer the student lacks, and two stdins are usage errors" {
	for opt in "--hint-layer 1" "--hint-weight 2" "--hint-only"; do
		# shellcheck disable=SC2086 # the option and its value, split
		run --separate-stderr kd-student -q -o x.kdm "${OPTS[@]}" $opt
		assert_failure 2
		assert_equal "$stderr" "kd-student: ${opt%% *} needs --hint FILE (see kd-student --help)"
	done
	run --separate-stderr kd-student -q -o x.kdm "${OPTS[@]}" --hint h1.kd --hint-layer 3
	assert_failure 2
	assert_equal "$stderr" "kd-student: --hint-layer 3: the student has 2 hidden layers (see kd-student --help)"
	run --separate-stderr kd-student -q -o x.kdm --hidden 16 --hint - < h1.kd
	assert_failure 2
	assert_equal "$stderr" "kd-student: --hint - and the targets cannot both be stdin: give one as a file (see kd-student --help)"
	run --separate-stderr kd-student -q -o x.kdm "${OPTS[@]}" --hint h1.kd --hint-weight -1
	assert_failure 2
	file_missing x.kdm
}

@test "the hint may come on stdin, with the targets from a file and the inputs from DATA" {
	kd-teacher -m t.kdm --threads 1 d.csv | kd-soften -T 4 > bare.kd
	kd-student -q -o a.kdm "${OPTS[@]:0:10}" --targets bare.kd --hint - d.csv < h1.kd
	kd-student -q -o b.kdm "${OPTS[@]}" --hint h1.kd
	cmp a.kdm b.kdm
}
