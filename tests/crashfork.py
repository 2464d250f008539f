"""Imported by the crash test's fork server only (tests/test_crash.py, PRELOAD): the workflows are
parsed once there, so that every child forked from it starts with them parsed."""

from __future__ import annotations

from planflow.services.chain import instances

instances.library()
