"""Servers a test starts must not outlive it. A fixture's teardown stops them when pytest ends normally,
but a pytest that is itself killed (an interrupted run, a CI timeout) runs no teardown, and an orphaned
redis-server or node would hold its port and memory for good. Linux's parent-death signal ends them
with the process that started them."""
import ctypes
import signal

_PR_SET_PDEATHSIG = 1
# Looked up before any fork: the function below runs in the child between fork and exec, where only
# async-signal-safe work belongs.
_prctl = ctypes.CDLL(None, use_errno=True).prctl


def die_with_parent():
    """A `preexec_fn`: the child gets SIGKILL when the thread that started it exits. Start servers from
    the test's main thread (fixtures do), not from a short-lived worker thread."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
