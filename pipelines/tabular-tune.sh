#!/usr/bin/env bash
# tabular-tune.sh DIR TAG HIDDEN [kd options...]: the validation accuracy of
# one training recipe over the development splits of `make tabular`
# (DIR/NAME-SEED/dev/{train,val}.csv: the training rows of each split, cut
# 80/20 again, so that no choice ever sees a test row; made when missing). Trains
# `kd-teacher train --hidden HIDDEN OPTIONS` on each dev/train.csv, two at
# a time, and prints one line per data set: TAG, the data set, the mean
# and sd of validation accuracy (%) over the seeds, and the mean seconds.
# With STUDENT=T[,ALPHA] it trains distilled students instead: a teacher
# of TEACHER_HIDDEN (default 512,512) with the defaults, its logits on
# dev/train.csv softened at T, then kd-student with OPTIONS.
set -eo pipefail
dir=$1 tag=$2 hidden=$3
shift 3
BIN=${BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}
SETS=${SETS:-iris wine breast_cancer digits fashion-mnist}
SEEDS=${SEEDS:-1 2 3}
# the splits: make tabular's 80/20 of each seed, and its 80% cut 80/20 again
here=$(cd "$(dirname "$0")" && pwd)
for s in $SETS; do for seed in $SEEDS; do
	[ -e "$dir/$s-$seed/test.csv" ] || /usr/bin/python3 "$here/tabular.py" split "$s" "$seed" "$dir/$s-$seed"
	[ -e "$dir/$s-$seed/dev/val.csv" ] ||
		/usr/bin/python3 "$here/tabular.py" subsplit "$dir/$s-$seed/train.csv" "$seed" "$dir/$s-$seed/dev"
done; done
one() { # one NAME SEED: prints "NAME accuracy seconds"
	set -eo pipefail
	local d=$dir/$1-$2/dev m t0 t1 acc
	m=$(mktemp -d)
	t0=$(date +%s.%N)
	if [ -n "${STUDENT:-}" ]; then
		local T=${STUDENT%%,*} a=1
		[ "$T" != "$STUDENT" ] && a=${STUDENT#*,}
		if [ ! -e "$d/teacher.kdm" ]; then
			"$BIN/kd-teacher" train -q --seed "$2" --hidden "${TEACHER_HIDDEN:-512,512}" \
				-o "$d/teacher.kdm" "$d/train.csv"
		fi
		t0=$(date +%s.%N)
		"$BIN/kd-teacher" -m "$d/teacher.kdm" --inputs "$d/train.csv" |
			"$BIN/kd-soften" -T "$T" |
			"$BIN/kd-student" -q --seed "$2" --alpha "$a" --hidden "$hidden" $KDOPTS -o "$m/m.kdm"
	else
		"$BIN/kd-teacher" train -q --seed "$2" --hidden "$hidden" $KDOPTS -o "$m/m.kdm" "$d/train.csv"
	fi
	t1=$(date +%s.%N)
	acc=$("$BIN/kd-eval" --json -m "$m/m.kdm" "$d/val.csv" | jq -r '.accuracy * 100')
	rm -rf "$m"
	echo "$1 $acc $(echo "$t1 - $t0" | bc)"
}
export -f one
KDOPTS="$*" # options are words without spaces
export dir hidden BIN STUDENT TEACHER_HIDDEN KDOPTS
out=$(mktemp)
for s in $SETS; do for seed in $SEEDS; do echo "$s $seed"; done; done |
	parallel --halt now,fail=1 -j "${JOBS:-2}" --colsep ' ' one {1} {2} > "$out"
for s in $SETS; do
	awk -v s="$s" -v tag="$tag" '$1 == s { n++; a += $2; q += $2 * $2; t += $3 }
		END { m = a / n; v = n > 1 ? (q - n * m * m) / (n - 1) : 0; sd = v > 0 ? sqrt(v) : 0;
		      printf "%-28s %-14s %6.2f +- %5.2f  %6.1fs\n", tag, s, m, sd, t / n }' "$out"
done
rm -f "$out"
