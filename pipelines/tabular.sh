#!/usr/bin/env bash
# tabular.sh WORK OUT.json: kd's defaults against scikit-learn's
# MLPClassifier on data kd was not tuned on (make tabular).
#
# For each data set of SETS and seed of SEEDS: an 80/20 split (tabular.py
# split), then, on the 80%, with no option but --hidden:
#   kd-hard     kd-teacher train --hidden STUDENT
#   kd-teacher  kd-teacher train --hidden TEACHER
#   kd-distil   kd-teacher -m teacher --inputs | kd-soften -T T
#               | kd-student --hidden STUDENT
#               (T=auto, the README's advice: 3 for two or three classes,
#               8 for more)
#   sk-student, sk-teacher  MLPClassifier(hidden_layer_sizes=...) with its
#               defaults, after a StandardScaler (tabular.py sklearn)
# each scored on the 20% by kd-eval (or scikit-learn), and timed: kd's as
# the whole command (reading the CSV included), the distilled student's as
# its whole pipe (the teacher's run over the rows included), scikit-learn's
# as its fit alone. One job at a time, each with the machine's cores, so
# that the times compare. Writes one JSON array of {set, seed, model,
# accuracy (%), seconds} to OUT.json (atomically).
set -eo pipefail
work=${1:?usage: tabular.sh WORK OUT.json}
out=${2:?usage: tabular.sh WORK OUT.json}
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$here/../bin}
PY=${PY:-/usr/bin/python3}
SETS=${SETS:-iris wine breast_cancer digits fashion-mnist}
SEEDS=${SEEDS:-1 2 3 4 5}
TEACHER=${TEACHER:-512,512}
STUDENT=${STUDENT:-64,64}
T=${T:-auto}
# t_for TRAIN.csv: T, or the README's advice for the rows' class count
# (the label is the last column)
t_for() {
	[ "$T" != auto ] && { echo "$T"; return; }
	local k
	k=$(awk -F, '{ print $NF }' "$1" | sort -u | wc -l)
	if [ "$k" -le 3 ]; then echo 3; else echo 8; fi
}

now() { date +%s.%N; }
# row SET SEED MODEL ACCURACY SECONDS: one JSON object
row() {
	jq -cn --arg set "$1" --argjson seed "$2" --arg model "$3" \
		--argjson acc "$4" --argjson s "$5" --argjson T "$t" \
		'{set: $set, seed: $seed, model: $model, accuracy: $acc, seconds: $s, T: $T}'
}
# kd_acc MODEL TEST: the model's test accuracy in %
kd_acc() { "$BIN/kd-eval" --json -m "$1" "$2" | jq '.accuracy * 100'; }

mkdir -p "$work"
rows=$work/rows.jsonl
: > "$rows"
for set in $SETS; do
	for seed in $SEEDS; do
		d=$work/$set-$seed
		[ -e "$d/test.csv" ] || "$PY" "$here/tabular.py" split "$set" "$seed" "$d"
		t=$(t_for "$d/train.csv")
		echo "tabular: $set, seed $seed" >&2
		t0=$(now)
		"$BIN/kd-teacher" train -q --hidden "$STUDENT" --seed "$seed" -o "$d/hard.kdm" "$d/train.csv"
		t1=$(now)
		row "$set" "$seed" kd-hard "$(kd_acc "$d/hard.kdm" "$d/test.csv")" "$(echo "$t1 - $t0" | bc)" >> "$rows"
		t0=$(now)
		"$BIN/kd-teacher" train -q --hidden "$TEACHER" --seed "$seed" -o "$d/teacher.kdm" "$d/train.csv"
		t1=$(now)
		row "$set" "$seed" kd-teacher "$(kd_acc "$d/teacher.kdm" "$d/test.csv")" "$(echo "$t1 - $t0" | bc)" >> "$rows"
		t0=$(now)
		"$BIN/kd-teacher" -m "$d/teacher.kdm" --inputs "$d/train.csv" | "$BIN/kd-soften" -T "$t" |
			"$BIN/kd-student" -q --hidden "$STUDENT" --seed "$seed" -o "$d/distil.kdm"
		t1=$(now)
		row "$set" "$seed" kd-distil "$(kd_acc "$d/distil.kdm" "$d/test.csv")" "$(echo "$t1 - $t0" | bc)" >> "$rows"
		for who in student:"$STUDENT" teacher:"$TEACHER"; do
			"$PY" "$here/tabular.py" sklearn "$d/train.csv" "$d/test.csv" "${who#*:}" "$seed" |
				jq -c --arg set "$set" --argjson seed "$seed" --arg model "sk-${who%%:*}" --argjson T "$t" \
					'{set: $set, seed: $seed, model: $model, accuracy: .accuracy, seconds: .seconds, T: $T}' >> "$rows"
		done
	done
done
jq -s . "$rows" > "$out.tmp"
mv "$out.tmp" "$out"
