# A job whose state cannot be understood — an unknown stage or destination
# state, a job.ini that is garbage, truncated, missing, a link, a FIFO, a
# directory that is a link — is quarantined: moved aside with its reason,
# nothing deleted, reported by `scand jobs` and `scand resume` (exit 1) and by
# the daemon. `scand jobs` prints what a corrupt job holds without letting it
# drive the terminal. A job whose document was removed fails at once with a
# clear reason instead of being retried for days.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

run() {
  local out=$1 err=$2; shift 2
  set +e
  timeout 60 "$SCAND" "$@" >"$out" 2>"$err"
  local rc=$?
  set -e
  echo "$rc"
}

cat >"$T/c.conf" <<CONF
[output gone]
type = folder
path = $T/not-there
CONF

# queued_job: scans one page for an output that is not there; prints the job id.
queued_job() {
  local rc
  rc=$(run "$T/out" "$T/err" scan -q --config "$T/c.conf" --device sane:test:0 --pages 1 --to gone)
  assert_eq 75 "$rc" "queued scan" >&2
  ls -t "$SCAND_SPOOL" | grep -E '^[0-9]{8}-[0-9]{6}-[0-9]{6}$' | head -1
}

# corrupt NAME COMMAND: makes a queued job, corrupts it with COMMAND (run in
# the job's directory with $J set), then checks it is quarantined intact.
corrupt() {
  local name=$1 cmd=$2 id J files_before
  id=$(queued_job)
  J="$SCAND_SPOOL/$id"
  files_before=$(cd "$J" && find . -name 'page-*' -o -name document.pdf | sort)
  [ -n "$files_before" ] || fail "$name: the job holds no pages"
  (cd "$J" && J=$J eval "$cmd")
  # scand jobs shows it as unreadable and exits 1; nothing moves yet.
  rc=$(run "$T/out" "$T/err" jobs)
  assert_eq 1 "$rc" "$name: scand jobs exit status"
  grep -q "^$id  unreadable  " "$T/out" || { cat "$T/out" >&2; fail "$name: scand jobs does not say unreadable"; }
  # resume quarantines it, says why and where, exits 1.
  rc=$(run "$T/out" "$T/err" resume --config "$T/c.conf")
  assert_eq 1 "$rc" "$name: scand resume exit status"
  assert_contains "$T/err" "job $id: "
  assert_contains "$T/err" "quarantined, nothing deleted: $SCAND_SPOOL/quarantine/$id"
  [ ! -e "$J" ] && [ ! -L "$J" ] || fail "$name: the job is still in the queue"
  local Q="$SCAND_SPOOL/quarantine/$id"
  [ -e "$Q" ] || [ -L "$Q" ] || fail "$name: the job is not in the quarantine"
  if [ -d "$Q" ] && [ ! -L "$Q" ]; then
    assert_eq "$files_before" "$(cd "$Q" && find . -name 'page-*' -o -name document.pdf | sort)" "$name: pages kept"
  fi
  [ -s "$Q.reason" ] || fail "$name: no reason beside the quarantined job"
  # scand jobs reports it from now on, and exits 1.
  rc=$(run "$T/out" "$T/err" jobs)
  assert_eq 1 "$rc" "$name: scand jobs after quarantine"
  grep -q "^$id  quarantined  .*(kept in $Q)" "$T/out" || { cat "$T/out" >&2; fail "$name: not reported"; }
  # retry and cancel say where it went.
  rc=$(run "$T/out" "$T/err" retry "$id")
  assert_eq 1 "$rc" "$name: retry of a quarantined job"
  assert_contains "$T/err" "job $id is quarantined in $Q"
  # A second resume leaves it alone (still exit 1: it waits for a person).
  rc=$(run "$T/out" "$T/err" resume --config "$T/c.conf")
  assert_eq 1 "$rc" "$name: second resume"
  [ -e "$Q" ] || [ -L "$Q" ] || fail "$name: the quarantined job went away"
  echo "$name: ok"
}

