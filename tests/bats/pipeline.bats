#!/usr/bin/env bats
# The pipelines' make targets themselves, run end to end on tiny generated
# data in seconds (the real runs use Fashion-MNIST and take minutes).

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# tiny: make in pipelines/ with generated blobs and small models
tiny() {
	# the flags of a make that runs the tests (make -s check) must not
	# reach this one: the tests read the commands it prints
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$REPO/pipelines" BIN="$KD_BIN" TRAIN="$PWD/train.csv" TEST="$PWD/test.csv" \
		W="$PWD/work" R="$PWD/results" NVAL=300 T_HIDDEN=32,32 S_HIDDEN=16,16 TINY=4 \
		JITTER=0 FLIP= T_EPOCHS=4 S_EPOCHS=4 S_WARMUP=1 THREADS=1 ENSEMBLE="1 2" TEMPS="1 4" SEEDS="1 2" \
		TEMP_SEEDS="1 2" LEFT_OUT=3 T=4 "$@"
}

# shows_progress MODEL...: each MODEL's training (work/MODEL.kdm) printed
# one line an epoch named by its file (make -j2 runs two stages at once),
# epoch 4 of 4 in $output, and kept all four in work/MODEL.kdm.log
shows_progress() {
	for m; do
		assert_line --regexp "^${m##*/}\.kdm: kd-(teacher|student): epoch 4/4 "
		[ "$(grep -c '^kd-.*: epoch [1-4]/4 ' "work/$m.kdm.log")" = 4 ]
	done
}

setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
	kd-gen blobs --rows 3000 --features 8 --classes 4 --seed 5 > all.csv
	head -2500 all.csv > train.csv
	tail -500 all.csv > test.csv
}

@test "make demo runs every stage and writes the table and the JSON" {
	run tiny demo
	assert_success
	# each training stage shows its progress and keeps it in a log
	shows_progress teacher student-hard student-kd
	for f in teacher student-hard student-kd; do
		[ -s "work/$f.kdm" ]
		[ -s "work/$f.test.kd" ]
	done
	[ -s results/demo.txt ]
	[ -s results/demo.json ]
	run jq -r 'map(.model) | join(",")' results/demo.json
	assert_output 'teacher,student-hard,student-kd'
	run jq -e 'all(.[]; .rows == 500 and (.errors | type) == "number" and (.accuracy | type) == "number" and has("nll") and has("brier") and has("ece"))' results/demo.json
	assert_success
	grep -q '^student-kd  *500 ' results/demo.txt
	# nothing changed: nothing is redone
	run tiny demo
	assert_success
	refute_output --partial 'bin/kd-'
	# a changed option redoes the stages that depend on it, and only those
	run tiny demo T=2
	assert_success
	assert_output --partial 'kd-soften -T 2'
	refute_output --partial 'kd-teacher train'
}

@test "a failed stage leaves no output behind and fails the make" {
	run tiny demo
	assert_success
	rm work/student-kd.kdm
	# a temperature kd-soften refuses: the pipe fails, nothing is left
	run tiny demo T=0
	assert_failure
	[ ! -e work/student-kd.kdm ]
	no_temporaries work
	# a stage that writes X.tmp and renames it: a failure takes the
	# temporary too
	rm results/demo.json
	run tiny demo TO_JSON=false
	assert_failure
	[ ! -e results/demo.json ]
	[ ! -e results/demo.json.tmp ]
}

@test "make shards: GNU parallel runs 4 parts whose join equals the unsharded stream" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed (Debian package parallel)"
	run tiny shards SHARDS=4
	assert_success
	assert_output --partial -- '--shard {}/4'
	tiny "$PWD/work/teacher.train.kd" > /dev/null
	kd-cat work/shards/teacher.train.kd > sharded.csv
	kd-cat work/teacher.train.kd > whole.csv
	same_records sharded.csv whole.csv
	# four parts joined: four zstd frames
	zstd -lv work/shards/teacher.train.kd 2>/dev/null | grep -q '^# Zstandard Frames: 4$'
	jq -e '.[0].rows == 2500' results/shards.json
	ls work/shards | grep -qv part
}

