#!/usr/bin/env python3
"""Assemble the default calibration corpus from unpacked Debian packages.

Usage: build_corpus.py UNPACKED_DIR OUT_DIR

UNPACKED_DIR holds one folder per package (the output of `dpkg-deb -x`), named as the package,
plus a file versions.tsv ("package<TAB>version"). OUT_DIR receives corpus.txt, heldout.txt,
MANIFEST.md and LICENSES/. Called by scripts/build-calibration; deterministic for the same inputs.

Text form: plain UTF-8 prose, one paragraph per line, paragraphs separated by one blank line
("\\n\\n"), documents (a chapter, a manual page) separated the same way. Documents of all sources
are interleaved in proportion so every stretch of the corpus, including the held-out tail, mixes
all sources.
"""
import hashlib
import html
import os
import re
import shutil
import sys
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlazyload  # noqa: E402

HELDOUT_FRACTION = 0.05

# Block elements end a paragraph; inline ones (a, em, code, span...) do not.
BLOCK = {"p", "div", "li", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol",
         "dl", "br", "section", "article", "header", "footer", "td", "th", "tr", "caption", "figure"}
# Subtrees dropped whole: code listings, tables, navigation and page furniture.
SKIP_TAGS = {"pre", "script", "style", "table", "nav", "head", "title", "svg", "math"}
SKIP_CLASSES = ("sphinxsidebar", "related", "footer", "navheader", "navfooter", "docnav", "toc",
                "highlight", "mobile-nav", "inline-search", "switcher", "titlepage", "screen",
                "programlisting", "synopsis", "headerlink", "legalnotice", "authorgroup", "indexdiv",
                "index", "literallayout", "cmdsynopsis", "informalexample", "example", "sig",
                "versionmodified", "admonition-title", "breadcrumb")


class ParagraphParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paras, self.buf, self.skip = [], [], []
        self.stack = []

    def flush(self):
        text = " ".join("".join(self.buf).split())
        if text:
            self.paras.append(text)
        self.buf = []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "hr", "meta", "link", "input"):
            if tag == "br":
                self.buf.append(" ")
            return
        cls = dict(attrs).get("class") or ""
        skip = tag in SKIP_TAGS or any(c in cls for c in SKIP_CLASSES) or dict(attrs).get("role") == "navigation"
        self.stack.append((tag, skip))
        if skip:
            self.skip.append(tag)
        if tag in BLOCK and not self.skip:
            self.flush()

    def handle_endtag(self, tag):
        # Pop to the matching open tag (HTML in the wild is not always well nested).
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for t, skip in self.stack[i:]:
                    if skip:
                        self.skip.pop()
                del self.stack[i:]
                break
        if tag in BLOCK and not self.skip:
            self.flush()

    def handle_data(self, data):
        if not self.skip:
            self.buf.append(data)


