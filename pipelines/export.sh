#!/usr/bin/env bash
# export.sh MODEL DATA WORKDIR: the model exported by kd-export and run
# outside kd on DATA's rows, against kd-teacher -m on the same rows; one
# JSON object on stdout (make export; report.sh reads it):
#   rows                     rows compared
#   c_max_rel                the largest |z_C - z_kd| / max(1, |z_kd|) over
#                            every logit of the float C export
#   c_argmax_same            rows where its argmax is kd's
#   int8_*                   the same for --int8, with its accuracy
#   onnx_*                   the same for the ONNX file in onnxruntime-node
#                            (null where the runtime could not be installed)
#   accuracy_kd              kd-teacher -m's accuracy on the rows, in %
#   c_bytes, int8_bytes      the constant data of the compiled C (.rodata)
#   onnx_bytes, model_bytes  the ONNX file's and the kd model's sizes
# The drivers are the tests' (tests/export/); the C is compiled with
# -std=c99 -Wall -Wextra -Werror -pedantic -O2.
set -euo pipefail
model=$1 data=$2 w=$3
here=$(cd "$(dirname "$0")" && pwd)
drv=$here/../tests/export
ort=${KD_ORT_DIR:-$here/../build/onnxruntime}
BIN=${BIN:-$here/../bin}
mkdir -p "$w"
cp "$drv/run-c.c" "$w/"

"$BIN/kd-teacher" -m "$model" --inputs -o "$w/rows.kd" "$data"
"$BIN/kd-cat" --inputs "$w/rows.kd" > "$w/rows.csv"
"$BIN/kd-cat" "$w/rows.kd" > "$w/ref.csv"
read -r K D < <(awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) { if ($i ~ /^z/) k++; if ($i ~ /^x/) d++ } print k, d }' "$w/rows.csv")

# compare REF OUT: "max_rel argmax_same rows accuracy" of OUT's logits
# against REF's (both kd-cat's CSV), the accuracy against REF's labels
compare() {
	paste -d '\n' "$1" "$2" | awk -F, -v K="$K" '
		NR <= 4 { next }
		NR % 2 == 1 { split($0, a, ","); next }
		{
			ba = 3; bb = 3
			for (i = 3; i < 3 + K; i++) {
				d = $i - a[i]; d = d < 0 ? -d : d
				m = a[i] < 0 ? -a[i] : a[i]; m = m > 1 ? m : 1
				if (d / m > mx) mx = d / m
				if (a[i] + 0 > a[ba] + 0) ba = i
				if ($i + 0 > $bb + 0) bb = i
			}
			n++; same += ba == bb; right += bb - 3 == a[2]
		}
		END { printf "%.3g %d %d %.2f\n", mx, same, n, 100 * right / n }'
}

for q in "" --int8; do
	"$BIN/kd-export" --c $q --name model -o "$w/model$q.c" "$model"
	[ -z "$q" ] || cp "$w/model$q.h" "$w/model.h"
	(cd "$w" &&
		cc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I. -o run-c run-c.c "model$q.c" -lm &&
		./run-c < rows.csv > "c$q.csv" &&
		cc -std=c99 -O2 -c "model$q.c" -o "model$q.o")
done
# the bytes of constant data (weights, scales, biases, names) compiled
rodata() { size -A "$1" | awk '$1 ~ /^\.rodata/ { s += $2 } END { print s + 0 }'; }
read -r c_rel c_same rows _ < <(compare "$w/ref.csv" "$w/c.csv")
read -r q_rel q_same _ q_acc < <(compare "$w/ref.csv" "$w/c--int8.csv")
acc_kd=$(awk -F, 'NR > 2 { b = 3; for (i = 4; i < 3 + '"$K"'; i++) if ($i + 0 > $b + 0) b = i; n++; r += b - 3 == $2 }
	END { printf "%.2f", 100 * r / n }' "$w/ref.csv")

"$BIN/kd-export" --onnx -o "$w/model.onnx" "$model"
/usr/bin/python3 "$drv/check-onnx.py" "$w/model.onnx" > "$w/onnx-check.txt"
o_rel=null o_same=null
if "$drv/install-ort" "$ort"; then
	NODE_PATH="$ort/node_modules" node "$drv/run-onnx.js" "$w/model.onnx" "$K" "$D" < "$w/rows.csv" > "$w/onnx.csv"
	read -r o_rel o_same _ _ < <(compare "$w/ref.csv" "$w/onnx.csv")
fi

fsize() { stat -c %s "$1"; }
jq -n --arg model "$(basename "$model")" --argjson rows "$rows" \
	--argjson c_rel "$c_rel" --argjson c_same "$c_same" \
	--argjson q_rel "$q_rel" --argjson q_same "$q_same" --argjson q_acc "$q_acc" \
	--argjson o_rel "$o_rel" --argjson o_same "$o_same" --argjson acc_kd "$acc_kd" \
	--argjson c_bytes "$(rodata "$w/model.o")" --argjson q_bytes "$(rodata "$w/model--int8.o")" \
	--argjson o_bytes "$(fsize "$w/model.onnx")" --argjson m_bytes "$(fsize "$model")" \
	'{model: $model, rows: $rows, accuracy_kd: $acc_kd, model_bytes: $m_bytes,
	  c_max_rel: $c_rel, c_argmax_same: $c_same, c_bytes: $c_bytes,
	  int8_max_rel: $q_rel, int8_argmax_same: $q_same, int8_accuracy: $q_acc, int8_bytes: $q_bytes,
	  onnx_checker: "passed", onnx_max_rel: $o_rel, onnx_argmax_same: $o_same, onnx_bytes: $o_bytes}'
