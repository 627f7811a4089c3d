# SANE hardware buttons: the daemon polls a scanner's buttons and a press
# starts the profile mapped to that button, once per press; between polls the
# device is released, so other programs can open it. The scanner is
# tests/sane-button's SANE backend (SANE's own test backend has no buttons),
# loaded by libsane from LD_LIBRARY_PATH.
. "$SCAND_SRCDIR/tests/lib/common.sh"
. "$SCAND_SRCDIR/tests/lib/daemon.sh"

mkdir -p "$T/sane"
echo scandtest >"$T/sane/dll.conf"
export SANE_CONFIG_DIR="$T/sane" LD_LIBRARY_PATH="$SCANDTEST_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export SCANDTEST_BUTTONS="$T/buttons"
: >"$SCANDTEST_BUTTONS"

cat >"$T/scand.conf" <<CONF
[scanner desk]
device = sane:scandtest:0
auto-scan = button
poll-interval = 1s
buttons = scan=letter;email=photo

[profile letter]
source = flatbed
[profile photo]
source = flatbed
mode = gray

[output letters]
type = folder
path = $T/letters
create = true
[output photos]
type = folder
path = $T/photos
create = true

[rule photo]
profile = photo
deliver = photos
name = photo-{seq}.pdf
[rule letter]
trigger = button
deliver = letters
name = {profile}-{seq}.pdf
CONF
daemon_start "$T/scand.conf" --no-bus --queue-interval 500
sleep 3
[ ! -d "$T/letters" ] && [ ! -d "$T/photos" ] || fail "a scan started with no button pressed"

# Between polls the device is free: another program can take it.
free=0
for i in $(seq 1 10); do
  if flock -n "$SCANDTEST_BUTTONS.lock" true; then free=$((free + 1)); fi
  sleep 0.3
done
[ $free -ge 8 ] || fail "the device was held by the poller in $((10 - free)) of 10 tries"
scanimage -d scandtest:0 --format=pnm >"$T/other.pnm" 2>"$T/err" || { cat "$T/err"; fail "another program could not scan"; }

# Press "scan": the letter profile, once, however long the button is held.
echo scan >"$SCANDTEST_BUTTONS"
wait_for 20 test -f "$T/letters/letter-0001.pdf" || { cat "$T/daemon.log"; fail "button press did not start a scan"; }
assert_eq 1 "$(pdf_pages "$T/letters/letter-0001.pdf")" "pages"
sleep 3
assert_eq 1 "$(count_files "$T/letters")" "scans while the button is held"
: >"$SCANDTEST_BUTTONS"
sleep 2

# Press "email": the photo profile.
echo email >"$SCANDTEST_BUTTONS"
wait_for 20 test -f "$T/photos/photo-0002.pdf" || { cat "$T/daemon.log"; fail "second button did not start its profile"; }
: >"$SCANDTEST_BUTTONS"
sleep 2
assert_eq 1 "$(count_files "$T/letters")" "letters after the email button"
assert_eq 1 "$(count_files "$T/photos")" "photos"
grep -q "button scan pressed" "$T/daemon.log" || fail "press not logged"
daemon_stop
echo ok
