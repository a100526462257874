#!/usr/bin/env bash
# report.sh: small steps of the pipelines that are not kd programs.
#
#   report.sh choose-bias VAL.kd CLASS "B1 B2 ..."
#       the bias (of the list) to add to CLASS's logit that makes the fewest
#       errors on the labelled logits stream VAL.kd (ties: the smallest)
#   report.sh add-bias STREAM.kd CLASS B     STREAM with B added to CLASS's logit
#   report.sh val-error LOG                  the lowest validation error (a
#       fraction) in the progress LOG of kd-student or kd-teacher train: the
#       error of the epoch kept
#   report.sh plot-temperature JSON PNG      test errors against T (gnuplot)
#   report.sh plot-hints JSON PNG            make hints' test errors (gnuplot)
#   report.sh results DIR                    RESULTS.md for the JSON in DIR
set -eu
BIN=${BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}

# jq definitions the reports share: r1 (one decimal), pc (a fraction as a
# percentage with two decimals, "n/a" for null), and the mean and sd
# (sample standard deviation, 0 for one value) of an array of numbers
JQ_LIB='def r1: (. * 10 | round) / 10;
	def pc: if . == null then "n/a" else "\((. * 10000 | round) / 100)%" end;
	def mean: add / length;
	def sd: mean as $m | if length > 1 then map((. - $m) * (. - $m)) | add / (length - 1) | sqrt else 0 end;'

# temp_stats JSON: the temperature students (models s-SIZE-T-SEED, with
# errors and val_error) as one object per T, in increasing T: {t, big,
# tiny}, each size {n, mean, sd, val, val_sd} over its seeds (sd 0 for one
# seed; val null when a student has no validation error), or null
temp_stats() {
	jq "$JQ_LIB"'
		def stats: {n: length, mean: (map(.errors) | mean), sd: (map(.errors) | sd),
			val: (if all(.val_error != null) then map(.val_error) | mean else null end),
			val_sd: (if all(.val_error != null) then map(.val_error) | sd else null end)};
		map(. + {size: (.model | split("-")[1]), t: (.model | split("-")[2] | tonumber)}) |
		group_by(.t) | map({t: .[0].t,
			big: (map(select(.size == "big")) | if length > 0 then stats else null end),
			tiny: (map(select(.size == "tiny")) | if length > 0 then stats else null end)})' "$1"
}

# hint_stats JSON: make hints' students grouped by configuration, in the
# order the table shows them: {label, kind, n, seeds, errors: [...], mean,
# sd, nll, ece, agreement, val, seconds} (means over the seeds)
hint_stats() {
	jq "$JQ_LIB"'
		def cfg_name: if .kind == "distilled" then "distilled \(.hidden | gsub(","; "-"))"
			elif .kind == "hint" then "+ hint on layer \(.layer), weight \(.weight)"
			elif .kind == "two-stage" then "two stages (hint on layer \(.layer), weight \(.weight))"
			elif .kind == "deep" then "distilled \(.hidden | gsub(","; "-"))"
			else "\(.hidden | gsub(","; "-")) + hint on layer \(.layer), weight \(.weight)" end;
		def order: {"distilled": 0, "hint": 1, "two-stage": 2, "deep": 3, "deep-hint": 4}[.kind];
		map(select(.kind != null)) | group_by([order, .layer, .weight]) |
		map({label: (.[0] | cfg_name), kind: .[0].kind, layer: .[0].layer, weight: .[0].weight,
		     n: length, seeds: map(.seed), errors: map(.errors),
		     mean: (map(.errors) | mean), sd: (map(.errors) | sd),
		     nll: (map(.nll) | mean), ece: (map(.ece) | mean), agreement: (map(.agreement) | mean),
		     val: (if all(.val_error != null) then map(.val_error) | mean else null end),
		     seconds: (map(.seconds) | mean)})' "$1"
}

# class_stats JSON: make classes' models per k, in increasing k: {k, n
# (subsets), T (the distilled students' T of the lowest mean validation
# error), teacher, hard, kd (mean error rates over the subsets, and their
# sds: teacher_sd ...), gains (hard - kd at T, one per subset), gain,
# gain_sd, closed (of the mean gap), entropy (bits, at T), classes (the
# subsets' class lists)}
class_stats() {
	jq "$JQ_LIB"'
		map(. + {err: (1 - .accuracy)}) | group_by(.k) | map(
		  . as $g | (map(select(.T != null)) | group_by(.T) |
		    map({T: .[0].T, val: (map(.val_error) | mean)}) | min_by(.val) | .T) as $t |
		  ($g | group_by(.subset) | map({s: .[0].subset,
		     t: (map(select(.model == "teacher")) | first | .err),
		     h: (map(select(.model == "hard")) | first | .err),
		     d: (map(select(.T == $t)) | first | .err),
		     e: (map(select(.T == $t)) | first | .entropy_bits),
		     c: .[0].classes})) as $s |
		  {k: .[0].k, n: ($s | length), T: $t,
		   teacher: ($s | map(.t) | mean), teacher_sd: ($s | map(.t) | sd),
		   hard: ($s | map(.h) | mean), hard_sd: ($s | map(.h) | sd),
		   kd: ($s | map(.d) | mean), kd_sd: ($s | map(.d) | sd),
		   gains: ($s | map(.h - .d)), gain: ($s | map(.h - .d) | mean), gain_sd: ($s | map(.h - .d) | sd),
		   entropy: ($s | map(.e) | mean), classes: ($s | map(.c))}
		  | . + {closed: (if .hard > .teacher then (.hard - .kd) / (.hard - .teacher) else null end)})' "$1"
}

