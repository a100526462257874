#!/usr/bin/env bats
# Faults around the tools and hostile values in their inputs: an upstream
# killed mid-stream, a full disk, a closed pipe, unreadable, missing and
# directory inputs, files from another version or with a flipped byte, and
# extreme values. Each must end with a message and a non-zero exit, or work
# correctly; none may crash or leave an output file behind as if complete.
# tests/FAULTS.md lists them with what kd does.

load helpers

# fails_cleanly TOOL: the last `run --separate-stderr` exited 1 with one
# line of TOOL's message on stderr
fails_cleanly() {
	if [ "$status" -ne 1 ]; then
		echo "$1: exit status $status, stderr: $stderr"
		return 1
	fi
	[[ "$stderr" == "$1: "* ]] || { echo "$1: no message: '$stderr'"; return 1; }
	[[ "$stderr" != *$'\n'* ]] || { echo "$1: more than one line: $stderr"; return 1; }
}

# edit_content IN OFFSET BYTES OUT: OUT is stream IN with its decompressed
# content changed at OFFSET to BYTES (printf escapes), compressed again
# with a valid checksum: what a buggy or hostile writer could send
edit_content() {
	zstd -dcq "$1" > content
	printf "$3" | dd of=content bs=1 seek="$2" conv=notrunc status=none
	zstd -qc content > "$4"
}

# small data: 600 rows of 6 features in 3 classes, a teacher, a stream
small() {
	kd-gen blobs --rows 600 --features 6 --classes 3 --seed 4 > d.csv
	kd-teacher train -q -o t.kdm --hidden 8 --epochs 2 --val 60 --threads 1 d.csv
	kd-teacher -m t.kdm --inputs --threads 1 d.csv > t.kd
}

# ---- an upstream killed mid-stream ----

# big: a teacher stream of 20000 rows with inputs (about 1.9 MB), far more
# than the pipe buffers between the stages
big() {
	kd-gen blobs --rows 20000 --features 20 --classes 4 --seed 3 > big.csv
	head -2000 big.csv > train.csv
	kd-teacher train -q -o t.kdm --hidden 8 --epochs 1 --val 0 --threads 1 train.csv
}

# KILLED: kd-teacher -m writing to stdout, killed with SIGKILL once 100 kB
# of its stream went down the pipe; what was already in the pipe goes on
KILLED='sh -c '\''echo $$ > teacher.pid; exec kd-teacher -m t.kdm --inputs --threads 1 big.csv'\'''
KILLED+=' | { dd bs=1000 count=100 iflag=fullblock 2> /dev/null; kill -9 "$(cat teacher.pid)"; cat; }'

@test "upstream killed mid-stream: kd-soften, kd-student and kd-eval fail with a message, -o leaves nothing" {
	big
	run --separate-stderr bash -c "$KILLED | kd-soften -T 2 -o soft.kd"
	fails_cleanly kd-soften
	[[ "$stderr" == "kd-soften: 'stdin': truncated"* ]] || { echo "$stderr"; false; }
	[ ! -e soft.kd ]
	run --separate-stderr bash -c "$KILLED | kd-soften -T 4 | kd-student -q -o s.kdm --hidden 4 --epochs 1 --threads 1"
	[ "$status" -eq 1 ]
	# where the cut lands decides the words: "truncated at record N", "in
	# the trailer", ...; each names stdin and says truncated
	[[ "$stderr" == *"kd-soften: 'stdin': truncated"* ]] || { echo "$stderr"; false; }
	[[ "$stderr" == *"kd-student: 'stdin': "* ]] || { echo "$stderr"; false; }
	[ ! -e s.kdm ]
	run --separate-stderr bash -c "$KILLED | kd-eval -"
	fails_cleanly kd-eval
	[[ "$stderr" == "kd-eval: 'stdin': truncated"* ]] || { echo "$stderr"; false; }
	no_temporaries
}

@test "upstream killed mid-stream: the pipeline fails under pipefail, and so does make" {
	big
	run bash -c "set -o pipefail; $KILLED | kd-soften -T 2 | kd-cat --info - > info.txt"
	[ "$status" -ne 0 ]
	run bash -c "$KILLED | kd-soften -T 2 | kd-cat --info - > info.txt"
	assert_equal "$status" 1
	# a make rule with pipefail, writing through -o: make stops, no target
	{
		printf 'SHELL = /bin/bash\n.SHELLFLAGS = -o pipefail -c\n'
		printf 'soft.kd: big.csv\n\t%s | kd-soften -T 2 -o $@\n' "${KILLED//\$/\$\$}"
		printf 'done.txt: soft.kd\n\tkd-cat --info $< > $@\n'
	} > Makefile
	run make -s done.txt
	[ "$status" -ne 0 ]
	[[ "$output" == *"kd-soften: 'stdin': truncated at record "* ]]
	[ ! -e soft.kd ]
	[ ! -e done.txt ]
	no_temporaries
}

@test "a stream cut short (head -c) fails every reader, and no output is left" {
	small
	kd-teacher -m t.kdm --threads 1 d.csv | kd-soften -T 2 > soft.kd
	size=$(stat -c %s soft.kd)
	head -c $((size / 2)) soft.kd > cut.kd
	head -c $((size / 2)) t.kd > cutx.kd
	run --separate-stderr kd-cat cut.kd
	fails_cleanly kd-cat
	run --separate-stderr kd-average soft.kd cut.kd -o avg.kd
	fails_cleanly kd-average
	[[ "$stderr" == *"'cut.kd': truncated"* ]]
	run --separate-stderr kd-eval cut.kd
	fails_cleanly kd-eval
	run --separate-stderr kd-eval --teacher cut.kd soft.kd
	fails_cleanly kd-eval
	run --separate-stderr kd-student -q -o s.kdm --epochs 1 --targets cut.kd d.csv
	fails_cleanly kd-student
	run --separate-stderr kd-teacher -m t.kdm cutx.kd -o out.kd
	fails_cleanly kd-teacher
	run --separate-stderr kd-teacher train -q -o t2.kdm --epochs 1 cutx.kd
	fails_cleanly kd-teacher
	[ ! -e avg.kd ]
	[ ! -e s.kdm ]
	[ ! -e out.kd ]
	[ ! -e t2.kdm ]
	no_temporaries
}

