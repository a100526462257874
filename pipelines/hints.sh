#!/bin/bash
# hints.sh W RUN...: make hints' results as one JSON array on stdout.
#
# Each RUN is a student under W (seeds/kd-SEED, hints/h-LAYER-WEIGHT-SEED,
# hints/stage-SEED, hints/deep-SEED, hints/deephint-SEED) with its test
# stream RUN.test.kd and its training log RUN.kdm.log: kd-eval's scores
# against the teacher (W/teacher.test.kd), and from the log the validation
# error of the epoch kept (report.sh val-error) and the seconds of
# training (NTRAIN rows an epoch over each epoch's samples/s; the two
# stages' together). Its options come from RUN.flags. Last, one object per
# features stream (W/hints/fL.kd): its bytes, units and records.
# EVAL is kd-eval, BIN the folder of kd-cat.
set -eo pipefail
W=$1
shift
: "${EVAL:?}" "${NTRAIN:?}" "${BIN:?}"

# seconds LOG...: the seconds of training in kd's progress LOGs: NTRAIN
# rows over each epoch's samples/s
seconds() {
	awk -v n="$NTRAIN" '/ epoch [0-9]+\/[0-9]+ / { for (i = 2; i <= NF; i++) if ($i == "samples/s") s += n / $(i - 1) }
		END { printf "%.1f\n", s }' "$@"
}

# opt NAME FLAGS: the value of option NAME in the flags file, or null
opt() {
	local v
	v=$(grep -o -- "$1 [^ ]*" "$2" | tail -1 | cut -d' ' -f2)
	echo "${v:-null}"
}

{
	for run in "$@"; do
		name=${run##*/}
		case $name in
		kd-*) kind=distilled; seed=${name#kd-} ;;
		h-*) kind=hint; seed=${name##*-} ;;
		stage-*) kind=two-stage; seed=${name#stage-} ;;
		deep-*) kind=deep; seed=${name#deep-} ;;
		deephint-*) kind=deep-hint; seed=${name#deephint-} ;;
		*) echo "hints.sh: unknown run '$run'" >&2; exit 2 ;;
		esac
		flags=$W/$run.flags logs=("$W/$run.kdm.log")
		# seed 1's distilled student is the demo's
		if [ "$run" = seeds/kd-1 ] && [ ! -e "$W/$run.kdm.log" ]; then
			flags=$W/student-kd.flags logs=("$W/student-kd.kdm.log")
		fi
		if [ "$kind" = two-stage ]; then
			flags=$W/hints/stage1-$seed.flags
			logs=("$W/hints/stage1-$seed.kdm.log" "$W/$run.kdm.log")
		fi
		# the epoch kept by the last stage (a stage on the hint alone
		# keeps its last epoch, and has no classifier to score)
		val=$(bash "$(dirname "$0")/report.sh" val-error "${logs[-1]}")
		secs=$(seconds "${logs[@]}")
		"$EVAL" --json --teacher "$W/teacher.test.kd" --name "$name" "$W/$run.test.kd" |
			jq -c --arg kind "$kind" --argjson seed "$seed" --argjson val "$val" \
			   --argjson secs "$secs" --argjson layer "$(opt --hint-layer "$flags")" \
			   --argjson weight "$(opt --hint-weight "$flags")" --arg hidden "$(opt --hidden "$flags")" \
			   '. + {kind: $kind, seed: $seed, val_error: $val, seconds: $secs, layer: $layer,
			         weight: $weight, hidden: $hidden}'
	done
	for f in "$W"/hints/f*.kd; do
		info=$("$BIN/kd-cat" --info "$f")
		jq -n -c --arg f "${f##*/}" --argjson bytes "$(stat -c %s "$f")" \
		   --argjson units "$(sed -n 's/^units: //p' <<< "$info")" \
		   --argjson records "$(sed -n 's/^records: //p' <<< "$info")" \
		   '{stream: $f, bytes: $bytes, units: $units, records: $records}'
	done
} | jq -s .
