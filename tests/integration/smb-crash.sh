# The SMB output survives SIGKILL at each step of a delivery (SCAND_FAULT, see
# scand/base/fault.h): after the upload, after the chosen name is recorded, after
# the rename. `scand resume` then leaves exactly one copy under the right name
# and no temporary file on a real smbd.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/smbd.sh"
[ "$(id -u)" -eq 0 ] || fail "this test maps the SMB user to root and must run as root"

smbd_setup
smbd_start

cat >"$T/scand.conf" <<CONF
[output share]
type = smb
url = $SMBD_URL/crash
username = $SMBD_USER
password-file = $SMBD_PASSWORD_FILE
CONF

# crash_and_resume FAULT NAME: delivers a fresh PDF as NAME, killed at FAULT;
# then resumes. Sets $PDF to the delivered document.
crash_and_resume() {
  local fault=$1 name=$2 rc
  PDF=$T/$fault.pdf
  { printf '%%PDF-1.4\n'; head -c 3000000 /dev/urandom; printf '\n%%%%EOF\n'; } >"$PDF"
  set +e
  SCAND_FAULT=$fault "$SCAND" deliver --config "$T/scand.conf" "$PDF" --to share --name "$name" \
    >"$T/stdout" 2>"$T/err"
  rc=$?
  set -e
  [ $rc -eq 137 ] || { cat "$T/err" >&2; fail "$fault: exit $rc, expected 137 (SIGKILL)"; }
  assert_contains "$T/err" "fault hook: SIGKILL"
  "$SCAND" resume --config "$T/scand.conf" >"$T/resumed" 2>"$T/err" \
    || { cat "$T/err" >&2; smbd_log; fail "$fault: resume"; }
  [ -z "$(find "$SMBD_SHARE" -name '.scand-*')" ] || { find "$SMBD_SHARE" >&2; fail "$fault: temporary file left"; }
  # Nothing is left to do, and doing it again changes nothing.
  "$SCAND" resume --config "$T/scand.conf" 2>"$T/err" || { cat "$T/err" >&2; fail "$fault: second resume"; }
}

# Killed after the upload, before a name was chosen: the temporary file is on
# the share; resume renames it (no second upload needed) into scan.pdf.
crash_and_resume smb-uploaded scan.pdf
cmp "$PDF" "$SMBD_SHARE/crash/scan.pdf" || fail "smb-uploaded: scan.pdf"
assert_eq 1 "$(count_files "$SMBD_SHARE")" "files after smb-uploaded"

# Killed after recording the name scan-2.pdf (scan.pdf exists), before the
# rename: resume finishes the rename into scan-2.pdf.
crash_and_resume smb-target-recorded scan.pdf
cmp "$PDF" "$SMBD_SHARE/crash/scan-2.pdf" || fail "smb-target-recorded: scan-2.pdf"
assert_eq 2 "$(count_files "$SMBD_SHARE")" "files after smb-target-recorded"

# Killed after the rename, before the job learnt it was done: resume finds
# scan-3.pdf with the right size and does not write scan-4.pdf.
crash_and_resume smb-renamed scan.pdf
cmp "$PDF" "$SMBD_SHARE/crash/scan-3.pdf" || fail "smb-renamed: scan-3.pdf"
assert_eq 3 "$(count_files "$SMBD_SHARE")" "files after smb-renamed"

# The first and second documents are untouched by the later ones.
cmp "$T/smb-uploaded.pdf" "$SMBD_SHARE/crash/scan.pdf" || fail "scan.pdf changed"
cmp "$T/smb-target-recorded.pdf" "$SMBD_SHARE/crash/scan-2.pdf" || fail "scan-2.pdf changed"
echo "ok"