# ---- full disks ----

@test "disk full (/dev/full): every tool that writes says so and exits 1" {
	small
	for cmd in 'kd-cat t.kd' 'kd-cat --import d.csv' 'kd-cat --info t.kd' \
		'kd-soften -T 2 t.kd' 'kd-average t.kd t.kd' \
		'kd-teacher -m t.kdm --threads 1 d.csv' 'kd-eval t.kd' 'kd-eval --json t.kd' \
		'kd-eval --json -m t.kdm d.csv'; do
		run --separate-stderr bash -c "$cmd > /dev/full"
		[ "$status" -eq 1 ] || { echo "$cmd: status $status"; false; }
		[[ "$stderr" == *"No space left on device"* ]] || { echo "$cmd: $stderr"; false; }
	done
	# model files: /dev/full is not a folder; a folder that does not exist
	run --separate-stderr kd-student -q -o /dev/full/s.kdm --hidden 4 --epochs 1 --threads 1 --targets t.kd
	fails_cleanly kd-student
	assert_equal "$stderr" "kd-student: cannot create a temporary file for '/dev/full/s.kdm': Not a directory"
	run --separate-stderr kd-teacher train -q -o nowhere/t.kdm --hidden 4 --epochs 1 --threads 1 d.csv
	fails_cleanly kd-teacher
	assert_equal "$stderr" "kd-teacher: cannot create a temporary file for 'nowhere/t.kdm': No such file or directory"
	run --separate-stderr kd-soften -T 2 t.kd -o nowhere/s.kd
	fails_cleanly kd-soften
}

@test "-o a device or a FIFO writes into it and never replaces it" {
	small
	# -o /dev/full: the device says it is full, and stays a device
	for cmd in 'kd-soften -T 2 t.kd' 'kd-student -q --hidden 4 --epochs 1 --threads 1 --targets t.kd' \
		'kd-teacher train -q --hidden 4 --epochs 1 --threads 1 d.csv'; do
		run --separate-stderr $cmd -o /dev/full
		[ "$status" -eq 1 ] || { echo "$cmd: status $status"; false; }
		[[ "$stderr" == *"'/dev/full'"*"No space left on device"* ]] || { echo "$cmd: $stderr"; false; }
		[ -c /dev/full ] || { echo "$cmd replaced /dev/full"; false; }
	done
	# -o FIFO: what is read from it is the stream itself; the FIFO stays
	mkfifo f
	cat f > got &
	kd-soften -T 2 t.kd -o f
	wait
	[ -p f ]
	kd-soften -T 2 t.kd | cmp - got
	mkfifo m
	cat m > got.kdm &
	kd-teacher train -q -o m --hidden 4 --epochs 1 --threads 1 d.csv
	wait
	[ -p m ]
	kd-teacher -m got.kdm --threads 1 d.csv > /dev/null
	# -o a directory is refused by name
	mkdir adir
	run --separate-stderr kd-soften -T 2 t.kd -o adir
	fails_cleanly kd-soften
	assert_equal "$stderr" "kd-soften: cannot write 'adir': Is a directory"
}

