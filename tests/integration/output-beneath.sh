# Every output's file lands beneath its destination, whatever the job's name
# or the destination's content says: a job.ini whose name climbs out
# ("../../../escaped.pdf", absolute, "a/../..", control characters) is
# quarantined and nothing is written; a symbolic link inside a folder
# destination (a subdirectory, the final name, the temporary name) or on a USB
# stick (its subdirectory) is never followed. Needs root for the stick.
. "$SCAND_SRCDIR/tests/lib/common.sh"
[ "$(id -u)" -eq 0 ] || fail "this test mounts a USB stick image and must run as root"

run() {
  local out=$1 err=$2; shift 2
  set +e
  timeout 60 "$SCAND" "$@" >"$out" 2>"$err"
  local rc=$?
  set -e
  echo "$rc"
}

"$SCAND" assemble -o "$T/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null 2>"$T/err" ||
  { cat "$T/err"; fail "assemble"; }
mkdir -p "$T/outside" "$T/dest/deep/er"
echo "precious" >"$T/outside/victim.pdf"
snapshot() { (cd "$T/outside" && find . -printf '%p %s %m\n' | sort); }
before=$(snapshot)

# 1. A tampered job.ini name: quarantined, nothing written anywhere.
cat >"$T/c.conf" <<CONF
[output dest]
type = folder
path = $T/dest/deep/er
CONF
for name in "../../../outside/escaped.pdf" "../escaped.pdf" "$T/outside/abs.pdf" "a/../../../outside/x.pdf" \
  "./x.pdf" "a//x.pdf" "x/" ".." "$(printf 'x\033[2J.pdf')"; do
  # A job queued for the folder while it is away, then its name is changed.
  mv "$T/dest" "$T/dest.away"
  rc=$(run "$T/out" "$T/err" deliver "$T/doc.pdf" --config "$T/c.conf" --to dest --name ok.pdf)
  assert_eq 75 "$rc" "queued delivery"
  mv "$T/dest.away" "$T/dest"
  id=$(ls "$SCAND_SPOOL" | grep -E '^[0-9]{8}-[0-9]{6}-[0-9]{6}$' | head -1)
  python3 - "$SCAND_SPOOL/$id/job.ini" "$name" <<'PY'
import sys
path, name = sys.argv[1], sys.argv[2]
lines = open(path).read().split("\n")
out = [("name=" + name.replace("\\", "\\\\").replace("\n", "\\n")) if l.startswith("name=") else l for l in lines]
open(path, "w").write("\n".join(out))
PY
  grep -q "^name=" "$SCAND_SPOOL/$id/job.ini" || fail "no name in the job"
  rc=$(run "$T/out" "$T/err" resume --config "$T/c.conf")
  assert_eq 1 "$rc" "resume of a job named '$name'"
  assert_contains "$T/err" "quarantined, nothing deleted"
  assert_contains "$T/err" "is refused"
  [ -d "$SCAND_SPOOL/quarantine/$id" ] || fail "job named '$name' not quarantined"
  [ "$(snapshot)" = "$before" ] || fail "'$name' wrote outside the destination"
  [ -z "$(find "$T/dest" -type f)" ] || { find "$T/dest"; fail "'$name' delivered something"; }
  [ -z "$(find "$T" -maxdepth 1 -name '*.pdf' ! -name doc.pdf)" ] || fail "'$name' wrote beside the test"
done
rm -rf "$SCAND_SPOOL/quarantine"

