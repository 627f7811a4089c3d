#!/usr/bin/python3
"""Renders the page-intelligence test corpus from known text with Debian fonts.

Usage: page-corpus.py OUTDIR [clean N] [feature]

  clean N   N clean 300 dpi A4 pages of text (clean-NN.jpg, gray JPEG), each with
            its ground truth clean-NN.txt (the words in reading order)
  feature   the special pages: rot90/rot180/rot270 (a clean page turned), skew3
            (turned 3 degrees), blank (paper with specks of dust), stroke (blank
            with one handwritten-like stroke), barcode (a separator sheet with a
            Code 39 barcode), patch-t (a Kodak Patch T sheet), color (a letter
            with a coloured logo), photo (gray shading), letter (a bilevel-looking
            office letter, for the size goal)

Fonts: DejaVu (fonts-dejavu-core) and URW base35 (fonts-urw-base35); sizes 10
to 14 pt. Everything is deterministic (seeded), so pages are the same in
every run.
"""
import math
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFont

DPI = 300
W, H = 2480, 3508  # A4 at 300 dpi
MARGIN = 240

FONTS = [
    '/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf',
    '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
    '/usr/share/fonts/opentype/urw-base35/NimbusRoman-Regular.otf',
    '/usr/share/fonts/opentype/urw-base35/NimbusSans-Regular.otf',
    '/usr/share/fonts/opentype/urw-base35/P052-Roman.otf',
]
SIZES = [10, 11, 12, 14]

WORDS = """the office scanner sends every page to the shared folder next to the printer
and nobody has to open a mail client again because the document arrives where the
rule says it should go invoices are filed by number contracts by customer and the
weekly reports by date the network share keeps a copy of each file for seven years
so that the auditors can find what they need without asking anyone for help when
the share is down the pages wait in the spool and are delivered as soon as it comes
back nothing is lost when the power fails because each page is written to disk
before the scanner is told that it was received the daemon checks the feeder every
few seconds and starts a job when paper is placed in it the person at the device
only has to press one button and walk back to the desk where the file is already
waiting with a sensible name searchable text makes it possible to find a letter by
a phrase that appears somewhere in the middle of the third page and the small files
mean that the mailbox of the accountant does not fill up after a busy month of
receipts the quick brown fox jumps over the lazy dog while the committee discusses
the budget for the next quarter in great detail and agrees to meet again in spring
a careful reader will notice that the numbers in the table add up to the total shown
at the bottom of the page which is exactly what the treasurer promised last year
please return the signed form before the end of the month together with a copy of
your identity card and the certificate from your previous employer thank you for
your patience and for choosing our services we look forward to working with you
the library opens at nine in the morning and closes at six in the evening except on
public holidays when it stays closed all day long visitors are asked to leave their
bags in the lockers near the entrance and to speak quietly in the reading rooms
""".split()


