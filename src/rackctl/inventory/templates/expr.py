"""Name patterns in rack templates: `gpu-{rack}-u{u:02d}`, `Ethernet{n}/1`, `1/{(n - 1) // 2 + 1}/{k + 1}`.

Each `{...}` holds integer arithmetic over the pattern's variables (`+ - * // %`, parentheses) with an
optional format spec. Nothing else is evaluated: no attribute access, calls or other names.
"""

from __future__ import annotations

import ast
import operator
import re
import string
from collections.abc import Mapping
from typing import Any

_OPS: dict[type[ast.operator], Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


class PatternError(ValueError):
    """A pattern that cannot be parsed or evaluated."""


def _eval(node: ast.AST, variables: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body, variables)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | str):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in variables:
            raise PatternError(f"unknown variable '{node.id}' (known: {', '.join(sorted(variables))})")
        return variables[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _eval(node.left, variables), _eval(node.right, variables)
        if not (isinstance(left, int) and isinstance(right, int)):
            raise PatternError("arithmetic needs whole numbers")
        try:
            return _OPS[type(node.op)](left, right)
        except ZeroDivisionError:
            raise PatternError("division by zero") from None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        operand = _eval(node.operand, variables)
        if not isinstance(operand, int):
            raise PatternError("arithmetic needs whole numbers")
        return -operand
    raise PatternError(f"'{ast.unparse(node)}' is not allowed in a pattern")


# Names are at most 128 characters; a longer pattern could nest deep enough to exhaust Python's parser.
MAX_PATTERN = 256
# A format width is a padding for names ('{u:02d}'); a huge one would allocate gigabytes.
_WIDTH = re.compile(r"\d{4,}")


def render(pattern: str, variables: Mapping[str, Any]) -> str:
    """Fill a pattern from variables."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"pattern longer than {MAX_PATTERN} characters")
    out = []
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise PatternError(f"pattern '{pattern}': {exc}") from None
    for literal, expression, spec, conversion in parts:
        out.append(literal)
        if expression is None:
            continue
        if conversion:
            raise PatternError(f"pattern '{pattern}': conversions (!{conversion}) are not supported")
        try:
            tree = ast.parse(expression.strip() or "''", mode="eval")
        except SyntaxError:
            raise PatternError(f"pattern '{pattern}': cannot read '{{{expression}}}'") from None
        value = _eval(tree, variables)
        if _WIDTH.search(spec or ""):
            raise PatternError(f"pattern '{pattern}': format '{spec}' is too wide")
        try:
            out.append(format(value, spec or ""))
        except (ValueError, OverflowError) as exc:  # OverflowError: '{n:c}' outside Unicode
            raise PatternError(f"pattern '{pattern}': {exc}") from None
    return "".join(out)


def expand_values(spec: Any) -> list[Any]:
    """A loop variable's values: a list, a single value, or an inclusive range written "0-7"."""
    if isinstance(spec, list):
        return list(spec)
    if isinstance(spec, str) and "-" in spec.strip("-"):
        low, high = spec.split("-", 1)
        if low.strip().isdigit() and high.strip().isdigit():
            return list(range(int(low), int(high) + 1))
    return [spec]