@test "the other experiments run and the report collects them" {
	run tiny all-experiments
	assert_success
	# the other stages that train show their progress too
	shows_progress seeds/hard-2 seeds/kd-2 ens/t2 ens/kd-1 temp/s-tiny-1-2 leftout/student student-unlabelled
	for f in demo seeds ensemble ensemble-seeds temperature leftout unlabelled fidelity similar; do
		jq -e 'length > 0' "results/$f.json" > /dev/null
	done
	# export: the compiled C gives the student's argmax on every test row
	jq -e '.rows == 500 and .c_argmax_same == 500 and .c_max_rel < 1e-5' results/export.json
	file_exists results/similar.png
	grep -q "The student outside kd" results/RESULTS.md
	grep -q "The dark knowledge, seen" results/RESULTS.md
	# fidelity: each student against its own teacher, each member against
	# the ensemble, on the transfer and the test images; the demo's student's
	# agreement on the test images counted again here from the two streams
	run jq -r '.[] | "\(.reference) \(.model) \(.images) \(.rows)"' results/fidelity.json
	assert_output "teacher student-kd transfer 2500
teacher student-kd test 500
ensemble teacher-seed1 transfer 2500
ensemble teacher-seed2 transfer 2500
ensemble student-from-ensemble transfer 2500
ensemble teacher-seed1 test 500
ensemble teacher-seed2 test 500
ensemble student-from-ensemble test 500"
	jq -e 'all(.[]; .agreement >= 0 and .agreement <= 1 and .kl >= 0)' results/fidelity.json
	agree=$(paste -d, <("$KD_BIN/kd-cat" work/teacher.test.kd) <("$KD_BIN/kd-cat" work/student-kd.test.kd) |
		awk -F, 'NR > 2 { h = NF / 2  # id, label, then the K logits, twice
			a = 3; for (i = 4; i <= h; i++) if ($i > $a) a = i
			b = h + 3; for (i = h + 4; i <= NF; i++) if ($i > $b) b = i
			same += (a - 3 == b - h - 3); n++ } END { print same / n }')
	run jq -r '.[] | select(.model == "student-kd" and .images == "test") | .agreement' results/fidelity.json
	assert_output "$agree"
	grep -q '^| student-from-ensemble | the arithmetic ensemble | [0-9.]*% | [0-9.]*% | ' results/RESULTS.md
	[ "$(head -c 8 results/temperature.png | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
	# every temperature student carries its validation error, read from its
	# log, and the report names the T that validation chose
	jq -e 'all(.[]; (.val_error | type) == "number" and .val_error >= 0 and .val_error <= 1)' results/temperature.json
	run jq -r 'map(.model) | join(",")' results/temperature.json
	assert_output 's-big-1-1,s-big-1-2,s-big-4-1,s-big-4-2,s-tiny-1-1,s-tiny-1-2,s-tiny-4-1,s-tiny-4-2'
	v=$(bash "$REPO/pipelines/report.sh" val-error work/temp/s-big-4-2.kdm.log)
	run jq -r '.[] | select(.model == "s-big-4-2") | .val_error' results/temperature.json
	assert_output "$(jq -n "$v")"
	grep -q '^Chosen on validation .*T = [0-9]* for 784-' results/RESULTS.md
	grep -q '^| 4 | [0-9.]* ± [0-9.]* | [0-9.]*% ± [0-9.]*% | [0-9.]* ± [0-9.]* | ' results/RESULTS.md
	# the seeds differ: not one model trained twice
	run ! cmp -s work/temp/s-big-4-1.kdm work/temp/s-big-4-2.kdm
	# but every student holds out the teacher's rows (seed 1's), which the
	# training rows' feature means and deviations show (in a 8-16-16-4
	# model, 64 bytes after a 40-byte header; lib/MODEL-FORMAT.md); the
	# teachers of the ensemble hold out their own
	same_rows() { cmp -s -i 40 -n 64 "$1" "$2"; }
	for m in seeds/hard-2 seeds/kd-2 temp/s-big-1-2 ens/kd-2; do
		same_rows "work/$m.kdm" work/student-hard.kdm || { echo "$m holds out other rows"; false; }
	done
	same_rows work/teacher.kdm work/student-hard.kdm
	run ! same_rows work/ens/t2.kdm work/teacher.kdm
	# the ensemble's seed-1 teacher is the demo's, copied; so is the
	# temperature's 800-800 student at the demo's T, with its log, and
	# trained anew it is that same model, byte for byte
	cmp work/ens/t1.kdm work/teacher.kdm
	cmp work/temp/s-big-4-1.kdm work/student-kd.kdm
	cmp work/temp/s-big-4-1.kdm.log work/student-kd.kdm.log
	# and at seed 2 make seeds' distilled student of seed 2 (built first)
	cmp work/temp/s-big-4-2.kdm work/seeds/kd-2.kdm
	cmp work/temp/s-big-4-2.kdm.log work/seeds/kd-2.kdm.log
	run ! cmp -s work/temp/s-big-1-2.kdm.log work/seeds/kd-2.kdm.log
	mv work/temp/s-big-4-1.kdm copied.kdm
	rm work/student-kd.kdm
	run tiny "$PWD/work/temp/s-big-4-1.kdm"
	assert_success
	assert_output --partial 's-big-4-1.kdm: kd-student: epoch 4/4'
	cmp work/temp/s-big-4-1.kdm copied.kdm
	tiny "$PWD/work/student-kd.kdm" > /dev/null
	run jq -r 'map(.model) | join(",")' results/ensemble.json
	assert_output 'teacher-seed1,teacher-seed2,ensemble-arithmetic,ensemble-geometric,student-from-ensemble'
	run jq -r 'map(.model) | join(",")' results/seeds.json
	assert_output 'teacher,student-hard-1,student-kd-1,student-hard-2,student-kd-2'
	# seed 1 is the demo's own pair
	cmp work/seeds/kd-1.test.kd work/student-kd.test.kd
	grep -q '^## The demo.s students over several seeds' results/RESULTS.md
	grep -q '^| 2 | [0-9]* | [0-9]* | ' results/RESULTS.md
	grep -q 'Mean ± standard deviation over the seeds' results/RESULTS.md
	# the ensemble's student over the seeds, against the seeds' hard-label
	# students; seed 1 is the ensemble's own student
	run jq -r 'map(.model) | join(",")' results/ensemble-seeds.json
	assert_output 'teacher,student-hard-1,student-kd-1,student-hard-2,student-kd-2'
	[ "$(jq '.[2].errors' results/ensemble-seeds.json)" = "$(jq '.[] | select(.model == "student-from-ensemble") | .errors' results/ensemble.json)" ]
	[ ! -e work/ens/student.kdm ]
	[ "$(jq '.[1].errors' results/ensemble-seeds.json)" = "$(jq '.[1].errors' results/seeds.json)" ]
	[ "$(jq '.[0].errors' results/ensemble-seeds.json)" = "$(jq '.[] | select(.model == "ensemble-arithmetic") | .errors' results/ensemble.json)" ]
	grep -q "^## The ensemble's student over several seeds" results/RESULTS.md
	grep -q '^The ensemble: [0-9]* errors. Mean ± standard deviation' results/RESULTS.md
	run jq -r '.[0].left_out' results/leftout.json
	assert_output 3
	jq -e '.[0].agreement >= 0 and .[0].kl >= 0' results/unlabelled.json
	grep -q '^## The main job' results/RESULTS.md
	grep -q '^## Ensemble' results/RESULTS.md
	grep -q '^## A class left out' results/RESULTS.md
	grep -Eq 'closes (.*% of|none of|all of) the gap|no gap to close' results/RESULTS.md
	# a new T remakes every stream softened at T, not only the students
	run "$KD_BIN/kd-cat" --info work/ens/t1.soft.kd
	assert_line 'temperature: 4'
	run tiny ensemble leftout T=2
	assert_success
	for f in work/ens/t1.soft.kd work/ens/arith.soft.kd work/leftout/transfer.kd; do
		run "$KD_BIN/kd-cat" --info "$f"
		assert_line 'temperature: 2'
	done
}

@test "make hints: students with hints at each layer and weight, two stages and a deep student, in the report" {
	run tiny hints HINT_SEEDS="1 2" HINT_WEIGHTS="1 10" HINT_W1=1 HINT_W2=10 STAGE1_EPOCHS=2 DEEP_HIDDEN=8,8,8
	assert_success
	shows_progress hints/h-1-1-1 hints/h-2-10-2 hints/stage-2 hints/deephint-1
	# the grid on seed 1, the kept weight of each layer on seed 2; the
	# baselines are make seeds' students (seed 1 the demo's)
	run jq -r '[.[] | .model // .stream] | join(",")' results/hints.json
	assert_output 'kd-1,kd-2,h-1-1-1,h-1-1-2,h-1-10-1,h-2-1-1,h-2-10-1,h-2-10-2,stage-1,deep-1,deephint-1,stage-2,deep-2,deephint-2,f1.kd,f2.kd'
	cmp work/seeds/kd-1.test.kd work/student-kd.test.kd
	# each run's layer, weight and widths from its options; its validation
	# error from its log (the second stage's, for two stages)
	run jq -r '.[] | select(.model) | "\(.model) \(.kind) \(.layer) \(.weight) \(.hidden)"' results/hints.json
	assert_line 'kd-2 distilled null null 16,16'
	assert_line 'h-2-10-2 hint 2 10 16,16'
	assert_line 'stage-1 two-stage 1 1 16,16'
	assert_line 'deephint-2 deep-hint 2 1 8,8,8'
	assert_line 'deep-1 deep null null 8,8,8'
	v=$(bash "$REPO/pipelines/report.sh" val-error work/hints/stage-2.kdm.log)
	[ "$(jq '.[] | select(.model == "stage-2") | .val_error' results/hints.json)" = "$(jq -n "$v")" ]
	jq -e 'all(.[] | select(.model); .seconds > 0 and .agreement >= 0 and .errors >= 0)' results/hints.json
	jq -e 'all(.[] | select(.stream); .units == 32 and .records == 2500 and .bytes > 0)' results/hints.json
	# the second stage starts from the first (--init), the first learns the hint alone
	grep -q -- '--init .*work/hints/stage1-2.kdm' work/hints/stage-2.flags
	grep -q -- '--hint-only --epochs 2' work/hints/stage1-2.flags
	[ "$(grep -c 'epoch [0-9]*/2 ' work/hints/stage1-2.kdm.log)" = 2 ]
	# the report: a row per configuration, the streams' sizes, the plot
	run bash "$REPO/pipelines/report.sh" results results
	assert_success
	assert_line --regexp '^\| distilled 16-16 \| 1, 2 \| [0-9.]+ ± [0-9.]+ \| '
	assert_line --regexp '^\| \+ hint on layer 1, weight 10 \| 1 \| [0-9]+ \| '
	assert_line --regexp '^\| two stages \(hint on layer 1, weight 1\) \| 1, 2 \| '
	assert_line --regexp '^\| 8-8-8 \+ hint on layer 2, weight 1 \| 1, 2 \| '
	assert_line --regexp "^The teacher's layer 1 over the 2500 transfer images: 32 units, "
	assert_line --regexp '^- \+ hint on layer 2, weight 10: [0-9.]+ ± [0-9.]+, [0-9.]+ (fewer|more) errors than distilled 16-16 .*|^- \+ hint on layer 2, weight 10: .*as many errors'
	[ "$(head -c 8 results/hints.png | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
}

@test "make forest: a random forest's probabilities, tempered, smoothed and mixed, and the students of them" {
	/usr/bin/python3 -c 'import sklearn' 2> /dev/null || skip "scikit-learn is not installed (Debian: python3-sklearn; make -C pipelines forest installs it)"
	run tiny forest FOREST_DEPS=true FOREST_ROWS=2000 FOREST_TREES=25 FOREST_RUNS="own-1-0-1 oob-2-0.01-1 oob-1-0-0.5"
	assert_success
	shows_progress forest/hard forest/s-own-1-0-1 forest/s-oob-2-0.01-1
	# the forest learnt the first 2000 rows; the 300 after them validate
	[ "$(wc -l < work/forest/val.csv)" = 300 ]
	# (as float32: the same numbers to 1e-6)
	paste -d, work/forest/val.csv <(sed -n 2001,2300p train.csv) | awk -F, '{
		h = NF / 2
		for (i = 1; i <= h; i++) { d = $i - $(i + h); if (d < 0) d = -d; if (d > 1e-6 * (1 + ($i < 0 ? -$i : $i))) { print "line " NR ", field " i ": " $i " and " $(i + h); exit 1 } }
	}'
	[ "$(cut -d, -f9 work/forest/val.csv | head -1)" = "$(sed -n 2001p train.csv | cut -d, -f9)" ]
	run "$KD_BIN/kd-cat" --info work/forest/oob.kd
	assert_line 'kind: probs'
	assert_line 'records: 2000'
	# the smoothing and temperature a run's name asks for reach kd-soften
	grep -q -- '^-T 2 --smooth 0.01 | --alpha 1 ' work/forest/s-oob-2-0.01-1.flags
	grep -q -- '^-T 1  | --alpha 0.5 ' work/forest/s-oob-1-0-0.5.flags
	run jq -r '.[] | "\(.model) \(.kind) \(.source) \(.T) \(.smooth) \(.alpha)"' results/forest.json
	assert_output "forest forest null null null null
hard labels null null null null
s-own-1-0-1 forest own 1 0 1
s-oob-2-0.01-1 forest oob 2 0.01 1
s-oob-1-0-0.5 forest oob 1 0 0.5"
	jq -e '.[0].trees == 25 and .[0].train_rows == 2000 and .[0].zeros_own >= 0' results/forest.json
	jq -e 'all(.[1:][]; .agreement >= 0 and .val_error >= 0)' results/forest.json
	run bash "$REPO/pipelines/report.sh" results results
	assert_success
	assert_line --regexp '^\| s-oob-2-0.01-1 \| forest, out of bag \| 2 \| 0.01 \| 1 \| [0-9.]+% \| [0-9]+ \| '
	assert_line --regexp '^Chosen on validation rows: s-'
}

@test "make classes: the data restricted to k classes, the three models of each subset, the gain against k" {
	/usr/bin/python3 -c 'import numpy' 2> /dev/null || skip "numpy is not installed (Debian: python3-numpy)"
	run tiny classes FOREST_DEPS=true CLASS_KS="2 3" CLASS_SUBSETS="1 2" CLASS_TS="2 4"
	assert_success
	shows_progress classes/k2-s1/teacher classes/k3-s2/hard classes/k2-s2/kd-4
	# subset 1 of k = 2: two classes of the four, relabelled 0 and 1, every
	# row of theirs kept in order
	c=$(jq -r '.classes | join(" ")' work/classes/k2-s1/subset.json)
	read -r a b <<< "$c"
	diff <(awk -F, -v a="$a" -v b="$b" '$NF == a || $NF == b { sub(/,[0-9]+$/, $NF == a ? ",0" : ",1"); print }' train.csv) work/classes/k2-s1/train.csv
	# a validation part of k/10 of NVAL (300): 60 rows for k = 2
	grep -q -- '--val 60 ' work/classes/k2-s1/teacher.flags
	grep -q -- '--val 90 ' work/classes/k3-s1/kd-2.flags
	grep -q -- '--warmup 1 ' work/classes/k3-s1/kd-2.flags
	# the soft targets' entropy: between 0 and log2 k bits
	awk '{ exit !($1 >= 0 && $1 <= 1) }' work/classes/k2-s1/entropy-4.entropy
	run jq -r '[.[] | "\(.k)/\(.subset)/\(.model)"] | join(" ")' results/classes.json
	assert_output '2/1/teacher 2/1/hard 2/1/kd-2 2/1/kd-4 2/2/teacher 2/2/hard 2/2/kd-2 2/2/kd-4 3/1/teacher 3/1/hard 3/1/kd-2 3/1/kd-4 3/2/teacher 3/2/hard 3/2/kd-2 3/2/kd-4 10/0/teacher 10/0/hard 10/0/kd-4'
	jq -e 'all(.[]; .val_error >= 0 and .rows > 0) and all(.[] | select(.T); .entropy_bits >= 0)' results/classes.json
	run bash "$REPO/pipelines/report.sh" results results
	assert_success
	assert_line --regexp '^\| 2 \| 2 \| [24] \| [0-9.]+% \| [0-9.]+% ± [0-9.]+ \| [0-9.]+% ± [0-9.]+ \| -?[0-9.]+ ± [0-9.]+ \| '
	assert_line --regexp '^\| 10 \| 1 \| 4 \| '
	[ "$(head -c 8 results/classes.png | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
}

@test "make born-again: two generations of teacher-sized students, their ensembles, in the report" {
	run tiny born-again BORN_SEEDS="1 2" BORN_REGS="off on"
	assert_success
	shows_progress born/g1-off-1 born/g2-off-2 born/g2-on-1
	# generation 2 learns generation 1's targets, with the teacher's widths
	grep -q -- '--hidden 32,32 ' work/born/g2-on-1.flags
	grep -q -- '--input-dropout 0.1 --dropout 0.2 --max-norm 3.5' work/born/g2-on-1.flags
	grep -q -- '--input-dropout 0 --dropout 0 --max-norm 0' work/born/g1-off-2.flags
	[[ "$output" == *"kd-soften -T 4 $PWD/work/born/g1-on-1.train.kd | "*"kd-student -o $PWD/work/born/g2-on-1.kdm "* ]] || { echo "generation 2 of on-1 not made from generation 1's stream"; false; }
	run jq -r '[.[] | "\(.model):\(.generation):\(.regularised):\(.seed)"] | join(" ")' results/born-again.json
	assert_output 'teacher:0:null:null g1-off-1:1:false:1 g2-off-1:2:false:1 ens-off-1:g1+g2:false:1 ensT-off-1:teacher+g1+g2:false:1 g1-off-2:1:false:2 g2-off-2:2:false:2 ens-off-2:g1+g2:false:2 ensT-off-2:teacher+g1+g2:false:2 g1-on-1:1:true:1 g2-on-1:2:true:1 ens-on-1:g1+g2:true:1 ensT-on-1:teacher+g1+g2:true:1 g1-on-2:1:true:2 g2-on-2:2:true:2 ens-on-2:g1+g2:true:2 ensT-on-2:teacher+g1+g2:true:2'
	# the ensemble of the generations is the mean of their probabilities
	"$KD_BIN/kd-average" work/born/g1-off-1.test.kd work/born/g2-off-1.test.kd | cmp - work/born/ens-off-1.test.kd
	jq -e 'all(.[] | select(.generation == 1 or .generation == 2); .val_error >= 0)' results/born-again.json
	run bash "$REPO/pipelines/report.sh" results results
	assert_success
	assert_line --regexp '^\| generation 2 \| yes \| 1, 2 \| [0-9.]+ ± [0-9.]+ \| '
	assert_line --regexp "^Without the teacher's regularisation: generation 1 makes [0-9.]+ errors on average, generation 2 "
}

@test "the report's gap sentence: worked by hand, and when the teacher is no better" {
	mkdir r
	printf '%s\n' '[{"model":"teacher","errors":100,"accuracy":0.99,"nll":0.1,"ece":0.01},' \
		'{"model":"student-hard","errors":200,"accuracy":0.98,"nll":0.1,"ece":0.01},' \
		'{"model":"student-kd","errors":150,"accuracy":0.985,"nll":0.1,"ece":0.01}]' > r/demo.json
	run bash "$REPO/pipelines/report.sh" results r
	assert_success
	assert_output --partial 'makes 50 fewer test errors than the hard-label student; it closes 50% of the gap'
	# the seeds' table: a share of the gap, none, all and more, no gap
	printf '%s\n' '[{"model":"teacher","errors":100},{"model":"student-hard-1","errors":200},' \
		'{"model":"student-kd-1","errors":150},{"model":"student-hard-2","errors":200},' \
		'{"model":"student-kd-2","errors":210},{"model":"student-hard-3","errors":200},' \
		'{"model":"student-kd-3","errors":90},{"model":"student-hard-4","errors":90},' \
		'{"model":"student-kd-4","errors":95}]' > r/seeds.json
	run bash "$REPO/pipelines/report.sh" results r
	assert_success
	assert_line '| 1 | 200 | 150 | 50% |'
	assert_line '| 2 | 200 | 210 | none |'
	assert_line '| 3 | 200 | 90 | all, and 10 fewer errors than the teacher |'
	assert_line '| 4 | 90 | 95 | no gap: the teacher is no better |'
	# and on average: (172.5 - 136.25) / (172.5 - 100)
	assert_output --partial 'on 2 of 4 seeds. On average the distilled students close 50% of the gap between the hard-label students (172.5) and the teacher (100).'
	# none of it, all of it, no gap
	seeds() { # HARD KD TEACHER: one seed
		printf '[{"model":"teacher","errors":%s},{"model":"student-hard-1","errors":%s},{"model":"student-kd-1","errors":%s}]\n' "$3" "$1" "$2" > r/seeds.json
		run bash "$REPO/pipelines/report.sh" results r
		assert_success
	}
	seeds 200 210 100
	assert_output --partial 'On average the distilled students close none of the gap between the hard-label students (200) and the teacher (100).'
	seeds 200 95 100
	assert_output --partial 'on every seed. On average the distilled students close all of the gap between the hard-label students (200) and the teacher (100), and make 5 fewer errors than the teacher.'
	seeds 200 150 250
	assert_output --partial 'On average the teacher (250) is no better than the hard-label students (200): there is no gap to close.'
	rm r/seeds.json
	# the ensemble's sentence: a gain kept in part, all kept and more, all,
	# none kept, no gain, a loss
	ens() { # ARITH STUDENT: the errors of the ensemble and its student; two teachers of 100 and 110
		jq -n --argjson a "$1" --argjson s "$2" '[["teacher-seed1", 100], ["teacher-seed2", 110],
			["ensemble-arithmetic", $a], ["ensemble-geometric", $a], ["student-from-ensemble", $s]]
			| map({model: .[0], errors: .[1], accuracy: 0.99, nll: 0.1, ece: 0.01})' > r/ensemble.json
		run bash "$REPO/pipelines/report.sh" results r
		assert_success
	}
	ens 95 100
	assert_line --partial 'Mean single teacher: 105 errors; the arithmetic ensemble gains 10 errors; the student distilled from it keeps 50% of that gain.'
	ens 95 92
	assert_line --partial 'the arithmetic ensemble gains 10 errors; the student distilled from it (92 errors) keeps all of it and makes 3 fewer errors than the ensemble itself.'
	ens 95 95
	assert_line --partial 'the arithmetic ensemble gains 10 errors; the student distilled from it keeps 100% of that gain.'
	ens 95 106
	assert_line --partial 'the arithmetic ensemble gains 10 errors; the student distilled from it (106 errors) keeps none of that gain.'
	ens 105 100
	assert_line --partial 'the arithmetic ensemble makes as many errors; there is no gain for the student to keep.'
	ens 106 100
	assert_line --partial 'the arithmetic ensemble makes 1 more error; there is no gain for the student to keep.'
	ens 108 100
	assert_line --partial 'the arithmetic ensemble makes 3 more errors; there is no gain'
	rm r/ensemble.json
	# the fidelity sentence: the ensemble's student against its members
	fid() { # STUDENT: the student's test agreement; members at 0.97 and 0.98
		jq -n --argjson s "$1" '[["teacher-seed1", 0.97], ["teacher-seed2", 0.98], ["student-from-ensemble", $s]]
			| map({model: .[0], reference: "ensemble", images: "test", agreement: .[1], kl: 0.01})
			+ [{model: "student-kd", reference: "teacher", images: "transfer", agreement: 0.99, kl: 0.01}]' > r/fidelity.json
		run bash "$REPO/pipelines/report.sh" results r
		assert_success
	}
	fid 0.9612
	assert_line --partial "the ensemble's student agrees with the ensemble on 96.12%, its members on 97% to 98%: the student copies the ensemble less closely than any single member"
	assert_line '| student-kd | the teacher | 99% | n/a | n/a |'
	fid 0.975
	assert_line --partial 'on 97.5%, its members on 97% to 98%: the student copies the ensemble about as closely as a single member resembles it.'
	fid 0.99
	assert_line --partial 'the student copies the ensemble more closely than any single member resembles it.'
	rm r/fidelity.json
	# the temperature table: mean ± standard deviation over the seeds,
	# worked by hand, and T chosen on the mean validation error (T = 2
	# here, though T = 1 has the one lowest)
	jq -n '[["s-big-1-1", 100, 0.05], ["s-big-1-2", 110, 0.12], ["s-big-2-1", 90, 0.07], ["s-big-2-2", 96, 0.08],
		["s-tiny-1-1", 300, 0.2], ["s-tiny-1-2", 301, 0.2], ["s-tiny-2-1", 290, 0.3], ["s-tiny-2-2", 290, 0.3]]
		| map({model: .[0], errors: .[1], val_error: .[2]})' > r/temperature.json
	run bash "$REPO/pipelines/report.sh" results r
	assert_success
	assert_line --partial 'over each size'"'"'s seeds (1, 2)'
	assert_line '| 1 | 105 ± 7.1 | 8.5% ± 4.95% | 300.5 ± 0.7 | 20% ± 0% |'
	assert_line '| 2 | 93 ± 4.2 | 7.5% ± 0.71% | 290 ± 0 | 30% ± 0% |'
	assert_line --partial 'T = 2 for 784-800-800-10, T = 1 for 784-30-30-10.'
	rm r/temperature.json
	# a NOTES.md beside the results goes into the report, before them
	printf 'These were made on two dates.\n' > r/NOTES.md
	run bash "$REPO/pipelines/report.sh" results r
	assert_success
	assert_line 'These were made on two dates.'
	[ "$(grep -n 'two dates' <<< "$output" | cut -d: -f1)" -lt "$(grep -n '^## The main job' <<< "$output" | cut -d: -f1)" ]
	rm r/NOTES.md
	printf '%s\n' '[{"model":"teacher","errors":300,"accuracy":0.97,"nll":0.1,"ece":0.01},' \
		'{"model":"student-hard","errors":200,"accuracy":0.98,"nll":0.1,"ece":0.01},' \
		'{"model":"student-kd","errors":250,"accuracy":0.975,"nll":0.1,"ece":0.01}]' > r/demo.json
	run bash "$REPO/pipelines/report.sh" results r
	assert_success
	assert_output --partial 'makes 50 more test errors than the hard-label student; the teacher (300) is no better than the hard-label student (200), so there is no gap to close'
	refute_output --partial '% of the gap'
	# a better teacher, a distilled student worse than the hard-label one
	printf '%s\n' '[{"model":"teacher","errors":100,"accuracy":0.99,"nll":0.1,"ece":0.01},' \
		'{"model":"student-hard","errors":200,"accuracy":0.98,"nll":0.1,"ece":0.01},' \
		'{"model":"student-kd","errors":210,"accuracy":0.979,"nll":0.1,"ece":0.01}]' > r/demo.json
	run bash "$REPO/pipelines/report.sh" results r
	assert_success
	assert_output --partial 'makes 10 more test errors than the hard-label student; it closes none of the gap between the hard-label student (200) and the teacher (100).'
	refute_output --partial '% of the gap'
	# a distilled student better than its teacher: all of the gap, not
	# a percentage over 100
	printf '%s\n' '[{"model":"teacher","errors":100,"accuracy":0.99,"nll":0.1,"ece":0.01},' \
		'{"model":"student-hard","errors":200,"accuracy":0.98,"nll":0.1,"ece":0.01},' \
		'{"model":"student-kd","errors":90,"accuracy":0.991,"nll":0.1,"ece":0.01}]' > r/demo.json
	run bash "$REPO/pipelines/report.sh" results r
	assert_success
	assert_output --partial 'makes 110 fewer test errors than the hard-label student; it closes all of the gap between the hard-label student (200) and the teacher (100), and makes 10 fewer errors than the teacher.'
	refute_output --partial '% of the gap'
}

