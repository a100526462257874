#!/usr/bin/env bats
# Features streams: kd-teacher -m --layer L writes a hidden layer's
# activations (stream format version 4, kind features), for a student's
# hints; they concatenate and shard like logits, and every tool that takes
# class scores refuses them by name.

load helpers

# model: m.kdm (4 inputs, hidden 6 and 5, 3 named classes) and its rows
model() {
	kd-gen blobs --rows 60 --features 4 --classes 3 > l.csv
	kd-mkmodel --inputs 4 --hidden 6,5 --classes 3 --seed 3 --names a,b,c -o m.kdm
}

@test "kd-teacher -m --layer: a features stream of the layer's width, labels and ids kept, no class names" {
	model
	kd-teacher -m m.kdm --layer 1 -o f1.kd l.csv
	run kd-cat --info f1.kd
	assert_success
	assert_line "format version: 4"
	assert_line "kind: features"
	assert_line "units: 6"
	assert_line "labels: yes"
	assert_line "records: 60"
	run bash -c 'kd-cat f1.kd | head -2'
	assert_line --index 0 --regexp '^#kd-stream,kind=features,temperature=1,model=[0-9a-f]+$'
	assert_line --index 1 "id,label,f0,f1,f2,f3,f4,f5"
	# after a ReLU: no value below 0, and ids and labels those of the logits
	kd-cat f1.kd | tail -n +3 | awk -F, '{ for (i = 3; i <= NF; i++) if ($i < 0) exit 1 }'
	diff <(kd-cat f1.kd | tail -n +3 | cut -d, -f1,2) <(kd-teacher -m m.kdm l.csv | kd-cat | tail -n +3 | cut -d, -f1,2)
	kd-teacher -m m.kdm --layer 2 l.csv | kd-cat --info | grep -qx "units: 5"
	# the class-score streams keep version 3
	kd-teacher -m m.kdm l.csv | kd-cat --info | grep -qx "format version: 3"
}

@test "features streams shard, join with cat and read back from CSV like logits" {
	model
	kd-teacher -m m.kdm --layer 2 --inputs -o whole.kd l.csv
	for i in 1 2 3; do kd-teacher -m m.kdm --layer 2 --inputs --shard $i/3 -o p$i.kd l.csv; done
	cat p1.kd p2.kd p3.kd > joined.kd
	cmp <(kd-cat --inputs whole.kd) <(kd-cat --inputs joined.kd)
	kd-cat --inputs whole.kd > w.csv
	kd-cat --import w.csv | kd-cat --inputs | cmp - w.csv
}

@test "every tool that takes class scores refuses a features stream, naming it" {
	model
	kd-teacher -m m.kdm --layer 1 --inputs -o f.kd l.csv
	kd-teacher -m m.kdm -o z.kd l.csv
	for cmd in "kd-soften -T 2 f.kd" "kd-average z.kd f.kd" "kd-eval f.kd" "kd-eval --similar f.kd" \
		"kd-eval --teacher f.kd z.kd" "kd-student -o s.kdm --hidden 4 --epochs 1 --targets f.kd" "kd-cat --top 1 f.kd"; do
		run --separate-stderr $cmd
		assert_failure 1
		[[ "$stderr" == *"'f.kd' holds the features of a hidden layer"* ]] || { echo "$cmd: $stderr"; false; }
	done
	file_missing s.kdm
}

@test "kd-teacher --layer: a layer the model lacks, and the options it does not go with" {
	model
	run --separate-stderr kd-teacher -m m.kdm --layer 3 l.csv
	assert_failure 1
	[[ "$stderr" == *"'m.kdm' has no hidden layer 3 (it has 2)"* ]]
	run --separate-stderr kd-teacher -m m.kdm --layer 0 l.csv
	assert_failure 2
	run --separate-stderr kd-teacher train --layer 1 -o x.kdm l.csv
	assert_failure 2
	file_missing x.kdm
	run --separate-stderr kd-teacher -m m.kdm --layer 1 --mirror l.csv
	assert_failure 1
	# a version 3 stream that claims features is damaged
	kd-teacher -m m.kdm --layer 1 -o f.kd l.csv
	zstd -qdc f.kd > f.raw
	printf '\003' | dd of=f.raw bs=1 seek=4 conv=notrunc status=none
	zstd -qc f.raw > v3.kd
	run --separate-stderr kd-cat v3.kd
	assert_failure 1
	[[ "$stderr" == *"'v3.kd': bad header (features in a version 3 stream)"* ]]
}
