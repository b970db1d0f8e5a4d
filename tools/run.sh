#!/usr/bin/env bash
# tools/run.sh — build every fuzz target and run a time-boxed fuzzing campaign over all of them.
#
# Usage: tools/run.sh [--seconds N] [--jobs N] [--engine libfuzzer|afl] [--target NAME]...
#                     [--keep-going] [--json] [--help]
#   --seconds N     wall-clock budget for fuzzing, build excluded (default 60). Targets run in
#                   rounds of --jobs at a time and every target gets the same share:
#                   N / ceil(targets / jobs) seconds (at least 1).
#   --jobs N        targets fuzzed at the same time (default 2 if nproc >= 2, else 1).
#   --engine E      libfuzzer (default; preset `fuzz`, ASan + UBSan) or afl (preset `afl`, AFL++;
#                   its execution counts refresh only once a minute while it runs).
#   --target NAME   fuzz only this target (repeatable); default: every build/<preset>/fuzz/*_fuzzer.
#   --keep-going    a finding does not end the campaign: every target runs its full share, and a
#                   libFuzzer target keeps fuzzing past its own crashes (-fork=1 -ignore_crashes=1
#                   etc.; expect several crash files per bug). Default: a target stops at its
#                   first finding and targets not yet started are skipped.
#   --json          print the final summary as JSON on stdout; everything else goes to stderr.
#
# Per target T, state lives in build/fuzz-work/T/ (never in the source tree):
#   corpus/      working corpus: the compiled seeds build/<preset>/corpus/T/**/*.bin are copied in
#                at every run, then the fuzzer adds to it; it persists between runs.
#   artifacts/   libFuzzer crash-/leak-/timeout-/oom- files (kept across runs; only files from
#                this run count as findings).
#   afl/RUN/     AFL++ output directory of one run (RUN = start time), so its statistics are
#                this run's and earlier crash files stay where they were reported; new queue
#                entries are copied into corpus/ afterwards.
#   *.log        the fuzzer's full output for this run.
# Side files fuzz/T.dict and fuzz/T.options ([libfuzzer] section, key = value) are used if present.
#
# Target status: ok, finding, error (exited non-zero without a finding), overran (still running
# long after its share; killed), skipped (not started after a finding), interrupted.
# Exit status: 0 nothing found; 1 findings (each listed with the commands that reproduce it);
#              2 bad usage; 3 build failure, or a fuzzer that errored or overran; 130 interrupted.
# Environment: PTSIM_SKIP_BOOTSTRAP=1 skips the package check; PTSIM_AFL_TIMEOUT_MS (default 2000)
# is afl-fuzz's per-input timeout; PTSIM_FUZZ_GRACE_SECONDS (default 60) is how long a target may
# overrun its share before it is killed; ASAN_OPTIONS/UBSAN_OPTIONS are respected when set.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PTSIM_ROOT"

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------
budget=60
jobs=""
engine=libfuzzer
json=0
keep_going=0
only_targets=()

# need_value OPTION ARGC: the option must have an argument.
need_value() {
  (($2 >= 2)) || ptsim_die --code 2 "$1 needs a value (try --help)"
}

while (($#)); do
  case "$1" in
    --seconds) need_value "$1" $# && budget=$2 && shift ;;
    --seconds=*) budget=${1#*=} ;;
    --jobs | -j) need_value "$1" $# && jobs=$2 && shift ;;
    --jobs=*) jobs=${1#*=} ;;
    --engine) need_value "$1" $# && engine=$2 && shift ;;
    --engine=*) engine=${1#*=} ;;
    --target) need_value "$1" $# && only_targets+=("$2") && shift ;;
    --target=*) only_targets+=("${1#*=}") ;;
    --keep-going) keep_going=1 ;;
    --json) json=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) ptsim_die --code 2 "unknown argument: $1 (try --help)" ;;
  esac
  shift
done

