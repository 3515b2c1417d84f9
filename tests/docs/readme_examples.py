"""The README's command examples, read from its code blocks, and a way to run one in-process."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from rackctl.cli import output
from rackctl.cli.app import app

README = Path(__file__).parents[2] / "README.md"
# The examples that need live devices and run on the lab instead (tests/integration/test_readme_lab.py), in
# README order: a later one may depend on an earlier one's effect (outlets switched off).
ON_THE_LAB = [
    "rackctl power status gpu-r12-u[03,11,19,27]",
    "rackctl power on @rack:r12 --stagger 5s --batch 4",
    "rackctl power cycle @rack:r12 --dry-run",
    "rackctl pdu status pdu-r12-a1",
    "rackctl pdu off pdu-r12-a1:25-26,30 --yes",
    "rackctl pdu probe @rack:r12",
    "rackctl pdu readings pdu-r12-a1 --json",
    "rackctl power restore @rack:r12",
]
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(lang: str) -> list[str]:
    """The bodies of the README's code blocks in `lang` (`""` for blocks without one)."""
    text = README.read_text(encoding="utf-8")
    return [body for found_lang, body in _BLOCK.findall(text) if found_lang == lang]


def example_blocks() -> list[list[str]]:
    """The `rackctl ...` lines of each code block that has any, without their comments, in README order."""
    found = []
    for _, body in _BLOCK.findall(README.read_text(encoding="utf-8")):
        lines = [_uncomment(line) for line in body.splitlines() if line.strip().startswith("rackctl ")]
        if lines:
            found.append(lines)
    return found


def _uncomment(line: str) -> str:
    """The line as written, without its trailing comment (quotes kept as they are)."""
    lexer = shlex.shlex(line.strip(), posix=False)
    lexer.whitespace_split, lexer.commenters = True, "#"
    return " ".join(lexer)


@dataclass
class Ran:
    exit_code: int
    stdout: str
    stderr: str


def run(example: str, cwd: Path) -> Ran:
    """Run one example as the shell would, in `cwd`: `> FILE` writes its output there."""
    words = shlex.split(example)[1:]
    target = None
    if ">" in words:
        at = words.index(">")
        words, target = words[:at], cwd / words[at + 1]
    output.reset()
    result = CliRunner().invoke(app, words, catch_exceptions=False)
    output.reset()
    if target is not None:
        target.write_text(result.stdout, encoding="utf-8")
    return Ran(result.exit_code, result.stdout, result.stderr)
