"""`python -m corten COMMAND [ARGS]`: a small subcommand dispatcher.

Each command is a module with `main(argv) -> int`, imported only when asked for.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "train": ("corten.train", "train an MLP on Fashion-MNIST (or MNIST)"),
    "bench": ("corten.bench.cli", "time corten against NumPy and PyTorch"),
    "info": ("corten.info", "how this corten was built and what it runs on (SIMD, threads, OpenMP, extras)"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        lines = [f"  {name:<8} {help_}" for name, (_, help_) in COMMANDS.items()]
        print("usage: python -m corten COMMAND [ARGS]\n\ncommands:\n" + "\n".join(lines),
              file=sys.stdout if argv[:1] in ([], ["-h"], ["--help"]) else sys.stderr)
        if argv and argv[0] not in ("-h", "--help"):
            print(f"\npython -m corten: unknown command {argv[0]!r}", file=sys.stderr)
            return 2
        return 0
    module, _ = COMMANDS[argv[0]]
    return importlib.import_module(module).main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
