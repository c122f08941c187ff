"""``python -m docsite COMMAND``: the site's commands (the Makefile calls these).

    python -m docsite update [FILE ...]  sweep the blocks under every CPU configuration,
                                         rewrite the outputs the pages show
    python -m docsite check [FILE ...]   the same sweep, failing on a stale or unstable output
    python -m docsite lint [FILE ...]    ruff check + ruff format --check on every block
    python -m docsite format [FILE ...]  ruff format every runnable block in place
    python -m docsite sizes [FILE ...]   each page's main path: reading minutes and blocks
    python -m docsite changed            the pages changed since the last commit (make check)
    python -m docsite build [--force]    build site/ unless nothing it reads has changed
    python -m docsite shots [...]        screenshots of built pages (``shots --help``)

FILE: Markdown files (default: every page of docs/ and the README).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from docsite import build, markdown, pages, runs, shots


def _files(names: list[Path]) -> list[Path]:
    return [p.resolve() for p in names] or markdown.markdown_files()


def _blocks(command: str, files: list[Path], jobs: int | None) -> int:
    bad = markdown.problems(files)
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 1
    if command == "update":
        return runs.update(files, jobs)
    if command == "check":
        return runs.check(files, jobs)
    if command == "format":
        return runs.format_blocks(files)
    status, report = runs.lint(files)
    print(report, end="")
    return status


def _sizes(files: list[Path]) -> int:
    chosen = [f for f in files if f.is_relative_to(markdown.DOCS)] if files else []
    for file in chosen or [p.path for p in pages.markdown_pages()]:
        size = pages.lesson_size(file)
        limits = f"> {pages.LESSON_MINUTES} min or > {pages.LESSON_BLOCKS} blocks"
        verdict = "ok" if size.fits else f"TOO LONG ({limits})"
        name = file.relative_to(markdown.DOCS)
        print(f"{name}: {size.minutes:.1f} min, {size.blocks} blocks  {verdict}")
    return 0


def changed_pages() -> list[str]:
    """The pages of docs/ changed (or new) since the last commit, as ``make page`` names them
    (``losses/ctc``)."""
    git = ["git", "-C", str(markdown.ROOT)]
    diff = subprocess.run(
        [*git, "diff", "--name-only", "HEAD", "--", "docs"], capture_output=True, text=True
    ).stdout.split()
    new = subprocess.run(
        [*git, "ls-files", "--others", "--exclude-standard", "--", "docs"],
        capture_output=True,
        text=True,
    ).stdout.split()
    names = sorted({n for n in diff + new if n.endswith(".md") and (markdown.ROOT / n).is_file()})
    return [n.removeprefix("docs/").removesuffix(".md") for n in names]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["shots"]:
        return shots.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m docsite", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in [
        ("update", "sweep the blocks, rewrite the outputs the pages show"),
        ("check", "sweep the blocks, fail on a stale or unstable output"),
        ("lint", "ruff check + format check on every runnable block"),
        ("format", "ruff format every runnable block in place"),
    ]:
        command = commands.add_parser(name, help=text)
        command.add_argument("--jobs", type=int, help="parallel runs (default: one per core)")
        command.add_argument("files", nargs="*", type=Path, help="Markdown files")
    sizes = commands.add_parser("sizes", help="each page's main path: minutes and blocks")
    sizes.add_argument("files", nargs="*", type=Path, help="Markdown files of docs/")
    commands.add_parser("changed", help="the pages changed since the last commit")
    built = commands.add_parser("build", help="build site/ unless its inputs are unchanged")
    built.add_argument("--force", action="store_true", help="build even if nothing changed")
    built.add_argument("--tool", default="mkdocs", choices=["mkdocs", "properdocs"])
    commands.add_parser("shots", help="screenshots of built pages (see --help after it)")
    args = parser.parse_args(argv)
    if args.command == "sizes":
        return _sizes([p.resolve() for p in args.files])
    if args.command == "changed":
        print(",".join(changed_pages()))
        return 0
    if args.command == "build":
        return build.main(force=args.force, tool=args.tool)
    return _blocks(args.command, _files(args.files), args.jobs)


if __name__ == "__main__":
    raise SystemExit(main())