cmd=${1:?usage: report.sh choose-bias|add-bias|plot-temperature|plot-hints|plot-classes|results ...}
shift
case $cmd in
choose-bias)
	"$BIN/kd-cat" "$1" | awk -F, -v c="$2" -v list="$3" '
	BEGIN { nb = split(list, b, " ") }
	NR > 2 {  # the rows, after the kd-stream line and the column names
		for (j = 1; j <= nb; j++) {
			m = 3; best = $3 + (c == 0 ? b[j] : 0)
			for (i = 4; i <= NF; i++) {
				v = $i + (i - 3 == c ? b[j] : 0)
				if (v > best) { best = v; m = i }
			}
			err[j] += (m - 3 != $2)
		}
	}
	END {
		k = 1
		for (j = 2; j <= nb; j++) if (err[j] < err[k]) k = j
		for (j = 1; j <= nb; j++) printf "bias %s: %d validation errors\n", b[j], err[j] > "/dev/stderr"
		print b[k]
	}'
	;;
add-bias)
	"$BIN/kd-cat" "$1" | awk -F, -v OFS=, -v c="$2" -v b="$3" \
		'NR > 2 { $(c + 3) = sprintf("%.9g", $(c + 3) + b) } { print }' | "$BIN/kd-cat" --import
	;;
val-error)
	awk -v f="$1" '
	match($0, /val err +[0-9.]+%/) {
		v = substr($0, RSTART, RLENGTH); sub(/val err +/, "", v); sub(/%/, "", v)
		if (n == 0 || v + 0 < best) best = v + 0
		n++
	}
	END {
		if (n == 0) { print "report.sh: " f ": no validation error in this log" > "/dev/stderr"; exit 1 }
		printf "%.4f\n", best / 100
	}' "$1"
	;;
plot-temperature)
	json=$1 png=$2 tmp=$(mktemp -d)
	trap 'rm -rf "$tmp" "$png.tmp"' EXIT
	# each size on its own panel (a 30-30 student can be thousands of
	# errors off where the 800-800 ones differ by tens): the mean and
	# standard deviation over the seeds against T, and each seed's run
	temp_stats "$json" | jq -r '.[] | [.t, .big.mean, .big.sd, .tiny.mean, .tiny.sd] | map(. // "NaN") | @tsv' > "$tmp/mean"
	for size in big tiny; do
		jq -r --arg s "$size" '.[] | select((.model | split("-")[1]) == $s) | [(.model | split("-")[2]), .errors] | @tsv' "$json" > "$tmp/$size"
	done
	gnuplot <<-GP
		set terminal pngcairo size 1000,450 enhanced font ",10"
		set output "$png.tmp"
		set multiplot layout 1,2 title "Fashion-MNIST test errors of distilled students against the temperature"
		set xlabel "temperature T"
		set ylabel "test errors (of 10,000)"
		set logscale x 2
		set key top left
		set grid
		set offsets 0, 0, graph 0.08, graph 0.08
		set title "784-800-800-10"
		plot "$tmp/mean" using 1:2:3 with yerrorlines lw 2 pt 7 title "mean ± sd over seeds", \
		     "$tmp/big" using 1:2 with points pt 6 ps 1.2 title "each seed"
		set title "784-30-30-10"
		plot "$tmp/mean" using 1:4:5 with yerrorlines lw 2 pt 5 title "mean ± sd over seeds", \
		     "$tmp/tiny" using 1:2 with points pt 6 ps 1.2 title "each seed"
		unset multiplot
	GP
	mv "$png.tmp" "$png"
	;;
plot-classes)
	json=$1 png=$2 tmp=$(mktemp -d)
	trap 'rm -rf "$tmp" "$png.tmp"' EXIT
	# the gain in error-rate points (hard-label minus distilled) against k:
	# mean and sd over the subsets, and each subset
	class_stats "$json" | jq -r '.[] | [.k, .gain * 100, .gain_sd * 100] | @tsv' > "$tmp/mean"
	class_stats "$json" | jq -r '.[] | .k as $k | .gains[] | [$k, . * 100] | @tsv' > "$tmp/runs"
	gnuplot <<-GP
		set terminal pngcairo size 800,500 enhanced font ",10"
		set output "$png.tmp"
		set title "Distillation's gain against the number of classes (Fashion-MNIST subsets)"
		set xlabel "classes k"
		set ylabel "test error, hard-label minus distilled (points)"
		set logscale x 2
		set xtics (2, 3, 5, 10)
		set grid
		set key top left
		set offsets graph 0.05, graph 0.05, graph 0.1, graph 0.1
		plot 0 with lines lc rgb "gray" notitle, \
		     "$tmp/mean" using 1:2:3 with yerrorlines lw 2 pt 7 title "mean ± sd over subsets", \
		     "$tmp/runs" using 1:2 with points pt 6 ps 1.2 title "each subset"
	GP
	mv "$png.tmp" "$png"
	;;
