"""Turns carhelp's terminal QR renderings back into an image for zbarimg: UTF-8 half blocks
(two module rows per line), plain ASCII ("##" per dark module) and ANSI background cells (two
cells per module). Writes a binary PGM, each module scale x scale pixels, with a quiet zone."""
import re

SGR = re.compile(r"\x1b\[([0-9;]*)m")
HALF = {" ": (0, 0), "\u2580": (1, 0), "\u2584": (0, 1), "\u2588": (1, 1)}


def _code_lines(text):
    """The lines of the code itself: everything before the "Short code:" line."""
    lines = []
    for line in text.split("\n"):
        if line.startswith("Short code:"):
            break
        lines.append(line)
    while lines and not lines[-1].strip(" "):
        lines.pop()
    return lines


def modules_utf8(text):
    rows = []
    for line in _code_lines(SGR.sub("", text)):
        top, bottom = [], []
        for ch in line:
            t, b = HALF[ch]
            top.append(t)
            bottom.append(b)
        rows += [top, bottom]
    return rows


def modules_ascii(text):
    rows = []
    for line in _code_lines(text):
        if len(line) % 2:
            line += " "
        row = []
        for i in range(0, len(line), 2):
            pair = line[i:i + 2]
            assert pair in ("##", "  "), f"unexpected cell {pair!r}"
            row.append(1 if pair == "##" else 0)
        rows.append(row)
    return rows


def modules_ansi(text):
    rows = []
    for line in _code_lines(text):
        if not line:
            continue
        dark, row, pos = False, [], 0
        for m in SGR.finditer(line):
            cells = line[pos:m.start()]
            assert cells.strip(" ") == "", f"unexpected glyphs {cells!r}"
            row += [1 if dark else 0] * (len(cells) // 2)
            codes = m.group(1).split(";")
            if "40" in codes:
                dark = True
            elif "107" in codes or "47" in codes:
                dark = False
            pos = m.end()
        row += [1 if dark else 0] * (len(line[pos:]) // 2)
        rows.append(row)
    return rows


def to_pgm(rows, path, scale=4, quiet=4):
    width = max(len(r) for r in rows)
    rows = [r + [0] * (width - len(r)) for r in rows]
    w, h = (width + 2 * quiet) * scale, (len(rows) + 2 * quiet) * scale
    pixels = bytearray(b"\xff" * (w * h))
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if not dark:
                continue
            for dy in range(scale):
                start = ((y + quiet) * scale + dy) * w + (x + quiet) * scale
                pixels[start:start + scale] = b"\x00" * scale
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (w, h))
        f.write(pixels)
