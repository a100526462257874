#!/usr/bin/env bats
# kd-export: a model as C99 source (compiled here, strictly) and as ONNX
# (checked by Debian's python3-onnx and run in onnxruntime-node), each
# giving kd-teacher -m's logits on the same rows.

load helpers

EXPORT_DIR="$BATS_TEST_DIRNAME/../export"
# onnxruntime-node is installed from npm once, here (tests/export/install-ort)
ORT_DIR="${KD_ORT_DIR:-$BATS_TEST_DIRNAME/../../build/onnxruntime}"
FMNIST=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz

# data: a small trained model m.kdm, its rows with logits and inputs,
# rows.csv (kd-cat --inputs), and the same without inputs, ref.csv; on
# Fashion-MNIST's test images when the data set is installed (784 inputs,
# ten named classes), else on blobs
data() {
	if [ -e "$FMNIST" ]; then
		kd-teacher train -q -o m.kdm --hidden 64,32 --epochs 2 --rows 3000 --val 500 fashion-mnist:train
		kd-teacher -m m.kdm --inputs --rows 2000 -o s.kd fashion-mnist:test
	else
		kd-gen blobs --rows 2000 --features 20 --classes 5 --scale 3 > l.csv
		kd-teacher train -q -o m.kdm --hidden 64,32 --epochs 3 l.csv
		kd-teacher -m m.kdm --inputs -o s.kd l.csv
	fi
	kd-cat --inputs s.kd > rows.csv
	kd-cat s.kd > ref.csv
	read -r K D < <(awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) { if ($i ~ /^z/) k++; if ($i ~ /^x/) d++ } print k, d }' rows.csv)
}

# compile_c FILE.c: build the driver against an export named model,
# with the strictest flags the issue names, into ./run-c
compile_c() {
	cp "$EXPORT_DIR/run-c.c" .
	cc -std=c99 -Wall -Wextra -Werror -pedantic -c "$1" -o export.o
	cc -std=c99 -Wall -Wextra -Werror -pedantic -I. -o run-c run-c.c export.o -lm
}

# argmaxes FILE K: per row after the two header lines, the first largest
# of the K values after id and label
argmaxes() {
	awk -F, -v K="$2" 'NR > 2 { b = 3; for (i = 4; i < 3 + K; i++) if ($i + 0 > $b + 0) b = i; print b - 3 }' "$1"
}

# ort: install onnxruntime-node into ORT_DIR unless it is there; skip,
# saying why, only when Node.js is missing or npm cannot install it
ort() {
	local why
	why=$("$EXPORT_DIR/install-ort" "$ORT_DIR" 2>&1) || skip "$(tail -1 <<< "$why")"
}

# onnx_py: skip, saying why, when Debian's python3-onnx is missing
onnx_py() {
	/usr/bin/python3 -c 'import onnx' 2> /dev/null ||
		skip "python3-onnx (Debian) is not installed: the ONNX checker cannot run"
}

@test "kd-export --c: compiles with -std=c99 -pedantic and gives kd-teacher -m's logits and argmax on every row" {
	data
	kd-export --c --name model -o model.c m.kdm
	file_exists model.h
	compile_c model.c
	./run-c < rows.csv > c.csv
	same_records ref.csv c.csv
	./run-c --predict < rows.csv > c.pred
	argmaxes ref.csv "$K" > ref.pred
	cmp ref.pred c.pred
	# the probabilities: softmax of the logits, summing to 1
	./run-c --probs < rows.csv | awk -F, -v K="$K" 'NR > 2 { s = 0; for (i = 3; i < 3 + K; i++) s += $i
		if (s < 0.99999 || s > 1.00001) { print "row " NR ": " s; exit 1 } }'
	# no allocation, nothing but libm
	run grep -E 'malloc|calloc|free\(|#include <(stdio|stdlib)' model.c
	assert_failure 1
	# the names of a model that has them (Fashion-MNIST's), NULL otherwise
	./run-c --names > names
	if [ -e "$FMNIST" ]; then
		assert_equal "$(head -1 names)" "T-shirt/top"
	else
		assert_equal "$(sort -u names)" "(none)"
	fi
}

