#!/usr/bin/env bats
# Predictions on new rows: CSV without a label column, kd-cat --top, the
# progress of a long run.

load helpers

# model: a small trained model of 4 inputs and 3 named classes, and its
# labelled (l.csv) and unlabelled (u.csv) rows
model() {
	kd-gen blobs --rows 300 --features 4 --classes 3 > l.csv
	kd-gen blobs --rows 300 --features 4 --classes 3 --no-label > u.csv
	kd-teacher train -q --hidden 8 --epochs 3 -o m.kdm l.csv
}

@test "kd-teacher -m reads rows of the model's width as new rows, without labels" {
	model
	kd-teacher -m m.kdm u.csv > u.kd
	kd-teacher -m m.kdm l.csv > l.kd
	run kd-cat --info u.kd
	assert_success
	assert_line "labels: no"
	assert_line "records: 300"
	# the same logits as the labelled rows, the label column left empty
	kd-cat l.kd | tail -n +3 | cut -d, -f1,3- > l.vals
	kd-cat u.kd | tail -n +3 > u.all
	cut -d, -f2 u.all | sort -u > labels
	assert_equal "$(cat labels)" ""
	cut -d, -f1,3- u.all > u.vals
	cmp l.vals u.vals
	# --no-label drops the labels of labelled rows
	kd-teacher -m m.kdm --no-label l.csv | kd-cat | tail -n +3 | cut -d, -f1,3- > n.vals
	cmp l.vals n.vals
	# rows neither of the model's width nor one more are refused by line
	cut -d, -f1-3 u.csv > short.csv
	run --separate-stderr kd-teacher -m m.kdm short.csv
	assert_failure 1
	[[ "$stderr" == *"'short.csv':1:3: label"* ]]
}

@test "a student trains from new rows: the unlabelled DATA is matched by its inputs" {
	model
	kd-teacher -m m.kdm u.csv | kd-soften -T 3 | kd-student -q --hidden 4 --epochs 2 -o s.kdm u.csv
	kd-teacher -m s.kdm u.csv | kd-cat --info > info
	grep -qx 'records: 300' info
	# other rows of the same width are still refused
	kd-gen blobs --rows 300 --features 4 --classes 3 --seed 2 --no-label > other.csv
	kd-teacher -m m.kdm u.csv | kd-soften -T 3 > soft.kd
	run --separate-stderr kd-student -q --hidden 4 --epochs 2 -o s2.kdm --targets soft.kd other.csv
	assert_failure 1
	[[ "$stderr" == *"another data set"* ]]
	[ ! -e s2.kdm ]
}

@test "kd-cat --top: classes by name with the model's own probabilities, computed by hand" {
	# logits 0, ln 3, 0 at T = 1: probabilities 0.2, 0.6, 0.2
	printf '#kd-stream,kind=logits,temperature=1,names,"cat","dog, big","say ""hi"""\n' > s.csv
	printf 'id,label,z0,z1,z2\n0,1,0,1.09861229,0\n1,0,2,0,0\n' >> s.csv
	kd-cat --import s.csv > s.kd
	run --separate-stderr kd-cat --top 2 s.kd
	assert_success
	assert_line --index 0 'id,label,class1,p1,class2,p2'
	assert_line --index 1 '0,"dog, big","dog, big",0.6000,cat,0.2000'
	# exp(2) / (exp(2) + 2) = 0.7870
	assert_line --index 2 '1,cat,cat,0.7870,"dog, big",0.1065'
	# a softened stream gives back the model's own distribution
	kd-soften -T 4 s.kd | kd-cat --top 1 > soft.csv
	assert_equal "$(sed -n 2p soft.csv)" '0,"dog, big","dog, big",0.6000'
	# probabilities at T = 2 (0.2, 0.6, 0.2 tempered): undone as well
	printf '1,0.25,0.5,0.25\n' > p.csv
	kd-cat --import --kind probs -T 2 --label-col 1 p.csv | kd-cat --top 3 > p.out
	assert_equal "$(sed -n 2p p.out)" '0,1,1,0.6667,0,0.1667,2,0.1667'
	run --separate-stderr kd-cat --top 4 s.kd
	assert_failure 1
	assert_equal "$stderr" "kd-cat: 's.kd': the top 4 of 3 classes"
	run --separate-stderr kd-cat --top 0 s.kd
	assert_failure 2
	run --separate-stderr kd-cat --top 1 --inputs s.kd
	assert_failure 2
}

