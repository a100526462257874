#!/usr/bin/env bats
# The defaults of the trainers when the command line names no length or
# rate: AdamW, a run length from the data's size with an early stop on the
# validation loss, --alpha 0.5 where there are labels; and the options
# that override them (--optimizer, --patience, --select, --epochs, --lr).

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
	kd-gen blobs --rows 600 --features 6 --classes 3 --seed 4 > all.csv
	head -500 all.csv > train.csv
	tail -100 all.csv > test.csv
}

# epochs LOG: the epoch lines of a progress log, and the run's length
epochs_run() { grep -c ': epoch [0-9]*/' "$1"; }
epochs_planned() { grep -m1 -o 'epoch 1/[0-9]*' "$1" | cut -d/ -f2; }

@test "by default a small data set trains on every row for a fixed length at a higher rate" {
	# 500 rows (under 5000): none held out; 4 steps an epoch, so 150
	# epochs for 600 steps; Adam at 0.003; a patience of 19 epochs (75
	# steps) on the training loss
	kd-teacher train -o m.kdm --hidden 16 --threads 1 train.csv 2> log
	[ "$(epochs_planned log)" -eq 150 ] || { head -3 log; false; }
	n=$(epochs_run log)
	grep -q "stopped early" log || [ "$n" -eq 150 ]
	run ! grep -q "val err" log
	tail -2 log | grep -q "lr 0.003 " || { tail -2 log; false; }
	kd-teacher -m m.kdm test.csv | kd-eval --json /dev/stdin > e.json
	jq -e '.accuracy > 0.9' e.json
	# 60 rows: one step an epoch, held to 200 epochs
	head -60 train.csv > tiny.csv
	kd-teacher train -o t.kdm --hidden 16 --threads 1 tiny.csv 2> log
	[ "$(epochs_planned log)" -eq 200 ] || { head -3 log; false; }
}

@test "by default a larger data set holds out a tenth and stops once the validation loss stalls" {
	kd-gen blobs --rows 6000 --features 6 --classes 3 --seed 5 > big.csv
	# 5400 training rows, 43 steps an epoch: 70 epochs for 3000 steps,
	# and a patience of 10 epochs (7 for 300 steps, at least 10)
	kd-teacher train -o m.kdm --hidden 16 --threads 1 big.csv 2> log
	[ "$(epochs_planned log)" -eq 70 ] || { head -3 log; false; }
	grep -q "val err .* loss [0-9.]*" log
	tail -2 log | grep -q "lr 0.001 " || { tail -2 log; false; }
	n=$(epochs_run log)
	if grep -q "stopped early" log; then
		# the last 10 epochs found no lower loss: the best (*) is n - 10
		best=$(grep ' \* ' log | tail -1 | sed 's/.*epoch \([0-9]*\)\/.*/\1/')
		[ "$best" -eq $((n - 10)) ] || { echo "best $best of $n"; false; }
	else
		[ "$n" -eq 70 ]
	fi
	# the same run, told to be patient for 2 epochs, stops early
	kd-teacher train -o m2.kdm --hidden 16 --threads 1 --patience 2 big.csv 2> log2
	grep -q "stopped early" log2 || { tail -3 log2; false; }
	n2=$(epochs_run log2)
	best=$(grep ' \* ' log2 | tail -1 | sed 's/.*epoch \([0-9]*\)\/.*/\1/')
	[ "$best" -eq $((n2 - 2)) ] || { echo "best $best of $n2"; false; }
}

@test "--epochs N alone runs N epochs, with no early stop; --patience N with it stops" {
	kd-teacher train -o m.kdm --hidden 16 --threads 1 --epochs 7 train.csv 2> log
	[ "$(epochs_run log)" -eq 7 ] || { cat log; false; }
	[ "$(epochs_planned log)" -eq 7 ]
	run ! grep -q "stopped early" log
	kd-teacher train -o m.kdm --hidden 16 --threads 1 --epochs 500 --patience 2 --lr 0.05 train.csv 2> log
	grep -q "stopped early" log
	[ "$(epochs_run log)" -lt 500 ]
}

@test "--optimizer sgd takes the tool's SGD rates; --lr alone under Adam keeps the rate" {
	kd-teacher train -q -o a.kdm --hidden 8 --threads 1 --epochs 3 --optimizer sgd train.csv
	kd-teacher train -q -o b.kdm --hidden 8 --threads 1 --epochs 3 --optimizer sgd --lr 0.05 --lr-end 0.0005 train.csv
	cmp a.kdm b.kdm
	kd-teacher -m a.kdm --inputs train.csv | kd-soften -T 4 > soft.kd
	kd-student -q -o s1.kdm --hidden 8 --threads 1 --epochs 3 --optimizer sgd --targets soft.kd
	kd-student -q -o s2.kdm --hidden 8 --threads 1 --epochs 3 --optimizer sgd --lr 0.02 --lr-end 0.0002 --targets soft.kd
	cmp s1.kdm s2.kdm
	# the same options under Adam make another model
	kd-student -q -o s3.kdm --hidden 8 --threads 1 --epochs 3 --lr 0.02 --lr-end 0.0002 --targets soft.kd
	run ! cmp -s s2.kdm s3.kdm
	kd-teacher train -o c.kdm --hidden 8 --threads 1 --epochs 3 --lr 0.003 train.csv 2> log
	[ "$(grep -c 'lr 0.003 ' log)" -eq 3 ] || { cat log; false; }
	# under SGD, --lr alone falls a hundredfold
	kd-teacher train -o c.kdm --hidden 8 --threads 1 --epochs 3 --optimizer sgd --lr 0.1 train.csv 2> log
	tail -1 log | grep -q "lr 0.001 " || { cat log; false; }
}

