#!/usr/bin/env bats
# kd-average: an ensemble's target from several teachers' streams.

load helpers

@test "soften then average: arithmetic and geometric means by hand" {
	printf '0.5,0.5\n' | kd-cat --import --kind probs > a.kd
	printf '0.9,0.1\n' | kd-cat --import --kind probs > b.kd
	kd-average a.kd b.kd | kd-cat | sed -n 3p | grep -qx '0,,0.699999988,0.300000012'
	kd-average -w 3,1 a.kd b.kd | kd-cat | sed -n 3p | grep -qx '0,,0.600000024,0.400000006'
	# geometric: sqrt(.5*.9) / (sqrt(.5*.9) + sqrt(.5*.1)) = 0.75
	kd-average --geometric a.kd b.kd | kd-cat | sed -n 3p | grep -qx '0,,0.75,0.25'
	# teachers' logits softened alike then averaged
	kd-genstream --rows 100 --classes 5 --labels --seed 1 | kd-soften -T 3 > t1.kd
	kd-genstream --rows 100 --classes 5 --labels --seed 1 --scale 2 | kd-soften -T 3 > t2.kd
	run kd-average t1.kd t2.kd -o avg.kd
	assert_success
	kd-cat --info avg.kd | grep -qx 'records: 100'
	kd-cat --info avg.kd | grep -qx 'temperature: 3'
}

@test "kd-average refuses streams that disagree, naming file and record" {
	kd-genstream --rows 10 --classes 3 --labels --seed 1 > a.kd
	kd-genstream --rows 10 --classes 4 --labels --seed 1 > k4.kd
	kd-genstream --rows 9 --classes 3 --labels --seed 1 > short.kd
	kd-genstream --rows 10 --classes 3 --labels --seed 1 --first-id 5 > ids.kd
	kd-genstream --rows 10 --classes 3 --labels --seed 2 > labels.kd
	run --separate-stderr kd-average a.kd k4.kd -o o.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-average: 'k4.kd' has 4 classes, 'a.kd' has 3"
	run --separate-stderr kd-average a.kd short.kd -o o.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-average: 'short.kd' ends after record 9 but 'a.kd' goes on"
	run --separate-stderr kd-average a.kd ids.kd -o o.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-average: 'ids.kd': record 1 has row id 5, 'a.kd' has 0"
	run --separate-stderr kd-average a.kd labels.kd -o o.kd
	assert_equal "$status" 1
	[[ "$stderr" == "kd-average: 'labels.kd': record "*" has label "*", another stream has "* ]]
	kd-soften -T 2 a.kd > t2.kd
	run --separate-stderr kd-average a.kd t2.kd -o o.kd
	assert_equal "$status" 1
	[[ "$stderr" == *"'t2.kd' is at temperature 2, 'a.kd' at 1"* ]]
	[ ! -e o.kd ]
	no_temporaries
}

@test "kd-average --log, mixed kinds, stdin, and inputs from the first stream that has them" {
	printf '0.5,0.5\n' | kd-cat --import --kind probs > a.kd
	printf '0.9,0.1\n' | kd-cat --import --kind probs > b.kd
	# log-probabilities of the arithmetic mean: log 0.7, log 0.3
	kd-average --log a.kd b.kd | kd-cat | awk -F, 'NR == 3 { d1 = $3 - log(0.7); d2 = $4 - log(0.3)
		exit !(d1 < 1e-6 && d1 > -1e-6 && d2 < 1e-6 && d2 > -1e-6) }'
	kd-cat --info <(kd-average --log a.kd b.kd) | grep -qx 'kind: logprobs'
	# logits and probabilities mixed: the logits (0, 0) are (0.5, 0.5)
	printf '0,0\n' | kd-cat --import --kind logits > z.kd
	kd-average z.kd b.kd | kd-cat | sed -n 3p | grep -qx '0,,0.699999988,0.300000012'
	# '-' reads stdin
	kd-average a.kd - < b.kd | kd-cat | sed -n 3p | grep -qx '0,,0.699999988,0.300000012'
	# inputs come from the first stream that carries them
	kd-gen blobs --rows 20 --features 3 --classes 2 > l.csv
	kd-mkmodel --inputs 3 --classes 2 --seed 1 -o m1.kdm
	kd-mkmodel --inputs 3 --classes 2 --seed 2 -o m2.kdm
	kd-teacher -m m1.kdm l.csv > t1.kd
	kd-teacher -m m2.kdm --inputs l.csv > t2.kd
	kd-average t1.kd t2.kd | kd-cat --inputs | sed -n 2p | grep -q ',x0,x1,x2$'
}

@test "kd-average: bad usage exits 2, and a failed run leaves nothing" {
	kd-genstream --rows 10 --classes 3 --labels --seed 1 > a.kd
	run --separate-stderr kd-average -w 1,2,3 a.kd a.kd -o o.kd
	assert_failure 2
	run --separate-stderr kd-average -w 1,-1 a.kd a.kd -o o.kd
	assert_failure 2
	run --separate-stderr kd-average -o o.kd
	assert_failure 2
	run --separate-stderr kd-average a.kd a.kd -o a.kd
	assert_failure 2
	run --separate-stderr kd-average a.kd - -
	assert_failure 2
	file_missing o.kd
	run --separate-stderr kd-average a.kd missing.kd -o o.kd
	assert_failure 1
	[[ "$stderr" == *"'missing.kd'"* ]]
	file_missing o.kd
	no_temporaries
}
