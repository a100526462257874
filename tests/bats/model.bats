#!/usr/bin/env bats
# kd-teacher and kd-student as a user calls them, on generated blobs.

load helpers

# blobs: 4000 rows of 10 features in 4 classes; train.csv 3000, test.csv 1000
blobs() {
	kd-gen blobs --rows 4000 --features 10 --classes 4 --seed 1 "$@" > all.csv
	head -3000 all.csv > train.csv
	tail -1000 all.csv > test.csv
}

# errors STREAM: misclassified rows of a labelled logits stream
errors() {
	kd-cat "$1" | awk -F, 'NR > 2 { m = 3; for (i = 4; i <= NF; i++) if ($i > $m) m = i; e += (m - 3 != $2) } END { print e + 0 }'
}

# agreement A B: rows where two logits streams pick the same class
agreement() {
	paste -d' ' <(kd-cat "$1" | tail -n +3) <(kd-cat "$2" | tail -n +3) | awk '
	function am(s,   f, n, m, i) { n = split(s, f, ","); m = 3; for (i = 4; i <= n; i++) if (f[i] + 0 > f[m] + 0) m = i; return m }
	{ split($0, h, " "); a += (am(h[1]) == am(h[2])) } END { print a + 0 }'
}

@test "kd-teacher and kd-student answer --help and --version" {
	for t in kd-teacher kd-student; do
		run --separate-stderr "$t" --help
		assert_success
		assert_output --partial "Usage: $t"
		assert_output --partial "--epochs N"
		run "$t" -V
		assert_success
	done
	run --separate-stderr kd-teacher train fashion-mnist:train
	assert_equal "$status" 2
	[[ "$stderr" == *"kd-teacher train needs -o MODEL"* ]]
	run --separate-stderr kd-student
	assert_equal "$status" 2
	run --separate-stderr kd-teacher train -o t.kdm --lr -1 x.csv
	assert_equal "$status" 2
	[[ "$stderr" == *"--lr: -1 is out of range"* ]]
}

@test "a teacher learns blobs whose raw columns are in the thousands" {
	blobs --scale 1000
	run kd-teacher train -q -o t.kdm --hidden 64,64 --epochs 10 --val 500 train.csv
	assert_success
	[ -s t.kdm ]
	no_temporaries
	kd-teacher -m t.kdm test.csv > test.kd
	e=$(errors test.kd)
	echo "teacher test errors: $e / 1000"
	[ "$e" -lt 100 ]
	# progress goes to stderr, one line per epoch when not a terminal
	run --separate-stderr kd-teacher train -o t2.kdm --hidden 16 --epochs 3 --val 500 train.csv
	assert_success
	[ "$(grep -c '^kd-teacher: epoch [1-3]/3  loss' <<< "$stderr")" -eq 3 ]
	[[ "$stderr" == *"val err"*"samples/s"*"left"* ]]
}

@test "distil through the pipe: the student agrees with the teacher" {
	blobs
	kd-teacher train -q -o t.kdm --hidden 64,64 --epochs 10 --val 500 train.csv
	run bash -c 'set -o pipefail; kd-teacher -m t.kdm --inputs train.csv | kd-soften -T 8 | kd-student -q -o s.kdm --hidden 32 --epochs 10 --val 500'
	assert_success
	kd-teacher -m t.kdm test.csv > t.kd
	kd-teacher -m s.kdm test.csv > s.kd
	a=$(agreement t.kd s.kd)
	echo "agreement: $a / 1000, student errors $(errors s.kd), teacher errors $(errors t.kd)"
	[ "$a" -ge 900 ]
	[ "$(errors s.kd)" -lt 150 ]
}