def html_paragraphs(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        src = f.read()
    p = ParagraphParser()
    p.feed(src)
    p.close()
    p.flush()
    return p.paras


LETTERS = re.compile(r"[A-Za-z]")


def is_prose(par, min_words):
    """A paragraph of running text, not a heading, command line, path list or table remnant."""
    words = par.split()
    if len(words) < min_words:
        return False
    letters = len(LETTERS.findall(par))
    if letters < 0.6 * len(par):
        return False
    if not re.search(r"[a-z]", par) or not re.search(r"[.?!:;,]", par):
        return False
    if par.startswith(("$ ", "# ", "Copyright ©", "©")) or "Last updated on" in par:
        return False
    return True


def clean(par):
    par = par.replace("\u00b6", "").replace("\u200b", "").replace("\u00a0", " ")
    return " ".join(par.split())


# ---- sources --------------------------------------------------------------------------------

def austen_documents(root):
    """Chapters of the six novels (public domain texts as packaged by janeaustenr)."""
    data = os.path.join(root, "usr/lib/R/site-library/janeaustenr/data")
    books = rlazyload.load_lazydata(os.path.join(data, "Rdata.rdx"), os.path.join(data, "Rdata.rdb"))
    order = ["sensesensibility", "prideprejudice", "mansfieldpark", "emma", "northangerabbey", "persuasion"]
    docs = []
    for name in order:
        lines = [l or "" for l in books[name]]
        chapters, cur = [], []
        for line in lines:
            if re.match(r"^\s*(CHAPTER|Chapter)\s+[0-9IVXLC]+\b", line):
                chapters.append(cur)
                cur = []
            else:
                cur.append(line)
        chapters.append(cur)
        for i, ch in enumerate(chapters[1:], 1):  # chapters[0] is the title page
            paras, buf = [], []
            for line in ch + [""]:
                if line.strip():
                    buf.append(line.strip())
                elif buf:
                    paras.append(" ".join(buf))
                    buf = []
            paras = [re.sub(r"_([^_]+)_", r"\1", p) for p in paras]
            paras = [clean(p) for p in paras if is_prose(p, 3) and not p.isupper()]
            if paras:
                docs.append((f"{name} ch.{i}", paras))
    return docs


def html_documents(files, min_words=8):
    docs = []
    for label, path in files:
        paras = [clean(p) for p in html_paragraphs(path)]
        paras = [p for p in paras if is_prose(p, min_words)]
        # Drop repeated boilerplate (same paragraph on many pages) by keeping first occurrences.
        if paras:
            docs.append((label, paras))
    return docs


def handbook_documents(root):
    d = os.path.join(root, "usr/share/doc/debian-handbook/html/en-US")
    names = sorted(n for n in os.listdir(d) if n.endswith(".html") and n not in ("index.html", "ix01.html"))
    return html_documents([(n, os.path.join(d, n)) for n in names])


def debref_documents(root):
    d = os.path.join(root, "usr/share/debian-reference")
    names = sorted(n for n in os.listdir(d) if re.match(r"(ch\d+|pr\d+|ap\w+)\.en\.html$", n))
    return html_documents([(n, os.path.join(d, n)) for n in names])


def pydoc_documents(root):
    base = os.path.join(root, "usr/share/doc/python3.11/html")
    files = []
    for sub in ("tutorial", "howto", "faq", "reference", "using"):
        d = os.path.join(base, sub)
        for n in sorted(os.listdir(d)):
            if n.endswith(".html") and n != "index.html":
                files.append((f"{sub}/{n}", os.path.join(d, n)))
    return html_documents(files)


# (package, title, licence summary, licence files to copy, budget in characters, loader)
SOURCES = [
    ("r-cran-janeaustenr", "Jane Austen, the six novels (1811-1818), as packaged by janeaustenr",
     "novels: public domain; packaging: MIT",
     ["usr/share/doc/r-cran-janeaustenr/copyright"], 620_000, austen_documents),
    ("debian-handbook", "The Debian Administrator's Handbook (Raphaël Hertzog, Roland Mas), English",
     "GPL-2.0+ or CC-BY-SA-3.0 (used here under CC-BY-SA-3.0)",
     ["usr/share/doc/debian-handbook/copyright"], 620_000, handbook_documents),
    ("python3.11-doc", "Python 3.11 documentation: tutorial, HOWTOs, FAQ, language reference, usage",
     "PSF License Version 2 (examples additionally 0BSD)",
     ["usr/share/doc/python3.11-doc/copyright"], 480_000, pydoc_documents),
    ("debian-reference-en", "Debian Reference (Osamu Aoki), English original",
     "GPL-2+",
     ["usr/share/doc/debian-reference-en/copyright"], 330_000, debref_documents),
]
EXTRA_LICENSES = {"GPL-2": "/usr/share/common-licenses/GPL-2"}


def sample(docs, budget):
    """Evenly spaced whole documents totalling about `budget` characters (deterministic)."""
    total = sum(len("\n\n".join(p)) for _, p in docs)
    if total <= budget:
        return docs, total
    frac = budget / total
    kept, seen, got = [], 0, 0
    for label, paras in docs:
        size = len("\n\n".join(paras))
        seen += size
        if got + size / 2 <= seen * frac:
            kept.append((label, paras))
            got += size
    return kept, total


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    unpacked, out = sys.argv[1], sys.argv[2]
    versions = dict(line.rstrip("\n").split("\t") for line in open(os.path.join(unpacked, "versions.tsv")))
    os.makedirs(os.path.join(out, "LICENSES"), exist_ok=True)

    streams, rows = [], []
    for pkg, title, lic, lic_files, budget, loader in SOURCES:
        root = os.path.join(unpacked, pkg)
        docs = loader(root)
        if not docs:
            sys.exit(f"build_corpus: {pkg}: no text extracted")
        kept, total = sample(docs, budget)
        texts = ["\n\n".join(p) for _, p in kept]
        streams.append((pkg, texts))
        for i, lf in enumerate(lic_files):
            shutil.copyfile(os.path.join(root, lf), os.path.join(out, "LICENSES", f"{pkg}.copyright"))
        rows.append([pkg, versions.get(pkg, "?"), title, lic, len(kept), len(docs), total])

    # Interleave: each document gets the key (position of its middle within its source's stream);
    # a stable sort by key spreads every source evenly through the corpus.
    keyed = []
    for si, (pkg, texts) in enumerate(streams):
        size = sum(len(t) for t in texts)
        pos = 0
        for t in texts:
            keyed.append(((pos + len(t) / 2) / size, si, pkg, t))
            pos += len(t)
    keyed.sort(key=lambda k: (k[0], k[1]))
    docs = [(pkg, t) for _, _, pkg, t in keyed]

    total_chars = sum(len(t) for _, t in docs)
    cut, acc = len(docs), 0
    for i in range(len(docs) - 1, -1, -1):
        acc += len(docs[i][1])
        if acc >= HELDOUT_FRACTION * total_chars:
            cut = i
            break
    parts = {"corpus.txt": docs[:cut], "heldout.txt": docs[cut:]}
    stats = {}
    for name, ds in parts.items():
        text = "\n\n".join(t for _, t in ds) + "\n"
        data = text.encode("utf-8")
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        per = {}
        for pkg, t in ds:
            per[pkg] = per.get(pkg, 0) + len((t + "\n\n").encode("utf-8"))
        stats[name] = (len(data), hashlib.sha256(data).hexdigest(), per, len(ds))

    for name, path in EXTRA_LICENSES.items():
        shutil.copyfile(path, os.path.join(out, "LICENSES", name))
    write_manifest(out, rows, stats)
    for name, (n, h, _, nd) in stats.items():
        print(f"build_corpus: {name}: {n} bytes, {nd} documents, sha256 {h}")


def write_manifest(out, rows, stats):
    L = []
    L.append("# Calibration corpus\n")
    L.append("Default calibration text for `qqq quantize` (and `heldout.txt` for evaluation when WikiText-2 is "
             "absent). Built by `scripts/build-calibration` from the Debian packages below "
             "(Debian 12 \"bookworm\" archive); rerun it to rebuild. WikiText-2 is not used.\n")
    L.append("Form: UTF-8 plain text, one paragraph per line, paragraphs and documents separated by one blank "
             "line. Only running prose was kept: code listings, tables, navigation, headings and "
             "command lines were dropped. Whole documents (a novel chapter, a manual page) were sampled evenly "
             "through each source up to a budget and interleaved across sources, so any stretch of the text, "
             "including the held-out tail, mixes all of them. `heldout.txt` is the last ~5% "
             "(whole documents) and does not occur in `corpus.txt`.\n")
    L.append("| file | bytes | documents | sha256 |")
    L.append("|---|---|---|---|")
    for name, (n, h, _, nd) in stats.items():
        L.append(f"| `{name}` | {n:,} | {nd} | `{h}` |")
    L.append("")
    L.append("## Sources\n")
    L.append("| package (Debian) | version | text | licence | documents used / available | "
             "characters available | bytes in corpus.txt | bytes in heldout.txt | licence file |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for pkg, ver, title, lic, kept, avail, total in rows:
        c = stats["corpus.txt"][2].get(pkg, 0)
        h = stats["heldout.txt"][2].get(pkg, 0)
        L.append(f"| `{pkg}` | {ver} | {title} | {lic} | {kept} / {avail} | {total:,} | {c:,} | {h:,} | "
                 f"`LICENSES/{pkg}.copyright` |")
    L.append("")
    L.append("## Licences and notices\n")
    L.append("- **Jane Austen's novels** (*Sense and Sensibility*, *Pride and Prejudice*, *Mansfield Park*, "
             "*Emma*, *Northanger Abbey*, *Persuasion*) are in the public domain. The texts come from the R "
             "package janeaustenr by Julia Silge (MIT licence, `LICENSES/r-cran-janeaustenr.copyright`), which "
             "took them from Project Gutenberg; the Gutenberg licence header is not part of these texts.")
    L.append("- **The Debian Administrator's Handbook**, copyright 2003-2015 Raphaël Hertzog and Roland Mas "
             "and contributors, dual-licensed GPL-2.0+ or CC-BY-SA-3.0; the excerpts here are used under "
             "CC-BY-SA-3.0 (full text in `LICENSES/debian-handbook.copyright`, GPL-2 in `LICENSES/GPL-2`). "
             "The excerpts were modified (extracted to plain text, code and tables removed). Any "
             "redistribution of this corpus must keep this attribution and the licence.")
    L.append("- **Python 3.11 documentation**, copyright 2001-2023 Python Software Foundation, licensed under "
             "the Python Software Foundation License Version 2 (`LICENSES/python3.11-doc.copyright`); code "
             "examples additionally under the Zero-Clause BSD licence.")
    L.append("- **Debian Reference**, copyright 2007-2013 Osamu Aoki, GPL-2+ "
             "(`LICENSES/debian-reference-en.copyright`, text in `LICENSES/GPL-2`).")
    L.append("")
    with open(os.path.join(out, "MANIFEST.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    main()
