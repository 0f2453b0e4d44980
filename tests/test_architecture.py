"""The package's import graph, drawn from its source: no circles, and package-internal
imports at module top (a lazy one carries a comment saying why, on it or the line above)."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "catpose_lib"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py") if "configs" not in p.parts}


def _targets(node, modules) -> list:
    """The package modules an import statement names (``from pkg import mod`` names pkg.mod)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    if node.module is None or not node.module.startswith("catpose_lib"):
        return []
    out = [node.module] if node.module in modules else []
    out += [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules]
    return out


def _says_lazy(lines, node) -> bool:
    """'lazy' in a comment on the statement or above its group of imports."""
    if "lazy" in "".join(lines[node.lineno - 1:node.end_lineno]):
        return True
    i = node.lineno - 2
    while i >= 0 and lines[i].strip().startswith(("from ", "import ", ")", "#")) or (i >= 0 and not lines[i].strip()):
        if lines[i].strip().startswith("#") and "lazy" in lines[i]:
            return True
        i -= 1
    return False


def import_graph():
    """{module: {imported package modules}} and the function-level imports [(module, line, text)]."""
    modules = _modules()
    graph, lazy = {m: set() for m in modules}, []
    for name, path in modules.items():
        source = path.read_text()
        lines = source.splitlines()
        tree = ast.parse(source)
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets = _targets(node, modules)
                graph[name].update(t for t in targets if t != name)
                if targets and id(node) not in top and not _says_lazy(lines, node):
                    lazy.append((name, node.lineno, lines[node.lineno - 1].strip()))
    return graph, lazy


def cycles(graph) -> list:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_circles():
    graph, _ = import_graph()
    assert len(graph) > 40
    assert cycles(graph) == []


def test_package_internal_imports_are_at_module_top_unless_a_comment_says_why():
    _, lazy = import_graph()
    assert lazy == []
