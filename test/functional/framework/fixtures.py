"""pytest fixtures for tests that run moneyrocketd.

Import the fixtures you use into a test module:

    from framework.fixtures import node_set, node_factory  # noqa: F401

`node_set` is module-scoped: one NodeSet (one temporary base directory) per
test module, so a module usually starts its nodes once. When any test of the
module fails, the data directories are kept and each node's debug.log tail
is printed.
"""
import pytest

from framework.node import NodeSet, default_binary


def _failed_since(request, count_before):
    return request.session.testsfailed > count_before


@pytest.fixture(scope="module")
def node_set(request):
    """A NodeSet for this module; nodes are added with node_set.add()/start()."""
    from conftest import require_built
    require_built(default_binary())
    before = request.session.testsfailed
    ns = NodeSet(prefix=f"mr_{request.module.__name__}_")
    try:
        yield ns
    finally:
        ns.stop(failed=_failed_since(request, before))


@pytest.fixture
def node_factory(request):
    """A NodeSet for one test (for tests that need fresh nodes of their own)."""
    from conftest import require_built
    require_built(default_binary())
    before = request.session.testsfailed
    ns = NodeSet(prefix=f"mr_{request.node.name[:40]}_")
    try:
        yield ns
    finally:
        ns.stop(failed=_failed_since(request, before))
