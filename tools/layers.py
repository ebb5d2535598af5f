"""An import-linter contract for what the built-in ones cannot say: a feature uses another only
through its public names. A module of a feature imports from another feature only names of its
package or of its ``public_modules`` (services, models, ...), never a private name
(``_something``), so never its views or commands (``routes``, ``cli``: a blueprint's pages are
its own). Imports inside functions count as much as those at the top.

    [[tool.importlinter.contracts]]
    type = "feature_boundaries"
    root = "marketplace"
    features = ["accounts", "bids", ...]
    public_modules = ["services", "models", "policy", "forms", "panels"]
    ignore_imports = ["marketplace.api.writes -> marketplace.jobs.forms._name"]  # why, in a comment
"""
import ast
import os
from importlib.util import find_spec

from importlinter import Contract, ContractCheck, fields, output


class FeatureBoundaryContract(Contract):
    root = fields.StringField()
    features = fields.ListField(subfield=fields.StringField())
    public_modules = fields.ListField(subfield=fields.StringField())
    ignore_imports = fields.ListField(subfield=fields.StringField(), required=False, default=[])

    def check(self, graph, verbose):
        ignored = {line.strip() for line in self.ignore_imports}
        broken, used = [], set()
        for module in sorted(graph.find_descendants(self.root)):
            own = self._feature(module)
            if own is None:
                continue
            for line, target in self._imports(module):
                if self._feature(target) in (None, own) or not self._is_private(target):
                    continue
                key = f"{module} -> {target}"
                if key in ignored:
                    used.add(key)
                else:
                    broken.append({"importer": module, "imported": target, "line": line})
        unused = sorted(ignored - used)
        return ContractCheck(kept=not broken and not unused,
                             metadata={"broken": broken, "unused_ignores": unused})

    def render_broken_contract(self, check):
        for b in check.metadata["broken"]:
            output.print_error(f"{b['importer']} (line {b['line']}) imports {b['imported']}", bold=False)
        for key in check.metadata["unused_ignores"]:
            output.print_error(f"ignore_imports names an import that is no longer there: {key}", bold=False)
        output.new_line()

    def _feature(self, module):
        parts = module.split(".")
        if len(parts) > 1 and parts[0] == self.root and parts[1] in self.features:
            return parts[1]
        return None

    def _is_private(self, target):
        """``root.feature.rest``: an underscore name in ``rest``, or a module not in ``public_modules``
        (a name of the feature's package itself is public)."""
        rest = target.split(".")[2:]
        if any(p.startswith("_") and p != "__init__" for p in rest):
            return True
        return bool(rest) and self._is_module(target.split(".")[:3]) and rest[0] not in self.public_modules

    def _imports(self, module):
        """(line, imported module or module.name) for every import in ``module``'s source."""
        path = self._path(module)
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield node.lineno, alias.name
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")
                if node.level:
                    base = base[: len(base) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module
                for alias in node.names:
                    yield node.lineno, f"{source}.{alias.name}"

    def _is_module(self, parts):
        top = os.path.dirname(find_spec(self.root).origin)
        candidate = os.path.join(top, *parts[1:])
        return os.path.isdir(candidate) or os.path.exists(candidate + ".py")

    def _path(self, module):
        top = os.path.dirname(find_spec(self.root).origin)
        parts = module.split(".")[1:]
        candidate = os.path.join(top, *parts)
        return os.path.join(candidate, "__init__.py") if os.path.isdir(candidate) else candidate + ".py"
