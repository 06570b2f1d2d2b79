import pytest

from genepheno_core.embeddings.batching import token_batches


def test_batches_cover_all_sorted_longest_first_within_budget():
    lengths = [5, 100, 7, 50, 50, 3, 20]
    batches = token_batches(lengths, batch_tokens=110)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    flat = [i for b in batches for i in b]
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    for b in batches:
        assert len(b) * lengths[b[0]] <= 110 or len(b) == 1
    # 100 alone (2 x 100 > 110), then 50 + 50 (2 x 50 = 100), then 20 5 7 3 (4 x 20 = 80)
    assert batches == [[1], [3, 4], [6, 2, 0, 5]]


def test_max_batch_and_oversized_sequence():
    assert token_batches([10] * 5, batch_tokens=1000, max_batch=2) == [[0, 1], [2, 3], [4]]
    assert token_batches([5000, 1], batch_tokens=100) == [[0], [1]]
    with pytest.raises(ValueError):
        token_batches([1], batch_tokens=0)
