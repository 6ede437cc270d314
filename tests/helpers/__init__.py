"""Plain helper modules shared by the tests (import as ``from helpers.aio import ...``).

pytest puts ``tests/`` on ``sys.path`` (rootdir conftest, "prepend" import mode), the same
way the tests import ``conftest``; this package sits there.
"""
