"""memo.IdentityMemo: once per object, by identity; None results are computed again."""
from vms_deploy.memo import IdentityMemo


def test_once_per_object_by_identity():
    calls = []
    memo = IdentityMemo()
    shared, equal = [1, 2], [1, 2]
    for value in (shared, shared, equal):
        memo.get(lambda v: calls.append(v) or len(v), value)
    assert calls == [shared, equal]  # an equal but distinct list is another object


def test_pairs_and_none_results():
    memo = IdentityMemo()
    a, b = (1,), (2,)
    assert memo.get(lambda x, y: x + y, a, b) == (1, 2)
    assert memo.get(lambda x, y: "recomputed", a, b) == (1, 2)
    assert memo.get(lambda x, y: "other order", b, a) == "other order"
    calls = []
    for _ in range(2):
        memo.get(lambda v: calls.append(v), a)  # returns None: an error path, run for every caller
    assert calls == [a, a]
