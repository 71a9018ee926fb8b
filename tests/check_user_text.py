#!/usr/bin/env python3
"""User-facing text speaks of the project only.

Scans the files users read (README.md, BENCHMARKS.md, docs/*.md, examples/,
bench/, models/*.md and the `--help` texts of postproc: `///` doc comments and
`about`/`help` attributes under postproc/src) for

  * issue numbers and references to an issue ("issue 7", "#12", "the issue"),
  * "paper A" / "paper B" instead of a citation,
  * machine or session paths (/work/..., /tmp/bash_jobs..., /root/...),
  * internal notes ("for the lead", "in a prototype"),
  * pasted shell errors ("line 59: ...: No such file or directory").

Prints FILE:LINE: what, for every hit, and exits 1 if there is any. Run by
`make lint` (so by `make test`); `python3 tests/check_user_text.py --self-test`
checks the patterns themselves.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (name, compiled pattern); all case-insensitive
PATTERNS = [
    ("issue number", re.compile(r"\bissues?\s*(?:no\.?\s*)?#?\d", re.I)),
    ("reference to an issue", re.compile(r"\b(?:the|this)\s+issue(?:'s)?\b", re.I)),
    # '#12' in prose; not '&#12;' entities, not '#1a2b3c' colours, not '#!/'
    ("issue number (#N)", re.compile(r"(?<![\w&#/])#\d+(?![\w;])")),
    ("'paper A/B' instead of a citation", re.compile(r"\bpapers?[\s-]+(?-i:A|B)\b|\bpapers (?-i:A) and (?-i:B)\b", re.I)),
    # /work/ as a path of its own, not $WORK/work/ or build/work/
    ("machine path /work/", re.compile(r"(?<![\w$}.)/-])/work/")),
    ("session path /tmp/bash_jobs", re.compile(r"/tmp/bash_jobs")),
    ("machine path /root/", re.compile(r"(?<![\w$}.)-])/root/")),
    ("internal note", re.compile(r"\bfor the lead\b|\bin a prototype\b|\bthe other (?:engineer|helper)\b", re.I)),
    ("pasted shell error", re.compile(r"\bline \d+: .*(?:No such file or directory|command not found)")),
]

# Files whose owner edits them concurrently: hits are reported, not failed on.
# Empty this set once they are clean.
PENDING: set[str] = set()

TEXT_SUFFIXES = {".md", ".sh", ".py", ".txt", ""}


def user_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "BENCHMARKS.md"]
    files += sorted((ROOT / "docs").glob("*.md"))
    files += sorted((ROOT / "models").glob("*.md"))
    # the Python package's docstrings and its metadata are read by users too
    files += sorted((ROOT / "python" / "dprs").glob("*.py")) + [ROOT / "pyproject.toml"]
    for top in ("examples", "bench"):
        for p in sorted((ROOT / top).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and (
                p.suffix in TEXT_SUFFIXES or p.name.startswith("in.")
            ):
                files.append(p)
    return [p for p in files if p.exists()]


HELP_ATTR = re.compile(r"\b(?:about|long_about|help|long_help)\s*=\s*\"((?:[^\"\\]|\\.)*)\"")


def help_lines(path: Path):
    """(line number, text) of what clap shows in --help: `///` comments and
    about/help attribute strings."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        s = line.strip()
        if s.startswith("///"):
            yield n, s[3:]
        else:
            for m in HELP_ATTR.finditer(line):
                yield n, m.group(1)


def help_files() -> list[Path]:
    src = ROOT / "postproc" / "src"
    files = [src / "cli.rs"] + sorted((src / "commands").glob("*.rs"))
    return [p for p in files if p.exists()]


def check_lines(lines):
    for n, text in lines:
        for what, pat in PATTERNS:
            m = pat.search(text)
            if m:
                yield n, what, m.group(0)


def scan() -> tuple[list[str], list[str]]:
    errors, pending = [], []
    sources = [(p, enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1))
               for p in user_files()]
    sources += [(p, help_lines(p)) for p in help_files()]
    for path, lines in sources:
        rel = path.relative_to(ROOT).as_posix()
        for n, what, hit in check_lines(lines):
            msg = f"{rel}:{n}: {what}: {hit!r}"
            (pending if rel in PENDING else errors).append(msg)
    return errors, pending


def self_test() -> None:
    bad = [
        "## timing (issue 2)", "see issue #7", "Against the issue's targets", "fixed in #12.",
        "paper A eq. 10", "Paper B's trends", "papers A and B", "# Paper-B-style channel",
        "/work/venvs/deepmd/bin/python", "`/work/x`", "cd /tmp/bash_jobs.0/1", "/root/.cargo",
        "*For the lead to merge.*", "slower in a prototype.",
        "run.sh: line 59: ch/deepmd/bench.py: No such file or directory",
    ]
    good = [
        "$WORK/work/model.pb", "build/work/x", "colour #1a2b3c", "&#123;", "#!/usr/bin/env bash",
        "# 1 rank", "Wang et al., Phys. Rev. X 11, 011006 (2021)", "an issue tracker",
        "WORKDIR/dump.lammpstrj", "a paper about B", "papers", "${TMPDIR:-/tmp}/postproc-bench",
    ]
    for t in bad:
        assert list(check_lines([(1, t)])), f"not caught: {t!r}"
    for t in good:
        assert not list(check_lines([(1, t)])), f"false hit: {t!r} -> {list(check_lines([(1, t)]))}"
    line = '    #[command(about = "see issue 3")]'
    assert [t for _, t in help_lines_of(line)] == ["see issue 3"]
    print(f"check_user_text self-test: {len(bad)} bad and {len(good)} good lines classified")


def help_lines_of(text: str):
    for m in HELP_ATTR.finditer(text):
        yield 1, m.group(1)


def main(argv: list[str]) -> int:
    if "--self-test" in argv:
        self_test()
    errors, pending = scan()
    for msg in pending:
        print(f"warning (owner fixing): {msg}", file=sys.stderr)
    for msg in errors:
        print(msg, file=sys.stderr)
    n_files = len(user_files()) + len(help_files())
    if errors:
        print(f"check_user_text: {len(errors)} hit(s) in user-facing text", file=sys.stderr)
        return 1
    print(f"check_user_text: {n_files} user-facing files clean")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