@test "the student takes inputs from DATA matched by id, or refuses" {
	blobs
	kd-teacher train -q -o t.kdm --hidden 32 --epochs 5 --val 500 train.csv
	kd-teacher -m t.kdm train.csv | kd-soften -T 4 > soft.kd
	run kd-student -q -o s.kdm --hidden 16 --epochs 3 --val 500 train.csv < soft.kd
	assert_success
	# no inputs anywhere
	run --separate-stderr kd-student -q -o s2.kdm --epochs 1 < soft.kd
	assert_equal "$status" 1
	[[ "$stderr" == *"'stdin': the stream carries no inputs"* ]]
	# a data set of another length
	head -2000 train.csv > short.csv
	run --separate-stderr kd-student -q -o s2.kdm --epochs 1 short.csv < soft.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-student: 'stdin' has 3000 records, 'short.csv' has 2000 rows (first unmatched: row 2001)"
	# rows in another order
	kd-cat soft.kd > soft.csv
	{ head -2 soft.csv; tail -n +3 soft.csv | sort -t, -k1,1nr; } | kd-cat --import > rev.kd
	run --separate-stderr kd-student -q -o s2.kdm --epochs 1 --targets rev.kd train.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-student: 'rev.kd': record 1 has row id 2999, but line 1 of 'train.csv' has id 0"
	[ ! -e s2.kdm ]
	no_temporaries
}

@test "an unlabelled transfer set, mixed hard labels, and logit regression" {
	blobs
	kd-teacher train -q -o t.kdm --hidden 32 --epochs 5 --val 500 train.csv
	kd-teacher -m t.kdm --no-label --inputs train.csv > unl.kd
	kd-cat --info unl.kd | grep -qx 'labels: no'
	run --separate-stderr bash -c 'kd-soften -T 4 unl.kd | kd-student -o s.kdm --hidden 16 --epochs 3 --val 500'
	assert_success
	[[ "$stderr" == *"val disagree"* ]]
	run --separate-stderr bash -c 'kd-soften -T 4 unl.kd | kd-student -q -o s.kdm --alpha 0.5 --epochs 1'
	assert_equal "$status" 1
	[[ "$stderr" == *"--alpha 0.5 mixes in hard labels"* ]]
	kd-teacher -m t.kdm --inputs train.csv > lab.kd
	run bash -c 'kd-soften -T 4 lab.kd | kd-student -q -o s.kdm --hidden 16 --alpha 0.3 --epochs 3 --val 500'
	assert_success
	run kd-student -q -o m.kdm --loss mse-logits --optimizer sgd --hidden 16 --epochs 3 --val 500 --targets lab.kd
	assert_success
	kd-teacher -m m.kdm test.csv > m.kd
	[ "$(errors m.kd)" -lt 200 ]
	run --separate-stderr bash -c 'kd-soften -T 4 lab.kd | kd-student -q -o m2.kdm --loss mse-logits --epochs 1'
	assert_equal "$status" 1
	[[ "$stderr" == *"the loss mse-logits needs a logits stream, this one holds probs"* ]]
}

@test "the same seed twice gives the same model file" {
	blobs
	kd-teacher train -q -o a.kdm --hidden 32,16 --epochs 3 --val 500 --seed 7 --threads 1 train.csv
	kd-teacher train -q -o b.kdm --hidden 32,16 --epochs 3 --val 500 --seed 7 --threads 1 train.csv
	cmp a.kdm b.kdm
	kd-teacher train -q -o c.kdm --hidden 32,16 --epochs 3 --val 500 --seed 8 --threads 1 train.csv
	run ! cmp -s a.kdm c.kdm
	kd-teacher -m a.kdm --inputs train.csv | kd-soften -T 3 > soft.kd
	kd-student -q -o s1.kdm --hidden 8 --epochs 2 --seed 3 --threads 1 < soft.kd
	kd-student -q -o s2.kdm --hidden 8 --epochs 2 --seed 3 --threads 1 < soft.kd
	cmp s1.kdm s2.kdm
}

@test "bad CSV files stop with file:line:column and exit 1" {
	printf '1,2,0\n3,abc,1\n' > bad.csv
	run --separate-stderr kd-teacher train -q -o t.kdm bad.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-teacher: 'bad.csv':2:2: 'abc' is not a number"
	printf '1,2,0\n3,4\n' > short.csv
	run --separate-stderr kd-teacher train -q -o t.kdm short.csv
	assert_equal "$status" 1
	[[ "$stderr" == "kd-teacher: 'short.csv':2:"*"expected 3 fields"* ]]
	printf '1,2,0\n3,nan,1\n' > nan.csv
	run --separate-stderr kd-teacher train -q -o t.kdm nan.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-teacher: 'nan.csv':2:2: 'nan' is not a finite number"
	printf '1,2,0\n3,4,-1\n' > neg.csv
	run --separate-stderr kd-teacher train -q -o t.kdm neg.csv
	assert_equal "$status" 1
	[[ "$stderr" == "kd-teacher: 'neg.csv':2:3: label '-1'"* ]]
	run --separate-stderr kd-teacher train -q -o t.kdm missing.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-teacher: cannot open 'missing.csv': No such file or directory"
	[ ! -e t.kdm ]
}

