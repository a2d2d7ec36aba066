from __future__ import annotations

import re
from collections.abc import Mapping

import pytest
import starlette.routing as reference
from tachyon_router import compile_path
from tachyon_router._template import FLOAT, INT, LIT, PATH, STR, UUID, parse_template, tree_tokens
from tachyon_router.convertors import CONVERTOR_TYPES, Convertor

TEMPLATES = [
    "/",
    "",
    "/users",
    "/users/{id}",
    "/users/{id:int}/items/{item:str}",
    "/files/{name}.{ext}",
    "/f/{rest:path}/edit",
    "/v/{x:float}/{u:uuid}",
    "/{a}{b}",
    "/odd/{1}/{a-b}/{/}/{",
    "/double/{{name}}",
    "/literal/}{",
    "/re.chars/+*?[](){}|^$\\",
    "/spaces and ünïcode/{name}",
    "/{_private_9:int}",
    "/{name:}",
    "/{ name}",
    "{subdomain}.example.org",
    "{sub}.example.org:8000",
    "api.example.org",
    "[::1]:8000",
    "[::1]",
    "Example.ORG",
]


def _same_convertor_types(ours: Mapping[str, object], theirs: Mapping[str, object]) -> bool:
    return list(ours) == list(theirs) and all(type(ours[name]).__name__ == type(theirs[name]).__name__ for name in ours)


@pytest.mark.parametrize("template", TEMPLATES)
def test_compile_path_gives_starlettes_regex_format_and_convertors(template: str) -> None:
    regex, path_format, convertors = compile_path(template)
    ref_regex, ref_format, ref_convertors = reference.compile_path(template)
    assert regex.pattern == ref_regex.pattern
    assert regex.flags == ref_regex.flags
    assert path_format == ref_format
    assert _same_convertor_types(convertors, ref_convertors)


def test_compile_path_binds_the_registered_convertor_objects() -> None:
    _, _, convertors = compile_path("/{a}/{b:int}/{c:path}")
    assert convertors["a"] is CONVERTOR_TYPES["str"]
    assert convertors["b"] is CONVERTOR_TYPES["int"]
    assert convertors["c"] is CONVERTOR_TYPES["path"]


def test_host_patterns_ignore_case_and_port() -> None:
    regex, path_format, _ = compile_path("{sub}.Example.org:8000")
    assert regex.match("API.example.ORG")
    assert path_format == "{sub}.Example.org:8000"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("/{id}/{id}", "Duplicated param name id at path /{id}/{id}"),
        ("/{id}/{name}/{id}/{name}", "Duplicated param names id, name at path /{id}/{name}/{id}/{name}"),
    ],
)
def test_duplicated_names_raise_starlettes_value_error_naming_the_position(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        compile_path(template)
    with pytest.raises(ValueError, match=re.escape(message)):
        reference.compile_path(template)
    assert "at position" in str(caught.value)


def test_first_repeated_position_is_reported() -> None:
    with pytest.raises(ValueError, match=r"id at position 8\)"):
        compile_path("/{id}/x/{id}")


def test_unknown_convertor_raises_assertion_naming_pattern_and_position() -> None:
    with pytest.raises(AssertionError, match=re.escape("Unknown path convertor 'nope'")) as caught:
        compile_path("/a/{x:nope}")
    assert "'/a/{x:nope}'" in str(caught.value)
    assert "position 3" in str(caught.value)
    with pytest.raises(AssertionError, match="Unknown path convertor 'nope'"):
        reference.compile_path("/a/{x:nope}")


def test_unknown_convertor_wins_over_duplicates_as_in_starlette() -> None:
    with pytest.raises(AssertionError):
        compile_path("/{a}/{a}/{b:nope}")


def test_parse_template_splits_literals_around_params() -> None:
    literals, params = parse_template("/f/{name}.{ext:str}")
    assert literals == ("/f/", ".", "")
    assert [(p.name, p.kind, p.start, p.end) for p in params] == [("name", "str", 3, 9), ("ext", "str", 10, 19)]


def _tokens(template: str) -> tuple[tuple[int, str], ...] | None:
    return tree_tokens(template, compile_path(template)[2])


@pytest.mark.parametrize(
    ("template", "tokens"),
    [
        ("/", ((LIT, "/"),)),
        ("/users/{id}", ((LIT, "/users/"), (STR, ""))),
        ("/u/{id:int}/i", ((LIT, "/u/"), (INT, ""), (LIT, "/i"))),
        ("/f/{name}.{ext}", ((LIT, "/f/"), (STR, ""), (LIT, "."), (STR, ""))),
        ("/v/{x:float}/{u:uuid}", ((LIT, "/v/"), (FLOAT, ""), (LIT, "/"), (UUID, ""))),
        ("/s/{p:path}", ((LIT, "/s/"), (PATH, ""))),
        ("/s/{p:path}/edit", ((LIT, "/s/"), (PATH, ""), (LIT, "/edit"))),
        ("/d/{{x}}", ((LIT, "/d/{"), (STR, ""), (LIT, "}"))),
    ],
)
def test_tree_tokens_for_natively_expressible_templates(template: str, tokens: tuple[tuple[int, str], ...]) -> None:
    assert _tokens(template) == tokens


@pytest.mark.parametrize(
    "template",
    [
        "{sub}.example.org",  # host pattern: case-insensitive
        "/{a}{b}",  # adjacent params
        "/{p:path}/{x}",  # a param after path
        "/v{x:float}-{y}",  # float sharing a segment with another param
        "/{u:uuid}.{ext}",  # uuid sharing a segment
        "/" + "/".join(f"{{p{i}}}" for i in range(65)),  # too many params
    ],
)
def test_templates_outside_the_tree_rules_are_regex_matched(template: str) -> None:
    assert _tokens(template) is None


def test_a_custom_regex_is_regex_matched_but_a_builtin_regex_under_another_name_is_native() -> None:
    class Hex(Convertor[str]):
        regex = "[0-9a-f]+"

    class Digits(Convertor[int]):
        regex = "[0-9]+"

    assert tree_tokens("/{h}", {"h": Hex()}) is None
    assert tree_tokens("/{d}", {"d": Digits()}) == ((LIT, "/"), (INT, ""))


def test_missing_bound_convertor_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="No convertor bound for parameter 'b'"):
        tree_tokens("/{a}/{b}", {"a": CONVERTOR_TYPES["str"]})


def test_huge_templates_are_compiled_but_not_cached() -> None:
    from tachyon_router import _template

    for index in range(4):
        placeholder = "{item_" + str(index) + ":int}"
        template = "/" + "x" * 20_000 + "/" + placeholder
        regex, _, _ = _template.compile_path(template)
        assert regex.match(template.replace(placeholder, "42"))
    # Honest templates are far shorter than 1024 characters; nothing longer is kept.
    assert all(len(template) <= 1024 for template in _template._parsed)
    assert all(len(template) <= 1024 for template in _template._compiled)


def test_template_cache_is_emptied_when_full_and_keeps_serving() -> None:
    from tachyon_router import _template

    for index in range(_template._MAX_CACHED_TEMPLATES + 10):
        _template.parse_template(f"/generated/{index}/{{item}}")
        assert len(_template._parsed) <= _template._MAX_CACHED_TEMPLATES
    # The cache was emptied once when full: the templates parsed since are held, and an honest one is kept again.
    assert "/generated/0/{item}" not in _template._parsed
    assert f"/generated/{_template._MAX_CACHED_TEMPLATES + 9}/{{item}}" in _template._parsed
    assert _template.parse_template("/users/{id}") == _template._parsed["/users/{id}"]