ptsim_is_positive "$budget" || ptsim_die --code 2 "--seconds needs a positive integer"
budget=$((10#$budget))
if [[ -n $jobs ]]; then
  ptsim_is_positive "$jobs" || ptsim_die --code 2 "--jobs needs a positive integer"
  jobs=$((10#$jobs))
elif (($(ptsim_nproc) >= 2)); then
  jobs=2
else
  jobs=1
fi
case "$engine" in
  libfuzzer) preset=fuzz ;;
  afl) preset=afl ;;
  *) ptsim_die --code 2 "--engine must be libfuzzer or afl, not '$engine'" ;;
esac

# With --json, stdout is reserved for the JSON document: keep it on fd 3 and send everything else
# (cmake, progress, messages) to stderr.
if ((json)); then
  exec 3>&1 1>&2
else
  exec 3>&1
fi

build_dir="build/$preset"
work_root="build/fuzz-work"
run_id="$(date +%Y%m%d-%H%M%S)"

# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------
ptsim_bootstrap || ptsim_die --code 3 "bootstrap failed"
ptsim_header "configure [$preset]"
cmake --preset "$preset" || ptsim_die --code 3 "configure failed"
ptsim_header "build [$preset]"
cmake --build --preset "$preset" -j "$(ptsim_nproc)" || ptsim_die --code 3 "build failed"
ptsim_ensure_symbolizer

# Targets are discovered, never listed here: a new fuzz target needs no change to this script.
targets=()
shopt -s nullglob
for path in "$build_dir"/fuzz/*_fuzzer; do
  [[ -f $path && -x $path ]] || continue
  name=${path##*/}
  if ((${#only_targets[@]})) && [[ " ${only_targets[*]} " != *" $name "* ]]; then
    continue
  fi
  targets+=("$name")
done
shopt -u nullglob
for name in "${only_targets[@]}"; do
  [[ -x $build_dir/fuzz/$name ]] || ptsim_die --code 2 "no fuzz target $build_dir/fuzz/$name"
done
((${#targets[@]})) || ptsim_die --code 3 "no fuzz targets found in $build_dir/fuzz/"

((jobs <= ${#targets[@]})) || jobs=${#targets[@]}
rounds=$(((${#targets[@]} + jobs - 1) / jobs))
per_target=$((budget / rounds))
if ((per_target < 1)); then
  per_target=1
  ptsim_warn "--seconds $budget is less than one second per round; using 1s per target"
fi

# Defaults that an options file may override. A 10 s per-input timeout (libFuzzer's default is
# 1200 s) makes a hang a finding instead of silently eating the whole budget.
LIBFUZZER_DEFAULTS=(-timeout=10)
# Flags the campaign itself controls; an options file must not change them.
is_reserved_flag() {
  case "$1" in
    max_total_time | artifact_prefix | exact_artifact_path | print_final_stats | fork | jobs | \
      workers | merge | minimize_crash | ignore_crashes | ignore_timeouts | ignore_ooms) return 0 ;;
    *) return 1 ;;
  esac
}
AFL_TIMEOUT_MS=${PTSIM_AFL_TIMEOUT_MS:-2000}

# Sanitizer defaults for libFuzzer runs, only where the user has not chosen. Leak detection
# matters: a leaked table is a bug here. (Not for AFL++: it sets its own and refuses others.)
if [[ $engine == libfuzzer ]]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS-detect_leaks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS-halt_on_error=1:print_stacktrace=1}"
fi

# ---------------------------------------------------------------------------------------------
# Per-target setup
# ---------------------------------------------------------------------------------------------

# Per-target results, filled in as targets finish. Keys are target names.
declare -A t_status t_rc t_secs t_execs t_eps t_cov t_ft t_corpus t_findings t_log t_pid t_start
declare -A t_artifacts # newline-separated paths

# read_options TARGET: sets opt_flags (libFuzzer -key=value flags from fuzz/TARGET.options,
# [libfuzzer] section) and opt_dict (the dictionary to use, or empty).
read_options() {
  local target=$1 file="fuzz/$1.options" section="" line key value
  opt_flags=()
  opt_dict=""
  if [[ -f $file ]]; then
    while IFS= read -r line || [[ -n $line ]]; do
      # Trim; whole-line comments only (as ClusterFuzz's configparser reads these files).
      line="${line#"${line%%[![:space:]]*}"}"
      line="${line%"${line##*[![:space:]]}"}"
      [[ -z $line || $line == \#* || $line == \;* ]] && continue
      if [[ $line =~ ^\[(.*)\]$ ]]; then
        section=${BASH_REMATCH[1]}
        continue
      fi
      [[ $section == libfuzzer ]] || continue
      if [[ ! $line =~ ^([A-Za-z0-9_]+)[[:space:]]*[=:][[:space:]]*(.*)$ ]]; then
        ptsim_warn "$file: ignoring line: $line"
        continue
      fi
      key=${BASH_REMATCH[1]}
      value=${BASH_REMATCH[2]}
      if is_reserved_flag "$key"; then
        ptsim_warn "$file: '$key' is controlled by tools/run.sh; ignored"
        continue
      fi
      if [[ $key == dict ]]; then
        # Relative dictionary paths are relative to the options file, as in ClusterFuzz.
        [[ $value == /* ]] || value="fuzz/$value"
        opt_dict=$value
        continue
      fi
      opt_flags+=("-$key=$value")
    done <"$file"
  fi
  if [[ -z $opt_dict && -s fuzz/$target.dict ]]; then
    opt_dict="fuzz/$target.dict"
  fi
  if [[ -n $opt_dict && ! -s $opt_dict ]]; then
    # libFuzzer refuses to start with a missing or empty dictionary.
    ptsim_warn "$target: dictionary $opt_dict is missing or empty; not using it"
    opt_dict=""
  fi
}

# prepare_target TARGET: refresh the working corpus from the compiled seeds.
prepare_target() {
  local target=$1 work="$work_root/$1" seeds="$build_dir/corpus/$1" seed rel n=0
  mkdir -p "$work/corpus" "$work/artifacts" "$work/afl"
  if [[ -d $seeds ]]; then
    # Flatten subdirectories (e.g. regressions/) into unique names; libFuzzer and AFL++ both want
    # one flat input directory.
    while IFS= read -r -d '' seed; do
      rel=${seed#"$seeds"/}
      cp -f -- "$seed" "$work/corpus/${rel//\//__}"
      n=$((n + 1))
    done < <(find "$seeds" -type f -name '*.bin' -print0)
  fi
  ((n > 0)) || ptsim_warn "$target: no compiled seeds in $seeds; starting from an empty corpus"
  if [[ $engine == afl && -z $(find "$work/corpus" -type f -size +0 -print -quit) ]]; then
    # afl-fuzz refuses an empty input directory; one byte is a valid (empty) program.
    printf '\0' >"$work/corpus/afl-empty-seed"
  fi
  # Findings are files newer than this marker, so crash files from earlier runs are not recounted.
  touch "$work/.run-start"
}

# launch TARGET: start the fuzzer in the background, in its own session so that it (and, in fork
# mode, its workers) can be stopped as one process group.
launch() {
  local target=$1 work="$work_root/$1" bin="$build_dir/fuzz/$1" cmd
  read_options "$target"
  if [[ $engine == libfuzzer ]]; then
    cmd=("$bin" "${LIBFUZZER_DEFAULTS[@]}" "${opt_flags[@]}")
    [[ -z $opt_dict ]] || cmd+=("-dict=$opt_dict")
    # Last occurrence of a flag wins in libFuzzer, so these come after the options file's.
    cmd+=("-artifact_prefix=$work/artifacts/" -print_final_stats=1 "-max_total_time=$per_target")
    if ((keep_going)); then
      cmd+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
    cmd+=("$work/corpus")
    t_log[$target]="$work/libfuzzer.log"
  else
    cmd=(env AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
      afl-fuzz -V "$per_target" -t "$AFL_TIMEOUT_MS" -i "$work/corpus" -o "$(afl_out "$target")")
    [[ -z $opt_dict ]] || cmd+=(-x "$opt_dict")
    cmd+=(-- "$bin")
    t_log[$target]="$work/afl.log"
  fi
  printf '%q ' "${cmd[@]}" >"${t_log[$target]}"
  printf '\n\n' >>"${t_log[$target]}"
  # A background job of a non-interactive shell is never a process-group leader, so setsid does
  # not fork: $! is the fuzzer itself and `wait` yields its exit status.
  setsid "${cmd[@]}" >>"${t_log[$target]}" 2>&1 </dev/null 3>&- &
  t_pid[$target]=$!
  t_start[$target]=$SECONDS
  t_status[$target]=running
  ptsim_log "started $target (${per_target}s): $(printf '%q ' "${cmd[@]}")"
}

# stop_target TARGET SIGNAL: signal the fuzzer's whole process group.
stop_target() {
  local pid=${t_pid[$1]-}
  [[ -n $pid ]] || return 0
  kill "-$2" -- "-$pid" 2>/dev/null || kill "-$2" "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------

# Both parsers below set s_execs s_cov s_ft s_corp s_eps s_crashes; empty means not known (yet).

# libfuzzer_status LOG: parses the newest libFuzzer status line.
# Normal mode: `#4096  pulse  cov: 12 ft: 14 corp: 5/40b lim: 4 exec/s: 2048 rss: 31Mb`
# Fork mode:   `#155964: cov: 162 ft: 317 corp: 102 exec/s 31182 oom/timeout/crash: 0/0/0 ...`
libfuzzer_status() {
  local line
  s_execs="" s_cov="" s_ft="" s_corp="" s_eps="" s_crashes=""
  line="$(tail -c 65536 "$1" 2>/dev/null | grep -aE '^#[0-9]+:?[[:space:]]' | tail -n 1)" || true
  [[ -n $line ]] || return 0
  [[ $line =~ ^#([0-9]+) ]] && s_execs=${BASH_REMATCH[1]}
  [[ $line =~ cov:\ ([0-9]+) ]] && s_cov=${BASH_REMATCH[1]}
  [[ $line =~ ft:\ ([0-9]+) ]] && s_ft=${BASH_REMATCH[1]}
  [[ $line =~ corp:\ ([0-9]+) ]] && s_corp=${BASH_REMATCH[1]}
  [[ $line =~ exec/s:?\ ([0-9]+) ]] && s_eps=${BASH_REMATCH[1]}
  return 0
}

# afl_out TARGET: this run's AFL++ output directory.
afl_out() {
  printf '%s' "$work_root/$1/afl/$run_id"
}

# afl_sync_queue TARGET: copy AFL++'s queue into the working corpus, named by content hash as
# libFuzzer names its units, so the next run of either engine starts from everything found.
afl_sync_queue() {
  local corpus="$work_root/$1/corpus" queue sum path
  queue="$(afl_out "$1")/default/queue"
  [[ -d $queue ]] || return 0
  while read -r sum path; do
    [[ -e $corpus/$sum ]] || cp -- "$path" "$corpus/$sum"
  done < <(find "$queue" -maxdepth 1 -type f -name 'id:*' -exec sha1sum -- {} +)
}

# afl_stat FILE KEY: one value from AFL++'s fuzzer_stats (`key : value`); empty if absent.
afl_stat() {
  [[ -f $1 ]] || return 0
  local key value
  while IFS=' :' read -r key value; do
    if [[ $key == "$2" ]]; then
      printf '%s' "${value#: }"
      return 0
    fi
  done <"$1"
}

# afl_status TARGET: s_* from AFL++'s files. Under AFL_NO_UI, fuzzer_stats is rewritten only
# once a minute and plot_data only when something changed, so while running, the newest
# "Fuzzing test case #N (T total, C crashes saved" log line gives the live corpus and crash counts.
afl_status() {
  local dir header row i line
  dir="$(afl_out "$1")/default"
  local -a names values
  s_execs="" s_cov="" s_ft="" s_corp="" s_eps="" s_crashes=""
  line="$(tail -c 16384 "${t_log[$1]}" 2>/dev/null | grep -a 'Fuzzing test case #' | tail -n 1)" || true
  if [[ $line =~ \(([0-9]+)\ total,\ ([0-9]+)\ crashes\ saved ]]; then
    s_corp=${BASH_REMATCH[1]}
    s_crashes=${BASH_REMATCH[2]}
  fi
  if [[ -f $dir/plot_data ]]; then
    header="$(head -n 1 "$dir/plot_data")"
    row="$(tail -n 1 "$dir/plot_data")"
    if [[ $header == \#* && $row != \#* ]]; then
      IFS=',' read -r -a names <<<"${header#\#}"
      IFS=',' read -r -a values <<<"$row"
      for i in "${!names[@]}"; do
        case "${names[i]// /}" in
          total_execs) s_execs=${values[i]// /} ;;
          execs_per_sec) s_eps=${values[i]// /} ;;
          edges_found) s_cov=${values[i]// /} ;;
          corpus_count) s_corp=${values[i]// /} ;;
          saved_crashes) s_crashes=${values[i]// /} ;;
        esac
      done
    fi
  fi
  # fuzzer_stats is final once afl-fuzz exits; use it whenever it is at least as recent.
  local v
  v=$(afl_stat "$dir/fuzzer_stats" execs_done)
  if [[ $v =~ ^[0-9]+$ ]] && ((v >= ${s_execs:-0})); then
    s_execs=$v
    s_eps=$(afl_stat "$dir/fuzzer_stats" execs_per_sec)
    s_cov=$(afl_stat "$dir/fuzzer_stats" edges_found)
    s_corp=$(afl_stat "$dir/fuzzer_stats" corpus_count)
    s_crashes=$(afl_stat "$dir/fuzzer_stats" saved_crashes)
  fi
  s_eps=${s_eps%%.*}
  # Before its first stats refresh AFL++ divides by zero elapsed time ("inf").
  [[ $s_eps =~ ^[0-9]+$ ]] || s_eps=-
  return 0
}

# finalize TARGET RC: record the target's results once it has exited.
finalize() {
  local target=$1 rc=$2 work="$work_root/$1" log=${t_log[$1]} v
  t_rc[$target]=$rc
  t_secs[$target]=$((SECONDS - t_start[$target]))
  if [[ $engine == libfuzzer ]]; then
    libfuzzer_status "$log"
    # The final stats are exact; the last status line is the fallback (fork mode has none).
    v=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    [[ -z $v ]] || s_execs=$v
    v=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    [[ -z $v ]] || s_eps=$v
    t_corpus[$target]=$(find "$work/corpus" -maxdepth 1 -type f | wc -l)
    t_artifacts[$target]=$(find "$work/artifacts" -maxdepth 1 -type f -newer "$work/.run-start" \
      \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  else
    afl_status "$target"
    t_corpus[$target]=${s_corp:-}
    afl_sync_queue "$target"
    # Hangs count too: they are what libFuzzer calls timeouts.
    local dirs=()
    for v in "$(afl_out "$target")/default/crashes" "$(afl_out "$target")/default/hangs"; do
      [[ -d $v ]] && dirs+=("$v")
    done
    t_artifacts[$target]=""
    if ((${#dirs[@]})); then
      t_artifacts[$target]=$(find "${dirs[@]}" -maxdepth 1 -type f -name 'id:*' \
        -newer "$work/.run-start" | sort)
    fi
  fi
  # libFuzzer reports 0 exec/s for runs under a second and in fork mode; use wall time then.
  if [[ -z ${s_eps:-} || ${s_eps:-} == 0 ]] && [[ ${s_execs:-} =~ ^[0-9]+$ ]] && ((t_secs[$target] > 0)); then
    s_eps=$((s_execs / t_secs[$target]))
  fi
  t_execs[$target]=${s_execs:-}
  t_eps[$target]=${s_eps:-}
  t_cov[$target]=${s_cov:-}
  t_ft[$target]=${s_ft:-}
  if [[ -n ${t_artifacts[$target]} ]]; then
    t_findings[$target]=$(grep -c '' <<<"${t_artifacts[$target]}")
  else
    t_findings[$target]=0
  fi

  if ((t_findings[$target] > 0)); then
    t_status[$target]=finding
  elif [[ ${t_status[$target]} == interrupted || ${t_status[$target]} == overran ]]; then
    : # already decided by the loop
  elif ((rc != 0)); then
    t_status[$target]=error
  else
    t_status[$target]=ok
  fi
  progress_clear
  ptsim_log "finished $target: ${t_status[$target]} (exit $rc, ${t_secs[$target]}s, ${t_execs[$target]:-?} execs, ${t_findings[$target]} findings)"
  if [[ ${t_status[$target]} == error || ${t_status[$target]} == overran ]]; then
    ptsim_error "$target failed without leaving a finding; last lines of $log:"
    # Without AFL++'s colour escapes, which are noise in a CI log.
    tail -n 25 "$log" | sed -e $'s/\e[[][0-9;?]*[A-Za-z]//g; s/\e[()]B//g' -e 's/^/    /' >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# Progress display
# ---------------------------------------------------------------------------------------------
# On a terminal: one line rewritten in place every second. Otherwise (CI logs): a plain line
# every ~10 s. Progress goes to stdout, or stderr under --json (fd 1 is stderr then).
progress_tty=0
[[ -t 1 ]] && progress_tty=1
progress_shown=0
progress_last=0

# human NUMBER: 1234567 -> 1.2M, for the narrow progress line.
human() {
  local n=$1
  if [[ ! $n =~ ^[0-9]+$ ]]; then
    printf '%s' "${n:--}"
    return
  fi
  if ((n >= 1000000000)); then
    printf '%d.%dG' $((n / 1000000000)) $((n % 1000000000 / 100000000))
  elif ((n >= 1000000)); then
    printf '%d.%dM' $((n / 1000000)) $((n % 1000000 / 100000))
  elif ((n >= 10000)); then
    printf '%dk' $((n / 1000))
  else
    printf '%d' "$n"
  fi
}

progress_clear() {
  if ((progress_shown)); then
    printf '\r\e[K'
    progress_shown=0
  fi
}

progress() {
  local target line="" width
  ((progress_tty)) || ((SECONDS - progress_last >= 10)) || return 0
  for target in "${running[@]}"; do
    if [[ $engine == libfuzzer ]]; then
      libfuzzer_status "${t_log[$target]}"
    else
      afl_status "$target"
    fi
    line+="[${target%_fuzzer} $((SECONDS - t_start[$target]))/${per_target}s"
    line+=" #$(human "$s_execs") cov $(human "$s_cov")"
    [[ -z $s_ft ]] || line+=" ft $(human "$s_ft")"
    line+=" corp $(human "$s_corp") $(human "$s_eps")/s"
    [[ -z ${s_crashes:-} ]] || line+=" crashes $s_crashes"
    line+="] "
  done
  line+="done ${#finished[@]}/${#targets[@]}"
  if ((progress_tty)); then
    width=$(tput cols 2>/dev/null || echo 120)
    printf '\r\e[K%s' "${line:0:width-1}"
    progress_shown=1
  else
    printf '%s\n' "$line"
  fi
  progress_last=$SECONDS
}

# ---------------------------------------------------------------------------------------------
# Campaign
# ---------------------------------------------------------------------------------------------
queue=("${targets[@]}")
running=()
finished=()
stopping=0 # set after a finding without --keep-going: start nothing new
interrupted=0

# The fuzzers run in their own sessions, so nothing else would stop them if this script ended
# early (an unexpected error under set -e): stop whatever is still running on any exit.
# shellcheck disable=SC2317 # invoked by the trap below
on_exit() {
  local target
  for target in "${running[@]}"; do
    stop_target "$target" TERM
  done
}
trap on_exit EXIT

# shellcheck disable=SC2317 # invoked by the trap below
on_signal() {
  interrupted=1
  progress_clear
  ptsim_warn "interrupted; stopping fuzzers"
  for target in "${running[@]}"; do
    t_status[$target]=interrupted
    stop_target "$target" TERM
  done
}
trap on_signal INT TERM

ptsim_header "fuzzing [$engine]: ${#targets[@]} target(s), ${per_target}s each, $jobs at a time"

# Grace beyond a target's share before it is killed: startup, corpus loading and final stats.
# A fuzzer still running after that is stuck (libFuzzer only checks its clock between inputs).
grace=${PTSIM_FUZZ_GRACE_SECONDS:-60}

while ((${#queue[@]} || ${#running[@]})); do
  while ((${#running[@]} < jobs && ${#queue[@]} && !stopping && !interrupted)); do
    target=${queue[0]}
    queue=("${queue[@]:1}")
    prepare_target "$target"
    launch "$target"
    running+=("$target")
  done
  if ((stopping || interrupted)); then
    for target in "${queue[@]}"; do
      t_status[$target]=skipped
      finished+=("$target")
    done
    queue=()
  fi

  sleep 1 || true # a signal may cut the sleep short

  still=()
  for target in "${running[@]}"; do
    pid=${t_pid[$target]}
    # Bash reaps exited children itself; `jobs -pr` lists the ones still running.
    if [[ " $(jobs -pr | tr '\n' ' ') " == *" $pid "* ]]; then
      if ((SECONDS - t_start[$target] > per_target + grace)); then
        progress_clear
        ptsim_warn "$target overran its ${per_target}s by ${grace}s; killing it"
        t_status[$target]=overran
        stop_target "$target" KILL
      fi
      still+=("$target")
      continue
    fi
    rc=0
    wait "$pid" || rc=$?
    finalize "$target" "$rc"
    finished+=("$target")
    if ((t_findings[$target] > 0 && !keep_going)); then
      stopping=1
    fi
  done
  running=("${still[@]}")
  ((${#running[@]} == 0)) || progress
done
progress_clear

# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------

# json_str VALUE: VALUE as a JSON string literal.
json_str() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
      \\) out+="\\\\" ;;
      \") out+='\"' ;;
      $'\n') out+='\n' ;;
      $'\t') out+='\t' ;;
      $'\r') out+='\r' ;;
      [[:cntrl:]]) out+=$(printf '\\u%04x' "'$c") ;;
      *) out+=$c ;;
    esac
  done
  printf '"%s"' "$out"
}

# json_num VALUE: a number, or null when unknown.
json_num() {
  if [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; then printf '%s' "$1"; else printf 'null'; fi
}

total_findings=0
any_error=0
for target in "${targets[@]}"; do
  total_findings=$((total_findings + ${t_findings[$target]:-0}))
  case "${t_status[$target]}" in error | overran) any_error=1 ;; esac
done

if ((interrupted)); then
  exit_code=130
elif ((total_findings > 0)); then
  exit_code=1
elif ((any_error)); then
  exit_code=3
else
  exit_code=0
fi

# shell_word WORD: WORD quoted for a shell only when it needs to be (AFL++'s file names are full
# of commas and colons, which are fine as they are; printf %q would backslash them).
shell_word() {
  if [[ $1 =~ ^[A-Za-z0-9_./:,=+@%-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# repro_commands TARGET FILE: the commands that replay one finding, one per line.
repro_commands() {
  printf '%s repro %s\n' "$(shell_word "$build_dir/tools/ptsim")" "$(shell_word "$2")"
  printf '%s %s\n' "$(shell_word "$build_dir/fuzz/$1")" "$(shell_word "$2")"
}

if ((json)); then
  {
    printf '{\n  "engine": %s,\n  "preset": %s,\n' "$(json_str "$engine")" "$(json_str "$preset")"
    printf '  "budget_seconds": %d,\n  "seconds_per_target": %d,\n  "jobs": %d,\n' \
      "$budget" "$per_target" "$jobs"
    printf '  "keep_going": %s,\n' "$( ((keep_going)) && echo true || echo false)"
    printf '  "targets": ['
    sep=""
    for target in "${targets[@]}"; do
      printf '%s\n    {"name": %s, "status": %s, "exit_code": %s, "seconds": %s,' "$sep" \
        "$(json_str "$target")" "$(json_str "${t_status[$target]}")" \
        "$(json_num "${t_rc[$target]-}")" "$(json_num "${t_secs[$target]-}")"
      printf ' "executions": %s, "exec_per_sec": %s, "coverage": %s, "features": %s,' \
        "$(json_num "${t_execs[$target]-}")" "$(json_num "${t_eps[$target]-}")" \
        "$(json_num "${t_cov[$target]-}")" "$(json_num "${t_ft[$target]-}")"
      printf ' "corpus": %s, "findings": %s, "log": %s,\n     "artifacts": [' \
        "$(json_num "${t_corpus[$target]-}")" "$(json_num "${t_findings[$target]:-0}")" \
        "$(json_str "${t_log[$target]-}")"
      asep=""
      while IFS= read -r file; do
        [[ -n $file ]] || continue
        mapfile -t cmds < <(repro_commands "$target" "$file")
        printf '%s\n       {"path": %s, "repro": [%s, %s]}' "$asep" "$(json_str "$file")" \
          "$(json_str "${cmds[0]}")" "$(json_str "${cmds[1]}")"
        asep=","
      done <<<"${t_artifacts[$target]-}"
      printf ']}'
      sep=","
    done
    printf '\n  ],\n  "findings": %d,\n  "exit_code": %d\n}\n' "$total_findings" "$exit_code"
  } >&3
else
  ptsim_header "summary [$engine, ${per_target}s per target]" 2>&3
  fmt='%-24s %-11s %12s %10s %8s %8s %8s %8s\n'
  # shellcheck disable=SC2059 # the format is the constant above
  {
    printf "$fmt" target status executions exec/s cov ft corpus findings
    for target in "${targets[@]}"; do
      printf "$fmt" "$target" "${t_status[$target]}" "${t_execs[$target]:--}" \
        "${t_eps[$target]:--}" "${t_cov[$target]:--}" "${t_ft[$target]:--}" \
        "${t_corpus[$target]:--}" "${t_findings[$target]:-0}"
    done
  } >&3
fi

# Findings are listed in both modes (on stderr under --json, where fd 1 is stderr): this is what
# a human acts on.
if ((total_findings > 0)); then
  ptsim_header "findings" 2>&1
  max_listed=5 # fork mode can save many files for one bug; the JSON has all of them
  for target in "${targets[@]}"; do
    listed=0
    while IFS= read -r file; do
      [[ -n $file ]] || continue
      if ((listed == max_listed)); then
        echo "  ... and $((t_findings[$target] - max_listed)) more for $target in ${file%/*}/"
        break
      fi
      echo "  $file"
      repro_commands "$target" "$file" | sed 's/^/      /'
      listed=$((listed + 1))
    done <<<"${t_artifacts[$target]-}"
  done
  echo "  (fuzzer output: $work_root/<target>/$engine.log)"
fi
if ((any_error)); then
  ptsim_error "some fuzzers failed without a finding; see their logs under $work_root/"
fi

exit "$exit_code"
