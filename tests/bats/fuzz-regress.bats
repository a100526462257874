#!/usr/bin/env bats
# The inputs the fuzzers found (tests/fuzz/regress/TARGET/), replayed in
# every build: through the fuzz target itself (replay-TARGET, no libFuzzer),
# and as files given to the tools, which must stop with a message (exit 1)
# or succeed, and never crash. The format of each input is the target's
# (see the comment at the top of tests/fuzz/fuzz_TARGET.c).

load helpers

REGRESS=$BATS_TEST_DIRNAME/../fuzz/regress

# clean_exit: the last `run` ended with 0, or 1 and a message in the tool's
# style, and no sanitizer or crash report
clean_exit() {
	local tool=$1
	if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
		echo "$tool: exit status $status"
		echo "$output"
		return 1
	fi
	if [[ "$output" == *Sanitizer* || "$output" == *"runtime error"* ]]; then
		echo "$output"
		return 1
	fi
	if [ "$status" -eq 1 ] && [[ "$output" != *"$tool: "* ]]; then
		echo "$tool failed without a message: $output"
		return 1
	fi
}

# inputs TARGET: the kept inputs of one target, one per line
inputs() {
	[ -d "$REGRESS/$1" ] || return 0
	find "$REGRESS/$1" -type f | sort
}

# byte FILE N: the value of byte N (from 0) of FILE
byte() {
	od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' '
}

@test "the fuzz targets replay every kept input" {
	for t in kds model csv idx; do
		[ -d "$REGRESS/$t" ] || continue
		run "replay-$t" "$REGRESS/$t"
		[ "$status" -eq 0 ] || { echo "replay-$t: status $status"; echo "$output"; false; }
	done
}

@test "kept streams: the stream tools refuse them or read them, cleanly" {
	while read -r f; do
		[ -n "$f" ] || continue
		echo "# $f"
		mode=$(byte "$f" 0)
		if [ $((mode & 1)) -eq 1 ]; then
			tail -c +3 "$f" | zstd -q -c > s.kd
		else
			tail -c +3 "$f" > s.kd
		fi
		run kd-cat s.kd
		clean_exit kd-cat
		run bash -c 'kd-soften -T 3 s.kd | kd-cat --info -'
		clean_exit kd-soften
		run kd-eval s.kd
		clean_exit kd-eval
		run kd-teacher train -q -o m.kdm --hidden 2 --epochs 1 --val 0 s.kd
		clean_exit kd-teacher
	done <<< "$(inputs kds)"
}

@test "kept model files: kd-teacher -m refuses them or runs them, cleanly" {
	printf '0,0\n' > x.csv
	while read -r f; do
		[ -n "$f" ] || continue
		echo "# $f"
		tail -c +2 "$f" > m.kdm
		if [ $(($(byte "$f" 0) & 1)) -eq 1 ] && [ "$(stat -c %s m.kdm)" -ge 4 ]; then
			# the target fixes the CRC-32: do as it does (gzip's trailer
			# holds the same CRC-32 of its content)
			n=$(($(stat -c %s m.kdm) - 4))
			head -c "$n" m.kdm > body
			{ cat body; gzip -c < body | tail -c 8 | head -c 4; } > m.kdm
		fi
		run kd-teacher -m m.kdm x.csv
		clean_exit kd-teacher
		run kd-eval -m m.kdm x.csv
		clean_exit kd-eval
	done <<< "$(inputs model)"
}

@test "kept CSV files: kd-cat --import and kd-teacher train refuse or read them, cleanly" {
	while read -r f; do
		[ -n "$f" ] || continue
		echo "# $f"
		tail -c +2 "$f" > d.csv
		run kd-cat --import d.csv -o s.kd
		clean_exit kd-cat
		run kd-cat --import --kind probs --label-col 1 --header d.csv -o s.kd
		clean_exit kd-cat
		run kd-teacher train -q -o m.kdm --hidden 2 --epochs 1 --val 0 d.csv
		clean_exit kd-teacher
		run kd-teacher train -q -o m.kdm --hidden 2 --epochs 1 --val 0 --header --label-col 1 d.csv
		clean_exit kd-teacher
	done <<< "$(inputs csv)"
}

@test "kept IDX files: kd-teacher train refuses or reads them, cleanly" {
	while read -r f; do
		[ -n "$f" ] || continue
		echo "# $f"
		rm -rf idx && mkdir idx
		size=$(stat -c %s "$f")
		L=$(( $(byte "$f" 1) + 256 * $(byte "$f" 2) ))
		[ $(($(byte "$f" 0) & 1)) -eq 1 ] || L=0
		[ "$L" -le $((size - 3)) ] || L=$((size - 3))
		tail -c +4 "$f" | head -c $((size - 3 - L)) > idx/x-images-idx3-ubyte
		[ "$L" -eq 0 ] || tail -c "$L" "$f" > idx/x-labels-idx1-ubyte
		run kd-teacher train -q -o m.kdm --hidden 2 --epochs 1 --val 0 idx/x-images-idx3-ubyte
		clean_exit kd-teacher
		run kd-cat --import idx/x-images-idx3-ubyte -o s.kd
		clean_exit kd-cat
	done <<< "$(inputs idx)"
}
