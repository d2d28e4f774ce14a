"""The reports of a plain ``cluster-sem fit``, rendered in a forked process while this one fits.

Why: a fit without a bootstrap is one thread of work, and about a sixth of its time is the reports' own
start-up (the typed document reader ``results.document``, jinja2, the renderer modules: ~50 ms) and their
rendering (~40 ms), none of which the fit needs.  On a machine with a second core, a child forked once numpy
and pandas are loaded imports all that while this process fits, then renders the results.json text it is
sent.  The reports are the same bytes: the renderers read only the document, and results.json is that
document (a report rebuilt from results.json by ``cluster-sem report`` is the same report).

Safety: the child writes nothing but its answer to a pipe and ends with ``os._exit`` (no atexit handlers,
no flushing of this process's buffers, no traceback); it ignores Ctrl-C (sent to the whole process group:
this process decides) and ends when the pipe is closed or this process dies.  Any failure in the child (an
exception, a signal, a garbled answer) makes ``reports`` return None and the caller renders in its own
process: the child can make a run faster, never different.  Only on Linux (``fork`` of a process that has
loaded numpy is not safe on macOS) and only while this process runs no other thread (a forked child would
hold copies of their locks).
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
from typing import Callable


class ReportProcess:
    """A forked child that renders report.html, report.md and (optionally) the terminal summary."""

    def __init__(self, pid: int, send: int, receive: int) -> None:
        self._pid, self._send, self._receive = pid, send, receive

    @classmethod
    def start(cls, prepare: Callable[[], None], *, lang: str, summary: bool) -> "ReportProcess | None":
        """Fork the child (None where that is not safe); ``prepare`` loads the renderers and templates there."""
        if not sys.platform.startswith("linux") or threading.active_count() > 1 or not hasattr(os, "fork"):
            return None
        doc_r, doc_w = os.pipe()
        out_r, out_w = os.pipe()
        # Ctrl-C / SIGTERM held back across the fork: raised inside fork's at-fork handlers (logging's lock
        # release) a KeyboardInterrupt is printed and ignored, so the run went on; and a child interrupted
        # before it ignores Ctrl-C would run the parent's command-line code as a second parent
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            pid = os.fork()
        except BaseException:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            for fd in (doc_r, doc_w, out_r, out_w):
                os.close(fd)
            raise
        if pid == 0:                                   # the child: never returns
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C reaches the whole group: the parent decides
                signal.signal(signal.SIGTERM, signal.SIG_DFL)   # the CLI's SIGTERM handler raises: here, just end
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                os.close(doc_w)
                os.close(out_r)
                _serve(doc_r, out_w, prepare, lang, summary)
                code = 0
            finally:
                os._exit(code)
        os.close(doc_r)
        os.close(out_w)
        child = cls(pid, doc_w, out_r)
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)   # a Ctrl-C held back is raised here
        except BaseException:
            child.close()
            raise
        return child

    def reports(self, results_json: str) -> dict[str, str] | None:
        """{"report.html", "report.md"[, "summary"]} rendered by the child from results.json's text after it
        checked that text against the schema ({"schema_drift": message} if it does not match), or None if
        the child did not deliver (then check and render here)."""
        try:
            with os.fdopen(self._send, "wb") as fh:
                self._send = -1
                fh.write(results_json.encode("utf-8"))
            with os.fdopen(self._receive, "rb") as fh:
                self._receive = -1
                answer = fh.read()
        except OSError:            # the child died early (BrokenPipeError): render here
            return None
        finally:
            ok = self._reap()
        try:
            return json.loads(answer) if ok and answer else None
        except ValueError:
            return None

    def close(self) -> None:
        """End the child if it still runs (the fit failed or was interrupted) and close the pipes."""
        for fd in (self._send, self._receive):
            if fd >= 0:
                os.close(fd)
        self._send = self._receive = -1
        if self._pid:
            try:
                os.kill(self._pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self._reap()

    def _reap(self) -> bool:
        """Wait for the child; True if it ended normally with exit code 0."""
        if not self._pid:
            return False
        try:
            _, status = os.waitpid(self._pid, 0)
        except ChildProcessError:
            status = -1
        self._pid = 0
        return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 if status >= 0 else False


def _serve(doc_fd: int, out_fd: int, prepare: Callable[[], None], lang: str, summary: bool) -> None:
    """The child's work: load the renderers, wait for the document, render, answer with one JSON object."""
    import gc
    gc.disable()        # a child that lives for one rendering: its garbage goes with it (os._exit)
    prepare()
    from .html import render_html
    from .markdown import render_markdown
    from .terminal import render_summary
    with os.fdopen(doc_fd, "rb") as fh:
        text = fh.read().decode("utf-8")
    if not text:                                       # the parent gave up (the fit failed)
        return
    from ..results.schema import SchemaDrift, check_written
    try:                       # the writer's schema check (``results.schema_check_elsewhere``), done here
        check_written(json.loads(text))
    except SchemaDrift as drift:                       # the parent raises it
        out = {"schema_drift": str(drift)}
    else:
        # what Results.to_html/to_markdown/summary pass the renderers: a fresh plain copy of the document each
        # (json.loads of results.json's text is that copy, without Results' deep copy, freezing and thawing)
        out = {"report.html": render_html(json.loads(text), lang=lang),
               "report.md": render_markdown(json.loads(text), lang=lang)}
        if summary:
            out["summary"] = render_summary(json.loads(text), lang=lang)
    with os.fdopen(out_fd, "wb") as fh:
        fh.write(json.dumps(out, ensure_ascii=False).encode("utf-8"))


__all__ = ["ReportProcess"]