@test "kd-student mixes in the hard labels by default where there are any" {
	kd-teacher train -q -o t.kdm --hidden 16 --threads 1 --epochs 3 train.csv
	kd-teacher -m t.kdm --inputs train.csv | kd-soften -T 8 > lab.kd
	kd-teacher -m t.kdm --inputs --no-label train.csv | kd-soften -T 8 > unl.kd
	kd-student -q -o d.kdm --hidden 8 --threads 1 --epochs 3 --targets lab.kd
	kd-student -q -o h.kdm --hidden 8 --threads 1 --epochs 3 --alpha 0.5 --targets lab.kd
	kd-student -q -o s.kdm --hidden 8 --threads 1 --epochs 3 --alpha 1 --targets lab.kd
	cmp d.kdm h.kdm
	run ! cmp -s d.kdm s.kdm
	# no labels: soft targets alone, without complaint
	kd-student -q -o u.kdm --hidden 8 --threads 1 --epochs 3 --targets unl.kd
	kd-student -q -o v.kdm --hidden 8 --threads 1 --epochs 3 --alpha 1 --targets unl.kd
	cmp u.kdm v.kdm
}

@test "bad --optimizer, --select and --patience are refused" {
	run --separate-stderr kd-teacher train -q -o m.kdm --optimizer rmsprop train.csv
	assert_equal "$status" 2
	[[ "$stderr" == "kd-teacher: --optimizer: 'rmsprop' is not adam or sgd"* ]] || { echo "$stderr"; false; }
	run --separate-stderr kd-student -q -o m.kdm --select accuracy < /dev/null
	assert_equal "$status" 2
	[[ "$stderr" == "kd-student: --select: 'accuracy' is not loss or error"* ]] || { echo "$stderr"; false; }
	run --separate-stderr kd-teacher train -q -o m.kdm --patience -1 train.csv
	assert_equal "$status" 2
	[ ! -e m.kdm ]
}

@test "without validation rows --patience watches the training loss" {
	kd-teacher train -o m.kdm --val 0 --hidden 8 --threads 1 --epochs 500 --patience 1 train.csv 2> log
	grep -q "stopped early" log || { tail -3 log; false; }
	[ "$(epochs_run log)" -lt 500 ]
	run ! grep -q "val err" log
}

@test "--val FILE: every training row trains, the file's rows choose the epoch (and nothing leaks)" {
	head -100 train.csv > val.csv
	kd-teacher train -o m.kdm --hidden 8 --threads 1 --epochs 3 --val val.csv train.csv 2> log
	[ "$(grep -c 'val err' log)" -eq 3 ]
	kd-teacher -m m.kdm --inputs train.csv | kd-soften -T 4 > soft.kd
	kd-student -o s.kdm --hidden 8 --threads 1 --epochs 2 --val val.csv --targets soft.kd 2> log
	[ "$(grep -c 'val err' log)" -eq 2 ]
}

@test "kd-teacher train's default dropout: 0.5 with fewer rows than a tenth of the parameters, 0.2 with more" {
	# 500 rows: hidden 16 has 163 parameters, 128,128 has 17,795
	kd-teacher train -q -o a.kdm --hidden 16 --epochs 3 --threads 1 train.csv
	kd-teacher train -q -o b.kdm --hidden 16 --epochs 3 --threads 1 --dropout 0.2 train.csv
	cmp a.kdm b.kdm
	kd-teacher train -q -o c.kdm --hidden 128,128 --epochs 3 --threads 1 train.csv
	kd-teacher train -q -o d.kdm --hidden 128,128 --epochs 3 --threads 1 --dropout 0.5 train.csv
	cmp c.kdm d.kdm
	# given, an option is kept; the input dropout and max-norm stay the paper's
	kd-teacher train -q -o e.kdm --hidden 16 --epochs 3 --threads 1 --dropout 0.5 train.csv
	run ! cmp -s a.kdm e.kdm
	kd-teacher train -q -o f.kdm --hidden 16 --epochs 3 --threads 1 --input-dropout 0.2 --dropout 0.2 --max-norm 3.5 train.csv
	cmp a.kdm f.kdm
}

@test "kd-student's default: no dropout, but the teacher's on a small data set with under a tenth of a row per parameter" {
	kd-teacher train -q -o t.kdm --hidden 16 --threads 1 --epochs 3 train.csv
	kd-teacher -m t.kdm --inputs train.csv | kd-soften -T 8 > lab.kd
	reg='--input-dropout 0.2 --dropout 0.5 --max-norm 3.5'
	none='--input-dropout 0 --dropout 0 --max-norm 0'
	# 500 rows, no validation rows: 128,128 (17,795 parameters) is regularised, 8 is not
	kd-student -q -o a.kdm --hidden 128,128 --threads 1 --epochs 3 --targets lab.kd
	kd-student -q -o b.kdm --hidden 128,128 --threads 1 --epochs 3 $reg --targets lab.kd
	cmp a.kdm b.kdm
	kd-student -q -o c.kdm --hidden 8 --threads 1 --epochs 3 --targets lab.kd
	kd-student -q -o d.kdm --hidden 8 --threads 1 --epochs 3 $none --targets lab.kd
	cmp c.kdm d.kdm
	# with validation rows, the paper's student: none
	kd-student -q -o e.kdm --hidden 128,128 --threads 1 --epochs 3 --val 100 --targets lab.kd
	kd-student -q -o f.kdm --hidden 128,128 --threads 1 --epochs 3 --val 100 $none --targets lab.kd
	cmp e.kdm f.kdm
	# and a run of 1,200 steps: 4 steps an epoch, 200 epochs at most
	kd-student -o g.kdm --hidden 8 --threads 1 --patience 0 --targets lab.kd 2> log
	grep -q 'epoch 1/200 ' log || { head -2 log; false; }
}
