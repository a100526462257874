#!/usr/bin/env bats
# The stream tools as a user calls them: kd-cat, kd-soften, and what
# all stream tools share (kd-average's own tests: average.bats).

load helpers

@test "every stream tool answers --help on stdout and --version" {
	for t in kd-soften kd-average kd-cat; do
		run --separate-stderr "$t" --help
		assert_success
		assert_output --partial "Usage: $t"
		[ -z "$stderr" ]
		run "$t" --version
		assert_success
		assert_output --regexp "^$t \(kd\) [0-9]"
	done
}

@test "bad usage exits 2 with a hint on stderr" {
	run --separate-stderr kd-soften --bogus
	assert_equal "$status" 2
	assert_equal "$stderr" "kd-soften: bad option '--bogus' (unknown, or missing its value) (see kd-soften --help)"
	run --separate-stderr kd-soften
	assert_equal "$status" 2
	[[ "$stderr" == *"a temperature is required"* ]]
	run --separate-stderr kd-soften -T 0 x
	assert_equal "$status" 2
	run --separate-stderr kd-soften -T 2e6 x
	assert_equal "$status" 2
	[[ "$stderr" == *"out of range"* ]]
	run --separate-stderr kd-average
	assert_equal "$status" 2
	run --separate-stderr kd-average -w 1,2 a.kd
	assert_equal "$status" 2
	[[ "$stderr" == *"2 weights for 1 files"* ]]
}

@test "kd-cat round trip: stream to CSV to stream to the same CSV" {
	kd-genstream --rows 300 --classes 7 --labels --inputs 5 --seed 3 > a.kd
	kd-cat --inputs a.kd > a.csv
	head -1 a.csv | grep -qx '#kd-stream,kind=logits,temperature=1'
	sed -n 2p a.csv | grep -qx 'id,label,z0,z1,z2,z3,z4,z5,z6,x0,x1,x2,x3,x4'
	[ "$(wc -l < a.csv)" -eq 302 ]
	kd-cat --import a.csv > b.kd
	kd-cat --inputs b.kd > b.csv
	cmp a.csv b.csv
	# probabilities, unlabelled, through a pipe
	kd-genstream --rows 50 --classes 3 --kind probs --seed 4 | kd-cat > p.csv
	sed -n 2p p.csv | grep -qx 'id,label,p0,p1,p2'
	sed -n 3p p.csv | grep -q '^0,,'
	kd-cat --import p.csv | kd-cat > p2.csv
	cmp p.csv p2.csv
}

@test "kd-cat --import: plain CSV rows with a label column, gzip too" {
	printf '0.1,0.2,0.7,2\n0.5,0.25,0.25,0\n' > probs.csv
	kd-cat --import --kind probs --label-col 4 probs.csv > p.kd
	run kd-cat p.kd
	assert_success
	assert_line --index 0 '#kd-stream,kind=probs,temperature=1'
	assert_line --index 1 'id,label,p0,p1,p2'
	assert_line --index 2 '0,2,0.100000001,0.200000003,0.699999988'
	assert_line --index 3 '1,0,0.5,0.25,0.25'
	gzip -c probs.csv > probs.csv.gz
	kd-cat --import --kind probs --label-col 4 probs.csv.gz | kd-cat > gz.csv
	kd-cat p.kd | cmp - gz.csv
	run kd-cat --info p.kd
	assert_success
	assert_line 'kind: probs'
	assert_line 'classes: 3'
	assert_line 'labels: yes'
	assert_line 'records: 2'
}

@test "kd-cat --import names the file, line and column of a bad row" {
	printf '1,2,3\n4,x,6\n' > bad.csv
	run --separate-stderr kd-cat --import bad.csv -o out.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-cat: 'bad.csv':2:2: 'x' is not a finite number"
	[ ! -e out.kd ]
	no_temporaries
	printf '1,2,3\n4,5\n' > short.csv
	run --separate-stderr kd-cat --import short.csv -o out.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-cat: 'short.csv':2: expected 3 fields, found 2"
	printf '0.5,0.6\n' > sum.csv
	run --separate-stderr kd-cat --import --kind probs sum.csv -o out.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-cat: 'sum.csv':1: probabilities do not sum to 1"
	printf '1,2,5\n' > lab.csv
	run --separate-stderr kd-cat --import --label-col 3 lab.csv -o out.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-cat: 'lab.csv':1:3: label '5' is not a class from 0 to 1"
	[ ! -e out.kd ]
	no_temporaries
}

