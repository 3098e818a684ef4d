"""Thread-local switch for recording the graph: no_grad, enable_grad, set_grad_enabled."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

class _State(threading.local):
    enabled = True  # every thread starts with recording on


_state = _State()

F = TypeVar("F", bound=Callable[..., Any])


def is_grad_enabled() -> bool:
    return _state.enabled


def _set(flag: bool) -> None:
    _state.enabled = flag


class set_grad_enabled:
    """Turn graph recording on or off: a call, a context manager and a decorator."""

    def __init__(self, mode: bool) -> None:
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _set(self.mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _set(self.prev)

    def __call__(self, fn: F) -> F:
        mode = self.mode
        _set(self.prev)  # used as a decorator: the constructor must not leak its effect

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class _GradMode:
    mode = True

    def __enter__(self) -> None:
        self.prev = is_grad_enabled()
        _set(self.mode)

    def __exit__(self, *exc: object) -> None:
        _set(self.prev)

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = is_grad_enabled()
            _set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _set(prev)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Run without recording operations for backward (context manager or decorator)."""

    mode = False


class enable_grad(_GradMode):
    """Record operations again inside a no_grad region."""

    mode = True