# 2. A link inside the folder: a subdirectory of the name is a link out.
ln -s "$T/outside" "$T/dest/deep/er/sub"
rc=$(run "$T/out" "$T/err" deliver "$T/doc.pdf" --config "$T/c.conf" --to dest --name sub/x.pdf)
assert_eq 1 "$rc" "delivery through a linked subdirectory"
assert_contains "$T/err" "sub is a symbolic link, never followed out of the destination"
[ "$(snapshot)" = "$before" ] || fail "a linked subdirectory was followed"
"$SCAND" cancel "$(ls "$SCAND_SPOOL" | grep -E '^[0-9]{8}-' | head -1)" >/dev/null
# … and deeper: a real directory, then a link.
mkdir "$T/dest/deep/er/real"
ln -s "$T/outside" "$T/dest/deep/er/real/link"
rc=$(run "$T/out" "$T/err" deliver "$T/doc.pdf" --config "$T/c.conf" --to dest --name real/link/more/x.pdf)
assert_eq 1 "$rc" "delivery through a deeper link"
assert_contains "$T/err" "real/link is a symbolic link"
[ "$(snapshot)" = "$before" ] || fail "a deeper link was followed"
"$SCAND" cancel "$(ls "$SCAND_SPOOL" | grep -E '^[0-9]{8}-' | head -1)" >/dev/null

# 3. The final name is a link to a file outside: taken, so "-2"; never written through.
ln -s "$T/outside/victim.pdf" "$T/dest/deep/er/scan.pdf"
rc=$(run "$T/out" "$T/err" deliver "$T/doc.pdf" --config "$T/c.conf" --to dest --name scan.pdf)
assert_eq 0 "$rc" "delivery beside a linked name"
cmp "$T/doc.pdf" "$T/dest/deep/er/scan-2.pdf" || fail "not delivered as scan-2.pdf"
[ "$(snapshot)" = "$before" ] || fail "a linked final name was written through"

# 4. The temporary name is a link: replaced, never written through. The
# name is .scand-JOB-HASH.part (HASH: GLib's g_str_hash of the output name).
mv "$T/dest" "$T/dest.away"
rc=$(run "$T/out" "$T/err" deliver "$T/doc.pdf" --config "$T/c.conf" --to dest --name tmp.pdf)
assert_eq 75 "$rc" "queued delivery"
mv "$T/dest.away" "$T/dest"
id=$(ls "$SCAND_SPOOL" | grep -E '^[0-9]{8}-[0-9]{6}-[0-9]{6}$' | head -1)
hash=$(python3 -c 'import sys
h = 5381
for b in sys.argv[1].encode():
    h = (h * 33 + b) & 0xffffffff
print("%08x" % h)' dest)
ln -s "$T/outside/victim.pdf" "$T/dest/deep/er/.scand-$id-$hash.part"
rc=$(run "$T/out" "$T/err" resume --config "$T/c.conf")
assert_eq 0 "$rc" "resume over a linked temporary name"
cmp "$T/doc.pdf" "$T/dest/deep/er/tmp.pdf" || fail "tmp.pdf not delivered"
[ "$(snapshot)" = "$before" ] || fail "a linked temporary name was written through"

# 5. A USB stick whose subdirectory is a link to this machine's files.
label=SB$$$RANDOM
label=${label:0:16}
mkdir -p "$T/media/stick"
truncate -s 16M "$T/stick.img"
mkfs.ext4 -q -F -L "$label" "$T/stick.img"
mount -o loop "$T/stick.img" "$T/media/stick"
on_exit "umount -l '$T/media/stick'"
ln -s "$T/outside" "$T/media/stick/Scans"
cat >"$T/u.conf" <<CONF
[output stick]
type = usb
label = $label
media-root = $T/media
allow-non-removable = true
subdir = Scans/office
CONF
rc=$(run "$T/out" "$T/err" deliver "$T/doc.pdf" --config "$T/u.conf" --to stick --name u.pdf)
assert_eq 1 "$rc" "delivery onto a stick whose subdir is a link"
assert_contains "$T/err" "Scans is a symbolic link, never followed out of the destination"
[ "$(snapshot)" = "$before" ] || fail "a link on the stick was followed"
"$SCAND" cancel "$(ls "$SCAND_SPOOL" | grep -E '^[0-9]{8}-' | head -1)" >/dev/null
# A real subdirectory on the same stick works.
rm "$T/media/stick/Scans"
rc=$(run "$T/out" "$T/err" deliver "$T/doc.pdf" --config "$T/u.conf" --to stick --name u.pdf)
assert_eq 0 "$rc" "delivery onto the stick"
cmp "$T/doc.pdf" "$T/media/stick/Scans/office/u.pdf" || fail "u.pdf not on the stick"
echo ok