@test "kd-soften gives the hand-computed softmax at T=1 and T=2" {
	printf '1,2,3\n' | kd-cat --import > z.kd
	run kd-cat z.kd
	assert_line --index 2 '0,,1,2,3'
	kd-soften -T 1 z.kd | kd-cat > t1.csv
	kd-soften -T 2 z.kd | kd-cat > t2.csv
	# 0.0900 0.2447 0.6652 and 0.1863 0.3072 0.5065, to 4 decimals
	awk -F, 'NR==3 { printf "%.4f %.4f %.4f\n", $3, $4, $5 }' t1.csv | grep -qx '0.0900 0.2447 0.6652'
	awk -F, 'NR==3 { printf "%.4f %.4f %.4f\n", $3, $4, $5 }' t2.csv | grep -qx '0.1863 0.3072 0.5065'
	# the output says what it is: probabilities at T=2
	kd-soften -T 2 z.kd | kd-cat --info - | grep -qx 'temperature: 2'
	# softening twice multiplies temperatures; --log writes log-probabilities
	kd-soften -T 2 z.kd | kd-soften -T 3 --log | kd-cat --info - > info
	grep -qx 'temperature: 6' info
	grep -qx 'kind: logprobs' info
}

@test "kd-soften: logits of 1e4 at T of 1e5, and tiny T, without NaN" {
	printf '10000,-10000,0\n' | kd-cat --import > big.kd
	run kd-soften -T 1e5 big.kd -o s.kd
	assert_success
	run kd-cat s.kd
	refute_output --partial nan
	refute_output --partial inf
	awk -F, 'NR==3 { s = $3 + $4 + $5; exit !(s > 0.9999 && s < 1.0001 && $3 > $5 && $5 > $4) }' <<< "$output"
	kd-soften -T 1e-6 big.kd | kd-cat | sed -n 3p | grep -qx '0,,1,0,0'
	kd-soften --log -T 1 big.kd | kd-cat | sed -n 3p | grep -q '^0,,0,-20000,-10000$'
}

@test "kd-soften re-tempers probability and log-probability streams alike" {
	printf '0.3,-1.2,2.5\n' | kd-cat --import > z.kd
	kd-soften -T 1 z.kd > p.kd
	kd-soften -T 1 --log z.kd > lp.kd
	kd-soften -T 4 z.kd | kd-cat > a.csv
	kd-soften -T 4 p.kd | kd-cat > b.csv
	kd-soften -T 4 lp.kd | kd-cat > c.csv
	paste -d, a.csv b.csv c.csv | awk -F, 'NR==2 { for (i = 3; i <= 5; i++) if ($i - $(i+5) > 1e-6 || $(i+5) - $i > 1e-6 || $i - $(i+10) > 1e-6 || $(i+10) - $i > 1e-6) exit 1 }'
}

@test "shards joined with cat read as one stream" {
	kd-genstream --rows 100 --classes 4 --labels --seed 7 > all.kd
	kd-cat all.kd > all.csv
	head -52 all.csv | kd-cat --import > s1.kd
	{ head -2 all.csv; tail -n +53 all.csv; } | kd-cat --import > s2.kd
	cat s1.kd s2.kd > joined.kd
	kd-cat joined.kd | cmp - all.csv
	kd-cat --info joined.kd | grep -qx 'records: 100'
	cat s1.kd s2.kd | kd-soften -T 2 | kd-cat --info - | grep -qx 'records: 100'
	# a shard of another shape is refused
	kd-genstream --rows 3 --classes 5 > other.kd
	run --separate-stderr kd-cat --info <(cat s1.kd other.kd)
	assert_equal "$status" 1
	[[ "$stderr" == *"concatenated stream after record 50 differs in number of classes"* ]]
}

@test "truncation at several offsets is refused, and -o leaves no file" {
	kd-genstream --rows 2000 --classes 10 --labels --seed 9 > a.kd
	size=$(stat -c %s a.kd)
	for cut in 1 10 39 100 1000 $((size / 2)) $((size - 10)) $((size - 1)); do
		head -c "$cut" a.kd > cut.kd
		run --separate-stderr kd-soften -T 2 cut.kd -o out.kd
		assert_equal "$status" 1
		[[ "$stderr" == "kd-soften: 'cut.kd': truncated"* ]] || { echo "cut $cut: $stderr"; false; }
		[ ! -e out.kd ]
	done
	no_temporaries
	# and through a pipe, downstream of a dead upstream
	run --separate-stderr bash -c 'head -c 5000 a.kd | kd-soften -T 2 | kd-cat > /dev/null'
	assert_equal "$status" 1
	[[ "$stderr" == *"kd-soften: 'stdin': truncated"* ]]
	# kd-cat sees a cut stream, or nothing at all if kd-soften had not
	# flushed a block before it failed: an error either way
	[[ "$stderr" == *"kd-cat: 'stdin': truncated"* ||
	   "$stderr" == *"kd-cat: 'stdin': empty input"* ]]
}

