# Names from outside are made safe when the job is made, and the source goes
# only once its job can deliver: invalid UTF-8, control characters (newline,
# ESC, BEL), printf directives and characters shares refuse become "_"; a
# 255-byte name is cut keeping its extension, also when a second file of the
# same name needs "-2"; a broken file with a 250- or 255-byte name gets its
# .reason.txt; no raw control character reaches the log.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

mkdir -p "$T/in/one" "$T/in/two" "$T/out"
"$SCAND" assemble -o "$T/doc.pdf" "$SCAND_SRCDIR/tests/integration/data/page.pnm" >/dev/null
cat >"$T/scand.conf" <<CONF
[watch drop]
path = $T/in
stable-for = 1s
incomplete-wait = 2s
after = delete
CONF
out_conf
daemon_start "$T/scand.conf" --no-bus --queue-interval 500

long=$(printf 'x%.0s' $(seq 1 251))   # + ".pdf" = 255 bytes
long250=$(printf 'y%.0s' $(seq 1 246)) # + ".pdf" = 250 bytes
cp "$T/doc.pdf" "$T/in/$(printf '\xff\xfe-scan.pdf')"
cp "$T/doc.pdf" "$T/in/$(printf 'a\nb\x1b[31mc\x07.pdf')"
cp "$T/doc.pdf" "$T/in/%n%s%x.pdf"
cp "$T/doc.pdf" "$T/in/$(printf 'invoice\xe2\x80\xaefdp.pdf')"
cp "$T/doc.pdf" "$T/in/one/$long.pdf"
cp "$T/doc.pdf" "$T/in/two/$long.pdf"
# Broken: a PDF that never ends, a file of no known type, a name that would
# set the terminal's title if it reached the log raw.
printf '%%PDF-1.4\n' >"$T/in/$long250.pdf"
printf '%%PDF-1.4\n' >"$T/in/$long.pdx"
printf 'text' >"$T/in/$(printf 'bad\x1b]0;pwned\x07.txt')"

cut236=$(printf 'x%.0s' $(seq 1 236))
for f in "__-scan.pdf" "a_b_[31mc_.pdf" "_n_s_x.pdf" "invoice_fdp.pdf" "$cut236.pdf"; do
  wait_for 30 test -f "$T/out/$f" || { ls "$T/out"; cat -v "$T/daemon.log"; fail "$f not delivered"; }
  cmp -s "$T/doc.pdf" "$T/out/$f" || fail "$f differs"
done
wait_for 30 test -f "$T/out/$(printf 'x%.0s' $(seq 1 236))-2.pdf" || { ls "$T/out"; fail "the second long name not delivered"; }
# A reason's name is cut to fit: 244 bytes of the file's name + ".reason.txt".
for c in x y; do
  reason=$(printf "$c%.0s" $(seq 1 244)).reason.txt
  wait_for 30 test -s "$T/in/.scand-error/$reason" || { ls -a "$T/in/.scand-error"; fail "no reason for the long $c name"; }
done
[ -f "$T/in/.scand-error/$long250.pdf" ] || fail "the 250-byte broken file was not set aside"
[ -f "$T/in/.scand-error/$long.pdx" ] || fail "the 255-byte broken file was not set aside"
daemon_stop

assert_eq 6 "$(count_files "$T/out")" "files delivered"
assert_eq 0 "$(find "$T/in" -path "$T/in/.scand-error" -prune -o -type f -print | wc -l)" "sources left"
if LC_ALL=C grep -q "$(printf '[\x01-\x08\x0b-\x1f\x7f]')" "$T/daemon.log"; then
  cat -v "$T/daemon.log"
  fail "a control character reached the log"
fi
assert_contains "$T/daemon.log" 'bad\x1b]0;pwned\x07.txt'
echo ok
