"""An OAuth2 token command for the tests, in the place of oama or mutt_oauth2.py.

`python tests/token_command.py DIR` prints the first token of DIR/queue (one a line) and drops it unless
it is the last: like a real tool, it hands out its newest token until it gets a new one. Each run adds a
line to DIR/runs, so a test can count how often triage asked.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(folder: Path) -> int:
    with (folder / "runs").open("a") as runs:
        runs.write("run\n")
    queue = (folder / "queue").read_text().split()
    if not queue:
        return 0
    print(queue[0])
    if len(queue) > 1:
        (folder / "queue").write_text("\n".join(queue[1:]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
