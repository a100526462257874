#!/usr/bin/env bats
# kd-teacher --shard I/N: the parts of a data set, joined with cat, stand
# for one run; the consumers refuse a join with a row missing or repeated.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
	kd-gen blobs --rows 1003 --features 5 --classes 3 --seed 6 > d.csv
	kd-teacher train -q -o t.kdm --hidden 8 --epochs 2 --val 100 --threads 1 d.csv
	kd-teacher -m t.kdm --inputs --threads 1 d.csv > whole.kd
	for i in 1 2 3 4; do
		kd-teacher -m t.kdm --inputs --threads 1 --shard $i/4 d.csv > p$i.kd
	done
}

@test "--shard: every row in exactly one part, in row order; joined in order they equal one run" {
	# the same rows; values to float32 rounding (see same_records)
	# 1003 = 4 x 250 + 3: the first three parts get 251 rows
	for i in 1 2 3 4; do
		kd-cat p$i.kd | tail -n +3 | cut -d, -f1 > ids$i
	done
	[ "$(wc -l < ids1)" -eq 251 ]
	[ "$(wc -l < ids4)" -eq 250 ]
	[ "$(head -1 ids2)" -eq 251 ]
	[ "$(tail -1 ids4)" -eq 1002 ]
	cat ids1 ids2 ids3 ids4 | sort -n | uniq -d | grep -q . && false
	cat p1.kd p2.kd p3.kd p4.kd | kd-cat > joined.csv
	kd-cat whole.kd > whole.csv
	same_records joined.csv whole.csv
	kd-cat --info whole.kd | grep -qx 'rows of the data set: 1003'
	kd-cat --info whole.kd | grep -qx 'format version: 3'
	kd-cat --info p3.kd | grep -qx 'records: 251'
}

@test "joined in any order, the consumers take the parts as the whole" {
	cat p3.kd p1.kd p4.kd p2.kd > mixed.kd
	run --separate-stderr kd-eval --json mixed.kd
	assert_success
	jq -e '.rows == 1003' <<< "$output"
	errs=$(kd-eval --json whole.kd | jq .errors)
	jq -e --argjson e "$errs" '.errors == $e' <<< "$output"
	run --separate-stderr kd-average mixed.kd mixed.kd -o avg.kd
	assert_success
	kd-soften -T 2 mixed.kd | kd-student -q -o s.kdm --hidden 4 --epochs 1 --threads 1
	# each part alone can still be softened and looked at
	kd-soften -T 2 p2.kd | kd-cat --info - | grep -qx 'records: 251'
}

@test "a part left out or given twice is refused by the consumers, naming the row" {
	cat p1.kd p2.kd p4.kd > missing.kd
	for cmd in 'kd-eval missing.kd' 'kd-average missing.kd missing.kd' 'kd-student -q -o s.kdm --hidden 4 --epochs 1 --targets missing.kd'; do
		run --separate-stderr $cmd
		[ "$status" -eq 1 ] || { echo "$cmd: status $status"; false; }
		[[ "$stderr" == *"'missing.kd': row id 502 is missing (the data set has 1003 rows, the stream 752 records)"* ]] || { echo "$cmd: $stderr"; false; }
	done
	# the last part left out
	cat p1.kd p2.kd p3.kd > nolast.kd
	run --separate-stderr kd-eval nolast.kd
	assert_failure 1
	[[ "$stderr" == *"row id 753 is missing"* ]]
	cat p1.kd p2.kd p2.kd p3.kd p4.kd > twice.kd
	for cmd in 'kd-eval twice.kd' 'kd-average twice.kd' 'kd-student -q -o s.kdm --hidden 4 --epochs 1 --targets twice.kd'; do
		run --separate-stderr $cmd
		[ "$status" -eq 1 ] || { echo "$cmd: status $status"; false; }
		[[ "$stderr" == *"'twice.kd': record 503: row id 251 comes twice"* ]] || { echo "$cmd: $stderr"; false; }
	done
	[ ! -e s.kdm ]
}

@test "--shard takes I/N with 1 <= I <= N, and only with -m" {
	for bad in 0/4 5/4 4 /4 2/ 2/x -1/4 1/0; do
		run --separate-stderr kd-teacher -m t.kdm --shard "$bad" d.csv
		assert_failure 2
		[[ "$stderr" == "kd-teacher: --shard"* ]] || { echo "$bad: $stderr"; false; }
	done
	run --separate-stderr kd-teacher train -o x.kdm --shard 1/2 d.csv
	assert_failure 2
	# more parts than rows: some parts are empty, the join is still whole
	head -3 d.csv > three.csv
	for i in 1 2 3 4 5; do
		kd-teacher -m t.kdm --threads 1 --shard $i/5 three.csv > q$i.kd
	done
	cat q5.kd q4.kd q3.kd q2.kd q1.kd | kd-eval - | grep -q '^[^ ]* *3 '
}
