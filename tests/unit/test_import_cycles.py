"""The project's own modules import one another without a cycle: each layer imports only those below it
(the emulator's code may import the deploy library, never the other way round).

Every module of tapstack/, templates/ and src/handlers/ is parsed, not imported, and every import in it
counts: at module level, under TYPE_CHECKING, and inside functions.
"""

import ast
from pathlib import Path

from tapstack import paths

# Package roots: the directory each top-level package lives in.
ROOTS = {
    "tapstack": paths.REPOSITORY,
    "templates": paths.REPOSITORY,
    "handlers": paths.REPOSITORY / "src",
}


def project_modules() -> dict[str, Path]:
    """Every module of the project by dotted name (a package by its own name, for its __init__.py)."""
    modules = {}
    for package, root in ROOTS.items():
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported_names(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """The dotted names a module imports, candidates included (`from a import b` may import a.b)."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Each project module -> the project modules it imports: the longest project module each imported
    name names (`from handlers.aws import X` is handlers.aws; `from tapstack.operate import actions`
    is tapstack.operate.actions)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for name in imported_names(tree, module, path.name == "__init__.py"):
            parts = name.split(".")
            prefixes = (".".join(parts[:length]) for length in range(len(parts), 0, -1))
            target = next((prefix for prefix in prefixes if prefix in modules), None)
            if target is not None and target != module:
                targets.add(target)
        graph[module] = targets
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> dict[str, str | None]:
    """Every module `start` reaches through imports, each with the module it was reached from."""
    parents: dict[str, str | None] = {}
    frontier = [start]
    while frontier:
        module = frontier.pop()
        for target in sorted(graph.get(module, ())):
            if target not in parents:
                parents[target] = module
                frontier.append(target)
    return parents


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each group of modules that import one another, as the path of imports."""
    found: list[list[str]] = []
    covered: set[str] = set()
    for module in sorted(graph):
        parents = reachable(graph, module)
        if module in covered or module not in parents:
            continue
        path = [module]
        step = parents[module]
        while step is not None and step != module:
            path.append(step)
            step = parents[step]
        path.append(module)
        found.append(path[::-1])
        covered.update(other for other in parents if module in reachable(graph, other))
    return found


def test_the_graph_sees_the_projects_imports() -> None:
    """The graph is of the real code: a module-level import and one inside a function are edges."""
    graph = import_graph()

    assert {"tapstack", "templates", "handlers"} <= {module.split(".")[0] for module in graph}
    assert "tapstack.operate.target" in graph["tapstack.cli.operate"]
    assert "tapstack.local.send" in graph["tapstack.local.target"]  # imported inside a function


def test_every_cycle_is_found_and_named() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}, "f": {"f"}, "g": set()}

    assert cycles(graph) == [["a", "b", "c", "a"], ["d", "e", "d"], ["f", "f"]]


def test_no_project_module_imports_itself_through_others() -> None:
    found = cycles(import_graph())

    assert found == [], "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)
