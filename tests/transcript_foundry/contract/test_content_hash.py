from transcript_foundry.contract.content_hash import content_hash, normalise


def test_normalise_ignores_case_punctuation_space_and_width() -> None:
    assert normalise("  Hello,   WORLD!! ") == "hello world"
    assert normalise("ｆｕｌｌ width") == "full width"


def test_same_words_same_speakers_same_hash() -> None:
    a = [{"speaker": "AGENT", "text": "Hello, how can I help?"}, {"speaker": "CUSTOMER", "text": "My bill."}]
    b = [{"speaker": "AGENT", "text": "hello how can i help"}, {"speaker": "CUSTOMER", "text": "my   bill!"}]
    assert content_hash(a) == content_hash(b)


def test_speaker_or_word_change_changes_the_hash() -> None:
    a = [{"speaker": "AGENT", "text": "Hello"}, {"speaker": "CUSTOMER", "text": "My bill."}]
    swapped = [{"speaker": "CUSTOMER", "text": "Hello"}, {"speaker": "AGENT", "text": "My bill."}]
    other = [{"speaker": "AGENT", "text": "Hello"}, {"speaker": "CUSTOMER", "text": "My bills."}]
    assert len({content_hash(a), content_hash(swapped), content_hash(other)}) == 3