@test "a file system that fills up: -o leaves no file and no temporary" {
	small
	mkdir small
	# a 64 KiB tmpfs in a mount namespace of our own, gone when it exits
	unshare -rm true 2> /dev/null || skip "no mount namespace here (unshare -rm fails)"
	kd-genstream --rows 20000 --classes 10 --labels > many.kd
	kd-gen blobs --rows 5000 --features 6 --classes 3 --seed 5 > many.csv
	cat > fill.sh <<-'EOF'
	mount -t tmpfs -o size=64k tmpfs small || exit 99
	st=0
	# check STATUS WHAT: WHAT failed, said why, and left nothing in small/
	check() {
		if [ "$1" -ne 1 ] || ! grep -q 'No space left on device' err; then
			echo "$2: status $1: $(cat err)"
			st=1
		fi
		if [ -n "$(ls -A small)" ]; then
			echo "$2 left: $(ls -A small)"
			st=1
			rm -f small/*
		fi
	}
	kd-soften -T 2 many.kd -o small/s.kd 2> err; check $? kd-soften
	kd-cat many.kd | kd-cat --import -o small/c.kd 2> err; check $? kd-cat
	kd-average many.kd many.kd -o small/a.kd 2> err; check $? kd-average
	kd-teacher -m t.kdm --inputs --threads 1 many.csv -o small/t.kd 2> err; check $? kd-teacher
	kd-student -q -o small/s.kdm --hidden 2000 --epochs 1 --threads 1 --targets t.kd 2> err; check $? kd-student
	kd-teacher train -q -o small/t.kdm --hidden 2000 --epochs 1 --threads 1 d.csv 2> err; check $? kd-teacher
	exit $st
	EOF
	run unshare -rm bash fill.sh
	[ "$status" -ne 99 ] || skip "cannot mount a tmpfs here"
	echo "$output"
	assert_equal "$status" 0
}

# ---- closed pipes ----

@test "a closed pipe ends every stream writer quietly and non-zero" {
	small
	kd-genstream --rows 100000 --classes 10 --labels > many.kd
	kd-cat many.kd > many.csv
	# rows enough that the stream cannot all sit in the pipe when head exits
	kd-gen blobs --rows 50000 --features 6 --classes 3 --seed 4 > d50k.csv
	for cmd in 'kd-teacher -m t.kdm --inputs --threads 1 d50k.csv' 'kd-average many.kd many.kd' \
		'kd-cat --import many.csv' 'kd-soften -T 3 many.kd' 'kd-cat many.kd'; do
		run --separate-stderr timeout 60 bash -c "set -o pipefail; $cmd | head -c 100 > /dev/null"
		[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || { echo "$cmd: status $status"; false; }
		[ -z "$stderr" ] || { echo "$cmd: $stderr"; false; }
	done
}

# ---- unreadable, missing, a directory ----

@test "an unreadable file (chmod 000) is refused by name" {
	[ "$(id -u)" -ne 0 ] || skip "running as root, for whom chmod 000 does not stop reading (see the read error test)"
	small
	cp t.kd u.kd && cp t.kdm u.kdm && cp d.csv u.csv
	chmod 000 u.kd u.kdm u.csv
	run --separate-stderr kd-cat u.kd
	fails_cleanly kd-cat
	assert_equal "$stderr" "kd-cat: cannot open 'u.kd': Permission denied"
	run --separate-stderr kd-teacher -m u.kdm d.csv
	assert_equal "$stderr" "kd-teacher: cannot open 'u.kdm': Permission denied"
	run --separate-stderr kd-teacher train -q -o x.kdm u.csv
	assert_equal "$stderr" "kd-teacher: cannot open 'u.csv': Permission denied"
}

@test "a read error (EIO, from /proc/self/mem) is reported" {
	run --separate-stderr kd-cat /proc/self/mem
	fails_cleanly kd-cat
	assert_equal "$stderr" "kd-cat: '/proc/self/mem': read error: Input/output error"
	run --separate-stderr kd-soften -T 2 /proc/self/mem -o x.kd
	assert_equal "$stderr" "kd-soften: '/proc/self/mem': read error: Input/output error"
	run --separate-stderr kd-teacher train -q -o x.kdm /proc/self/mem
	fails_cleanly kd-teacher
	assert_equal "$stderr" "kd-teacher: cannot read '/proc/self/mem': Input/output error"
	run --separate-stderr kd-cat --import /proc/self/mem -o x.kd
	fails_cleanly kd-cat
	[ ! -e x.kd ]
	[ ! -e x.kdm ]
}

@test "a missing file, a path through a file, a directory: every reader names it" {
	small
	touch plain
	mkdir dir
	for bad in missing plain/x dir; do
		for cmd in "kd-cat $bad" "kd-cat --info $bad" "kd-cat --import $bad" "kd-soften -T 2 $bad" \
			"kd-average t.kd $bad" "kd-eval $bad" "kd-eval --teacher $bad t.kd" \
			"kd-student -q -o s.kdm --targets $bad" "kd-student -q -o s.kdm --targets t.kd $bad" \
			"kd-teacher -m $bad d.csv" "kd-teacher -m t.kdm $bad" "kd-teacher train -q -o s.kdm $bad" \
			"kd-eval -m $bad d.csv" "kd-eval -m t.kdm $bad"; do
			run --separate-stderr $cmd
			fails_cleanly "${cmd%% *}" || { echo "in: $cmd"; false; }
			[[ "$stderr" == *"'$bad'"* ]] || { echo "$cmd: $stderr"; false; }
		done
	done
	[ ! -e s.kdm ]
}

# ---- other versions and flipped bytes ----

@test "a stream or model file of another format version is refused by name" {
	small
	edit_content t.kd 4 '\005' v5.kd
	run --separate-stderr kd-cat v5.kd
	fails_cleanly kd-cat
	assert_equal "$stderr" "kd-cat: 'v5.kd': stream format version 5 is not supported (this kd reads versions 1 to 4)"
	cp t.kdm v2.kdm
	printf '\002' | dd of=v2.kdm bs=1 seek=4 conv=notrunc status=none
	run --separate-stderr kd-teacher -m v2.kdm d.csv
	fails_cleanly kd-teacher
	assert_equal "$stderr" "kd-teacher: 'v2.kdm': model format version 2 is not supported (this kd reads version 1)"
	# a stream is not a model, a model is not a stream
	run --separate-stderr kd-teacher -m t.kd d.csv
	assert_equal "$stderr" "kd-teacher: 't.kd': not a kd model file"
	run --separate-stderr kd-cat t.kdm
	assert_equal "$stderr" "kd-cat: 't.kdm': not a kd stream (not zstd-compressed)"
}

# byte_steps: which bytes the byte-changing tests below try: every byte
# in the plain build; under a sanitizer (slower) every other one, the
# even ones under ASan and the odd ones under UBSan, so that the two
# builds together still try every byte
byte_steps() {
	first=0
	step=1
	case "${KD_VARIANT:-}" in
	asan) step=2 ;;
	ubsan) first=1 step=2 ;;
	esac
}

@test "a model file with any byte changed is refused" {
	printf '0,0,0,0\n' > x.csv
	kd-mkmodel --inputs 3 --classes 2 --hidden 2 --names no,yes -o m.kdm
	kd-teacher -m m.kdm x.csv > /dev/null
	size=$(stat -c %s m.kdm)
	byte_steps
	mkdir flips
	# (not $i: bats' run uses it)
	for at in $(kd-flip m.kdm flips "$first" "$step"); do
		run --separate-stderr kd-teacher -m "flips/$at" --threads 1 x.csv
		fails_cleanly kd-teacher || { echo "byte $at of $size"; false; }
	done
	[ "$at" -ge $((size - step)) ]
	if cmp -s "flips/$at" m.kdm; then echo "kd-flip changed nothing"; false; fi
}

@test "a stream with any byte changed is refused, or reads as it was" {
	kd-genstream --rows 6 --classes 3 --labels --inputs 2 > s.kd
	want=$(kd-cat --inputs s.kd)
	size=$(stat -c %s s.kd)
	same=0
	byte_steps
	mkdir flips
	for at in $(kd-flip s.kd flips "$first" "$step"); do
		run --separate-stderr kd-cat --inputs "flips/$at"
		if [ "$status" -eq 0 ]; then
			[ "$output" = "$want" ] || { echo "byte $at: changed data read as valid"; false; }
			same=$((same + 1))
		else
			fails_cleanly kd-cat || { echo "byte $at of $size"; false; }
		fi
	done
	[ "$at" -ge $((size - step)) ]
	if cmp -s "flips/$at" s.kd; then echo "kd-flip changed nothing"; false; fi
	echo "# $same of the $(( (size - first + step - 1) / step )) bytes changed (of $size) left the content as it was" >&3
}

# ---- values ----

@test "NaN, infinities and empty fields in CSV are refused by line and column" {
	for v in nan NaN -inf inf Infinity 1e39 -3.5e38 ''; do
		printf '1,2,0\n3,%s,1\n' "$v" > v.csv
		run --separate-stderr kd-teacher train -q -o m.kdm --epochs 1 v.csv
		fails_cleanly kd-teacher
		[[ "$stderr" == "kd-teacher: 'v.csv':2:2: "* ]] || { echo "$v: $stderr"; false; }
		run --separate-stderr kd-cat --import v.csv -o v.kd
		fails_cleanly kd-cat
		[[ "$stderr" == "kd-cat: 'v.csv':2:2: "* ]] || { echo "$v: $stderr"; false; }
	done
	[ ! -e m.kdm ]
	[ ! -e v.kd ]
}

@test "1e38, denormals and -0 in CSV work: standardised training, softening, scoring" {
	# feature 1 is +-1e38 (std 1e38), feature 2 denormal, feature 3 tiny
	for i in $(seq 0 199); do
		c=$((i % 2))
		printf '%s,%s,%s,%s\n' "$([ $c -eq 0 ] && echo -1e38 || echo 1e38)" 1e-45 "-0" "$c"
	done > ext.csv
	run --separate-stderr kd-teacher train -q -o m.kdm --optimizer sgd --hidden 4 --epochs 5 --val 20 --threads 1 ext.csv
	assert_success
	kd-teacher -m m.kdm --threads 1 ext.csv > z.kd
	run kd-eval --json z.kd
	assert_success
	jq -e '.accuracy == 1' <<< "$output"
	# logits of +-1e38 soften to valid probabilities at any T
	printf '1e38,-1e38,0,1e-45\n' | kd-cat --import > big.kd
	for T in 1e-6 1 8 1e6; do
		kd-soften -T "$T" big.kd | kd-cat > p.csv
		awk -F, 'NR == 3 { s = 0; for (i = 3; i <= NF; i++) { if ($i !~ /^[0-9.e+-]+$/) exit 1; s += $i } exit !(s > 0.999 && s < 1.001) }' p.csv ||
			{ echo "T=$T: $(cat p.csv)"; false; }
	done
}

@test "NaN, infinite logits, labels of -1 and K in a stream are refused by record" {
	kd-genstream --rows 3 --classes 4 --labels > s.kd
	# content: header 64 bytes; record 1 at 64: tag, id (8), label (4), values
	edit_content s.kd 77 '\000\000\300\177' nan.kd
	edit_content s.kd 81 '\000\000\200\177' inf.kd
	edit_content s.kd 73 '\377\377\377\377' minus1.kd
	edit_content s.kd 73 '\004\000\000\000' k.kd
	run --separate-stderr kd-cat nan.kd
	assert_equal "$stderr" "kd-cat: 'nan.kd': record 1: value 1 (nan) is not valid logits"
	run --separate-stderr kd-soften -T 2 inf.kd
	assert_equal "$stderr" "kd-soften: 'inf.kd': record 1: value 2 (inf) is not valid logits"
	run --separate-stderr kd-eval minus1.kd
	assert_equal "$stderr" "kd-eval: 'minus1.kd': record 1: label 4294967295 out of range (0 to 3)"
	run --separate-stderr kd-student -q -o m.kdm --targets k.kd
	assert_equal "$stderr" "kd-student: 'k.kd': record 1: label 4 out of range (0 to 3)"
	fails_cleanly kd-student
	# and in CSV: -1 is no class, K is one more class than the others
	printf '0.2,0.8,-1\n' > m1.csv
	run --separate-stderr kd-cat --import --kind probs --label-col 3 m1.csv
	assert_equal "$stderr" "kd-cat: 'm1.csv':1:3: label '-1' is not a class from 0 to 1"
	printf '0.2,0.8,2\n' > k.csv
	run --separate-stderr kd-cat --import --kind probs --label-col 3 k.csv
	assert_equal "$stderr" "kd-cat: 'k.csv':1:3: label '2' is not a class from 0 to 1"
	printf '1,2,-1\n' > m1.csv
	run --separate-stderr kd-teacher train -q -o m.kdm m1.csv
	assert_equal "$stderr" "kd-teacher: 'm1.csv':1:3: label '-1' is negative"
	[ ! -e m.kdm ]
}

@test "one class (K = 1) works end to end" {
	kd-gen blobs --rows 200 --features 3 --classes 1 --seed 2 > one.csv
	run --separate-stderr kd-teacher train -q -o one.kdm --hidden 4 --epochs 2 --val 20 --threads 1 one.csv
	assert_success
	kd-teacher -m one.kdm --inputs --threads 1 one.csv > one.kd
	kd-cat --info one.kd | grep -qx 'classes: 1'
	kd-soften -T 4 one.kd > soft.kd
	kd-cat soft.kd | sed -n 3p | grep -q '^0,0,1$'
	kd-average soft.kd soft.kd | kd-cat --info - | grep -qx 'records: 200'
	run kd-eval --json soft.kd
	assert_success
	jq -e '.accuracy == 1 and .nll == 0' <<< "$output"
	run --separate-stderr kd-student -q -o s.kdm --hidden 2 --epochs 1 --threads 1 --targets soft.kd
	assert_success
}

@test "K = 100000 classes: soften, average, score, train a student" {
	kd-genstream --rows 30 --classes 100000 --labels --inputs 3 --seed 5 > wide.kd
	kd-soften -T 2 wide.kd > soft.kd
	kd-average soft.kd soft.kd | kd-cat --info - | grep -qx 'classes: 100000'
	run kd-eval --json soft.kd
	assert_success
	jq -e '.classes == 100000 and .rows == 30' <<< "$output"
	run --separate-stderr kd-eval --confusion soft.kd
	fails_cleanly kd-eval
	run --separate-stderr kd-student -q -o s.kdm --hidden 4 --epochs 1 --val 5 --threads 1 --targets soft.kd
	assert_success
	kd-teacher -m s.kdm wide.kd | kd-cat --info - | grep -qx 'classes: 100000'
}

@test "a million-column CSV line works; past the limits it is refused" {
	# two rows of 1,000,000 values and a label
	awk 'BEGIN { for (r = 0; r < 2; r++) { for (i = 0; i < 1000000; i++) printf "%d,", (i + r) % 7; print r } }' > wide.csv
	run --separate-stderr kd-cat --import --label-col 1000001 wide.csv -o wide.kd
	assert_success
	kd-cat --info wide.kd | grep -qx 'classes: 1000000'
	run --separate-stderr kd-teacher train -q -o w.kdm --hidden 2 --epochs 1 --val 0 --threads 1 wide.csv
	assert_success
	# 2^20 + 1 classes is more than a stream holds
	awk 'BEGIN { for (i = 0; i <= 1048576; i++) printf "%s1", (i ? "," : ""); print "" }' > over.csv
	run --separate-stderr kd-cat --import over.csv -o over.kd
	fails_cleanly kd-cat
	[[ "$stderr" == *"number of classes 1048577 out of range"* ]]
	# more than 2^22 fields in a row
	awk 'BEGIN { for (i = 0; i <= 4194304; i++) printf "%s1", (i ? "," : ""); print "" }' > huge.csv
	run --separate-stderr kd-teacher train -q -o h.kdm huge.csv
	fails_cleanly kd-teacher
	assert_equal "$stderr" "kd-teacher: 'huge.csv':1:4194305: more than 4194304 fields"
	[ ! -e over.kd ]
	[ ! -e h.kdm ]
}

@test "class names with control characters or bytes that are not UTF-8 are refused where a stream or model is read" {
	kd-mkmodel --inputs 3 --classes 3 --names ab,cd,ef -o m.kdm
	printf '1,2,3,0\n4,5,6,1\n' > d.csv
	kd-teacher -m m.kdm d.csv > s.kd
	# the names start at byte 64 of the content (lib/STREAM-FORMAT.md)
	edit_content s.kd 65 '\001' ctl.kd
	edit_content s.kd 65 '\377' utf.kd
	for t in kd-cat "kd-soften -T 2" kd-eval; do
		run --separate-stderr $t ctl.kd
		assert_equal "$status" 1
		assert_equal "$stderr" "${t%% *}: 'ctl.kd': bad header: class names hold a control character"
		run --separate-stderr $t utf.kd
		assert_equal "$status" 1
		assert_equal "$stderr" "${t%% *}: 'utf.kd': bad header: class names hold bytes that are not UTF-8"
	done
	# models take their names through the same check (kdm_set_names,
	# which the model reader calls)
	run --separate-stderr kd-mkmodel --inputs 3 --classes 3 --names "$(printf 'a\001'),cd,ef" -o bad.kdm
	assert_failure
	[[ "$stderr" == *"class names hold a control character"* ]] || { echo "$stderr"; false; }
	[ ! -e bad.kdm ]
}

@test "every -o and --checkpoint: an empty name, a directory and a missing folder fail cleanly, and nothing is left" {
	small
	mkdir dir
	for cmd in "kd-teacher train -q --hidden 4 --epochs 1 d.csv -o" "kd-teacher -m t.kdm d.csv -o" \
	           "kd-soften -T 2 t.kd -o" "kd-average t.kd t.kd -o" \
	           "kd-student -q --hidden 4 --epochs 1 --targets t.kd -o" \
	           "kd-student -q --hidden 4 --epochs 1 --targets t.kd -o s.kdm --checkpoint"; do
		tool=${cmd%% *}
		run --separate-stderr $cmd ""
		[ "$status" -eq 1 ] || [ "$status" -eq 2 ] || { echo "$cmd '': status $status"; false; }
		[[ "$stderr" == "$tool: "*"empty file name"* || "$stderr" == "$tool: --checkpoint needs a file name"* ]] ||
			{ echo "$cmd '': $stderr"; false; }
		run --separate-stderr $cmd dir
		assert_equal "$status" 1
		assert_equal "$stderr" "$tool: cannot write 'dir': Is a directory"
		run --separate-stderr $cmd missing/x
		assert_equal "$status" 1
		assert_equal "$stderr" "$tool: cannot create a temporary file for 'missing/x': No such file or directory"
		[ ! -e s.kdm ]
	done
	no_temporaries
}

@test "no output overwrites an input: -o, --checkpoint and --plot naming a file the command reads are refused before any work" {
	small
	cp t.kd u.kd
	ln -s u.kd link.kd
	refused() { # OPT OUT IN CMD...: refused with exit 2, one line, u.kd intact
		local opt=$1 out=$2 in=$3
		shift 3
		run --separate-stderr "$@"
		assert_equal "$status" 2
		assert_equal "$stderr" "${1}: $opt '$out' is also an input ($in): refusing to overwrite it"
		cmp t.kd u.kd
	}
	refused -o u.kd u.kd kd-soften -T 2 -o u.kd u.kd
	refused -o link.kd u.kd kd-soften -T 2 -o link.kd u.kd
	refused -o u.kd 'standard input' kd-soften -T 2 -o u.kd < u.kd
	refused -o u.kd u.kd kd-average -o u.kd t.kd u.kd
	refused -o u.kd u.kd kd-student -q -o u.kd --targets u.kd
	refused --checkpoint u.kd u.kd kd-student -q -o s.kdm --checkpoint u.kd --targets u.kd
	refused --plot u.kd u.kd kd-eval --plot u.kd u.kd
	cp d.csv e.csv
	run --separate-stderr kd-teacher train -q -o e.csv e.csv
	assert_equal "$status" 2
	cmp d.csv e.csv
	run --separate-stderr kd-teacher train -q -o m.kdm --val e.csv --checkpoint e.csv d.csv
	assert_equal "$status" 2
	cmp d.csv e.csv
	cp t.kdm u.kdm
	run --separate-stderr kd-teacher -m u.kdm -o u.kdm d.csv
	assert_equal "$status" 2
	cmp t.kdm u.kdm
	# another file is fine
	kd-soften -T 2 -o v.kd u.kd
}

@test "the class count cannot explode: a stray label, or one in a --val file, is refused by file and line unless --classes says so" {
	small
	{ cat d.csv; echo "1,2,3,4,5,6,1000000"; } > stray.csv
	run --separate-stderr kd-teacher train -q -o x.kdm --hidden 4 --epochs 1 stray.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-teacher: 'stray.csv':601: label 1000000 leaves class 3 with no training row (give --classes 1000001 if such classes are meant)"
	[ ! -e x.kdm ]
	echo "1,2,3,4,5,6,7" > v.csv
	run --separate-stderr kd-teacher train -q -o x.kdm --hidden 4 --epochs 1 --val v.csv d.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-teacher: 'v.csv':1: label 7 leaves class 3 with no training row (give --classes 8 if such classes are meant)"
	# said on purpose, it trains; too few is refused; -m has no use for it
	kd-teacher train -q -o x.kdm --hidden 4 --epochs 1 --classes 8 --val v.csv d.csv
	kd-teacher -m x.kdm d.csv | kd-cat --info | grep -qx 'classes: 8'
	run --separate-stderr kd-teacher train -q -o x.kdm --hidden 4 --classes 2 d.csv
	assert_equal "$status" 2
	[[ "$stderr" == "kd-teacher: --classes 2: 'd.csv' has label 2"* ]] || { echo "$stderr"; false; }
	run --separate-stderr kd-teacher -m t.kdm --classes 3 d.csv
	assert_equal "$status" 2
}

@test "options that do not apply, malformed lists and bad options are refused in one line; binary is not read from a terminal" {
	small
	run --separate-stderr kd-teacher -m t.kdm --epochs 99 --dropout 0.5 --checkpoint ck d.csv
	assert_equal "$status" 2
	assert_equal "$stderr" "kd-teacher: --epochs goes with kd-teacher train, not -m (see kd-teacher --help)"
	[ ! -e ck ]
	# what running a model does take
	kd-teacher -m t.kdm --threads 1 --rows 5 -q d.csv > five.kd
	run --separate-stderr kd-student -q -o s.kdm --hidden 8,,8 --targets t.kd
	assert_equal "$status" 2
	assert_equal "$stderr" "kd-student: --hidden: '8,,8' is not a list of widths like 800,800 (see kd-student --help)"
	run --separate-stderr kd-average -w 1,,2 t.kd t.kd
	assert_equal "$status" 2
	assert_equal "$stderr" "kd-average: -w: '1,,2' is not a list of weights like 2,1,1 (see kd-average --help)"
	for bad in --bogus --bogus=1 -Z; do
		run --separate-stderr kd-cat "$bad" t.kd
		assert_equal "$status" 2
		assert_equal "$stderr" "kd-cat: bad option '${bad%%=*}' (unknown, or missing its value) (see kd-cat --help)"
	done
	run --separate-stderr kd-teacher train -o m.kdm --epochs
	assert_equal "$status" 2
	assert_equal "$stderr" "kd-teacher: bad option '--epochs' (unknown, or missing its value) (see kd-teacher --help)"
	# standard input a terminal: refused, as writing binary to one is
	run script -qec "$KD_BIN/kd-soften -T 2 -o out.kd" /dev/null
	assert_equal "$status" 1
	assert_output --partial "kd-soften: refusing to read a binary stream from a terminal"
	[ ! -e out.kd ]
}

@test "a model, checkpoint, stream or IDX file given as data or as CSV is named as such; kd-average refuses streams that name their classes differently" {
	small
	run --separate-stderr kd-teacher train -q -o x.kdm t.kdm
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-teacher: 't.kdm' is a kd model, not a data set"
	run --separate-stderr kd-eval -m t.kdm t.kdm
	assert_equal "$stderr" "kd-eval: 't.kdm' is a kd model, not a data set"
	kd-student -q -o s.kdm --hidden 4 --epochs 1 --checkpoint ck --targets t.kd
	run --separate-stderr kd-teacher -m t.kdm ck
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-teacher: 'ck' is a kd checkpoint, not a data set"
	# where only CSV will do (kd-cat --import, standard input), each by its magic
	zcat /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz | head -c 1000 > tiny-images-idx3-ubyte
	head -c 100 /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz > tiny-labels-idx1-ubyte.gz
	for f in t.kd t.kdm ck tiny-images-idx3-ubyte tiny-labels-idx1-ubyte.gz; do
		case $f in
		t.kd) what='zstd-compressed (a kd stream?)' ;;
		t.kdm) what='a kd model' ;;
		ck) what='a kd checkpoint' ;;
		tiny-images*) what='an IDX images file' ;;
		*) what='an IDX labels file' ;;
		esac
		run --separate-stderr kd-cat --import -o x.kd "$f"
		assert_equal "$stderr" "kd-cat: '$f' is $what, not CSV text"
		run --separate-stderr kd-teacher -m t.kdm - < "$f"
		assert_equal "$stderr" "kd-teacher: 'stdin' is $what, not CSV text"
	done
	[ ! -e x.kd ]
	kd-mkmodel --inputs 6 --classes 3 --names a,b,c -o n1.kdm
	kd-mkmodel --inputs 6 --classes 3 --names a,b,x -o n2.kdm
	kd-teacher -m n1.kdm d.csv > n1.kd
	kd-teacher -m n2.kdm d.csv > n2.kd
	run --separate-stderr kd-average n2.kd n1.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-average: 'n1.kd' and 'n2.kd' name their classes differently"
	kd-average n1.kd n1.kd | kd-cat --info | grep -qx 'class names: a, b, c'
}

@test "data after the end of a gzip stream that is not another member is an error; members joined are one file" {
	small
	head -300 d.csv | gzip > a.csv.gz
	tail -300 d.csv | gzip > b.csv.gz
	cat a.csv.gz b.csv.gz > ab.csv.gz
	kd-teacher -m t.kdm ab.csv.gz | kd-cat --info | grep -qx 'records: 600'
	{ cat a.csv.gz; printf 'garbage'; } > g.csv.gz
	size=$(stat -c %s a.csv.gz)
	run --separate-stderr kd-teacher -m t.kdm g.csv.gz
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-teacher: 'g.csv.gz': data after the end of the gzip stream (at byte $size), not another gzip member"
}

@test "a gzip CSV cut short is refused naming the line where it ends, by every reader of CSV" {
	kd-gen blobs --rows 3000 --features 6 --classes 3 --seed 4 | gzip > d.csv.gz
	head -c 20000 d.csv.gz > cut.csv.gz
	# the line the cut falls in: the complete lines zcat gets out, plus one
	line=$(( $(zcat cut.csv.gz 2> /dev/null | wc -l) + 1 ))
	for cmd in "kd-teacher train -q --hidden 4 --epochs 1 -o x.kdm" "kd-cat --import -o x.kd"; do
		run --separate-stderr $cmd cut.csv.gz
		assert_equal "$status" 1
		assert_equal "$stderr" "${cmd%% *}: 'cut.csv.gz': truncated in line $line (the gzip data ends early)"
	done
	[ ! -e x.kdm ]
	[ ! -e x.kd ]
}

@test "kd-student pairs targets and DATA rows by id and label: rows in another order are refused, not trained at chance" {
	small
	kd-teacher -m t.kdm d.csv > lab.kd
	# the same rows, another order (a CSV row id is only its position)
	{ tail -300 d.csv; head -300 d.csv; } > turned.csv
	run --separate-stderr kd-student -q --hidden 4 --epochs 1 -o x.kdm --targets lab.kd turned.csv
	assert_equal "$status" 1
	[[ "$stderr" == "kd-student: 'lab.kd': record "*" has label "*", but line "*" of 'turned.csv' has label "*": the rows are not the stream's, or not in its order" ]] ||
		{ echo "$stderr"; false; }
	[ ! -e x.kdm ]
	kd-student -q --hidden 4 --epochs 1 -o x.kdm --targets lab.kd d.csv
}

@test "logits that overflow are blamed on the input's line, by kd-teacher -m and kd-eval -m alike; so is a label the model lacks" {
	kd-mkmodel --inputs 3 --classes 3 --scale 1e6 -o big.kdm
	# file lines from 1, the header and a blank line counted
	printf 'a,b,c,y\n1,2,3,0\n\n1e36,1e36,1e36,1\n' > bigrow.csv
	printf 'a,b,c,y\n1,2,3,0\n\n1,2,3,7\n' > label.csv
	for t in "kd-teacher -m big.kdm -o out.kd" "kd-eval -m big.kdm"; do
		run --separate-stderr $t --header bigrow.csv
		assert_equal "$status" 1
		assert_equal "$stderr" "${t%% *}: 'bigrow.csv':4: model 'big.kdm' gives logit 1 = -inf (the inputs are too large for it)"
		run --separate-stderr $t --header label.csv
		assert_equal "$status" 1
		assert_equal "$stderr" "${t%% *}: 'label.csv':4: label 7, but model 'big.kdm' has 3 classes"
	done
	# IDX and streams have rows, counted from 1
	printf '1,2,3,0\n1,2,3,1\n1,2,3,2\n' > three.csv
	kd-teacher -m big.kdm --inputs three.csv -o in.kd
	kd-cat --inputs in.kd | sed 's/^2,2,\([^,]*,[^,]*,[^,]*\),1,2,3$/2,2,\1,1e36,1e36,1e36/' | kd-cat --import -o inbig.kd
	run --separate-stderr kd-teacher -m big.kdm inbig.kd
	[[ "$stderr" == "kd-teacher: 'inbig.kd': row 3: model 'big.kdm' gives logit 1 = -inf (the inputs are too large for it)" ]] || { echo "$stderr"; false; }
	[ ! -e out.kd ]
}

@test "a stream says what made it: parts of two models or two data sets are refused when joined, and DATA of another data set when paired" {
	small
	kd-teacher train -q -o t2.kdm --hidden 8 --epochs 2 --val 60 --threads 1 --seed 2 d.csv
	kd-teacher -m t.kdm --shard 1/2 d.csv > a1.kd
	kd-teacher -m t2.kdm --shard 2/2 d.csv > b2.kd
	kd-teacher -m t.kdm --shard 2/2 d.csv > a2.kd
	cat a1.kd a2.kd | kd-cat --info - | grep -qx 'records: 600'
	run --separate-stderr kd-cat --info <(cat a1.kd b2.kd)
	assert_equal "$status" 1
	[[ "$stderr" == *": concatenated stream after record 300 differs in the model that made it" ]] || { echo "$stderr"; false; }
	# the same ids and labels, other inputs: another data set
	awk -F, -v OFS=, '{ $1 = $1 + 1; print }' d.csv > o.csv
	kd-teacher -m t.kdm --shard 2/2 o.csv > o2.kd
	run --separate-stderr kd-cat --info <(cat a1.kd o2.kd)
	assert_equal "$status" 1
	[[ "$stderr" == *": concatenated stream after record 300 differs in the data set it was made from" ]] || { echo "$stderr"; false; }
	kd-teacher -m t.kdm d.csv > lab.kd
	kd-teacher -m t.kdm o.csv > o.kd
	run --separate-stderr kd-student -q --hidden 4 --epochs 1 -o x.kdm --targets o.kd d.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-student: 'o.kd' was made from another data set than 'd.csv' (its data fingerprint differs: other inputs)"
	run --separate-stderr kd-average -o x.kd lab.kd o.kd
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-average: 'o.kd' and 'lab.kd' were made from different data sets (their data fingerprints differ)"
	run --separate-stderr kd-eval --teacher o.kd -m t.kdm d.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-eval: 'd.csv' and the teacher 'o.kd' are of different data sets (their data fingerprints differ)"
	[ ! -e x.kdm ]
	[ ! -e x.kd ]
	# the fingerprints go through kd-soften and kd-average; the data set's
	# is that of all its rows, labelled or not
	kd-soften -T 2 lab.kd | kd-cat --info - > soft.info
	kd-cat --info lab.kd > lab.info
	assert_equal "$(grep fingerprint soft.info)" "$(grep fingerprint lab.info)"
	kd-teacher -m t.kdm --no-label d.csv | kd-cat --info - | grep -q "^$(grep 'data fingerprint' lab.info)\$"
	cat a1.kd a2.kd > a12.kd
	kd-average lab.kd a12.kd | kd-cat --info - | grep -q "^$(grep 'data fingerprint' lab.info)\$"
	kd-student -q --hidden 4 --epochs 1 -o x.kdm --targets lab.kd d.csv
}

@test "kd-cat to CSV and back keeps the kind, temperature, class names and model; --kind and -T must agree with it" {
	kd-mkmodel --inputs 3 --classes 3 --names 'say "hi",a b,c;d' -o m.kdm
	printf '1,2,3,0\n4,5,6,1\n7,8,9,2\n' > d.csv
	kd-teacher -m m.kdm d.csv | kd-soften -T 4 > s.kd
	kd-cat s.kd > s.csv
	head -1 s.csv | grep -q '^#kd-stream,kind=probs,temperature=4,model=[0-9a-f]\{16\},names,"say ""hi""","a b","c;d"$'
	kd-cat --import s.csv > r.kd
	kd-cat r.kd | cmp - s.csv
	diff <(kd-cat --info s.kd | grep -v '^stream:\|^rows of\|^data fingerprint') \
		<(kd-cat --info r.kd | grep -v '^stream:')
	kd-cat --import --kind probs -T 4 s.csv | kd-cat | cmp - s.csv
	run --separate-stderr kd-cat --import -T 2 -o x.kd s.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-cat: 's.csv':1: -T 2, but the file is at temperature 4"
	run --separate-stderr kd-cat --import --kind logits -o x.kd s.csv
	assert_equal "$status" 1
	assert_equal "$stderr" "kd-cat: 's.csv':1: the kind given is logits, but the file holds probs"
	# a name too few, a field kd-cat does not write, no column names after it
	sed '1s/,"c;d"$//' s.csv > few.csv
	run --separate-stderr kd-cat --import -o x.kd few.csv
	assert_equal "$stderr" "kd-cat: 'few.csv': the first line names 2 classes, the columns hold 3"
	sed '1s/^#kd-stream,/#kd-stream,colour=red,/' s.csv > odd.csv
	run --separate-stderr kd-cat --import -o x.kd odd.csv
	assert_equal "$stderr" "kd-cat: 'odd.csv':1:2: 'colour=red' is none of kd-cat's first line's fields (kind=logits|probs|logprobs, temperature=T above 0, model=HEX, names)"
	sed '1s/temperature=4/temperature=nan/' s.csv > nan.csv
	run --separate-stderr kd-cat --import -o x.kd nan.csv
	assert_equal "$stderr" "kd-cat: 'nan.csv':1:3: 'temperature=nan' is none of kd-cat's first line's fields (kind=logits|probs|logprobs, temperature=T above 0, model=HEX, names)"
	printf '1s/"a b"/"a\tb"/' > tab.sed
	sed -f tab.sed s.csv > ctl.csv
	run --separate-stderr kd-cat --import -o x.kd ctl.csv
	assert_equal "$stderr" "kd-cat: 'ctl.csv':1: class names hold a control character"
	sed 2d s.csv > nocols.csv
	run --separate-stderr kd-cat --import -o x.kd nocols.csv
	assert_equal "$stderr" "kd-cat: 'nocols.csv':2: after kd-cat's first line, its column names ('id,label,...') are expected"
	[ ! -e x.kd ]
}