def font(i, size):
    return ImageFont.truetype(FONTS[i % len(FONTS)], size * DPI // 72)


def text_page(seed, size=None, face=None):
    """A page of justified-left lines; returns (image, words)."""
    rnd = random.Random(seed)
    size = size or SIZES[seed % len(SIZES)]
    f = font(face if face is not None else seed, size)
    im = Image.new('L', (W, H), 255)
    d = ImageDraw.Draw(im)
    line_h = int(size * DPI / 72 * 1.45)
    y = MARGIN
    words = []
    start = rnd.randrange(len(WORDS))
    k = start
    space = d.textlength(' ', font=f)
    while y + line_h < H - MARGIN:
        x = MARGIN
        line = []
        while True:
            w = WORDS[k % len(WORDS)]
            wl = d.textlength(w, font=f)
            if x + wl > W - MARGIN:
                break
            line.append((x, w))
            x += wl + space
            k += 1
        for x0, w in line:
            d.text((x0, y), w, font=f, fill=0)
            words.append(w)
        y += line_h
        if rnd.random() < 0.12:
            y += line_h  # paragraph break
    return im, words


def save_jpeg(im, path, quality=85):
    im.save(path, quality=quality, dpi=(DPI, DPI))


def noisy_paper(seed, specks=40):
    rnd = random.Random(seed)
    im = Image.new('L', (W, H), 250)
    d = ImageDraw.Draw(im)
    for _ in range(specks):  # dust: specks up to 3 px
        x, y = rnd.randrange(W), rnd.randrange(H)
        r = rnd.randrange(1, 3)
        d.ellipse([x, y, x + r, y + r], fill=rnd.randrange(40, 160))
    # scanner shadow along one edge (the border the blank test ignores)
    d.rectangle([0, 0, 18, H], fill=90)
    return im


def stroke_page(seed):
    im = noisy_paper(seed)
    d = ImageDraw.Draw(im)
    pts = []
    for i in range(120):  # a signature-like wave, about 6 cm wide, 1 mm pen
        t = i / 119
        x = 1300 + 700 * t
        y = 2600 + 90 * math.sin(t * 9) + 40 * math.sin(t * 23)
        pts.append((x, y))
    d.line(pts, fill=30, width=9, joint='curve')
    return im


CODE39 = {
    '0': 'nnnwwnwnn', '1': 'wnnwnnnnw', '2': 'nnwwnnnnw', '3': 'wnwwnnnnn', '4': 'nnnwwnnnw',
    '5': 'wnnwwnnnn', '6': 'nnwwwnnnn', '7': 'nnnwnnwnw', '8': 'wnnwnnwnn', '9': 'nnwwnnwnn',
    'A': 'wnnnnwnnw', 'B': 'nnwnnwnnw', 'C': 'wnwnnwnnn', 'D': 'nnnnwwnnw', 'E': 'wnnnwwnnn',
    'F': 'nnwnwwnnn', 'G': 'nnnnnwwnw', 'H': 'wnnnnwwnn', 'I': 'nnwnnwwnn', 'J': 'nnnnwwwnn',
    'K': 'wnnnnnnww', 'L': 'nnwnnnnww', 'M': 'wnwnnnnwn', 'N': 'nnnnwnnww', 'O': 'wnnnwnnwn',
    'P': 'nnwnwnnwn', 'Q': 'nnnnnnwww', 'R': 'wnnnnnwwn', 'S': 'nnwnnnwwn', 'T': 'nnnnwnwwn',
    'U': 'wwnnnnnnw', 'V': 'nwwnnnnnw', 'W': 'wwwnnnnnn', 'X': 'nwnnwnnnw', 'Y': 'wwnnwnnnn',
    'Z': 'nwwnwnnnn', '-': 'nwnnnnwnw', '.': 'wwnnnnwnn', ' ': 'nwwnnnwnn', '*': 'nwnnwnwnn',
}


def code39(d, x, y, text, narrow=6, height=300):
    """Draws *TEXT* as Code 39 (bars: even positions of each 9-element pattern)."""
    for ch in '*' + text + '*':
        for j, e in enumerate(CODE39[ch]):
            w = narrow * (3 if e == 'w' else 1)
            if j % 2 == 0:
                d.rectangle([x, y, x + w - 1, y + height], fill=0)
            x += w
        x += narrow  # inter-character gap
    return x


def barcode_page(value):
    im = Image.new('L', (W, H), 255)
    d = ImageDraw.Draw(im)
    d.text((MARGIN, MARGIN), 'SEPARATOR SHEET', font=font(1, 28), fill=0)
    code39(d, MARGIN, 700, value)
    return im


PATCH = {  # bar widths in inches, bars parallel to the leading (top) edge
    'T': [0.08, 0.20, 0.08, 0.20],
    '2': [0.20, 0.08, 0.08, 0.20],
    '3': [0.20, 0.08, 0.20, 0.08],
}


def patch_page(kind):
    im = Image.new('L', (W, H), 255)
    d = ImageDraw.Draw(im)
    y = int(1.0 * DPI)
    for k, bar in enumerate(PATCH[kind]):
        h = round(bar * DPI)
        d.rectangle([int(1.0 * DPI), y, int(4.0 * DPI), y + h - 1], fill=0)
        y += h + round(0.08 * DPI)
    d.text((MARGIN, int(2.5 * DPI)), 'PATCH ' + kind, font=font(1, 28), fill=0)
    return im


def color_page(seed):
    im, words = text_page(seed)
    rgb = im.convert('RGB')
    d = ImageDraw.Draw(rgb)
    d.ellipse([W - 700, 100, W - 260, 540], fill=(200, 30, 40))
    d.rectangle([W - 640, 600, W - 300, 700], fill=(20, 90, 200))
    return rgb, words


def photo_page(seed):
    im, words = text_page(seed)
    d = ImageDraw.Draw(im)
    for yy in range(900):  # a gray photo: smooth shading over a third of the page
        d.line([(MARGIN, 1200 + yy), (W - MARGIN, 1200 + yy)], fill=60 + yy * 160 // 900)
    return im


def letter_page():
    """A typical office letter: letterhead, address, date, subject, three
    paragraphs and a signature, 11 pt."""
    im = Image.new('L', (W, H), 255)
    d = ImageDraw.Draw(im)
    d.text((MARGIN, 200), 'Northwind Office Supplies Ltd', font=font(1, 18), fill=0)
    d.line([(MARGIN, 300), (W - MARGIN, 300)], fill=0, width=4)
    f = font(1, 11)
    y = 450
    for line in ['Anna Example', 'Accounts Department', '12 Harbour Street', 'Springfield 4711', '',
                 '3 March 2025', '', 'Invoice 2024-0042']:
        d.text((MARGIN, y), line, font=f, fill=0)
        y += 60
    y += 60
    rnd = random.Random(104)
    for _ in range(3):
        for _ in range(6):
            words = [WORDS[rnd.randrange(len(WORDS))] for _ in range(12)]
            d.text((MARGIN, y), ' '.join(words), font=f, fill=0)
            y += 60
        y += 60
    d.text((MARGIN, y + 60), 'Kind regards', font=f, fill=0)
    stroke = [(MARGIN + 20 * i, y + 200 + 25 * math.sin(i / 2.0)) for i in range(30)]
    d.line(stroke, fill=20, width=5)
    return im


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    args = sys.argv[2:]
    if args and args[0] == 'clean':
        n = int(args[1])
        for i in range(1, n + 1):
            im, words = text_page(i)
            save_jpeg(im, os.path.join(out, 'clean-%02d.jpg' % i))
            with open(os.path.join(out, 'clean-%02d.txt' % i), 'w') as f:
                f.write(' '.join(words) + '\n')
        args = args[2:]
    if args and args[0] == 'feature':
        im, words = text_page(101, size=12, face=0)
        with open(os.path.join(out, 'rot.txt'), 'w') as f:
            f.write(' '.join(words) + '\n')
        save_jpeg(im, os.path.join(out, 'rot0.jpg'))
        for deg in (90, 180, 270):  # counter-clockwise, as a page put in turned
            save_jpeg(im.rotate(deg, expand=True), os.path.join(out, 'rot%d.jpg' % deg))
        save_jpeg(im.rotate(3, expand=False, fillcolor=255, resample=Image.BICUBIC),
                  os.path.join(out, 'skew3.jpg'))
        noisy_paper(7).save(os.path.join(out, 'blank.pnm'))
        stroke_page(8).save(os.path.join(out, 'stroke.pnm'))
        save_jpeg(barcode_page('INV-2024-0042'), os.path.join(out, 'barcode.jpg'))
        save_jpeg(patch_page('T'), os.path.join(out, 'patch-t.jpg'))
        save_jpeg(patch_page('2'), os.path.join(out, 'patch-2.jpg'))
        rgb, _ = color_page(102)
        save_jpeg(rgb, os.path.join(out, 'color.jpg'))
        photo_page(103).save(os.path.join(out, 'photo.pnm'))
        save_jpeg(letter_page(), os.path.join(out, 'letter.jpg'), quality=90)


if __name__ == '__main__':
    main()
