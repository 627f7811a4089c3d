# scand's SANE backend and SANE's own frontend (scanimage) read the same pixels
# from the test backend. Lineart pages go into the PDF losslessly (CCITT G4), so
# pdfimages gives back exactly the bits scand read; scanimage writes a PBM of
# the same settings. Rows are compared bit by bit, padding bits excluded.
. "$SCAND_SRCDIR/tests/lib/common.sh"

compare_pbm() {
  python3 - "$1" "$2" <<'PY'
import sys

def read_pbm(path):
    data = open(path, "rb").read()
    fields, pos = [], 0
    while len(fields) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P4", (path, fields[0])
    return int(fields[1]), int(fields[2]), data[pos + 1:]

w1, h1, a = read_pbm(sys.argv[1])
w2, h2, b = read_pbm(sys.argv[2])
assert (w1, h1) == (w2, h2), f"size: scanimage {w1}x{h1}, scand {w2}x{h2}"
row = (w1 + 7) // 8
assert len(a) == len(b) == row * h1, (len(a), len(b), row * h1)
mask = (0xFF << (8 - w1 % 8)) & 0xFF if w1 % 8 else 0xFF
ones = 0
for y in range(h1):
    ra, rb = bytearray(a[y * row:(y + 1) * row]), bytearray(b[y * row:(y + 1) * row])
    ra[-1] &= mask
    rb[-1] &= mask
    assert ra == rb, f"row {y} differs"
    ones += sum(bin(x).count("1") for x in ra)
assert 0 < ones < w1 * h1, "the test picture should have black and white pixels"
print(f"{w1}x{h1}: identical, {ones} black pixels")
PY
}

# check NAME SCAND-ARGS… -- SCANIMAGE-ARGS… (the test backend's whole bed is
# 200 x 200 mm; scand scans all of it when no area is given)
check() {
  local name=$1
  shift
  local scand_args=() scanimage_args=()
  while [ "$1" != "--" ]; do scand_args+=("$1"); shift; done
  shift
  scanimage_args=("$@")
  "$SCAND" scan -q --device sane:test:0 --source flatbed --mode lineart "${scand_args[@]}" \
    --to "$T/$name" >"$T/$name.out" 2>"$T/$name.err" || { cat "$T/$name.err"; fail "$name: scand scan"; }
  local pdf
  pdf=$(cat "$T/$name.out")
  [ -f "$pdf" ] || fail "$name: no PDF ($pdf)"
  pdfimages "$pdf" "$T/$name-img"
  [ -f "$T/$name-img-000.pbm" ] || fail "$name: the PDF page is not a 1-bit image: $(ls "$T")"
  scanimage -d test:0 --mode Gray --depth 1 --format=pnm "${scanimage_args[@]}" >"$T/$name-si.pbm" \
    2>"$T/$name-si.err" || { cat "$T/$name-si.err"; fail "$name: scanimage"; }
  compare_pbm "$T/$name-si.pbm" "$T/$name-img-000.pbm" || fail "$name: pages differ"
}

check grid75 --resolution 75 --option test-picture=Grid \
  -- --resolution 75 -l 0 -t 0 -x 200 -y 200 --test-picture Grid
check pattern100 --resolution 100 --option "test-picture=Color pattern" \
  -- --resolution 100 -l 0 -t 0 -x 200 -y 200 --test-picture "Color pattern"
# An area given as device options (tl/br in mm), applied after scand's own.
check area150 --resolution 150 --option test-picture=Grid --option tl-x=13 --option tl-y=27 \
  --option br-x=90 --option br-y=71 \
  -- --resolution 150 -l 13 -t 27 -x 77 -y 44 --test-picture Grid
# Small reads must not change a bit.
check limit --resolution 75 --option test-picture=Grid --option read-limit=yes --option read-limit-size=13 \
  -- --resolution 75 -l 0 -t 0 -x 200 -y 200 --test-picture Grid
echo "ok"
