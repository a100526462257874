#!/usr/bin/env bats
# The ensemble's teachers as a Slurm job array (pipelines/slurm/teachers.sbatch,
# make -C pipelines ensemble-slurm), run against a real single-node Slurm
# that setup_file starts on localhost from Debian's packages (munge,
# slurmctld, slurmd, slurm-client): its own munged, configuration, ports,
# state and logs in a temporary directory, stopped and removed by
# teardown_file. Nothing is mocked. When Slurm cannot start here (not root,
# a package missing, a daemon that fails), every test is skipped and the
# skip message says what failed; KD_SLURM_REQUIRED=1 turns that into a
# failure.

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# start_daemon NAME DIR COMMAND...: start a Slurm daemon that writes its
# pid to DIR/run/NAME.pid and logs to DIR/log/NAME.log; wait for the pid
# file and record it in DIR/pids/NAME (what teardown stops)
start_daemon() {
	local name=$1 dir=$2 i
	shift 2
	"$@" > /dev/null 2>> "$dir/log/$name.log" 3>&- ||
		{ cannot_start "$name did not start" "$dir/log/$name.log"; return 1; }
	for i in $(seq 50); do
		[ -s "$dir/run/$name.pid" ] && break
		sleep 0.1
	done
	[ -s "$dir/run/$name.pid" ] || { cannot_start "$name wrote no pid file" "$dir/log/$name.log"; return 1; }
	cp "$dir/run/$name.pid" "$dir/pids/$name"
}

# cannot_start MESSAGE [LOG]: Slurm cannot run here: say why (with the
# end of the daemon's LOG) in SLURM_UNAVAILABLE, which makes setup() skip
# every test (bats 1.8 cannot skip from setup_file); return 1
cannot_start() {
	SLURM_UNAVAILABLE="Slurm cannot start on this machine: $1"
	if [ -n "${2:-}" ] && [ -s "$2" ]; then
		SLURM_UNAVAILABLE="$SLURM_UNAVAILABLE; the end of $(basename "$2"): $(tail -n 4 "$2" | tr '\n' '|')"
	fi
	export SLURM_UNAVAILABLE
	return 1
}

# free_port: a TCP port nothing listens on at 127.0.0.1 (ports of 20000 and
# up, so that our daemons meet neither a site's Slurm nor another test run)
free_port() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 30000))
		(exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null && continue
		(exec 3<> "/dev/tcp/127.0.0.1/$((p + 1))") 2> /dev/null && continue
		echo "$p"
		return 0
	done
	return 1
}

