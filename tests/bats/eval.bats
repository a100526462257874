#!/usr/bin/env bats
# kd-eval as a user calls it: hand-made streams with known answers, the
# table and the JSON, a teacher, models, errors and the picture.

load helpers

# near JSON FILTER VALUE: the number FILTER picks from JSON is VALUE +- 1e-6
near() {
	jq -e --argjson v "$3" "($2) - \$v | fabs < 1e-6" <<< "$1" > /dev/null ||
		{ echo "$2 = $(jq "$2" <<< "$1"), want $3"; return 1; }
}

# two.kd: two classes, half wrong; NLL .852244, Brier .6225, ECE .475
# (worked out in tests/unit/test_eval.c, test_two_classes)
two_classes() {
	printf '0.3,0.7,1\n0.65,0.35,1\n0.9,0.1,0\n0.15,0.85,0\n' |
		kd-cat --import --kind probs --label-col 3 > two.kd
}

@test "kd-eval answers --help on stdout, --version, and bad usage with 2" {
	run --separate-stderr kd-eval --help
	assert_success
	assert_output --partial "Usage: kd-eval"
	[ -z "$stderr" ]
	run kd-eval --version
	assert_success
	assert_output --regexp '^kd-eval \(kd\) [0-9]'
	run --separate-stderr kd-eval --bogus x.kd
	assert_equal "$status" 2
	assert_equal "$stderr" "kd-eval: bad option '--bogus' (unknown, or missing its value) (see kd-eval --help)"
	run --separate-stderr kd-eval
	assert_equal "$status" 2
	[[ "$stderr" == "kd-eval: nothing to score"* ]]
	run --separate-stderr kd-eval -m a.kdm
	assert_equal "$status" 2
	[[ "$stderr" == "kd-eval: -m and --teacher-model need a DATA operand"* ]]
	run --separate-stderr kd-eval --teacher t.kd --teacher-model t.kdm x.kd d.csv
	assert_equal "$status" 2
	run --separate-stderr kd-eval --name a --name b x.kd
	assert_equal "$status" 2
	[[ "$stderr" == "kd-eval: 2 names for 1 candidates"* ]]
	run --separate-stderr kd-eval - -
	assert_equal "$status" 2
	[[ "$stderr" == "kd-eval: standard input can be read only once"* ]]
	run --separate-stderr kd-eval --teacher - a.kd b.kd
	assert_equal "$status" 2
	run --separate-stderr kd-eval --plot - a.kd
	assert_equal "$status" 2
}

@test "the table of a two-class stream: values worked out by hand" {
	two_classes
	run --separate-stderr kd-eval two.kd
	assert_success
	[ -z "$stderr" ]
	assert_output "$(printf '%s\n' \
		'model   rows  errors  accuracy %     NLL   Brier     ECE' \
		'two.kd     4       2       50.00  0.8522  0.6225  0.4750')"
}

@test "JSON: keys present, values equal to the hand-computed ones" {
	two_classes
	run --separate-stderr kd-eval --json two.kd
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	j=$output
	jq -e 'has("model") and has("rows") and has("errors") and has("accuracy") and has("nll")
	       and has("brier") and has("ece") and has("per_class_errors")
	       and (has("confusion") | not) and (has("agreement") | not)' <<< "$j"
	jq -e '.model == "two.kd" and .rows == 4 and .errors == 2 and .classes == 2' <<< "$j"
	near "$j" .accuracy 0.5
	near "$j" .nll 0.8522443922
	near "$j" .brier 0.6225
	near "$j" .ece 0.475
	jq -e '.per_class_rows == [2,2] and .per_class_errors == [1,1] and .per_class_error_rate == [0.5,0.5]' <<< "$j"
	# --confusion adds the matrix and the bins
	j=$(kd-eval --json --confusion two.kd)
	jq -e '.confusion == [[1,1],[1,1]]' <<< "$j"
	jq -e '.ece_bins | length == 15' <<< "$j"
	jq -e '[.ece_bins[] | select(.count > 0) | .accuracy] == [0,1,0,1]' <<< "$j"
	near "$j" '.ece_bins[9].confidence' 0.65
	near "$j" '.ece_bins[9].lo' 0.6
	near "$j" '.ece_bins[14].hi' 1
}

