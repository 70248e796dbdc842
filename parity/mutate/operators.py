"""Mutation operators: the small slips a port to a new store really contains.

Each candidate is found by walking the module's AST in a fixed order, so "mutant 17"
means the same change on every machine and in the child process that applies it.
Docstrings are never mutated, nor lines marked ``# pragma: no mutate``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

_COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {ast.Add: ast.Sub, ast.Sub: ast.Add}
_BOOLOP_SWAPS: dict[type[ast.boolop], type[ast.boolop]] = {ast.And: ast.Or, ast.Or: ast.And}
_SYMBOLS = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Add: "+",
    ast.Sub: "-",
    ast.And: "and",
    ast.Or: "or",
}

PRAGMA = "pragma: no mutate"


@dataclass(frozen=True)
class Mutant:
    index: int
    line: int
    description: str

    def label(self) -> str:
        return f"#{self.index} line {self.line}: {self.description}"


class _Mutator(ast.NodeTransformer):
    """Walks the tree; counts candidates; rewrites the one numbered ``target`` (if any)."""

    def __init__(self, skip_lines: set[int], target: int | None = None) -> None:
        self.skip_lines = skip_lines
        self.target = target
        self.found: list[Mutant] = []

    def _candidate(self, node: ast.AST, description: str) -> bool:
        """Record a candidate; True when it is the one to apply."""
        line = getattr(node, "lineno", 0)
        if line in self.skip_lines:
            return False
        index = len(self.found)
        self.found.append(Mutant(index, line, description))
        return index == self.target

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node  # a docstring or a bare string: not behaviour
        return self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            swap = _COMPARE_SWAPS.get(type(op))
            if swap and self._candidate(node, f"{_SYMBOLS[type(op)]} -> {_SYMBOLS[swap]}"):
                node.ops[i] = swap()
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        swap = _BINOP_SWAPS.get(type(node.op))
        if swap and self._candidate(node, f"{_SYMBOLS[type(node.op)]} -> {_SYMBOLS[swap]}"):
            node.op = swap()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        swap = _BOOLOP_SWAPS[type(node.op)]
        if self._candidate(node, f"{_SYMBOLS[type(node.op)]} -> {_SYMBOLS[swap]}"):
            node.op = swap()
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and self._candidate(node, "not x -> x"):
            return node.operand
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, bool):
            if self._candidate(node, f"{value} -> {not value}"):
                return ast.copy_location(ast.Constant(not value), node)
        elif isinstance(value, int) and self._candidate(node, f"{value} -> {value + 1}"):
            return ast.copy_location(ast.Constant(value + 1), node)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node  # f-strings: format specs hold constants that are not behaviour


def _skip_lines(source: str) -> set[int]:
    return {n for n, text in enumerate(source.splitlines(), start=1) if PRAGMA in text}


def find_mutants(source: str) -> list[Mutant]:
    """Every mutation this module offers, numbered in a fixed order."""
    mutator = _Mutator(_skip_lines(source))
    mutator.visit(ast.parse(source))
    return mutator.found


def apply(source: str, index: int) -> ast.Module:
    """The module's tree with mutant ``index`` applied (compile it with its real path)."""
    mutator = _Mutator(_skip_lines(source), target=index)
    tree = mutator.visit(ast.parse(source))
    if index >= len(mutator.found):
        raise IndexError(f"mutant {index}: the module has {len(mutator.found)} mutants")
    return ast.fix_missing_locations(tree)