@test "divergence is detected and reported, and no model is written" {
	blobs --scale 1000
	run --separate-stderr kd-teacher train -q -o t.kdm --optimizer sgd --no-standardize --max-norm 0 --hidden 32 --epochs 3 --lr 10 --val 500 train.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-teacher: training diverged in epoch 1: the loss became nan; try a smaller learning rate (now 10)"
	[ ! -e t.kdm ]
	no_temporaries
}

@test "dead ReLUs are reported: a warning names the layer, the model is still written" {
	blobs
	dead='16 of 16 units of hidden layer 2 never fire on the 500 validation rows (dead ReLUs, which learn no more; often the first steps were too large: a --warmup, a lower --lr, or for a student a lower -T, may keep them alive)'
	# too large a rate kills a layer of the teacher, and of a student
	run --separate-stderr kd-teacher train -q -o t.kdm --optimizer sgd --hidden 16,16 --input-dropout 0 --dropout 0 --max-norm 0 --epochs 3 --lr 3 --val 500 train.csv
	assert_success
	assert_equal "$stderr" "kd-teacher: $dead"
	[ -s t.kdm ]
	kd-teacher train -q -o t.kdm --hidden 32 --dropout 0.5 --epochs 3 --val 500 train.csv
	kd-teacher -m t.kdm --inputs train.csv | kd-soften -T 20 > soft.kd
	run --separate-stderr kd-student -q -o s.kdm --optimizer sgd --hidden 16,16 --epochs 3 --lr 3 --val 500 --targets soft.kd
	assert_success
	assert_equal "$stderr" "kd-student: $dead"
	[ -s s.kdm ]
	# at a sane rate, nothing to say
	run --separate-stderr kd-teacher train -q -o t.kdm --optimizer sgd --hidden 16,16 --input-dropout 0 --dropout 0 --max-norm 0 --epochs 3 --lr 0.05 --val 500 train.csv
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr kd-student -q -o s.kdm --optimizer sgd --hidden 16,16 --epochs 3 --lr 0.05 --val 500 --targets soft.kd
	assert_success
	assert_equal "$stderr" ""
}

@test "a corrupt or foreign model file is refused by name" {
	blobs
	kd-teacher train -q -o t.kdm --hidden 16 --epochs 1 --val 500 train.csv
	cp t.kdm bad.kdm
	printf '\x01' | dd of=bad.kdm bs=1 seek=200 conv=notrunc status=none
	run --separate-stderr kd-teacher -m bad.kdm test.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-teacher: 'bad.kdm': checksum mismatch, file is corrupt"
	run --separate-stderr kd-teacher -m train.csv test.csv
	assert_equal "$status" 1
	[[ "$stderr" == "kd-teacher: 'train.csv': not a kd model file"* ]]
	kd-gen blobs --rows 10 --features 3 --classes 2 > narrow.csv
	run --separate-stderr kd-teacher -m t.kdm narrow.csv -o x.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-teacher: 'narrow.csv' has 3 features, model 't.kdm' takes 10"
	[ ! -e x.kd ]
}

@test "a stream with inputs is accepted wherever a data set is" {
	blobs
	kd-teacher train -q -o t.kdm --hidden 16 --epochs 3 --val 500 train.csv
	kd-teacher -m t.kdm --inputs test.csv > withx.kd
	kd-teacher -m t.kdm withx.kd > again.kd
	kd-teacher -m t.kdm test.csv | kd-cat > a.csv
	kd-cat again.kd | cmp - a.csv
	run kd-teacher train -q -o t2.kdm --hidden 8 --epochs 1 --val 100 withx.kd
	assert_success
}