@test "every row right: 0 errors, ECE = mean(1 - confidence), confusion by class" {
	# confidences .75 .70 .90 .62 .78, all right: ECE = 1.25 / 5 = .25;
	# NLL = -(ln .75 + ln .7 + ln .9 + ln .62 + ln .78) / 5 = .295243
	printf '.75,.15,.10,0\n.20,.70,.10,1\n.05,.05,.90,2\n.62,.30,.08,0\n.78,.12,.10,0\n' |
		kd-cat --import --kind probs --label-col 4 > right.kd
	j=$(kd-eval --json right.kd)
	jq -e '.errors == 0 and .accuracy == 1 and .per_class_rows == [3,1,1]' <<< "$j"
	near "$j" .ece 0.25
	near "$j" .nll 0.2952429385
	near "$j" .brier 0.11272
	run --separate-stderr kd-eval --confusion right.kd
	assert_success
	assert_line --index 2 "confusion matrix of 'right.kd' (rows: true class, columns: predicted class)"
	assert_line --index 3 'true \ predicted  0  1  2  |  rows  errors  error %'
	assert_line --index 4 '0                 3  0  0  |     3       0     0.00'
	assert_line --index 6 '2                 0  0  1  |     1       0     0.00'
	run --separate-stderr kd-eval --bins right.kd
	assert_success
	assert_line '(0.733, 0.800]     2           0.7650      100.00'
	assert_line '(0.933, 1.000]     0                -           -'
}

@test "a candidate equal to its teacher: agreement 100%, KL 0; KL by hand" {
	two_classes
	run --separate-stderr kd-eval --teacher two.kd --name self two.kd
	assert_success
	assert_line --index 0 'model  rows  errors  accuracy %     NLL   Brier     ECE  agreement %      KL'
	assert_line --index 1 'self      4       2       50.00  0.8522  0.6225  0.4750       100.00  0.0000'
	assert_line --index 2 "agreement and KL(teacher || model) at T=1, against the teacher 'two.kd'"
	# KL((.5,.5) || (.9,.1)) = .510826 (argmax 0 both, the first on a tie),
	# KL((.2,.8) || (.6,.4)) = .334795 (disagree): mean .422810, agreement .5
	printf '.5,.5\n.2,.8\n' | kd-cat --import --kind probs > t.kd
	printf '.9,.1\n.6,.4\n' | kd-cat --import --kind probs > c.kd
	j=$(kd-eval --json --teacher t.kd c.kd)
	jq -e '.teacher == "t.kd" and .agreement == 0.5 and .errors == null and .accuracy == null' <<< "$j"
	near "$j" .kl 0.4228104552
	# the table shows what it cannot score as "-"
	run kd-eval --teacher t.kd c.kd
	assert_line --index 1 'c.kd      2       -           -    -      -    -        50.00  0.4228'
	# an unlabelled candidate is scored with the teacher's labels
	printf '0.3,0.7\n0.65,0.35\n0.9,0.1\n0.15,0.85\n' | kd-cat --import --kind probs > nolab.kd
	j=$(kd-eval --json --teacher two.kd nolab.kd)
	jq -e '.errors == 2 and .agreement == 1' <<< "$j"
	near "$j" .ece 0.475
}

@test "a logit stream and the same stream softened at T=4 score alike" {
	kd-genstream --rows 500 --classes 6 --labels --seed 4 > z.kd
	kd-soften -T 4 z.kd > p4.kd
	kd-soften -T 4 --log z.kd > lp4.kd
	kd-soften -T 0.5 z.kd > p05.kd
	for f in z.kd p4.kd lp4.kd p05.kd; do
		kd-eval --json --teacher z.kd "$f" > "$f.json"
	done
	for f in p4.kd lp4.kd p05.kd; do
		for k in accuracy nll brier ece kl; do
			jq -e -s --arg k "$k" '(.[0][$k] - .[1][$k]) | fabs < 1e-5' z.kd.json "$f.json" ||
				{ echo "$f: $k differs"; false; }
		done
		jq -e '.agreement == 1' "$f.json"
	done
	# the softened streams really are other numbers, at another temperature
	kd-cat --info p4.kd | grep -qx 'temperature: 4'
	kd-cat --info p05.kd | grep -qx 'temperature: 0.5'
	run ! cmp -s <(kd-cat z.kd | cut -d, -f3) <(kd-cat p4.kd | cut -d, -f3)
}

