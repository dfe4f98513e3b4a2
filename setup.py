"""The one build step pyproject.toml cannot say: rules/ and templates/ go into the wheel as triage/_data/.

The repository keeps them at the top (they are data a user reads and edits, not code); an installed triage
finds them inside its package through importlib.resources (triage/paths.py). An editable install reads the
checkout instead, so nothing is copied for it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_FOLDERS = ("rules", "templates")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        here = Path(__file__).resolve().parent
        # build/ outlives a build: a file since removed or renamed in rules/ would still be packed.
        shutil.rmtree(Path(self.build_lib, "triage", "_data"), ignore_errors=True)
        for name in DATA_FOLDERS:
            source = here / name
            if not source.is_dir():
                raise SystemExit(f"setup.py: {source} is missing; the package cannot be built without it")
            target = Path(self.build_lib, "triage", "_data", name)
            for path in sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
                destination = target / path.relative_to(source)
                self.mkpath(str(destination.parent))
                self.copy_file(str(path), str(destination))


setup(cmdclass={"build_py": BuildWithData})