@test "kd-export --c --int8: a quarter of the weights' bytes, the same answer on 95% of rows or more" {
	data
	kd-export --c --name model -o f.c m.kdm
	kd-export --c --int8 --name model -o model.c m.kdm
	compile_c model.c
	cc -std=c99 -c f.c -o f.o
	# the constant data (weights, scales, biases) of each object file
	f=$(size -A f.o | awk '$1 ~ /^\.rodata/ { s += $2 } END { print s }')
	q=$(size -A export.o | awk '$1 ~ /^\.rodata/ { s += $2 } END { print s }')
	echo "float: $f bytes, int8: $q bytes"
	[ $((q * 7 / 2)) -lt "$f" ]
	./run-c --predict < rows.csv > q.pred
	argmaxes ref.csv "$K" > ref.pred
	same=$(paste -d, ref.pred q.pred | awk -F, '$1 == $2 { n++ } END { print n + 0 }')
	rows=$(wc -l < ref.pred)
	echo "int8 agrees with float on $same of $rows rows"
	[ $((same * 100)) -ge $((rows * 95)) ]
	# the logits move, a little: by 5% of their mean size at most, on average
	./run-c < rows.csv > q.csv
	paste -d '\n' ref.csv q.csv | awk -F, -v K="$K" '
		NR <= 4 { next }
		NR % 2 == 1 { split($0, a, ","); next }
		{ for (i = 3; i < 3 + K; i++) { d = $i - a[i]; sd += d < 0 ? -d : d; sz += a[i] < 0 ? -a[i] : a[i] } }
		END { printf "mean |change| %.4g, mean |logit| %.4g\n", sd / NR, sz / NR; exit !(sd <= 0.05 * sz && sz > 0) }'
}

@test "kd-export --onnx: passes python3-onnx's full check; names and fingerprint in the metadata" {
	onnx_py
	kd-mkmodel --inputs 6 --hidden 5,4 --classes 3 --seed 2 --names 'cat,dog "big",back\slash' -o m.kdm
	kd-export --onnx -o m.onnx m.kdm
	run /usr/bin/python3 "$EXPORT_DIR/check-onnx.py" m.onnx
	assert_success
	assert_line "ops=Gemm,Relu,Gemm,Relu,Gemm,Softmax"
	assert_line "opset=13"
	assert_line 'class_names=["cat","dog \"big\"","back\\slash"]'
	fp=$(kd-teacher -m m.kdm <(printf '1,2,3,4,5,6\n') | kd-cat | head -1 | sed 's/.*model=\([0-9a-f]*\).*/\1/')
	assert_line "kd_model_fingerprint=$fp"
	# a trained model standardises its inputs first
	kd-gen blobs --rows 100 --features 4 --classes 2 > l.csv
	kd-teacher train -q --hidden 3 --epochs 1 -o t.kdm l.csv
	kd-export --onnx -o t.onnx t.kdm
	run /usr/bin/python3 "$EXPORT_DIR/check-onnx.py" t.onnx
	assert_success
	assert_line "ops=Sub,Mul,Gemm,Relu,Gemm,Softmax"
	# a model without hidden layers: one Gemm
	kd-mkmodel --inputs 3 --classes 2 -o l.kdm
	kd-export --onnx -o l.onnx l.kdm
	run /usr/bin/python3 "$EXPORT_DIR/check-onnx.py" l.onnx
	assert_success
	assert_line "ops=Gemm,Softmax"
}

@test "kd-export --onnx: onnxruntime-node gives kd-teacher -m's logits on every row" {
	ort
	data
	kd-export --onnx -o m.onnx m.kdm
	NODE_PATH="$ORT_DIR/node_modules" node "$EXPORT_DIR/run-onnx.js" m.onnx "$K" "$D" < rows.csv > o.csv
	same_records ref.csv o.csv
	argmaxes ref.csv "$K" > ref.pred
	argmaxes o.csv "$K" > o.pred
	cmp ref.pred o.pred
}

