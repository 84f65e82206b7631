"""berth.names: the repository, tag, digest and registry-name grammars."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from berth.names import (
    MAX_REPOSITORY_LENGTH,
    Digest,
    InvalidName,
    check_registry_name,
    is_repository_name,
    is_tag,
)

# The grammar as the OCI distribution spec writes it, kept apart from berth's own regex.
SPEC_NAME = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*")
SPEC_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")

_ALNUM = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
_SEPARATOR = st.one_of(st.just("."), st.just("_"), st.just("__"), st.integers(1, 3).map(lambda n: "-" * n))


@st.composite
def components(draw: st.DrawFn) -> str:
    parts = [draw(_ALNUM)]
    for _ in range(draw(st.integers(0, 3))):
        parts.append(draw(_SEPARATOR))
        parts.append(draw(_ALNUM))
    return "".join(parts)


repository_names = (
    st.lists(components(), min_size=1, max_size=5)
    .map("/".join)
    .filter(lambda name: len(name) <= MAX_REPOSITORY_LENGTH)
)


# --- repositories ---------------------------------------------------------------------------


@given(repository_names)
def test_every_name_the_grammar_generates_is_accepted(name: str) -> None:
    assert is_repository_name(name)


@given(repository_names, st.data())
def test_an_upper_case_letter_anywhere_is_rejected(name: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(name) - 1))
    letter = data.draw(st.sampled_from("ABCXYZ"))

    assert not is_repository_name(name[:position] + letter + name[position + 1 :])


@given(repository_names, st.sampled_from(["/", ".", "_", "-", "__"]))
def test_a_separator_at_either_end_is_rejected(name: str, separator: str) -> None:
    assert not is_repository_name(separator + name)
    assert not is_repository_name(name + separator)


@given(
    repository_names, repository_names, st.sampled_from(["//", "/./", "/../", "..", "___", "._", "-.", "/-"])
)
def test_empty_components_and_dot_segments_are_rejected(left: str, right: str, joint: str) -> None:
    assert not is_repository_name(left + joint + right)


@given(st.text(alphabet="ab/._-A%\\ :0\n", max_size=40))
def test_agrees_with_the_spec_grammar_on_arbitrary_text(text: str) -> None:
    expected = SPEC_NAME.fullmatch(text) is not None and len(text) <= MAX_REPOSITORY_LENGTH

    assert is_repository_name(text) == expected


def test_length_limit_is_255_characters() -> None:
    at_limit = "/".join(["a" * 127, "b" * 127])
    assert len(at_limit) == 255

    assert is_repository_name(at_limit)
    assert not is_repository_name(at_limit + "c")


@pytest.mark.parametrize(
    "name",
    ["library/ubuntu", "a", "0", "a/b/c/d/e/f", "foo.bar", "foo_bar", "foo__bar", "foo---bar", "x-1.2_3"],
)
def test_examples_of_valid_names(name: str) -> None:
    assert is_repository_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Library/ubuntu",
        "foo/../bar",
        "..",
        "foo//bar",
        "foo/",
        "/foo",
        "foo bar",
        "foo%2fbar",
        "é",
        "foo\n",
    ],
)
def test_examples_of_invalid_names(name: str) -> None:
    assert not is_repository_name(name)


# --- tags -----------------------------------------------------------------------------------


@given(st.from_regex(SPEC_TAG, fullmatch=True))
def test_every_spec_tag_is_accepted(tag: str) -> None:
    assert is_tag(tag)


@given(st.text(max_size=140))
def test_tags_agree_with_the_spec_grammar(text: str) -> None:
    assert is_tag(text) == (SPEC_TAG.fullmatch(text) is not None)


@pytest.mark.parametrize("tag", ["", "-x", ".x", "x" * 129, "a:b", "a/b", "a b", "a\n"])
def test_examples_of_invalid_tags(tag: str) -> None:
    assert not is_tag(tag)


# --- digests --------------------------------------------------------------------------------

SHA256 = "sha256:" + "0123456789abcdef" * 4
SHA512 = "sha512:" + "0123456789abcdef" * 8


@pytest.mark.parametrize("text", [SHA256, SHA512])
def test_digest_round_trips(text: str) -> None:
    digest = Digest.parse(text)

    assert str(digest) == text
    assert digest.algorithm == text.split(":")[0]
    assert digest.hex == text.split(":")[1]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("sha256:totallywrong", "64 lower-case hex"),
        ("sha256:" + "A" * 64, "64 lower-case hex"),
        ("sha256:" + "0" * 63, "64 lower-case hex"),
        ("sha512:" + "0" * 64, "128 lower-case hex"),
        ("md5:" + "0" * 32, "not supported"),
        ("blake3:" + "0" * 64, "not supported"),
        ("sha256" + "0" * 64, "not of the form"),
        (":" + "0" * 64, "not of the form"),
        ("sha256:", "not of the form"),
        ("", "not of the form"),
        ("SHA256:" + "0" * 64, "not of the form"),
        ("sha256:" + "0" * 64 + "\n", "not of the form"),
    ],
)
def test_invalid_digests_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidName, match=reason):
        Digest.parse(text)


@given(st.one_of(st.text(max_size=80), st.sampled_from([SHA256, SHA512]).map(lambda d: d + "\n")))
def test_parse_raises_only_invalid_name(text: str) -> None:
    try:
        digest = Digest.parse(text)
    except InvalidName:
        return
    assert str(digest) == text


def test_looks_like_a_digest_is_about_the_colon() -> None:
    assert Digest.looks_like("sha256:abc")
    assert Digest.looks_like(":")
    assert not Digest.looks_like("latest")


# --- registry names -------------------------------------------------------------------------


@given(st.text(alphabet="abcXYZ0189", min_size=5, max_size=50))
def test_registry_names_of_5_to_50_letters_and_digits(name: str) -> None:
    assert check_registry_name(name) == name


@pytest.mark.parametrize(
    "name", ["abcd", "a" * 51, "my-reg", "my_reg", "my.reg", "myreg ", "myreg\n", "régistry", ""]
)
def test_invalid_registry_names(name: str) -> None:
    with pytest.raises(InvalidName, match="5 to 50 letters and digits"):
        check_registry_name(name)