@test "one pipe from a new CSV to class names" {
	kd-gen blobs --rows 200 --features 3 --classes 3 > l.csv
	kd-gen blobs --rows 5 --features 3 --classes 3 --seed 9 --no-label > new.csv
	kd-teacher train -q --hidden 8 --epochs 5 -o m.kdm l.csv
	kd-mkmodel --inputs 3 --classes 3 --names 'setosa,versicolor,virginica' -o named.kdm
	run --separate-stderr bash -c 'kd-teacher -m named.kdm new.csv | kd-cat --top 1'
	assert_success
	assert_equal "${#lines[@]}" 6
	assert_line --index 0 'id,label,class1,p1'
	[[ "${lines[1]}" =~ ^0,,(setosa|versicolor|virginica),[01]\.[0-9]{4}$ ]]
}

@test "kd-teacher -m shows its progress on a terminal only" {
	kd-gen blobs --rows 30000 --features 2 --classes 2 > big.csv
	kd-mkmodel --inputs 2 --classes 2 -o m.kdm
	# through a pseudo-terminal (script from bsdutils): a meter on stderr
	script -qec 'kd-teacher -m m.kdm -o out.kd big.csv' /dev/null > tty.out
	grep -q 'kd-teacher: rows [0-9]*/30000' tty.out
	# not through a pipe, nor with -q
	run --separate-stderr kd-teacher -m m.kdm -o out2.kd big.csv
	assert_success
	assert_equal "$stderr" ""
	script -qec 'kd-teacher -q -m m.kdm -o out3.kd big.csv' /dev/null > q.out
	run grep -c rows q.out
	assert_output 0
}

@test "kd-teacher train --class-names names a CSV's classes: kd-cat --top and kd-export show them" {
	kd-gen blobs --rows 300 --features 4 --classes 3 > l.csv
	kd-gen blobs --rows 30 --features 4 --classes 3 --no-label > u.csv
	kd-teacher train -q --hidden 8 --epochs 2 --class-names 'setosa,versi "c",virginica' -o m.kdm l.csv
	run --separate-stderr bash -c 'kd-teacher -m m.kdm u.csv | kd-cat --top 3'
	assert_success
	assert_equal "${#lines[@]}" 31
	# every row names all three classes, the quoted one CSV-quoted
	for l in "${lines[@]:1}"; do
		[[ "$l" == *setosa* && "$l" == *'"versi ""c"""'* && "$l" == *virginica* ]] || { echo "row: $l"; false; }
	done
	kd-export --c -o m.c m.kdm
	grep -q '"setosa",' m.c
	# as many names as classes, none empty, no control characters
	run --separate-stderr kd-teacher train -q --hidden 8 --epochs 1 --class-names a,b -o x.kdm l.csv
	assert_failure 2
	[[ "$stderr" == *"gives 2 names for 3 classes"* ]]
	run --separate-stderr kd-teacher train -q --hidden 8 --epochs 1 --class-names 'a,,b' -o x.kdm l.csv
	assert_failure 2
	run --separate-stderr kd-teacher train -q --hidden 8 --epochs 1 --class-names "$(printf 'a,b\tc,d')" -o x.kdm l.csv
	assert_failure 2
	[[ "$stderr" == *"control character"* ]]
	file_missing x.kdm
	run --separate-stderr kd-teacher -m m.kdm --class-names a,b,c u.csv
	assert_failure 2
}

@test "a labelled stream trains from the same rows without their label column, its own labels kept" {
	model
	kd-teacher -m m.kdm l.csv | kd-soften -T 2 > lab.kd
	cut -d, -f1-4 l.csv > nolab.csv
	# --alpha 0.5 needs labels: they come from the stream
	run --separate-stderr kd-student -q -o s.kdm --hidden 4 --epochs 1 --alpha 0.5 nolab.csv < lab.kd
	assert_success
	file_exists s.kdm
	# other rows are still refused, by the first reading's reason
	cut -d, -f1-3 l.csv > short.csv
	run --separate-stderr kd-student -q -o s2.kdm --hidden 4 --epochs 1 short.csv < lab.kd
	assert_failure 1
	[[ "$stderr" == *"'short.csv':1:3: label"* ]]
	file_missing s2.kdm
}