@test "report.sh val-error: the lowest validation error in a training log, or a clear error" {
	printf '%s\n' 'kd-student: epoch 1/3  loss 2.0  val err  12.50% *  lr 0.05  100 samples/s  2s left' \
		'kd-student: epoch 2/3  loss 1.0  val err   9.75% *  lr 0.01  100 samples/s  1s left' \
		'kd-student: epoch 3/3  loss 0.9  val err  10.00%    lr 0.005  100 samples/s  0s left' > log
	run bash "$REPO/pipelines/report.sh" val-error log
	assert_success
	assert_output 0.0975
	echo 'kd-student: epoch 1/1  loss 2.0  lr 0.05' > nolog
	run bash "$REPO/pipelines/report.sh" val-error nolog
	assert_failure
	assert_output --partial 'nolog: no validation error in this log'
}

@test "a run's results stay in its work folder; make publish makes them the reference" {
	# tiny's R set aside: the default, under W
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$REPO/pipelines" BIN="$KD_BIN" TRAIN="$PWD/train.csv" \
		TEST="$PWD/test.csv" W="$PWD/work" REF="$PWD/ref" NVAL=300 T_HIDDEN=32,32 S_HIDDEN=16,16 \
		JITTER=0 FLIP= T_EPOCHS=2 S_EPOCHS=2 S_WARMUP=1 THREADS=1 T=4 demo
	assert_success
	file_exists work/results/demo.json work/results/demo.txt
	file_missing ref
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$REPO/pipelines" W="$PWD/work" REF="$PWD/ref" publish
	assert_success
	cmp work/results/demo.json ref/demo.json
	grep -q "^| teacher" ref/RESULTS.md
}
