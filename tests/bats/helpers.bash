# helpers.bash: shared setup for the bats tests. `make check` sets KD_BIN
bats_require_minimum_version 1.5.0
# (the tools) and KD_TESTBIN (test helpers such as kd-gen, kd-genstream).
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

: "${KD_BIN:?run through make check}"
: "${KD_TESTBIN:?run through make check}"
PATH="$KD_BIN:$KD_TESTBIN:$PATH"
export PATH

setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
}

# no_temporaries DIR: fail when an atomic writer left a temporary behind
no_temporaries() {
	local left
	left=$(find "${1:-.}" -name '*.tmp.*' | head -1)
	[ -z "$left" ] || { echo "temporary left behind: $left"; return 1; }
}

# same_records A.csv B.csv: two kd-cat outputs hold the same rows (ids,
# labels, the header lines but for the model's fingerprint) and values
# equal to float32 rounding (1e-5, relative); sgemm's sums may differ in
# the last bits with the batch around a row, and models that agree so
# differ in their fingerprints
same_records() {
	[ "$(wc -l < "$1")" -eq "$(wc -l < "$2")" ] || { echo "$1 and $2 differ in length"; return 1; }
	paste -d '\n' "$1" "$2" | awk -F, '
		NR % 2 == 1 { n = split($0, a, ","); line = $0; next }
		NR == 2 { sub(/,model=[0-9a-f]*/, "", line); n = split(line, a, ","); sub(/,model=[0-9a-f]*/, "") }
		{
			if (NF != n) { print "line " NR / 2 ": field counts differ"; bad = 1; exit }
			if (NR == 2 && $0 != line) { print "headers differ"; bad = 1; exit }
			if (NR > 2 && ($1 != a[1] || $2 != a[2])) { print "line " NR / 2 ": id or label differ"; bad = 1; exit }
			for (i = 3; NR > 2 && i <= NF; i++) {
				d = $i - a[i]; if (d < 0) d = -d
				m = a[i] < 0 ? -a[i] : a[i]
				if (d > 1e-5 * (m > 1 ? m : 1)) { print "line " NR / 2 ", field " i ": " a[i] " and " $i; bad = 1; exit }
			}
		}
		END { exit bad }'
}

# file_exists PATH...: fail, naming it, when a path is missing
file_exists() {
	local p
	for p in "$@"; do
		[ -e "$p" ] || { echo "missing: $p"; return 1; }
	done
}

# file_missing PATH...: fail, naming it, when a path exists (a failed
# command must leave nothing behind)
file_missing() {
	local p
	for p in "$@"; do
		[ ! -e "$p" ] || { echo "left behind: $p"; return 1; }
	done
}
