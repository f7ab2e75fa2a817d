import numpy as np
import pandas as pd
import pytest

from toolkit.errors import ToolkitError
from toolkit.text.tokenize import CHINESE_STOP_WORDS, ENGLISH_STOP_WORDS, tokenize, user_texts


def test_chinese_is_segmented_into_words():
    tokens = tokenize("今天很高兴来到小红书")
    assert {"今天", "高兴", "来到", "小红书"} <= set(tokens)
    # jieba gives words, not single characters
    assert "红" not in tokens


def test_english_words_are_lowercased_and_keep_inner_apostrophes():
    assert tokenize("Hello, WORLD! Don't panic...", stop_words=False) == ["hello", "world", "don't", "panic"]


def test_curly_apostrophes_count_as_straight_ones():
    assert tokenize("don\u2019t", stop_words=False) == ["don't"]


def test_stop_words_are_removed_in_both_languages_unless_disabled():
    text = "I love the food here 我的猫咪很可爱"
    removed = tokenize(text)
    kept = tokenize(text, stop_words=False)
    assert "the" in kept and "i" in kept and "的" in kept and "我" in kept
    assert not set(removed) & (ENGLISH_STOP_WORDS | CHINESE_STOP_WORDS)
    assert {"love", "food", "猫咪", "可爱"} <= set(removed)


def test_mixed_text_keeps_order():
    assert tokenize("Hello 小红书 world") == ["hello", "小红书", "world"]


def test_hashtags_become_their_word_and_topic_markers_go():
    tokens = tokenize("#tiktok[话题]# #TikTok难民[话题]# #旅行日记[话题]#")
    assert tokens[:2] == ["tiktok", "tiktok"]
    assert "难民" in tokens
    assert not any("话题" in t or "#" in t or "[" in t for t in tokens)


def test_urls_and_sticker_codes_are_removed():
    tokens = tokenize("see https://example.com/page?x=1 and www.test.org/a [笑哭R] wow")
    assert tokens == ["see", "wow"]


def test_pure_numbers_are_dropped_but_mixed_tokens_are_kept():
    assert tokenize("2025 1000 iphone16 5g 3.5", stop_words=False) == ["iphone16", "5g"]
    assert tokenize("2025年1月", stop_words=False) == ["年", "月"]


def test_emoji_and_punctuation_give_no_tokens():
    assert tokenize("😂😂 ❤️🔥 !!! ... ——") == []


def test_full_width_letters_are_normalized():
    assert tokenize("ＡＢＣ１", stop_words=False) == ["abc1"]


@pytest.mark.parametrize("empty", ["", None, float("nan")])
def test_empty_or_missing_text_gives_no_tokens(empty):
    assert tokenize(empty) == []


def test_same_input_same_tokens():
    text = "欢迎美国朋友来到小红书！有问题可以问我 #TikTok难民[话题]#"
    assert tokenize(text) == tokenize(text)


def test_user_texts_maps_missing_values_to_empty_strings():
    users = pd.DataFrame({"text": ["a", None, np.nan, "b"]})
    assert user_texts(users) == ["a", "", "", "b"]


def test_user_texts_without_text_column_is_a_clear_error():
    with pytest.raises(ToolkitError, match="'text' column"):
        user_texts(pd.DataFrame({"body": ["a"]}))


def test_jieba_cache_read_in_one_go_gives_jiebas_own_dictionary(tmp_path):
    import marshal

    import jieba

    from toolkit.text.tokenize import read_jieba_cache

    reference = jieba.Tokenizer()
    reference.initialize()
    cache = tmp_path / "jieba.cache"
    cache.write_bytes(marshal.dumps((reference.FREQ, reference.total)))
    fast = jieba.Tokenizer()
    assert read_jieba_cache(fast, str(cache))
    assert fast.initialized and fast.total == reference.total and fast.FREQ == reference.FREQ
    assert fast.lcut("北京大学的学生学中文") == reference.lcut("北京大学的学生学中文")
    for bad in (b"", b"not marshal at all", marshal.dumps(("words", 3)), marshal.dumps(({}, 0))):
        cache.write_bytes(bad)
        fresh = jieba.Tokenizer()
        assert not read_jieba_cache(fresh, str(cache)) and not fresh.initialized
    assert not read_jieba_cache(jieba.Tokenizer(), str(tmp_path / "missing.cache"))