@test "row matching: mismatched ids, K, counts and labels are errors naming both" {
	kd-genstream --rows 10 --classes 3 --labels --seed 1 > a.kd
	kd-genstream --rows 10 --classes 4 --labels --seed 1 > k4.kd
	kd-genstream --rows 9 --classes 3 --labels --seed 1 > short.kd
	kd-genstream --rows 10 --classes 3 --labels --seed 1 --first-id 5 > ids.kd
	kd-genstream --rows 10 --classes 3 --labels --seed 2 > labels.kd
	run --separate-stderr kd-eval --teacher a.kd ids.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-eval: 'ids.kd': record 1 has row id 5, the teacher 'a.kd' has 0"
	[ -z "$output" ]
	run --separate-stderr kd-eval --teacher a.kd k4.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-eval: 'k4.kd' has 4 classes, the teacher 'a.kd' has 3"
	run --separate-stderr kd-eval --teacher a.kd short.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-eval: 'short.kd' ends after record 9 but the teacher 'a.kd' goes on"
	run --separate-stderr kd-eval --teacher short.kd a.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-eval: the teacher 'short.kd' ends after record 9 but 'a.kd' goes on"
	run --separate-stderr kd-eval --teacher a.kd labels.kd
	assert_equal "$status" 1
	[[ "$stderr" == "kd-eval: 'labels.kd': record "*" has label "*", the teacher 'a.kd' has "* ]]
	# an error in the second candidate: nothing on stdout
	run --separate-stderr kd-eval --teacher a.kd a.kd ids.kd
	assert_equal "$status" 1
	[ -z "$output" ]
}

@test "no labels: an error, unless a teacher is given (agreement and KL only)" {
	kd-genstream --rows 20 --classes 3 --seed 1 > u.kd
	kd-genstream --rows 20 --classes 3 --seed 2 > v.kd
	run --separate-stderr kd-eval u.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-eval: 'u.kd': no labels to score against"
	run --separate-stderr kd-eval --teacher u.kd v.kd u.kd
	assert_success
	assert_line --index 2 'u.kd     20       -           -    -      -    -       100.00  0.0000'
	j=$(kd-eval --json --teacher u.kd v.kd)
	jq -e '.errors == null and .nll == null and .ece == null and .per_class_errors == null and .kl > 0' <<< "$j"
	# missing file, not a stream
	run --separate-stderr kd-eval missing.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-eval: cannot open 'missing.kd': No such file or directory"
	echo hello > text.kd
	run --separate-stderr kd-eval text.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-eval: 'text.kd': not a kd stream (not zstd-compressed)"
}

@test "several candidates, one row each, in order; names; stdin" {
	two_classes
	kd-genstream --rows 30 --classes 2 --labels --seed 3 > g.kd
	run --separate-stderr kd-eval --name first --name second two.kd g.kd two.kd
	assert_success
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[1]}" == "first "* ]]
	[[ "${lines[2]}" == "second "* ]]
	[[ "${lines[3]}" == "two.kd "* ]]
	run --separate-stderr kd-eval --json --name 'a "quoted" name' g.kd two.kd
	assert_success
	jq -e -s '.[0].model == "a \"quoted\" name" and .[1].model == "two.kd" and .[0].rows == 30' <<< "$output"
	run --separate-stderr bash -c 'kd-eval - < two.kd'
	assert_success
	assert_line --index 1 --partial 'stdin'
}

