"""Run inside the built image (``python3 - < this file``): import every module of the
shipped ``camera_service`` package under the image's Python, and read every module's
imports, lazy ones in functions included, for development packages.

Prints ``imported N`` and then one ``FAIL module: reason`` line per problem; exit status 0
when there is none. ``__main__`` modules are not run (that would start the program); their
imports are checked the same way as every other module's.
"""

import ast
import importlib
import pkgutil
import sys
import traceback

DEV_PACKAGES = {"robot_sim", "fake_cameras", "devtools", "bench", "coreio_sim", "spx_tools",
                "vm", "tests", "pytest", "hypothesis", "selenium", "psutil", "docker"}

import camera_service  # noqa: E402 - after the list, so the script reads top-down

problems = []
imported = 0
for module in pkgutil.walk_packages(camera_service.__path__, "camera_service."):
    name = module.name
    spec = importlib.util.find_spec(name)
    source_path = spec.origin
    if source_path and source_path.endswith(".py"):
        with open(source_path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), source_path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module]
            else:
                continue
            for target in targets:
                if target.split(".")[0] in DEV_PACKAGES:
                    problems.append(f"FAIL {name}: imports the development package {target}")
    if name.rsplit(".", 1)[-1] == "__main__":
        continue
    try:
        importlib.import_module(name)
        imported += 1
    except BaseException as err:
        last = traceback.format_exception_only(type(err), err)[-1].strip()
        problems.append(f"FAIL {name}: {last}")

print(f"imported {imported}")
for line in problems:
    print(line)
sys.exit(1 if problems else 0)
