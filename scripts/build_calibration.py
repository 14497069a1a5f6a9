#!/usr/bin/env python3
"""Assemble qqq's default calibration corpus from openly licensed English prose carried by Debian
packages: the Python 3.11 documentation (PSF License; its reST sources: tutorial, HOWTOs, FAQ,
language reference, "What's New", usage and extending guides) and the GNU Coding Standards and
Information for Maintainers of GNU Software (GFDL 1.3+, no invariant sections).

Usage: build_calibration.py EXTRACTED_ROOT OUT_DIR   (EXTRACTED_ROOT: the .debs unpacked with dpkg-deb -x)
Writes corpus.txt (calibration), heldout.txt (the last ~5% of each source, for evaluation when
WikiText-2 is absent) and MANIFEST.md.
"""
import gzip
import hashlib
import os
import re
import sys

ROLE = re.compile(r":[a-zA-Z:]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")
LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`_+")
TICKS = re.compile(r"`+([^`]*)`+_*")


def clean_rst(text):
    out, skip_indent = [], None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if stripped == "" or indent > skip_indent:
                continue
            skip_indent = None
        if stripped.startswith(".."):
            skip_indent = indent  # directive, comment or target with its indented body
            continue
        if re.fullmatch(r"[=\-~^\"'`#*+.:_]{3,}", stripped):
            continue  # heading underline / overline / table border
        if stripped.startswith(("+-", "|", ">>>", "...", "$ ", "%")):
            continue  # tables, interactive sessions, shell prompts
        if indent >= 3 and out and out[-1].rstrip().endswith("::"):
            skip_indent = indent - 1  # literal block
            continue
        line = ROLE.sub(r"\1", line)
        line = LINK.sub(r"\1", line)
        line = TICKS.sub(r"\1", line)
        line = line.replace("**", "").replace("::", ":")
        out.append(line.rstrip())
    text = "\n".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text)
    # Keep paragraphs that read as prose: several words and mostly letters.
    paras = []
    for p in text.split("\n\n"):
        p = " ".join(p.split())
        words = p.split()
        letters = sum(ch.isalpha() for ch in p)
        if len(words) >= 8 and letters > 0.6 * len(p):
            paras.append(p)
    return paras


def clean_info(text):
    paras = []
    for p in re.split(r"\n\s*\n", text):
        if "\x1f" in p or p.strip().startswith(("File:", "*", "Node:")):
            continue
        if re.search(r"^\s{4,}\S", p, re.M) and sum(1 for l in p.splitlines() if l.startswith("     ")) > len(p.splitlines()) / 2:
            continue  # example code
        p = " ".join(p.split())
        words = p.split()
        if len(words) >= 8 and sum(ch.isalpha() for ch in p) > 0.6 * len(p):
            paras.append(p.replace("‘", "'").replace("’", "'"))
    return paras


def main():
    root, out = sys.argv[1], sys.argv[2]
    sources = []
    py = os.path.join(root, "usr/share/doc/python3.11/html/_sources")
    for sub in ["tutorial", "howto", "faq", "reference", "whatsnew", "using", "extending"]:
        path = os.path.join(py, sub)
        files = [path] if path.endswith(".txt") else sorted(
            os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".rst.txt"))
        paras = []
        for f in files:
            paras += clean_rst(open(f, encoding="utf-8").read())
        sources.append((f"Python 3.11 documentation: {sub.replace('.rst.txt', '')}", "python3.11-doc 3.11.2-6+deb12u9",
                        "PSF License Version 2 (see LICENSES/PSF-2.0.txt)", paras))
    for name, title in [("standards", "GNU Coding Standards"), ("maintain", "Information for Maintainers of GNU Software")]:
        info = gzip.open(os.path.join(root, f"usr/share/info/{name}.info.gz"), "rt", encoding="utf-8").read()
        sources.append((title, "gnu-standards 2022.03.23-0.1", "GNU FDL 1.3 or later, no invariant sections (see LICENSES/GFDL-notice.txt)", clean_info(info)))

    corpus, heldout, rows = [], [], []
    for title, package, licence, paras in sources:
        cut = max(1, int(len(paras) * 0.95))
        body, held = paras[:cut], paras[cut:]
        corpus += body
        heldout += held
        rows.append((title, package, licence, len("\n\n".join(body).encode()), len("\n\n".join(held).encode())))
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "corpus.txt"), "w", encoding="utf-8") as f:
        f.write("\n\n".join(corpus) + "\n")
    with open(os.path.join(out, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write("\n\n".join(heldout) + "\n")
    digest = hashlib.sha256(open(os.path.join(out, "corpus.txt"), "rb").read()).hexdigest()
    with open(os.path.join(out, "MANIFEST.md"), "w", encoding="utf-8") as f:
        f.write("# Default calibration corpus\n\n")
        f.write("Built by `scripts/build-calibration` from Debian packages (openly licensed English prose; WikiText-2 is\n"
                "reserved for evaluation and not used). Paragraphs of prose only: code, tables and markup removed.\n"
                "`corpus.txt` is the calibration text; `heldout.txt` (the last ~5% of each source) is for evaluation\n"
                f"when WikiText-2 is not available. corpus.txt sha256: `{digest}`.\n\n")
        f.write("| source | Debian package | licence | corpus bytes | held-out bytes |\n|---|---|---|---:|---:|\n")
        for title, package, licence, a, b in rows:
            f.write(f"| {title} | {package} | {licence} | {a:,} | {b:,} |\n")
    print(f"corpus.txt {sum(r[3] for r in rows):,} bytes, heldout.txt {sum(r[4] for r in rows):,} bytes")


if __name__ == "__main__":
    main()