# daemon_pids: the pids setup_file recorded in pids/NAME, one per daemon it
# started, of those still running under that name (a pid the system has
# since given to another program is left alone)
daemon_pids() {
	local f pid
	for f in "$SLURM_DIR"/pids/*; do
		[ -s "$f" ] || continue
		pid=$(cat "$f")
		[ "$(cat "/proc/$pid/comm" 2> /dev/null)" = "$(basename "$f")" ] && echo "$pid"
	done
	return 0
}

setup_file() {
	# the Slurm wiring (sbatch, the job array, make) once, in the plain
	# build: its tools are the ones every other suite runs under the
	# sanitizers, and its daemons take most of a minute a run
	[ -z "${KD_VARIANT:-}" ] || { SLURM_UNAVAILABLE="run in the plain build only"; export SLURM_UNAVAILABLE; return 0; }
	start_slurm && return 0
	# KD_SLURM_REQUIRED=1: where Slurm must run (CI with the packages
	# installed, as root), not starting is a failure, not a skip
	if [ "${KD_SLURM_REQUIRED:-0}" = 1 ]; then
		echo "$SLURM_UNAVAILABLE" >&2
		return 1
	fi
	return 0
}

# start_slurm: munged, slurmctld and slurmd of our own; returns 1 (after
# cannot_start) at the first thing that fails
start_slurm() {
	local p d node cpus port i
	[ "$(id -u)" -eq 0 ] || { cannot_start "the daemons need root (running as uid $(id -u))"; return 1; }
	for p in munged mungekey munge unmunge slurmctld slurmd sbatch sinfo; do
		command -v "$p" > /dev/null ||
			{ cannot_start "'$p' is not on PATH (Debian packages munge slurmctld slurmd slurm-client; the daemons are in /usr/sbin)"; return 1; }
	done
	# a Slurm job or site settings in the environment must not steer ours
	for v in $(compgen -e | grep -E '^(SLURM|SBATCH|SALLOC|SRUN)_'); do
		unset "$v"
	done

	# a short path: the munge socket's must fit in sun_path
	SLURM_DIR=$(mktemp -d /tmp/kd-slurm.XXXXXX)
	export SLURM_DIR
	chmod 755 "$SLURM_DIR"
	mkdir -m 700 "$SLURM_DIR/key" "$SLURM_DIR/state" "$SLURM_DIR/spool" "$SLURM_DIR/pids"
	mkdir -m 755 "$SLURM_DIR/run" "$SLURM_DIR/log"
	d=$SLURM_DIR

	# munge: a key and a socket of our own, not the system's
	mungekey -c -k "$d/key/munge.key" 2> "$d/log/mungekey.log" ||
		{ cannot_start "mungekey could not create a key" "$d/log/mungekey.log"; return 1; }
	munged --socket="$d/run/munge.sock" --key-file="$d/key/munge.key" \
		--pid-file="$d/run/munged.pid" --log-file="$d/log/munged.log" \
		--seed-file="$d/key/munged.seed" > /dev/null 2>> "$d/log/munged.log" 3>&- ||
		{ cannot_start "munged did not start" "$d/log/munged.log"; return 1; }
	cp "$d/run/munged.pid" "$d/pids/munged"
	munge -S "$d/run/munge.sock" -n < /dev/null | unmunge -S "$d/run/munge.sock" > /dev/null 2>&1 ||
		{ cannot_start "munged started but a credential does not decode" "$d/log/munged.log"; return 1; }

	port=$(free_port) || { cannot_start "no free TCP port pair found on 127.0.0.1"; return 1; }
	node=kdnode
	cpus=$(nproc)
	cat > "$d/slurm.conf" <<-EOF
		ClusterName=kdtest
		SlurmctldHost=localhost
		SlurmctldPort=$port
		SlurmdPort=$((port + 1))
		AuthType=auth/munge
		CredType=cred/munge
		AuthInfo=socket=$d/run/munge.sock
		SlurmUser=root
		SlurmdUser=root
		StateSaveLocation=$d/state
		SlurmdSpoolDir=$d/spool
		SlurmctldPidFile=$d/run/slurmctld.pid
		SlurmdPidFile=$d/run/slurmd.pid
		SlurmctldLogFile=$d/log/slurmctld.log
		SlurmdLogFile=$d/log/slurmd.log
		SchedulerType=sched/backfill
		SelectType=select/cons_tres
		SelectTypeParameters=CR_Core
		ProctrackType=proctrack/linuxproc
		TaskPlugin=task/none
		JobAcctGatherType=jobacct_gather/none
		AccountingStorageType=accounting_storage/none
		JobCompType=jobcomp/none
		MpiDefault=none
		ReturnToService=2
		NodeName=$node NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=256 State=UNKNOWN
		PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
	EOF
	export SLURM_CONF=$d/slurm.conf

	start_daemon slurmctld "$d" slurmctld -c || return 1
	start_daemon slurmd "$d" slurmd -N "$node" || return 1

	# the node registers and turns idle
	for i in $(seq 60); do
		[ "$(sinfo -h -N -n "$node" -o %t 2> /dev/null)" = idle ] && return 0
		sleep 0.5
	done
	cannot_start "node $node is not idle after 30 s (sinfo: $(sinfo -h -N -o '%N %t %E' 2>&1 | head -1))" "$d/log/slurmd.log"
}

teardown_file() {
	[ -n "${SLURM_DIR:-}" ] && [ -d "$SLURM_DIR" ] || return 0
	local pids pid i
	pids=$(daemon_pids)
	for pid in $pids; do
		kill "$pid" 2> /dev/null || true
	done
	# wait for them to go (slurmd, slurmctld and munged stop on SIGTERM)
	for i in $(seq 100); do
		local alive=
		for pid in $pids; do
			kill -0 "$pid" 2> /dev/null && alive=1
		done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	for pid in $pids; do
		if kill -0 "$pid" 2> /dev/null; then
			echo "teardown_file: $pid did not stop on SIGTERM: SIGKILL" >&2
			kill -KILL "$pid" 2> /dev/null || true
		fi
	done
	rm -rf "$SLURM_DIR"
	return 0
}

# tiny: the pipelines' make on tiny generated data, as in pipeline.bats
tiny() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$REPO/pipelines" BIN="$KD_BIN" TRAIN="$PWD/train.csv" TEST="$PWD/test.csv" \
		W="$PWD/work" R="$PWD/results" NVAL=300 T_HIDDEN=16,16 S_HIDDEN=8,8 \
		JITTER=0 FLIP= T_EPOCHS=2 S_EPOCHS=2 THREADS=1 ENSEMBLE="1 2 3" T=4 "$@"
}

# teacher_opts [HIDDEN]: the options tiny gives kd-teacher train for the
# ensemble's teachers (T_HIDDEN=HIDDEN, default 16,16)
teacher_opts() {
	echo --hidden "${1:-16,16}" --input-dropout 0.1 --dropout 0.2 --max-norm 3.5 --jitter 0 \
		--epochs 2 --lr 0.05 --lr-end 0.0005 --schedule cosine --optimizer sgd --momentum 0.9 --select error --val 300 --threads 1
}

setup() {
	[ -z "${SLURM_UNAVAILABLE:-}" ] || skip "$SLURM_UNAVAILABLE"
	cd "$BATS_TEST_TMPDIR" || exit 1
	kd-gen blobs --rows 1500 --features 6 --classes 3 --seed 8 > all.csv
	head -1200 all.csv > train.csv
	tail -300 all.csv > test.csv
}

@test "make ensemble-slurm: a job array on a real Slurm trains the teachers make ensemble would, byte for byte" {
	run tiny ensemble-slurm
	assert_success
	assert_output --partial 'sbatch --wait --array=1,2,3 --cpus-per-task=1'
	assert_output --regexp 'Submitted batch job [0-9]+'
	for s in 1 2 3; do
		[ -s "work/ens/t$s.kdm" ] || { echo "no work/ens/t$s.kdm"; false; }
		# it ran as a Slurm task, on our node
		grep -Eq "^teachers.sbatch: job [0-9]+ task $s on " "work/ens/t$s.slurm.log"
		grep -q "^teachers.sbatch: task $s: wrote $PWD/work/ens/t$s.kdm\$" "work/ens/t$s.slurm.log"
		kd-teacher train -q -o "local$s.kdm" $(teacher_opts) --seed "$s" "$PWD/train.csv"
		cmp "work/ens/t$s.kdm" "local$s.kdm"
	done
	# different seeds, different models
	run ! cmp -s work/ens/t1.kdm work/ens/t2.kdm
	no_temporaries work
	# the array's models are up to date for make: nothing is resubmitted,
	# and make ensemble goes on from them without training a teacher
	run tiny ensemble-slurm
	assert_success
	assert_output --partial 'the teachers 1 2 3 are up to date'
	refute_output --partial 'sbatch --wait'
	run tiny ensemble
	assert_success
	refute_output --partial 'kd-teacher train'
	run jq -r 'map(.model) | join(",")' results/ensemble.json
	assert_output 'teacher-seed1,teacher-seed2,teacher-seed3,ensemble-arithmetic,ensemble-geometric,student-from-ensemble'
	# a changed option resubmits the teachers it changes
	run tiny ensemble-slurm T_HIDDEN=12,12 ENSEMBLE="1 2"
	assert_success
	assert_output --partial 'sbatch --wait --array=1,2 '
	kd-teacher train -q -o local1h12.kdm $(teacher_opts 12,12) --seed 1 "$PWD/train.csv"
	cmp work/ens/t1.kdm local1h12.kdm
	run ! cmp -s local1h12.kdm local1.kdm
	cmp work/ens/t3.kdm local3.kdm
}

@test "a failing task fails sbatch --wait and make ensemble-slurm, with the task's error, and leaves no model" {
	run tiny ensemble-slurm TRAIN="$PWD/missing.csv"
	assert_failure
	assert_output --partial 'ensemble-slurm: teacher 1 failed; the end of'
	assert_output --partial 'missing.csv'
	assert_output --partial 'ensemble-slurm: the job array failed (sbatch exited with status'
	[ ! -e work/ens/t1.kdm ]
	[ ! -e work/ens/t2.kdm ]
	[ ! -e work/ens/t3.kdm ]
	no_temporaries work

	# one task of the array fails, the other succeeds: sbatch --wait still
	# fails (the script straight, as sbatch runs it on a cluster)
	mkdir -p out/t2.kdm
	run sbatch --wait --array=1-2 --cpus-per-task=1 --output="$PWD/out/%a.log" \
		--export=ALL,KD_BIN="$KD_BIN" "$REPO/pipelines/slurm/teachers.sbatch" \
		"$PWD/out" "$PWD/train.csv" $(teacher_opts)
	assert_failure
	[ -s out/t1.kdm ]
	[ -d out/t2.kdm ]
	grep -q 'task 2: kd-teacher failed with status' out/2.log
	kd-teacher train -q -o local1.kdm $(teacher_opts) --seed 1 "$PWD/train.csv"
	cmp out/t1.kdm local1.kdm

	# the target checks what sbatch reports: a "success" that built
	# nothing fails, and so does an sbatch that is not there
	run tiny ensemble-slurm SBATCH=true
	assert_failure
	assert_output --partial 'ensemble-slurm: true exited with status 0 but teachers 1 2 3 are not built'
	run tiny ensemble-slurm SBATCH=kd-no-such-sbatch
	assert_failure
	assert_output --partial "ensemble-slurm: 'kd-no-such-sbatch' not found"

	# the script's own checks (run here, as the task would run it)
	run --separate-stderr env SLURM_ARRAY_TASK_ID=1 "$REPO/pipelines/slurm/teachers.sbatch" "$PWD/nowhere" "$PWD/train.csv"
	assert_failure 2
	[[ "$stderr" == "teachers.sbatch: '$PWD/nowhere' is not a directory on "* ]]
	run --separate-stderr "$REPO/pipelines/slurm/teachers.sbatch" "$PWD/out" "$PWD/train.csv"
	assert_failure 2
	[[ "$stderr" == "teachers.sbatch: SLURM_ARRAY_TASK_ID is not set: submit this script as a job array"* ]]
}
