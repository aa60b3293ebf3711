"""A long-lived interpreter that runs scripts one after another, each as ``python SCRIPT ARGS``
would: for the documentation and example tests (test_docs_examples.py, test_example_scripts.py).

Starting a fresh interpreter per page costs the imports (JAX, SciPy, MNE: about 5 CPU seconds
each, 27 times in the suite) and compiles again what an earlier page compiled. This runner is
started once per test file and worker; each script still runs as ``__main__`` in a fresh
namespace, in its own working folder, with its own ``sys.argv``, ``sys.path[0]`` and environment
overrides, and what a script changes in the process is put back before the next one: the
working folder, ``sys.argv``/``sys.path``, the environment, JAX's ``jax_enable_x64``,
brainstate's global settings, signal handlers, open matplotlib figures.

Protocol: one JSON object per line on stdin, ``{"script", "cwd", "argv", "env"}``; one JSON line
back on the original stdout, ``{"ok": bool, "error": str}``. The script's own output goes to
``stdout.txt``/``stderr.txt`` in its working folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import signal
import sys
import traceback


def _snapshot():
    import jax

    snap = {"cwd": os.getcwd(), "argv": list(sys.argv), "path": list(sys.path), "env": dict(os.environ),
            "x64": bool(jax.config.jax_enable_x64),
            "signals": {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}}
    try:
        import brainstate

        snap["brainstate"] = dict(brainstate.environ.all())
    except Exception:       # brainstate missing or its settings unreadable: nothing to restore
        snap["brainstate"] = None
    return snap


def _restore(snap):
    import jax

    os.chdir(snap["cwd"])
    sys.argv[:] = snap["argv"]
    sys.path[:] = snap["path"]
    os.environ.clear()
    os.environ.update(snap["env"])
    for s, h in snap["signals"].items():
        signal.signal(s, h)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    if snap["brainstate"] is not None:
        import brainstate

        if dict(brainstate.environ.all()) != snap["brainstate"]:
            brainstate.environ.reset()
    jax.config.update("jax_enable_x64", snap["x64"])


def run_one(job: dict) -> dict:
    snap = _snapshot()
    cwd = job["cwd"]
    ok, error = True, ""
    with open(os.path.join(cwd, "stdout.txt"), "w") as out, open(os.path.join(cwd, "stderr.txt"), "w") as err:
        try:
            os.chdir(cwd)
            os.environ.update(job.get("env") or {})
            sys.argv[:] = [job["script"], *job.get("argv", [])]
            sys.path.insert(0, os.path.dirname(os.path.abspath(job["script"])))
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                runpy.run_path(job["script"], run_name="__main__")
        except SystemExit as e:
            if e.code not in (None, 0):
                ok, error = False, f"SystemExit({e.code!r})"
        except BaseException:       # noqa: BLE001 - every failure is reported to the test
            ok, error = False, traceback.format_exc()
        finally:
            _restore(snap)
    if not ok:
        with open(os.path.join(cwd, "stderr.txt")) as fh:
            error = fh.read()[-3000:] + "\n" + error
    return {"ok": ok, "error": error}


def main():
    reply = os.fdopen(os.dup(1), "w")
    # stray output (a library writing to fd 1) must not corrupt the replies
    os.dup2(2, 1)
    import jax  # noqa: F401  - imported once, before the first script

    for line in sys.stdin:
        if not line.strip():
            continue
        result = run_one(json.loads(line))
        reply.write(json.dumps(result) + "\n")
        reply.flush()


if __name__ == "__main__":
    main()
