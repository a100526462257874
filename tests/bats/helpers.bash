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
