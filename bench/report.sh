# bench/report.sh — the Markdown report of bench/run, sourced by it (also for bench/run --from DIR).
# Reads the files of a bench/run work directory ($WORK: results.tsv, startup.tsv, bystander.tsv,
# kstats.tsv, load.txt) and the variables bench/run saves in $WORK/meta.sh.
# shellcheck shell=bash

median() { sort -g | awk '{a[NR]=$1} END{if(NR==0){print "nan"; exit} if(NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

report() {
	# reports kept before the CPU count was saved: the machine line has it
	[ -n "${NCPU:-}" ] || NCPU=$(sed -n 's/.*, \([0-9]*\) CPUs.*/\1/p' <<<"$MACHINE")
	echo "## Results ($WHEN)"
	echo
	echo "- machine: $MACHINE; load average at start $LOAD0, at end $LOAD1"
	echo "- 1-minute load average sampled before each configuration: $LOADR (2 CPUs: above ~1 means other work competed)"
	echo "- BPF tracing programs of others loaded at start / end / most seen: $PROGS0 / $PROGS1 / $PROGSMAX (a sys_exit tracer slows every task's syscalls)"
	echo "- kernel.bpf_stats_enabled at start: ${STATS_AT_START:-not recorded}$([ "${STATS_AT_START:-}" = 1 ] && echo " (set to 0 for the measurements: it adds two clock reads to every BPF program run)"); clocksource: ${CLOCKSOURCE:-not recorded}"
	echo "- whyfail: \`$WHYFAIL\` ($WF_VERSION); $REPS repetitions, medians; untraced target ${TARGET_S}s per run; bench/run took ${ELAPSED}s"
	echo
	echo "ns/call: mean latency of one call in the loop (wall clock); x: ratio to the untraced median."
	echo "cpu ns/call, cpu x: the same with the calling thread's own CPU time (in-kernel tracing is charged to it;"
	echo "waiting for a CPU on a loaded machine, or stopped by ptrace, is not) — the steadier figure when the machine is busy."
	echo "paired cpu x: the median, over the repetitions, of cpu ns/call against that repetition's own untraced run"
	echo "(the untraced run comes first in each): the figure to read when the machine's speed drifts between runs."
	echo "events: the loop's calls found in the tracer's output / calls it should have reported (sum over repetitions);"
	echo "lost: drops the tracer itself counted; acct: exact when found + lost = expected; tracer µs/event: the"
	echo "tracer's own CPU time (user + system; the benchmark's and the tracer's start-up and exit, its CPU time on the"
	echo "one-call marker program, subtracted) per event found; wall: tracer start to"
	echo "exit (median); RSS: peak resident set of the tracer (max over repetitions, /usr/bin/time -v); load: 1-minute"
	echo "load average at the runs (min–max). CPUs busy %: the share of all $NCPU CPUs' time that was busy during the"
	echo "loop (/proc/stat, any task: the loop, the tracer, anything else; median). machine cpu x: that busy CPU time"
	echo "per call against the untraced run's. Where the CPUs are all busy (two threads on two CPUs) every"
	echo "nanosecond the tracer spends during the loop comes out of the loop's time: the wall x is then the machine"
	echo "cpu x, however cheap the kernel side is, and only a cheaper tracer brings it down."
	for cfg in $CONFIGS; do
		mode=${cfg%-*}; th=${cfg#*-}
		awk -F'\t' -v m="$mode" -v t="$th" '$1=="main" && $2=="none" && $3==m && $4==t' "$RES" >"$WORK/sel"
		base=$(cut -f7 "$WORK/sel" | median)
		cbase=$(cut -f18 "$WORK/sel" | grep -v nan | median)
		mbase=$(awk -F'\t' 'NF >= 22 && $22 > 0 {print $22}' "$WORK/sel" | median)
		[ "$mbase" = nan ] && mbase=0
		awk -F'\t' -v m="$mode" -v t="$th" '$1=="main" && $3==m && $4==t {print $20}' "$RES" >"$WORK/sel.load"
		lr=$(sort -g "$WORK/sel.load" | awk 'NR==1{lo=$1} {hi=$1} END{print lo "–" hi}')
		echo
		echo "### $mode, $th thread(s) (load $lr)"
		echo
		echo "| tracer | iters/thread | ns/call | x | cpu ns/call | cpu x | paired cpu x | failures/s | events found/expected | lost | acct | tracer µs/event | CPUs busy % | machine cpu x | wall s | RSS MB |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"
		for tr in none $TRACERS; do
			awk -F'\t' -v m="$mode" -v t="$th" -v tr="$tr" '$1=="main" && $2==tr && $3==m && $4==t' "$RES" >"$WORK/sel"
			[ -s "$WORK/sel" ] || continue
			ns=$(cut -f7 "$WORK/sel" | grep -v nan | median)
			cns=$(cut -f18 "$WORK/sel" | grep -v nan | median)
			fps=$(cut -f11 "$WORK/sel" | median)
			twall=$(cut -f15 "$WORK/sel" | median)
			# the machine during the loop (columns missing or -1 in reports before session 24)
			mb=$(awk -F'\t' 'NF >= 22 && $21 >= 0 {print $21}' "$WORK/sel" | median)
			mc=$(awk -F'\t' 'NF >= 22 && $22 > 0 {print $22}' "$WORK/sel" | median)
			it=$(cut -f6 "$WORK/sel" | sort -g | tail -1)
			rss=$(cut -f16 "$WORK/sel" | sort -g | tail -1)
			bad=$(awk -F'\t' '$17!="ok"' "$WORK/sel" | wc -l)
			# the tracer's start-up and exit CPU (its run on the one-call marker program) is not per event
			scpu=$(awk -F'\t' -v tr="$tr" '$2==tr {print $9}' "$WORK/startup.tsv" 2>/dev/null | median)
			[ "$scpu" = nan ] && scpu=0
			# each repetition's own untraced run (the reps are interleaved: the untraced run comes first in each):
			# the median of the per-repetition ratios, which a slow or fast untraced median does not move
			pcx=$(awk -F'\t' -v m="$mode" -v t="$th" -v tr="$tr" '$1=="main" && $3==m && $4==t && $18!="nan" {
				if ($2=="none") b[$5]=$18; else if ($2==tr) v[$5]=$18 } END { for (r in v) if (b[r] > 0) print v[r]/b[r] }' "$RES" | median)
			awk -F'\t' -v tr="$tr" -v mb="$mb" -v mc="$mc" -v mbase="$mbase" -v scpu="$scpu" -v ns="$ns" -v base="$base" -v cns="$cns" -v cbase="$cbase" -v pcx="$pcx" -v fps="$fps" -v tw="$twall" -v it="$it" -v rss="$rss" -v bad="$bad" -v mode="$mode" '
				{ if ($12 != "-") { c += $12; e += $13; l += $14; has = 1 } cpu += $19 - scpu / 1000 }
				END {
					x = (base > 0 && ns != "nan") ? sprintf("%.2f", ns/base) : "-"
					cx = (cbase > 0 && cns != "nan") ? sprintf("%.2f", cns/cbase) : "-"
					if (!has || e == 0 && c == 0) { ev = "-"; lo = "-"; ac = "-"; pe = "-" }
					else {
						ev = sprintf("%d/%d", c, e); lo = sprintf("%d", l)
						ac = (c + l == e) ? "exact" : sprintf("%+d", c + l - e)
						# below zero when a tracer does not reap the benchmark, whose CPU time is then not in the tracer rusage
						pe = (c > 0 && cpu > 0) ? sprintf("%.2f", cpu * 1e6 / c) : "n/a"
					}
					busy = (mb != "nan") ? sprintf("%.0f", mb * 100) : "-"
					mx = (tr != "none" && mbase > 0 && mc != "nan") ? sprintf("%.2f", mc / mbase) : "-"
					name = tr; if (bad > 0) name = name " (" bad " failed runs)"
					printf "| %s | %d | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, it, ns, x,
						(cns == "nan" ? "-" : sprintf("%.0f", cns)), cx, (tr == "none" || pcx == "nan" ? "-" : sprintf("%.2f", pcx)),
						(mode == "getppid" ? "-" : sprintf("%.0f", fps)), ev, lo, ac, pe, busy, mx,
						(tr == "none" ? "-" : tw), (tr == "none" ? "-" : sprintf("%.0f", rss/1024))
				}' "$WORK/sel"
		done
	done
	echo
	echo "### Start-up: launch to first traced call"
	echo
	echo "The tracer launches \`syscalls marker\`, whose first system call is a failing openat made right after"
	echo "reading CLOCK_REALTIME; launch time is bash's \$EPOCHREALTIME just before the tracer is started."
	echo "first call: median launch→marker; over untraced: minus the untraced median (exec of a static binary);"
	echo "total: launch→tracer exit; CPU: user + system time of the tracer for the whole run (median), which on a"
	echo "loaded machine says more than the wall-clock figures; traced: the marker call is in the tracer's output"
	echo "(every repetition). Load: $(cut -f10 "$WORK/startup.tsv" | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{print lo "–" hi}')."
	echo
	echo "| tracer | first call ms | over untraced ms | total ms | CPU ms | traced | RSS MB |"
	echo "|---|---:|---:|---:|---:|---|---:|"
	base=$(awk -F'\t' '$2=="none"{print $4}' "$WORK/startup.tsv" | median)
	for tr in none $TRACERS; do
		awk -F'\t' -v tr="$tr" '$2==tr' "$WORK/startup.tsv" >"$WORK/sel"
		[ -s "$WORK/sel" ] || continue
		f=$(cut -f4 "$WORK/sel" | grep -v nan | median)
		tot=$(cut -f5 "$WORK/sel" | median)
		cpu=$(cut -f9 "$WORK/sel" | median)
		rss=$(cut -f7 "$WORK/sel" | sort -g | tail -1)
		tr_ok=$(cut -f6 "$WORK/sel" | sort -u | tr '\n' '/' | sed 's#/$##')
		awk -v tr="$tr" -v f="$f" -v b="$base" -v tot="$tot" -v cpu="$cpu" -v ok="$tr_ok" -v rss="$rss" 'BEGIN{
			printf "| %s | %.1f | %s | %.1f | %.0f | %s | %s |\n", tr, f, (tr=="none" ? "-" : sprintf("%.1f", f-b)), tot, cpu, ok,
				(tr=="none" ? "-" : sprintf("%.0f", rss/1024)) }'
	done
	if [ -s "$BYST" ]; then
		echo
		echo "### Bystanders: untraced processes while whyfail traces something else"
		echo
		echo "| loop | alone ns/call | while whyfail traces an idle \`sleep\` ns/call | x |"
		echo "|---|---:|---:|---:|"
		for mode in getppid fail; do
			a=$(awk -F'\t' -v m="$mode" '$1=="alone" && $2==m {print $3}' "$BYST" | median)
			b=$(awk -F'\t' -v m="$mode" '$1=="bystander" && $2==m {print $3}' "$BYST" | median)
			awk -v m="$mode" -v a="$a" -v b="$b" 'BEGIN{printf "| %s | %.0f | %.0f | %.2f |\n", m, a, b, (a>0 ? b/a : 0)}'
		done
	fi
	if [ -s "$KSTAT" ]; then
		echo
		echo "### In-kernel cost of whyfail's sys_exit program (kernel.bpf_stats_enabled=1)"
		echo
		echo "Deltas of run_time_ns and run_cnt of whyfail's on_sys_exit program around each loop (run_cnt also"
		echo "counts every other syscall exit on the machine meanwhile). ns/call is the loop's own measurement"
		echo "with statistics on (which adds two clock reads per program run). ns per loop call: the program's time"
		echo "for the loop's own calls, the runs beyond them counted at the bystander row's ns per run."
		echo
		echo "| loop | calls | program runs | ns per run | ns per loop call | loop ns/call |"
		echo "|---|---:|---:|---:|---:|---:|"
		awk -F'\t' '{
			split($2, a, " "); split($3, b, " ")
			dt = b[1] - a[1]; dc = b[2] - a[2]
			if ($1 == "bystander-getppid" && dc > 0) by = dt / dc
			own = (dc > 0 && $4 > 0 && by > 0) ? sprintf("%.0f", (dt - (dc - $4) * by) / $4) : "-"
			printf "| %s | %d | %d | %s | %s | %.0f |\n", $1, $4, dc, (dc > 0 ? sprintf("%.0f", dt/dc) : "-"), own, $5 }' "$KSTAT"
	fi
}