@test "kd-export --c: class names of any bytes are escaped; --name and the default name are C identifiers" {
	kd-mkmodel --inputs 4 --hidden 3 --classes 4 --names 'a"b,c\d,*/ e,f??=' -o m.kdm
	kd-export --c --name model -o model.c m.kdm
	compile_c model.c
	run ./run-c --names
	assert_success
	assert_output "$(printf '%s\n' 'a"b' 'c\d' '*/ e' 'f??=')"
	# a file name that is no identifier gives one
	kd-export --c -o '9 lives-v2.c' m.kdm
	file_exists '9 lives-v2.h'
	grep -q 'm9_lives_v2_logits' '9 lives-v2.h'
	# an --name that is not one is refused, and nothing is written
	for bad in '9x' '_x' 'a-b' 'x;system("rm")' ''; do
		run --separate-stderr kd-export --c --name "$bad" -o bad.c m.kdm
		assert_failure 2
		[[ "$stderr" == *"is not a C identifier"* ]]
	done
	file_missing bad.c
	file_missing bad.h
	# a header name #include cannot hold is refused
	run --separate-stderr kd-export --c --name ok -o 'a"b.c' m.kdm
	assert_failure 1
	[[ "$stderr" == *"cannot be named in #include"* ]]
	file_missing 'a"b.c'
	no_temporaries .
}

@test "kd-export: a damaged model is refused by name; a failed write leaves nothing behind" {
	kd-mkmodel --inputs 4 --hidden 3 --classes 2 -o m.kdm
	head -c 100 m.kdm > cut.kdm
	run --separate-stderr kd-export --c -o cut.c cut.kdm
	assert_failure 1
	[[ "$stderr" == "kd-export: 'cut.kdm': "* ]]
	file_missing cut.c
	file_missing cut.h
	run --separate-stderr kd-export --onnx -o cut.onnx cut.kdm
	assert_failure 1
	[[ "$stderr" == "kd-export: 'cut.kdm': "* ]]
	file_missing cut.onnx
	# the header cannot be written (a directory has its name): no .c
	mkdir m2.h
	run --separate-stderr kd-export --c -o m2.c m.kdm
	assert_failure 1
	[[ "$stderr" == *"m2.h"* ]]
	file_missing m2.c
	# a full disk
	run --separate-stderr kd-export --onnx -o /dev/full m.kdm
	assert_failure 1
	[[ "$stderr" == *"/dev/full"* ]]
	run --separate-stderr kd-export --c -o nodir/m.c m.kdm
	assert_failure 1
	[[ "$stderr" == *"nodir/m"* ]]
	# ONNX is binary: never to a terminal
	run --separate-stderr script -qec "$KD_BIN/kd-export --onnx m.kdm" /dev/null
	assert_failure
	no_temporaries .
}

@test "kd-export: usage errors exit 2 with a reason" {
	kd-mkmodel --inputs 4 --classes 2 -o m.kdm
	run --separate-stderr kd-export m.kdm
	assert_failure 2
	[[ "$stderr" == *"give one of --c and --onnx"* ]]
	run --separate-stderr kd-export --c --onnx -o x m.kdm
	assert_failure 2
	run --separate-stderr kd-export --c m.kdm
	assert_failure 2
	[[ "$stderr" == *"-o FILE.c"* ]]
	run --separate-stderr kd-export --onnx --int8 -o x.onnx m.kdm
	assert_failure 2
	run --separate-stderr kd-export --onnx
	assert_failure 2
	run --separate-stderr kd-export --c -o m.kdm m.kdm
	assert_failure 2
	run kd-export --help
	assert_success
	assert_output --partial "Usage: kd-export"
}

@test "the README's C example compiles against an export and prints a named class" {
	kd-mkmodel --inputs 4 --hidden 3 --classes 2 --names no,yes -o student.kdm
	kd-export --c -o student.c student.kdm
	awk '/^```c$/ { on = 1; next } /^```$/ { on = 0 } on' "$BATS_TEST_DIRNAME/../../README.md" > main.c
	grep -q student_predict main.c
	cc -std=c99 -Wall -Wextra -Werror -pedantic -O2 main.c student.c -lm -o main
	run ./main
	assert_success
	assert_output --regexp '^class [01] \((no|yes)\): 0\.[0-9]{3}$'
}