@test "a flipped byte is refused" {
	kd-genstream --rows 2000 --classes 10 --labels --seed 9 > a.kd
	cp a.kd bad.kd
	printf '\x55' | dd of=bad.kd bs=1 seek=30000 conv=notrunc status=none
	run --separate-stderr kd-cat bad.kd
	assert_equal "$status" 1
	[[ "$stderr" == "kd-cat: 'bad.kd': checksum mismatch, data is corrupt" ||
	   "$stderr" == "kd-cat: 'bad.kd': corrupt data"* ]]
}

@test "empty input, not a stream, missing file, a directory" {
	run --separate-stderr kd-soften -T 2 < /dev/null
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-soften: 'stdin': empty input"
	echo 'hello' > text.kd
	run --separate-stderr kd-cat text.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-cat: 'text.kd': not a kd stream (not zstd-compressed)"
	run --separate-stderr kd-cat missing.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-cat: cannot open 'missing.kd': No such file or directory"
	mkdir d.kd
	run --separate-stderr kd-soften -T 2 d.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-soften: 'd.kd': is a directory"
}

@test "binary output to a terminal is refused" {
	kd-genstream --rows 5 --classes 3 > a.kd
	command -v script > /dev/null || skip "script(1) not installed"
	run script -qec "$KD_BIN/kd-soften -T 2 a.kd" /dev/null
	assert_equal "$status" 1
	assert_output --partial "kd-soften: refusing to write binary data to a terminal"
	run script -qec "$KD_BIN/kd-average a.kd" /dev/null
	assert_equal "$status" 1
	assert_output --partial "refusing to write binary data to a terminal"
	# text is fine on a terminal
	run script -qec "$KD_BIN/kd-cat a.kd" /dev/null
	assert_success
}

@test "a closed pipe ends the writer quietly and non-zero" {
	kd-genstream --rows 200000 --classes 10 --seed 2 > a.kd
	run --separate-stderr timeout 20 bash -c 'set -o pipefail; kd-cat a.kd | head -2'
	assert_output "#kd-stream,kind=logits,temperature=1
id,label,z0,z1,z2,z3,z4,z5,z6,z7,z8,z9"
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[ -z "$stderr" ]
	run --separate-stderr timeout 20 bash -c 'set -o pipefail; kd-soften -T 2 a.kd | head -c 100 > /dev/null'
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[ -z "$stderr" ]
	# with SIGPIPE ignored, the write error ends it the same way
	run --separate-stderr timeout 20 bash -c 'trap "" PIPE; set -o pipefail; kd-cat a.kd | head -1 > /dev/null'
	assert_equal "$status" 1
	[ -z "$stderr" ]
}

@test "a full disk is reported" {
	kd-genstream --rows 1000 --classes 10 > a.kd
	run --separate-stderr bash -c 'kd-soften -T 2 a.kd > /dev/full'
	assert_equal "$status" 1
	[[ "$stderr" == *"No space left on device"* ]]
	run --separate-stderr bash -c 'kd-cat a.kd > /dev/full'
	assert_equal "$status" 1
	[[ "$stderr" == *"No space left on device"* ]]
	run --separate-stderr bash -c 'kd-average a.kd a.kd > /dev/full'
	assert_equal "$status" 1
	[[ "$stderr" == *"No space left on device"* ]]
}

@test "kd-soften --smooth lifts a forest's zeros before tempering: by hand, and refused for logits" {
	printf '1,0,0\n0.5,0.5,0\n' | kd-cat --import --kind probs > f.kd
	# (1, 0, 0) + 0.1 each, over 1.3: (11, 1, 1) / 13; at T = 2 the square
	# roots normalised: (sqrt 11, 1, 1) / (sqrt 11 + 2)
	run bash -c 'kd-soften -T 2 --smooth 0.1 f.kd | kd-cat | sed -n 3p'
	assert_success
	echo "$output" | awk -F, '{ s = sqrt(11) + 2; d0 = $3 - sqrt(11) / s; d1 = $4 - 1 / s
		exit !(d0 < 1e-6 && d0 > -1e-6 && d1 < 1e-6 && d1 > -1e-6 && $4 == $5) }'
	# without smoothing the zeros stay
	run bash -c 'kd-soften -T 2 f.kd | kd-cat | sed -n 3p'
	assert_output "0,,1,0,0"
	# log-probabilities smooth alike
	kd-soften -T 1 --log f.kd > lf.kd
	cmp <(kd-soften -T 2 --smooth 0.1 f.kd | kd-cat) <(kd-soften -T 2 --smooth 0.1 lf.kd | kd-cat | sed 's/temperature=1/temperature=2/')
	# logits have no zeros to lift
	kd-genstream --rows 3 --classes 3 > z.kd
	run --separate-stderr kd-soften -T 2 --smooth 0.1 -o o.kd z.kd
	assert_failure 1
	[[ "$stderr" == *"'z.kd': --smooth goes with probabilities"* ]]
	file_missing o.kd
	run --separate-stderr kd-soften -T 2 --smooth 0 f.kd
	assert_failure 2
}