@test "--plot writes a PNG atomically; without gnuplot, an error and no file" {
	two_classes
	kd-genstream --rows 300 --classes 5 --labels --seed 3 --scale 1 > g.kd
	run --separate-stderr kd-eval --plot out.png --name 'it'"'"'s' two.kd g.kd
	assert_success
	[ -z "$stderr" ] # not even a warning from gnuplot
	[ "$(head -c 8 out.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
	[ "$(stat -c %s out.png)" -gt 10000 ]
	no_temporaries
	# the table still goes to stdout
	assert_line --index 1 --partial "it's"
	run --separate-stderr env PATH=/nonexistent "$KD_BIN/kd-eval" --plot no.png two.kd
	assert_equal "$status" 1
	[[ "$stderr" == "kd-eval: cannot run gnuplot: No such file or directory"* ]]
	[ ! -e no.png ]
	no_temporaries
	# one class: no image of 1 x 1 points, drawn all the same
	kd-genstream --rows 5 --classes 1 --labels --seed 3 > k1.kd
	run --separate-stderr kd-eval --plot k1.png k1.kd
	assert_success
	[ -z "$stderr" ]
	[ -s k1.png ]
	# nothing to draw without labels
	kd-genstream --rows 20 --classes 3 --seed 1 > u.kd
	run --separate-stderr kd-eval --plot u.png --teacher u.kd u.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-eval: nothing to plot: no candidate has labelled rows"
	[ ! -e u.png ]
}

@test "-m MODEL DATA: a model scored as its logit stream would be" {
	kd-gen blobs --rows 400 --features 4 --classes 3 --seed 2 > data.csv
	kd-mkmodel --inputs 4 --hidden 8 --classes 3 --seed 5 --names cat,dog,bird -o m.kdm
	kd-mkmodel --inputs 4 --classes 3 --seed 6 -o n.kdm
	run --separate-stderr kd-eval -m m.kdm data.csv
	assert_success
	assert_line --index 1 --regexp '^m\.kdm +400 +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$'
	# two models and a teacher model, one DATA
	j=$(kd-eval --json -m m.kdm -m n.kdm --teacher-model m.kdm data.csv)
	jq -e -s 'length == 2 and .[0].agreement == 1 and .[0].kl == 0 and .[1].agreement < 1
	          and .[0].teacher == "m.kdm" and .[1].model == "n.kdm"' <<< "$j"
	# class names from the model
	run --separate-stderr kd-eval --confusion -m m.kdm data.csv
	assert_success
	assert_line --regexp '^0 cat  '
	assert_line --regexp '^2 bird '
	kd-eval --json --confusion -m m.kdm data.csv | jq -e '.class_names == ["cat","dog","bird"]'
	# the model's own logits, written by kd-teacher, score the same, and
	# streams mix with models in command-line order
	kd-teacher -m m.kdm data.csv > m.kd
	kd-eval --json m.kd -m m.kdm --teacher m.kd data.csv > both.json
	jq -e -s '.[0].model == "m.kd" and .[1].model == "m.kdm" and .[1].agreement == 1' both.json
	for k in errors accuracy nll brier ece; do
		jq -e -s --arg k "$k" '(.[0][$k] - .[1][$k]) | fabs < 1e-5' both.json ||
			{ echo "$k differs"; false; }
	done
	# unlabelled data (a stream of inputs) names the data
	kd-genstream --rows 10 --classes 3 --inputs 4 --seed 1 > in.kd
	run --separate-stderr kd-eval -m m.kdm in.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-eval: 'in.kd': no labels to score against"
	# data of another width, a missing model
	kd-gen blobs --rows 10 --features 5 --classes 3 --seed 2 > wide.csv
	run --separate-stderr kd-eval -m m.kdm wide.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-eval: 'wide.csv' has 5 features, model 'm.kdm' takes 4"
	run --separate-stderr kd-eval -m missing.kdm data.csv
	assert_equal "$status" 1
	[[ "$stderr" == "kd-eval: "*"missing.kdm"* ]]
}

@test "--plot: no name, path or class name runs anything, and the picture still comes out" {
	kd-genstream --rows 40 --classes 3 --labels > s.kd
	evil='a`touch PWNED1`$(touch PWNED2)@x;"q'"'"'\b'
	cp s.kd "$evil.kd"
	png=$(printf 'o\nset output "evil.png"\n`touch PWNED3`.png')
	run --separate-stderr kd-eval --plot "$png" --name "$(printf 'n`touch PWNED4` \x01 \xff $(touch PWNED5)')" "$evil.kd" s.kd
	assert_success
	[ -z "$stderr" ] || { echo "$stderr"; false; } # gnuplot said nothing either
	run ! ls PWNED1 PWNED2 PWNED3 PWNED4 PWNED5 evil.png
	[ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" = "211PNG" ]
	no_temporaries
}

@test "--plot to a device, a FIFO, a directory, an empty name and a missing folder: works or fails cleanly" {
	kd-genstream --rows 40 --classes 3 --labels > s.kd
	run --separate-stderr kd-eval --plot /dev/null s.kd
	assert_success
	[ -c /dev/null ]
	mkfifo f.png
	cat f.png > fifo.out &
	run --separate-stderr kd-eval --plot f.png s.kd
	assert_success
	wait
	[ -p f.png ]
	[ "$(head -c 4 fifo.out | od -An -c | tr -d ' ')" = "211PNG" ]
	run --separate-stderr kd-eval --plot . s.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-eval: cannot write '.': Is a directory"
	run --separate-stderr kd-eval --plot "" s.kd
	assert_failure
	assert_equal "$stderr" "kd-eval: an empty file name"
	run --separate-stderr kd-eval --plot missing/x.png s.kd
	assert_equal "$status" 1
	[[ "$stderr" == "kd-eval: cannot create a temporary file for 'missing/x.png': No such file or directory" ]] || { echo "$stderr"; false; }
	run --separate-stderr kd-eval --plot /dev/full s.kd
	assert_equal "$status" 1
	no_temporaries
}

# sim_stream: probs.kd, a labelled stream of probabilities at T = 1 over
# three named classes (names a shell or gnuplot would take as code), with
# hand-checked means: class 0's rows (0.6,0.3,0.1) and (0.4,0.4,0.2) give
# M[0] = (0.5, 0.35, 0.15); class 1's row (0.2,0.7,0.1) is M[1]; class 2
# has no rows
sim_stream() {
	cat > probs.csv <<'CSV'
#kd-stream,kind=probs,temperature=1,names,"a ""q""","it's `touch pwned2`","x\"";system(""touch pwned"");"""
id,label,p0,p1,p2
0,0,0.6,0.3,0.1
1,1,0.2,0.7,0.1
2,0,0.4,0.4,0.2
CSV
	kd-cat --import -o probs.kd probs.csv
}

@test "kd-eval --similar: the mean probabilities of each true class, by hand, and the most alike classes" {
	sim_stream
	run --separate-stderr kd-eval --similar --json probs.kd
	assert_success
	assert_equal "$(jq -c '.matrix | map(if . then map(. * 1e6 | round) else . end)' <<< "$output")" \
		'[[500000,350000,150000],[200000,700000,100000],null]'
	assert_equal "$(jq -c '[.class_rows, .rows, .temperature]' <<< "$output")" '[[2,1,0],3,1]'
	assert_equal "$(jq -r '.most_alike[0].alike_name' <<< "$output")" 'it'"'"'s `touch pwned2`'
	assert_equal "$(jq -c '.most_alike[2].alike' <<< "$output")" 'null'
	# the one pair with rows on both sides: (0.35 + 0.2) / 2
	assert_equal "$(jq -c '[.pairs[] | [.classes, (.mean * 1e6 | round)]]' <<< "$output")" '[[[0,1],275000]]'
	# at T = 2 each row is p^(1/2), normalised: class 1's row by hand
	run --separate-stderr kd-eval --similar -T 2 --json probs.kd
	assert_success
	assert_equal "$(jq -c '[.temperature, (.matrix[1] | map(. * 1e4 | round))]' <<< "$output")" '[2,[2795,5229,1976]]'
	# the table names the classes and the pairs
	run --separate-stderr kd-eval --similar probs.kd
	assert_success
	assert_output --partial "most alike"
	assert_output --partial 'it'"'"'s `touch pwned2`'
}

@test "kd-eval --similar --plot: a heat map with class names that reach gnuplot as text only" {
	command -v gnuplot > /dev/null || skip "gnuplot is not installed"
	sim_stream
	run --separate-stderr kd-eval --similar --plot alike.png probs.kd
	assert_success
	[ "$(head -c 4 alike.png | od -An -c | tr -d ' ')" = "211PNG" ]
	file_missing pwned pwned2
	no_temporaries .
}

@test "kd-eval --similar refuses a stream without labels, and options of scoring" {
	sim_stream
	kd-cat --import --kind probs -o nolab.kd <(tail -n +3 probs.csv | cut -d, -f3-)
	run --separate-stderr kd-eval --similar nolab.kd
	assert_failure 1
	[[ "$stderr" == *"no labels"* ]]
	run --separate-stderr kd-eval --similar --confusion probs.kd
	assert_failure 2
	run --separate-stderr kd-eval --similar probs.kd probs.kd
	assert_failure 2
	run --separate-stderr kd-eval -T 2 probs.kd
	assert_failure 2
	[[ "$stderr" == *"-T goes with --similar"* ]]
	# stdin without an operand
	run --separate-stderr bash -c "kd-eval --similar --json < probs.kd | jq -c .class_rows"
	assert_success
	assert_output "[2,1,0]"
}

@test "kd-eval -m reads CSV rows without labels by the model's width: agreement with a teacher model" {
	kd-gen blobs --rows 200 --features 4 --classes 3 > l.csv
	kd-gen blobs --rows 200 --features 4 --classes 3 --no-label > u.csv
	kd-teacher train -q --hidden 8 --epochs 2 --seed 1 -o a.kdm l.csv
	kd-teacher train -q --hidden 8 --epochs 2 --seed 2 -o b.kdm l.csv
	run --separate-stderr kd-eval --json -m a.kdm --teacher-model b.kdm u.csv
	assert_success
	assert_equal "$(jq -c '[.rows, .errors]' <<< "$output")" '[200,null]'
	# the same agreement and KL as on the same rows with their labels
	u=$(jq -c '[.agreement, .kl]' <<< "$output")
	run --separate-stderr kd-eval --json -m a.kdm --teacher-model b.kdm l.csv
	assert_success
	assert_equal "$(jq -c '[.agreement, .kl]' <<< "$output")" "$u"
	jq -e '.errors >= 0' <<< "$output" > /dev/null
}
