#!/usr/bin/env bats
# tests/lint-bats, which make check runs before the bats tests: it finds
# the checks that set -e ignores, and lets conditions be.

load helpers

@test "lint-bats names a bare '! cmd' and a '[ a ] && [ b ]' statement, and passes conditions" {
	printf '@test "x" {\n\t! false\n\t[ 1 ] && [ 2 ]\n\tif [ 1 ] && [ 2 ]; then :; fi\n\t[ 1 ] && [ 2 ] || false\n\trun ! false\n}\n' > bad.bats
	run bash "$BATS_TEST_DIRNAME/../lint-bats" bad.bats
	assert_equal "$status" 1
	assert_line "not ok 1 - no '! cmd' statement in the bats tests (set -e ignores it: use run !)"
	assert_line "# 2:	! false"
	assert_line "# 3:	[ 1 ] && [ 2 ]"
	refute_line --partial "# 4:"
	refute_line --partial "# 5:"
	refute_line --partial "# 6:"
	printf '@test "y" {\n\trun ! false\n\t[ 1 ]\n}\n' > good.bats
	run bash "$BATS_TEST_DIRNAME/../lint-bats" good.bats
	assert_success
}
