#!/usr/bin/env python3
"""Renders a `winnow report` page in headless Chromium and checks from the screenshot that its plots are drawn:
the page is not blank (enough non-white pixels) and holds the chart colours (several saturated hues, which only
the SVG lines, points and bars use). Usage: scripts/check-report-render.py [--winnow .build/release/winnow] [--compare].
Builds its own small run (the classify recipe on the bundled digits, 3 epochs); with --compare, two shorter runs
(2 epochs, two learning rates) and checks their `winnow report --compare` page instead. Exits 1 naming what is missing."""
import argparse, os, shutil, struct, subprocess, sys, tempfile, zlib


def decode_png(path):
    """Width, height and rows of RGB(A) pixels of an 8-bit PNG (colour types 2 and 6), with the filters undone."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour = header[0], header[1], header[2], header[3]
    assert depth == 8 and colour in (2, 6), f"unsupported PNG (depth {depth}, colour type {colour})"
    channels = 4 if colour == 6 else 3
    raw, stride, rows, previous = zlib.decompress(b"".join(chunks)), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = previous[x]
            c = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        previous = line
    return width, height, channels, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--winnow", default=".build/release/winnow")
    parser.add_argument("--compare", action="store_true", help="check the page of `winnow report --compare 1 2`")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("check-report-render: chromium is not installed (scripts/setup-browser.sh installs it)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="winnow-report-") as folder:
        db = os.path.join(folder, "runs.sqlite")
        runs = [["training.epochs=2", "training.learning_rate=0.002"], ["training.epochs=2", "training.learning_rate=0.02"]]
        for overrides in runs if args.compare else [["training.epochs=3"]]:
            subprocess.run([args.winnow, "run", "Recipes/classify/digits.yaml", *[a for o in overrides for a in ("--set", o)],
                            "--db", db], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        page, shot = os.path.join(folder, "report.html"), os.path.join(folder, "report.png")
        which = ["--compare", "1", "2"] if args.compare else ["--run", "1"]
        subprocess.run([args.winnow, "report", *which, "--output", page, "--db", db], check=True, stdout=subprocess.DEVNULL)
        if args.compare:
            text = open(page, encoding="utf-8").read()
            for needed in ("<h2>Final metrics</h2>", "<h2>Recipe differences</h2>", "training.learning_rate", "<svg"):
                if needed not in text:
                    print(f"check-report-render: FAILED: the comparison page lacks {needed}", file=sys.stderr)
                    return 1
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={shot}",
                        "--window-size=1200,1600", "file://" + page], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)
        width, height, channels, rows = decode_png(shot)
        inked, hues = 0, set()
        for row in rows:
            for x in range(0, width * channels, channels):
                r, g, b = row[x], row[x + 1], row[x + 2]
                if min(r, g, b) < 200:
                    inked += 1
                if max(r, g, b) - min(r, g, b) > 80:  # saturated: a chart colour, not text or a grid line
                    hues.add((r // 64, g // 64, b // 64))
        share = inked / (width * height)
        problems = []
        if share < 0.01:
            problems.append(f"the page is blank ({share:.2%} of pixels inked)")
        if len(hues) < 2:
            problems.append(f"no chart colours ({len(hues)} saturated hue(s)): the plots are not drawn")
        if problems:
            print("check-report-render: FAILED: " + "; ".join(problems), file=sys.stderr)
            return 1
        print(f"check-report-render: the {'comparison' if args.compare else 'report'} renders in Chromium ({width}×{height}, {share:.1%} inked, "
              f"{len(hues)} chart hues)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