corrupt unknown-stage 'sed -i "s/^stage=.*/stage=frobbed/" job.ini'
assert_contains "$SCAND_SPOOL/quarantine/$(ls "$SCAND_SPOOL/quarantine" | grep -v reason | tail -1).reason" \
  'unknown stage "frobbed"'
corrupt no-stage 'sed -i "/^stage=/d" job.ini'
corrupt unknown-dest-state 'sed -i "s/^state=.*/state=delivered-maybe/" job.ini'
corrupt dest-gap 'sed -i "s/^\[dest 0\]/[dest 1]/" job.ini'
corrupt attempts-not-number 'sed -i "s/^attempts=.*/attempts=lots/" job.ini'
corrupt garbage 'printf "\x00\xff\xfe[[[ not ini\n" >job.ini'
corrupt truncated 'head -c 40 job.ini >t && mv t job.ini'
corrupt empty ': >job.ini'
corrupt missing 'rm job.ini'
corrupt symlink 'ln -sf /etc/passwd job.ini.l && mv job.ini.l job.ini'
corrupt fifo 'rm job.ini && mkfifo job.ini'
corrupt huge 'head -c 2000000 /dev/zero | tr "\0" "#" >>job.ini'
corrupt dir-is-link 'mv "$J" "$J.real" && ln -s "$J.real" "$J"'
# What the link pointed to is untouched (and then dropped: it is a job too).
real=$(ls -d "$SCAND_SPOOL"/*.real | head -1)
[ -f "$real/job.ini" ] || fail "the link's target was touched"
"$SCAND" cancel "$(basename "$real")" >/dev/null

# The daemon quarantines too, and says so in its log.
id=$(queued_job)
sed -i "s/^stage=.*/stage=assembled-ish/" "$SCAND_SPOOL/$id/job.ini"
printf '[scand]\nretry-min = 1\n' >"$T/d.conf"
daemon_start "$T/d.conf" --no-bus --queue-interval 200
wait_for 20 test -e "$SCAND_SPOOL/quarantine/$id" || { cat "$T/daemon.log"; fail "the daemon did not quarantine"; }
daemon_stop
assert_contains "$T/daemon.log" "job $id: "
assert_contains "$T/daemon.log" "quarantined, nothing deleted"

# scand jobs never prints a terminal control sequence from a job file.
rm -rf "$SCAND_SPOOL/quarantine"
id=$(queued_job)
esc=$(printf '\033')
bel=$(printf '\007')
sed -i "s/^device=.*/device=${esc}]0;pwned${bel}${esc}[2J/" "$SCAND_SPOOL/$id/job.ini"
sed -i "s/^last-error=.*/last-error=${esc}[31mred${esc}[0m $(printf '\342\200\256')txt.exe/" "$SCAND_SPOOL/$id/job.ini"
rc=$(run "$T/out" "$T/err" jobs)
assert_eq 0 "$rc" "scand jobs on a job with control characters"
if LC_ALL=C grep -q "[$esc$bel]" "$T/out"; then fail "scand jobs printed a control character"; fi
if grep -q "$(printf '\342\200\256')" "$T/out"; then fail "scand jobs printed a bidi override"; fi
assert_contains "$T/out" '\x1b]0;pwned\x07\x1b[2J'
assert_contains "$T/out" '\x1b[31mred\x1b[0m \u202etxt.exe'
"$SCAND" cancel "$id" >/dev/null

# A removed document fails at once, clearly, and is not retried for days.
id=$(queued_job)
rm "$SCAND_SPOOL/$id/document.pdf"
mkdir -p "$T/not-there"
rc=$(run "$T/out" "$T/err" resume --config "$T/c.conf")
assert_eq 1 "$rc" "resume of a job whose document is missing"
assert_contains "$T/err" "its document $SCAND_SPOOL/$id/document.pdf is missing from the spool"
"$SCAND" jobs >"$T/out"
grep -q "^$id  failed " "$T/out" || { cat "$T/out" >&2; fail "the job is not failed for good"; }
[ "$(count_files "$T/not-there")" -eq 0 ] || fail "something was delivered without a document"
echo ok