plot-hints)
	json=$1 png=$2 tmp=$(mktemp -d)
	trap 'rm -rf "$tmp" "$png.tmp"' EXIT
	# one column per configuration: the mean and sd over its seeds, and
	# each seed's run; the labels are kd's own (kind, layer, weight,
	# widths), reduced to letters, digits and " ,.+()-" all the same
	hint_stats "$json" | jq -r 'to_entries[] | [.key, .value.mean, .value.sd,
		(.value.label | gsub("[^A-Za-z0-9 ,.+()-]"; ""))] | @tsv' > "$tmp/mean"
	hint_stats "$json" | jq -r 'to_entries[] | .key as $i | .value.errors[] | [$i, .] | @tsv' > "$tmp/runs"
	# a run that failed to learn (thousands of errors) would flatten the
	# rest: the chart stops at 1.3 times the worst plain distilled run
	# (or the worst run, when that is lower), and says so
	top=$(hint_stats "$json" | jq '(map(.errors[]) | max) as $all |
		(((map(select(.kind == "distilled")) | first | .errors | max) // $all) * 1.3) as $cap |
		if $all > $cap then $cap | floor else "*" end')
	note=
	[ "$top" = '"*"' ] && top='*' || note="runs above $top errors are off the chart (see the table)"
	gnuplot <<-GP
		set terminal pngcairo size 1000,520 enhanced font ",10"
		set output "$png.tmp"
		set title "Fashion-MNIST test errors of students with and without hints (kd-student --hint)${note:+\\n$note}" noenhanced
		set ylabel "test errors (of 10,000)"
		set datafile separator "\t"
		set xtics rotate by 30 right noenhanced
		set bmargin 10
		set lmargin 22
		set yrange [*:$top]
		set key top left
		set grid ytics
		set offsets 0.5, 0.5, graph 0.08, graph 0.08
		plot "$tmp/mean" using 1:2:3:xticlabels(4) with yerrorbars lw 2 pt 7 title "mean ± sd over seeds", \
		     "$tmp/runs" using 1:2 with points pt 6 ps 1.2 title "each seed"
	GP
	mv "$png.tmp" "$png"
	;;
results)
	dir=$1
	table() { # JSON: a markdown table of models
		jq -r "$JQ_LIB"'.[] | "| \(.model) | \(.errors) | \(.accuracy | pc) | \(.nll * 10000 | round / 10000) | \(.ece * 10000 | round / 10000) |"' "$1"
	}
	# seeds_section JSON WHO: the table and summary of hard-label and distilled
	# students over seeds (models student-hard-N and student-kd-N) against the
	# model "teacher" of JSON, which the summary calls WHO
	seeds_section() {
		echo
		echo "| seed | hard-label student | distilled student | gap to the teacher closed |"
		echo "|---|---|---|---|"
		jq -r '(map({(.model): .errors}) | add) as $e | $e.teacher as $t |
			[$e | keys[] | select(startswith("student-hard-")) | ltrimstr("student-hard-")] | sort_by(tonumber)[] as $s |
			$e["student-hard-" + $s] as $h | $e["student-kd-" + $s] as $k |
			"| \($s) | \($h) | \($k) | \(if $h <= $t then "no gap: the teacher is no better" elif $k > $h then "none" elif $k < $t then "all, and \($t - $k) fewer errors than the teacher" else ((($h - $k) / ($h - $t) * 1000 | round) / 10 | tostring) + "%" end) |"' \
			"$1"
		jq -r --arg who "$2" "$JQ_LIB"'(map({(.model): .errors}) | add) as $e |
			def values(p): [to_entries[] | select(.key | startswith(p)) | .value];
			def mean(p): values(p) | mean;
			def ms(p): values(p) | "\(mean | r1) ± \(sd | r1)";
			($e | ms("student-hard-")) as $h | ($e | ms("student-kd-")) as $k |
			[$e | to_entries[] | select(.key | startswith("student-hard-")) | .key | ltrimstr("student-hard-")] as $seeds |
			($seeds | map(select(. as $s | $e["student-kd-" + $s] < $e["student-hard-" + $s])) | length) as $won |
			($e | mean("student-hard-")) as $hm | ($e | mean("student-kd-")) as $km | $e.teacher as $t |
			"\n\($who): \($t) errors. Mean ± standard deviation over the seeds: hard-label student \($h), distilled student \($k). The distilled student makes fewer errors than the hard-label one \(if $won == ($seeds | length) then "on every seed" else "on \($won) of \($seeds | length) seeds" end). " +
			(if $t >= $hm then "On average the teacher (\($t)) is no better than the hard-label students (\($hm | r1)): there is no gap to close."
			 elif $km >= $hm then "On average the distilled students close none of the gap between the hard-label students (\($hm | r1)) and the teacher (\($t))."
			 elif $km <= $t then "On average the distilled students close all of the gap between the hard-label students (\($hm | r1)) and the teacher (\($t)), and make \($t - $km | r1) fewer errors than the teacher."
			 else "On average the distilled students close \((($hm - $km) / ($hm - $t) * 1000 | round) / 10)% of the gap between the hard-label students (\($hm | r1)) and the teacher (\($t))." end)' \
			"$1"
	}
	echo "# Results of the pipelines"
	echo
	echo "Made by \`make -C pipelines ${QUICK:+QUICK=1 }TARGET\` (each section names its target;"
	echo "NOTES.md below says when); figures are test-set scores of the 10,000"
	echo "Fashion-MNIST test images, made by kd-eval, where a section says no other."
	echo "No choice looked at the test set."
	# NOTES.md in DIR: what a reader must know of when and how the
	# results were made (say, runs of different dates or options)
	if [ -e "$dir/NOTES.md" ]; then
		echo
		cat "$dir/NOTES.md"
	fi
	if [ -e "$dir/demo.json" ]; then
		echo
		echo "## The main job (\`make demo\`)"
		echo
		echo "| model | test errors | accuracy | NLL | ECE |"
		echo "|---|---|---|---|---|"
		table "$dir/demo.json"
		jq -r 'map({(.model): .errors}) | add |
			.["student-hard"] as $h | .["student-kd"] as $k | .teacher as $t |
			"\nThe distilled student makes \(if $k < $h then "\($h - $k) fewer" elif $k > $h then "\($k - $h) more" else "as many" end) test errors than the hard-label student; " +
			(if $t < $h and $k > $h then "it closes none of the gap between the hard-label student (\($h)) and the teacher (\($t))."
			 elif $t < $h and $k < $t then "it closes all of the gap between the hard-label student (\($h)) and the teacher (\($t)), and makes \($t - $k) fewer errors than the teacher."
			 elif $t < $h then "it closes \((($h - $k) / ($h - $t) * 1000 | round) / 10)% of the gap between the hard-label student and the teacher."
			 else "the teacher (\($t)) is no better than the hard-label student (\($h)), so there is no gap to close." end)' "$dir/demo.json"
	fi
	if [ -e "$dir/seeds.json" ]; then
		echo
		echo "## The demo's students over several seeds (\`make seeds\`)"
		seeds_section "$dir/seeds.json" Teacher
	fi
	if [ -e "$dir/ensemble.json" ]; then
		echo
		seeds=$(jq -r '[.[] | .model | select(startswith("teacher-seed")) | ltrimstr("teacher-seed")] | join(" ")' "$dir/ensemble.json")
		echo "## Ensemble of $(wc -w <<< "$seeds") teachers (\`make ensemble ENSEMBLE=\"$seeds\"\`)"
		echo
		echo "| model | test errors | accuracy | NLL | ECE |"
		echo "|---|---|---|---|---|"
		table "$dir/ensemble.json"
		jq -r '
			(map(select(.model | startswith("teacher-seed"))) | map(.errors) | add / length) as $single |
			(map({(.model): .errors}) | add) as $e |
			($single - $e["ensemble-arithmetic"]) as $g |
			"\nMean single teacher: \(($single * 10 | round) / 10) errors; \(if $g > 0 then "the arithmetic ensemble gains \(($g * 10 | round) / 10) errors" elif $g == 0 then "the arithmetic ensemble makes as many errors" else "the arithmetic ensemble makes \((-$g * 10 | round) / 10) more error\(if $g == -1 then "" else "s" end)" end); \(if $g <= 0 then "there is no gain for the student to keep" elif $e["student-from-ensemble"] >= $single then "the student distilled from it (\($e["student-from-ensemble"]) errors) keeps none of that gain" elif $e["student-from-ensemble"] < $e["ensemble-arithmetic"] then "the student distilled from it (\($e["student-from-ensemble"]) errors) keeps all of it and makes \($e["ensemble-arithmetic"] - $e["student-from-ensemble"]) fewer errors than the ensemble itself" else "the student distilled from it keeps \((($single - $e["student-from-ensemble"]) / $g * 1000 | round) / 10)% of that gain" end)."' "$dir/ensemble.json"
	fi
	if [ -e "$dir/ensemble-seeds.json" ]; then
		echo
		echo "## The ensemble's student over several seeds (\`make ensemble-seeds\`)"
		echo
		echo "The teacher here is the arithmetic ensemble; the hard-label students are the seeds' own."
		seeds_section "$dir/ensemble-seeds.json" "The ensemble"
	fi
	if [ -e "$dir/fidelity.json" ]; then
		echo
		echo "## How closely the students copy their teachers (\`make fidelity\`)"
		echo
		echo "Top-1 agreement with the model a student was distilled from, on the transfer images (the training images whose soft targets it learnt from) and on the test images; the ensemble's members are compared with the ensemble they are part of (a fifth of it each, which flatters them)."
		echo
		echo "| model | compared with | agreement, transfer images | agreement, test images | KL(reference ‖ model), test images |"
		echo "|---|---|---|---|---|"
		jq -r "$JQ_LIB"'group_by([.reference, .model])[] | (map({(.images): .}) | add) as $r | .[0] as $a |
			"| \($a.model) | \(if $a.reference == "ensemble" then "the arithmetic ensemble" else "the teacher" end) | \($r.transfer.agreement | pc) | \($r.test.agreement | pc) | \(if $r.test then $r.test.kl * 10000 | round / 10000 else "n/a" end) |"' \
			"$dir/fidelity.json"
		jq -r "$JQ_LIB"'map(select(.reference == "ensemble" and .images == "test")) |
			(map(select(.model == "student-from-ensemble")) | first) as $s |
			(map(select(.model != "student-from-ensemble") | .agreement)) as $m |
			if $s == null or ($m | length) == 0 then empty else
			"\nOn the test images the ensemble'"'"'s student agrees with the ensemble on \($s.agreement | pc), its members on \($m | min | pc) to \($m | max | pc): " +
			(if $s.agreement < ($m | min) then "the student copies the ensemble less closely than any single member resembles it, so what averaging gained can be lost in the copying."
			 elif $s.agreement > ($m | max) then "the student copies the ensemble more closely than any single member resembles it."
			 else "the student copies the ensemble about as closely as a single member resembles it." end) end' \
			"$dir/fidelity.json"
	fi
	if [ -e "$dir/temperature.json" ]; then
		echo
		echo "## Temperature (\`make temperature\`)"
		echo
		echo "Mean ± standard deviation over each size's seeds ($(jq -r '[.[] | .model | split("-")[3] // "1"] | unique | sort_by(tonumber) | join(", ")' "$dir/temperature.json")): test errors, and the validation error of the epoch kept."
		echo
		echo "| T | 784-800-800-10 test errors | its validation error | 784-30-30-10 test errors | its validation error |"
		echo "|---|---|---|---|---|"
		stats=$(temp_stats "$dir/temperature.json")
		jq -r "$JQ_LIB"'
			def e: if . == null then "n/a" else "\(.mean | r1) ± \(.sd | r1)" end;
			def v: if . == null or .val == null then "n/a" else "\(.val | pc) ± \(.val_sd | pc)" end;
			.[] | "| \(.t) | \(.big | e) | \(.big | v) | \(.tiny | e) | \(.tiny | v) |"' <<< "$stats"
		jq -r '
			def best(s): map(select(.[s] != null and .[s].val != null)) |
				if length > 0 then min_by(.[s].val) | .t | tostring else "n/a" end;
			"\nChosen on validation (the lowest mean validation error over the seeds; the test errors played no part): T = \(best("big")) for 784-800-800-10, T = \(best("tiny")) for 784-30-30-10."' <<< "$stats"
		[ -e "$dir/temperature.png" ] && printf '\n![errors against T](temperature.png)\n'
	fi
	if [ -e "$dir/hints.json" ]; then
		echo
		echo "## Hints: imitating the teacher's hidden layers (\`make hints\`)"
		echo
		echo "The demo's distilled student (soft targets at T = 8 with the labels mixed"
		echo "in) and the same recipe with a hint (\`kd-student --hint\`, FitNets): the"
		echo "student's hidden layer L learns, through a linear map trained with it and"
		echo "dropped after, the teacher's layer L (\`kd-teacher -m --layer L\` on the"
		echo "transfer images); the weight B scales the mean squared error. The"
		echo "weights were tried on seed 1 and one kept per layer by validation error;"
		echo "\"two stages\" is FitNets' schedule (\`--hint-only\`, then \`--init\`)."
		echo "Test errors (mean ± sd over the seeds), NLL, ECE and top-1 agreement"
		echo "with the teacher on the test images, the validation error of the epoch"
		echo "kept, and the seconds of training (from the runs' samples/s)."
		echo
		echo "| student | seeds | test errors | NLL | ECE | agreement with the teacher | validation error | seconds |"
		echo "|---|---|---|---|---|---|---|---|"
		hint_stats "$dir/hints.json" | jq -r "$JQ_LIB"'.[] |
			"| \(.label) | \(.seeds | map(tostring) | join(", ")) | \(.mean | r1)\(if .n > 1 then " ± \(.sd | r1)" else "" end) | \(.nll * 10000 | round / 10000) | \(.ece * 10000 | round / 10000) | \(.agreement | pc) | \(.val | pc) | \(.seconds | round) |"'
		echo
		jq -r '.[] | select(.stream) | "The teacher'"'"'s \(.stream | ltrimstr("f") | rtrimstr(".kd") | "layer " + .) over the \(.records) transfer images: \(.units) units, \((.bytes / 1e5 | round) / 10) MB as a stream (\((.records * .units * 4 / 1e6 | round)) MB as raw float32)."' "$dir/hints.json"
		hint_stats "$dir/hints.json" | jq -r "$JQ_LIB"'
			(map(select(.kind == "distilled")) | first) as $b | (map(select(.kind == "deep")) | first) as $d |
			def vs($r): "\(if .mean < $r.mean then "\($r.mean - .mean | r1) fewer" elif .mean > $r.mean then "\(.mean - $r.mean | r1) more" else "as many" end) errors than \($r.label) (\($r.mean | r1) ± \($r.sd | r1)), \(if (.mean - $r.mean | fabs) <= ([.sd, $r.sd] | max) then "within the seeds'"'"' spread" else "more than the seeds'"'"' spread" end), at \(if $r.seconds > 0 then (.seconds / $r.seconds * 10 | round) / 10 else "?" end) times its training time";
			"",
			(.[] | select(.n > 1 and (.kind == "hint" or .kind == "two-stage")) | select($b != null) | "- \(.label): \(.mean | r1) ± \(.sd | r1), \(vs($b))."),
			(.[] | select(.n > 1 and .kind == "deep-hint") | select($d != null) | "- \(.label): \(.mean | r1) ± \(.sd | r1), \(vs($d)).")'
		[ -e "$dir/hints.png" ] && printf '\n![test errors with and without hints](hints.png)\n'
	fi
	if [ -e "$dir/forest.json" ]; then
		echo
		echo "## Soft targets from a random forest (\`make forest\`)"
		echo
		jq -r '.[] | select(.model == "forest") | "scikit-learn'"'"'s RandomForestClassifier (\(.trees) trees, seed \(.seed)) learnt \(.train_rows) training images in \(.fit_seconds) s; the \(.val_rows) after them are every student'"'"'s validation rows, which neither the forest nor a student trains on. Of the forest'"'"'s probabilities \((.zeros_own * 1000 | round) / 10)% are exactly 0 on the rows it learnt (its top class gets \((.own_top_mean * 1000 | round) / 10)% on average) and \((.zeros_oob * 1000 | round) / 10)% out of bag (\((.oob_top_mean * 1000 | round) / 10)%): tempering (`kd-soften -T`, p^(1/T)) cannot lift a 0, additive smoothing first (`--smooth A`: (p + A) / (1 + K A)) can. The students are the demo'"'"'s 800-800 recipe (seed 1) on the same rows: on the labels, or on the forest'"'"'s probabilities (own rows, or out of bag) at T, smoothed by A, mixed with the labels at alpha below 1. NLL counts a 0 probability as 1e-45."' "$dir/forest.json"
		echo
		echo "| model | targets | T | A | alpha | validation error | test errors | accuracy | NLL | agreement with the forest |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		jq -r "$JQ_LIB"'.[] | "| \(.model) | \(if .model == "forest" then "-" elif .kind == "labels" then "labels" elif .source == "oob" then "forest, out of bag" else "forest, own rows" end) | \(.T // "-") | \(.smooth // "-") | \(.alpha // "-") | \(.val_error | pc) | \(.errors) | \(.accuracy | pc) | \(.nll * 10000 | round / 10000) | \(.agreement | pc) |"' "$dir/forest.json"
		jq -r "$JQ_LIB"'
			(map(select(.model == "forest")) | first) as $f | (map(select(.kind == "labels")) | first) as $h |
			(map(select(.source)) ) as $s | ($s | min_by(.val_error)) as $b |
			($s | map(select(.alpha == 1 and .smooth == 0 and .source == "oob")) | min_by(.val_error)) as $ot |
			def beats($a; $b): if $a < $b then "\($b - $a) fewer errors than" elif $a > $b then "\($a - $b) more errors than" else "as many errors as" end;
			"\nChosen on validation rows: \($b.model) (\($b.val_error | pc)); on the test images it makes \(beats($b.errors; $h.errors)) the student of the labels (\($h.errors)) and \(beats($b.errors; $f.errors)) the forest itself (\($f.errors)). " +
			"Tempering out-of-bag targets alone: the lowest validation error at T = \($ot.T) (\($ot.val_error | pc)), against T = 1 at \($s | map(select(.source == "oob" and .T == 1 and .smooth == 0 and .alpha == 1)) | first | .val_error | pc)."' "$dir/forest.json"
	fi
	if [ -e "$dir/classes.json" ]; then
		echo
		echo "## Distillation's gain against the number of classes (\`make classes\`)"
		echo
		echo "Fashion-MNIST restricted to k of its classes (random subsets, listed"
		echo "below), for each the demo's teacher, hard-label student and distilled"
		echo "students with the demo's recipes and epochs (k/10 of the rows, so k/10 of"
		echo "the steps) and k/10 of its validation rows; k = 10 is the demo itself."
		echo "T is chosen for each k by the distilled students' mean validation error"
		echo "over the subsets. Test error rates, mean ± sd over the subsets; the gain"
		echo "is the hard-label student's error less the distilled one's; \"gap closed\""
		echo "is that gain over the hard-label student's lead on the teacher, of the"
		echo "means; the entropy is the teacher's soft targets' on the transfer set at"
		echo "that T, in bits (at most log2 k)."
		echo
		echo "| k | subsets | T | teacher | hard-label | distilled | gain (points) | gap closed | entropy (bits) | log2 k |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		class_stats "$dir/classes.json" | jq -r "$JQ_LIB"'def p2: (. * 10000 | round) / 100;
			.[] | "| \(.k) | \(.n) | \(.T) | \(.teacher | p2)% | \(.hard | p2)% ± \(.hard_sd | p2) | \(.kd | p2)% ± \(.kd_sd | p2) | \(.gain * 100 | (. * 100 | round) / 100) ± \(.gain_sd * 100 | (. * 100 | round) / 100) | \(if .closed == null then "no gap" else "\(.closed * 100 | round)%" end) | \(.entropy * 1000 | round / 1000) | \(.k | log2 * 1000 | round / 1000) |"'
		echo
		class_stats "$dir/classes.json" | jq -r '"The subsets (classes by number, 0 to 9: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot): " + (map("k = \(.k): " + (.classes | map(map(tostring) | join(",")) | join("; "))) | join("; ")) + "."'
		[ -e "$dir/classes.png" ] && printf '\n![gain against k](classes.png)\n'
	fi
	if [ -e "$dir/born-again.json" ]; then
		echo
		echo "## Born again: students as big as the teacher (\`make born-again\`)"
		echo
		echo "1200-1200 students (the teacher's size) with the distilled student's recipe:"
		echo "generation 1 learns the teacher's soft targets at the demo's T, generation 2"
		echo "generation 1's; without regularisation, or with the teacher's dropout and"
		echo "max-norm. \"g1+g2\" is the mean of the two generations' probabilities,"
		echo "\"teacher+g1+g2\" the teacher's with them. Test errors and NLL, mean ± sd"
		echo "over the seeds, agreement with the teacher, and the validation error of the"
		echo "epoch kept (the generations')."
		echo
		echo "| model | regularised | seeds | test errors | NLL | agreement with the teacher | validation error |"
		echo "|---|---|---|---|---|---|---|"
		jq -r "$JQ_LIB"'(map(select(.generation == 0)) | first) as $t |
			"| teacher (1200-1200) | yes | 1 | \($t.errors) | \($t.nll * 10000 | round / 10000) | - | - |",
			(map(select(.generation != 0)) | group_by([.regularised, (.generation | tostring)])[] |
			 "| \(if (.[0].generation | type) == "number" then "generation \(.[0].generation)" else .[0].generation end) | \(if .[0].regularised then "yes" else "no" end) | \(map(.seed) | map(tostring) | join(", ")) | \(map(.errors) | mean | r1) ± \(map(.errors) | sd | r1) | \(map(.nll) | mean * 10000 | round / 10000) | \(map(.agreement) | mean | pc) | \(if all(.val_error != null) then map(.val_error) | mean | pc else "-" end) |")' "$dir/born-again.json"
		jq -r "$JQ_LIB"'(map(select(.generation == 0)) | first) as $t |
			map(select(.generation != 0)) | group_by(.regularised)[] | . as $g |
			def m(gen): $g | map(select(.generation == gen) | .errors) | if length > 0 then mean else null end;
			"\nWith\(if $g[0].regularised then "" else "out" end) the teacher'"'"'s regularisation: generation 1 makes \(m(1) | r1) errors on average, generation 2 \(m(2) | r1), their ensemble \(m("g1+g2") | r1), against the teacher'"'"'s \($t.errors): generation 1 \(if m(1) < $t.errors then "beats" else "does not beat" end) its teacher, and generation 2 \(if m(2) < m(1) then "beats" else "does not beat" end) generation 1."' "$dir/born-again.json"
	fi
	if [ -e "$dir/leftout.json" ]; then
		echo
		echo "## A class left out of the transfer set (\`make leftout\`)"
		echo
		echo "| model | test errors | errors on the left-out class | accuracy |"
		echo "|---|---|---|---|"
		jq -r "$JQ_LIB"'.[] | "| \(.model) | \(.errors) | \(.per_class_errors[.left_out]) | \(.accuracy | pc) |"' "$dir/leftout.json"
		jq -r '.[0] | "\nClass \(.left_out) never appears in the transfer set; the bias added to its logit (\(.bias)) was chosen on held-out training rows."' "$dir/leftout.json"
	fi
	if [ -e "$dir/tabular.json" ]; then
		echo
		echo "## kd's defaults on data they were not chosen on (\`make tabular\`)"
		echo
		echo "Each data set split 80/20 (stratified) by each seed; every model trained on"
		echo "the 80% with no option but \`--hidden\`, scored on the 20%: kd's hard-label"
		echo "student and teacher (\`kd-teacher train\`), the student distilled from that"
		echo "teacher (\`kd-teacher -m | kd-soften -T T | kd-student\`, T as the README advises:"
		echo "3 for two or three classes, 8 for more; the T column), and scikit-learn's"
		echo "MLPClassifier with its defaults and the same hidden sizes, after a"
		echo "StandardScaler. Test accuracy in %, mean ± sd over the seeds, and mean seconds"
		echo "of training (kd: the whole command, the CSV read and, for the distilled"
		echo "student, the teacher's run over the rows included; scikit-learn: its fit"
		echo "alone), one job at a time on this machine's 2 cores."
		echo
		echo "| data set | seeds | T | kd hard-label | kd teacher | kd distilled | sklearn student | sklearn teacher |"
		echo "|---|---|---|---|---|---|---|---|"
		jq -r "$JQ_LIB"'def cell(m): map(select(.model == m)) |
				if length == 0 then "n/a" else "\(map(.accuracy) | mean | (. * 100 | round) / 100) ± \(map(.accuracy) | sd | (. * 100 | round) / 100) (\(map(.seconds) | mean | (. * 100 | round) / 100) s)" end;
			group_by(.set)[] |
			"| \(.[0].set) | \(map(.seed) | unique | length) | \(map(select(.model == "kd-distil") | .T) | unique | map(tostring) | join(",")) | \(cell("kd-hard")) | \(cell("kd-teacher")) | \(cell("kd-distil")) | \(cell("sk-student")) | \(cell("sk-teacher")) |"' "$dir/tabular.json"
	fi
	if [ -e "$dir/unlabelled.json" ]; then
		echo
		echo "## An unlabelled transfer set (\`make unlabelled\`)"
		echo
		echo "| model | test errors | accuracy | agreement with the teacher | KL(teacher ‖ student) |"
		echo "|---|---|---|---|---|"
		jq -r "$JQ_LIB"'.[] | "| \(.model) | \(.errors) | \(.accuracy | pc) | \(.agreement | pc) | \(.kl * 10000 | round / 10000) |"' "$dir/unlabelled.json"
	fi
	if [ -e "$dir/export.json" ]; then
		echo
		echo "## The student outside kd (\`make export\`)"
		echo
		echo "The distilled student exported by \`kd-export\` (C99, compiled with -O2; the"
		echo "same with --int8; ONNX in onnxruntime-node) over the test images, against"
		echo "\`kd-teacher -m\` on the same rows: the largest difference of a logit,"
		echo "relative (to max(1, |z|)), the rows with kd's argmax, the accuracy, and the"
		echo "bytes of weights (the C's compiled constant data; the file for kd and ONNX)."
		echo
		echo "| form | largest logit difference | same argmax | accuracy | bytes |"
		echo "|---|---|---|---|---|"
		jq -r '"| kd (\(.model)) | - | - | \(.accuracy_kd)% | \(.model_bytes) |",
			"| C, float | \(.c_max_rel) | \(.c_argmax_same) of \(.rows) | \(.accuracy_kd)% (the same argmax) | \(.c_bytes) |",
			"| C, --int8 | \(.int8_max_rel) | \(.int8_argmax_same) of \(.rows) | \(.int8_accuracy)% | \(.int8_bytes) |",
			"| ONNX (\(.onnx_checker) python3-onnx'"'"'s check) | \(.onnx_max_rel // "not run") | \(if .onnx_argmax_same then "\(.onnx_argmax_same) of \(.rows)" else "not run" end) | - | \(.onnx_bytes) |"' "$dir/export.json"
	fi
	if [ -e "$dir/similar.json" ]; then
		echo
		echo "## The dark knowledge, seen (\`make similar\`)"
		echo
		echo "The teacher's soft targets on the training images at T = $(jq .temperature "$dir/similar.json"): for each true"
		echo "class, the mean probability its images give every class (\`kd-eval --similar\`;"
		echo "the heat map is similar.png). The pairs of classes it holds most alike:"
		echo
		echo "| pair | mean of the two entries | a → b | b → a |"
		echo "|---|---|---|---|"
		jq -r '.pairs[] | "| \(.names // (.classes | map(tostring)) | join(", ")) | \(.mean * 1000 | round / 1000) | \(.p_ab * 1000 | round / 1000) | \(.p_ba * 1000 | round / 1000) |"' "$dir/similar.json"
		echo
		# two sentences from the matrix: the class the teacher is least
		# sure of and which classes lean on it most; the pair held most
		# alike and the class held most apart
		jq -r 'def r2: (. * 100 | round) / 100;
			def nm(i): (.class_names // [])[i] // (i | tostring);
			. as $s | [range(0; .classes) | select($s.matrix[.] != null)] as $cs
			| ($cs | min_by($s.matrix[.][.])) as $u
			| ($cs | max_by($s.matrix[.][.])) as $a
			| [$s.most_alike[] | select(.alike == $u)] as $lean
			| "The class the teacher is least sure of is \(nm($u)): its own images keep \($s.matrix[$u][$u] | r2) of their probability for it at T = \(.temperature), and it is the class most like \($lean | map(.name // (.class | tostring)) | join(", ")) (\($lean | map(.p | r2 | tostring) | join(", ")) of their images'"'"' probability). The pair held most alike is \(.pairs[0].names // (.pairs[0].classes | map(tostring)) | join(" and ")) (\(.pairs[0].mean | r2) each way on average); \(nm($a)) stands most apart, keeping \($s.matrix[$a][$a] | r2) for itself."' "$dir/similar.json"
		echo
		echo "![classes alike](similar.png)"
	fi
	;;
*)
	echo "report.sh: unknown command '$cmd'" >&2
	exit 2
	;;
esac