@test "Fashion-MNIST: a small model trains on the IDX files and names its classes" {
	[ -e /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || skip "dataset-fashion-mnist not installed"
	run kd-teacher train -q -o f.kdm --hidden 32 --epochs 1 --jitter 0 --input-dropout 0 --dropout 0 --val 1000 fashion-mnist:test
	assert_success
	kd-teacher -m f.kdm --inputs fashion-mnist:test > f.kd
	run kd-cat --info f.kd
	assert_line 'records: 10000'
	assert_line 'inputs: 784 bytes/255 (images)'
	assert_line 'image shape: 28x28'
	assert_line --partial 'class names: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot'
	e=$(errors f.kd)
	echo "errors after one epoch: $e / 10000"
	[ "$e" -lt 3000 ]
}

@test "--flip mirrors images (another model than without, the same one twice) and is refused without an image shape" {
	[ -e /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || skip "dataset-fashion-mnist not installed"
	O=(--hidden 16 --epochs 1 --jitter 0 --input-dropout 0 --dropout 0 --val 500 --rows 3000 --threads 1)
	kd-teacher train -q -o plain.kdm "${O[@]}" fashion-mnist:test
	kd-teacher train -q -o flip1.kdm "${O[@]}" --flip fashion-mnist:test
	kd-teacher train -q -o flip2.kdm "${O[@]}" --flip fashion-mnist:test
	cmp flip1.kdm flip2.kdm
	run ! cmp -s plain.kdm flip1.kdm
	blobs
	run --separate-stderr kd-teacher train -q -o c.kdm --hidden 8 --epochs 1 --flip train.csv
	assert_failure
	[[ "$stderr" == *"--flip needs images, and the data has no image shape"* ]] || { echo "$stderr"; false; }
	[ ! -e c.kdm ]
}

@test "-m --mirror gives each image the mean of its own logits and its mirror image's" {
	[ -e /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || skip "dataset-fashion-mnist not installed"
	kd-teacher train -q -o m.kdm --hidden 16 --epochs 1 --jitter 0 --flip --val 0 --rows 500 --threads 1 fashion-mnist:test
	kd-teacher -m m.kdm --rows 40 --inputs -o plain.kd fashion-mnist:test
	kd-teacher -m m.kdm --rows 40 --mirror -o mean.kd fashion-mnist:test
	# the mirror images by hand: columns 13.. are the inputs, row-major
	# 28x28; written as CSV rows with the label last
	kd-cat --inputs plain.kd | awk -F, 'NR > 2 {
		s = ""; for (r = 0; r < 28; r++) for (c = 0; c < 28; c++) s = s $(13 + r * 28 + 27 - c) ",";
		print s $2 }' > mirrored.csv
	[ "$(wc -l < mirrored.csv)" -eq 40 ]
	kd-teacher -m m.kdm -o mirrored.kd mirrored.csv
	paste -d' ' <(kd-cat plain.kd | tail -n +3 | cut -d, -f1-12) <(kd-cat mirrored.kd | tail -n +3) \
		<(kd-cat mean.kd | tail -n +3) | awk '
		{ split($1, a, ","); split($2, b, ","); split($3, m, ",")
		  if (a[2] != m[2]) bad++
		  for (k = 3; k <= 12; k++) { d = m[k] - (a[k] + b[k]) / 2; if (d < 0) d = -d; if (d > 1e-4) bad++
		                              d = m[k] - a[k]; if (d < 0) d = -d; if (d > 1e-3) differ++ } }
		END { if (NR != 40 || bad || !differ) { print NR, bad, differ; exit 1 } }'
	blobs
	kd-teacher train -q -o c.kdm --hidden 8 --epochs 1 train.csv
	run --separate-stderr kd-teacher -m c.kdm --mirror -o x.kd test.csv
	assert_failure
	[[ "$stderr" == *"'test.csv': mirrored rows need images, and its rows are "*" numbers without an image shape"* ]] || { echo "$stderr"; false; }
	[ ! -e x.kd ]
	run --separate-stderr kd-teacher train -o x.kdm --mirror train.csv
	assert_equal "$status" 2
}

@test "--mixup: a teacher learns blobs from mixed pairs; a distilled student and a bad A are refused" {
	blobs
	kd-teacher train -q -o m.kdm --hidden 32 --epochs 10 --val 500 --mixup 0.4 train.csv
	kd-teacher -m m.kdm test.csv > m.kd
	echo "errors with --mixup 0.4: $(errors m.kd) / 1000"
	[ "$(errors m.kd)" -lt 150 ]
	kd-teacher train -q -o m2.kdm --hidden 32 --epochs 10 --val 500 --mixup 0.4 train.csv
	cmp m.kdm m2.kdm
	kd-teacher -m m.kdm --inputs train.csv | kd-soften -T 4 > soft.kd
	run --separate-stderr kd-student -q -o s.kdm --hidden 8 --epochs 1 --mixup 0.2 < soft.kd
	assert_failure
	[[ "$stderr" == "kd-student: mixup trains on hard labels only"* ]] || { echo "$stderr"; false; }
	[ ! -e s.kdm ]
	run --separate-stderr kd-teacher train -q -o c.kdm --hidden 8 --epochs 1 --mixup -1 train.csv
	[ "$status" -eq 2 ]
	[[ "$stderr" == "kd-teacher: --mixup: -1 is out of range"* ]] || { echo "$stderr"; false; }
	[ ! -e c.kdm ]
}

@test "--val-seed N: runs of other seeds hold out the same rows; by default --seed chooses them" {
	blobs
	for s in 1 2 "2 --val-seed 1" "1 --val-seed 2"; do
		kd-teacher train -q -o "m${s// /}.kdm" --hidden 8 --epochs 1 --val 500 --seed $s train.csv
	done
	# the training rows' 10 feature means and deviations, after the 36-byte
	# header of a 10-8-4 model (lib/MODEL-FORMAT.md): the same only when the
	# same rows were held out
	same_rows() { cmp -s -i 36 -n 80 "$1" "$2"; }
	same_rows m1.kdm m2--val-seed1.kdm
	same_rows m2.kdm m1--val-seed2.kdm
	run ! same_rows m1.kdm m2.kdm
	run ! same_rows m1.kdm m1--val-seed2.kdm
	# the seed still chooses the rest (initial weights, order of the rows)
	run ! cmp -s m1.kdm m2--val-seed1.kdm
	kd-teacher train -q -o again.kdm --hidden 8 --epochs 1 --val 500 --seed 1 --val-seed 1 train.csv
	cmp m1.kdm again.kdm
}

@test "--warmup N: another run that learns as well; a warm-up longer than the run is refused" {
	blobs
	kd-teacher train -q -o m.kdm --optimizer sgd --hidden 16 --epochs 5 --val 500 --warmup 2 train.csv
	kd-teacher -m m.kdm test.csv > m.kd
	echo "errors with --warmup 2: $(errors m.kd) / 1000"
	[ "$(errors m.kd)" -lt 150 ]
	kd-teacher train -q -o n.kdm --optimizer sgd --hidden 16 --epochs 5 --val 500 train.csv
	run ! cmp -s m.kdm n.kdm
	run --separate-stderr kd-student -q -o s.kdm --hidden 8 --epochs 3 --warmup 4 < /dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == "kd-student: --warmup 4 is longer than the run (--epochs 3)"* ]] || { echo "$stderr"; false; }
	[ ! -e s.kdm ]
}

@test "--schedule cosine: the rate falls on a cosine from --lr to --lr-end; an unknown schedule is refused" {
	blobs
	kd-teacher train -o m.kdm --hidden 16 --epochs 5 --val 500 --lr 0.1 --lr-end 0.001 \
		--schedule cosine train.csv 2> log
	# epochs 1 to 5: 0.001 + 0.099 * (1 + cos(pi * (e-1)/4)) / 2
	grep -o 'lr [0-9.e-]*' log | tail -5 | tr '\n' ' ' > rates
	cat rates
	[ "$(cat rates)" = "lr 0.1 lr 0.0855 lr 0.0505 lr 0.0155 lr 0.001 " ]
	kd-teacher -m m.kdm test.csv > m.kd
	[ "$(errors m.kd)" -lt 150 ]
	run --separate-stderr kd-student -q -o s.kdm --hidden 8 --epochs 1 --schedule linear < /dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == "kd-student: --schedule: 'linear' is not geometric or cosine"* ]] || { echo "$stderr"; false; }
	[ ! -e s.kdm ]
}
